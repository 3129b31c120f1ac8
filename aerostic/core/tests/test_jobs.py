"""Job helpers: after-commit enqueue with ids only, tenant scope inside every job, a real RQ worker."""

import django_rq
import pytest
from django.db import connection, transaction
from rq import SimpleWorker

from aerostic.core.jobs import enqueue_on_commit, platform_job, tenant_job
from aerostic.core.tenant_context import current_tenant_id, in_platform_context, tenant_context
from tenants.models import Membership

pytestmark = pytest.mark.django_db


@tenant_job
def count_members(*, tenant_id: int) -> tuple[int | None, int]:
    return current_tenant_id(), Membership.objects.count()


def test_enqueue_waits_for_commit(alpha, django_capture_on_commit_callbacks):
    queue = django_rq.get_queue("default")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue_on_commit(count_members, tenant_id=alpha.tenant.pk)
        assert queue.count == 0
    assert len(callbacks) == 1
    assert queue.count == 1


def test_nothing_is_enqueued_when_the_transaction_rolls_back(alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                enqueue_on_commit(count_members, tenant_id=alpha.tenant.pk)
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []
    assert django_rq.get_queue("default").count == 0


def test_model_instances_are_refused_as_job_arguments(alpha):
    with pytest.raises(TypeError, match="pass ids"):
        enqueue_on_commit(count_members, tenant_id=alpha.tenant.pk, tenant=alpha.tenant)


def test_unknown_queue_is_refused(alpha):
    with pytest.raises(ValueError, match="Unknown queue"):
        enqueue_on_commit(count_members, queue="fast", tenant_id=alpha.tenant.pk)


def test_tenant_job_refuses_to_run_without_tenant_id():
    with pytest.raises(TypeError, match="needs tenant_id"):
        count_members()


def test_tenant_job_runs_in_its_tenants_scope(alpha, bravo):
    with tenant_context(bravo.tenant):
        assert count_members(tenant_id=alpha.tenant.pk) == (alpha.tenant.pk, 3)
        assert current_tenant_id() == bravo.tenant.pk


def test_a_real_worker_runs_the_job_in_scope(alpha, django_capture_on_commit_callbacks):
    queue = django_rq.get_queue("default")
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(count_members, tenant_id=alpha.tenant.pk)
    job = queue.jobs[0]
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    job.refresh()
    assert job.is_finished, job.latest_result().exc_string if job.latest_result() else job.get_status()
    assert job.return_value() == (alpha.tenant.pk, 3)


@tenant_job
def atomic_depth(*, tenant_id: int) -> int:
    return len(connection.atomic_blocks)


@tenant_job(atomic=False)
def committing_depth(*, tenant_id: int) -> tuple[int | None, int]:
    return current_tenant_id(), len(connection.atomic_blocks)


@platform_job("test: platform job shape", atomic=False)
def platform_committing_depth() -> tuple[bool, int]:
    return in_platform_context(), len(connection.atomic_blocks)


def test_a_job_that_commits_as_it_goes_has_the_same_shape_without_the_transaction(alpha):
    outside = len(connection.atomic_blocks)
    assert atomic_depth(tenant_id=alpha.tenant.pk) == outside + 1
    assert committing_depth(tenant_id=alpha.tenant.pk) == (alpha.tenant.pk, outside)
    assert platform_committing_depth() == (True, outside)
    with pytest.raises(TypeError, match="needs tenant_id"):
        committing_depth()


def test_every_job_of_every_app_has_one_of_the_two_shapes():
    """A job is a `tenant_job` or a `platform_job` (the scope is never set by hand); the only other
    public functions a jobs module may hold enqueue one of its jobs (`enqueue_*`)."""
    import importlib
    import inspect

    from django.apps import apps

    shapeless, checked = [], set()
    for config in apps.get_app_configs():
        if "site-packages" in config.path or config.name == "aerostic.core":  # libraries; the helpers themselves
            continue
        try:
            module = importlib.import_module(f"{config.name}.jobs")
        except ModuleNotFoundError:
            continue
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if func.__module__ != module.__name__ or name.startswith(("_", "enqueue_")):
                continue
            checked.add(f"{module.__name__}.{name}")
            if not (getattr(func, "is_tenant_job", False) or getattr(func, "is_platform_job", False)):
                shapeless.append(f"{module.__name__}.{name}")
    assert {"campaigns.jobs.send_batch", "whatsapp.jobs.send_outbound", "contacts.jobs.run_contact_import"} <= checked
    assert shapeless == []
