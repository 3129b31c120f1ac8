"""Audit trail: what is recorded, what is refused, retention."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aerostic.core import audit
from aerostic.core.jobs_periodic import purge_old_audit_events
from aerostic.core.models import AuditEvent
from aerostic.core.tenant_context import tenant_context

pytestmark = pytest.mark.django_db


def test_record_keeps_actor_target_and_ip(alpha):
    event = audit.record(
        "team.role_changed",
        actor=alpha.admin.user,
        tenant=alpha.tenant,
        target=alpha.agent,
        ip="203.0.113.9",
        metadata={"to": "viewer"},
    )
    assert (event.actor_email, event.target_type, event.ip_address) == (
        alpha.admin.user.email,
        "tenants.membership",
        "203.0.113.9",
    )


@pytest.mark.parametrize("key", ["body", "token", "password", "Phone"])
def test_metadata_that_could_carry_secrets_or_bodies_is_refused(alpha, key):
    with pytest.raises(ValueError, match="may not carry"):
        audit.record("x", tenant=alpha.tenant, metadata={key: "value"})


def test_retention_job_deletes_events_older_than_the_setting(alpha, settings):
    settings.AUDIT_RETENTION_DAYS = 90
    old = audit.record("old", tenant=alpha.tenant)
    recent = audit.record("recent", tenant=alpha.tenant)
    with tenant_context(alpha.tenant):
        AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    assert purge_old_audit_events() == 1
    with tenant_context(alpha.tenant):
        assert list(AuditEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_audit_page_lists_only_this_tenants_events(alpha, bravo, login_client):
    audit.record("alpha.thing", tenant=alpha.tenant)
    audit.record("bravo.thing", tenant=bravo.tenant)
    content = login_client(alpha.admin).get("/workspace/audit/").content
    assert b"alpha.thing" in content and b"bravo.thing" not in content


def test_periodic_jobs_are_importable_and_on_known_queues(settings):
    from django.utils.module_loading import import_string

    from aerostic.periodic import PERIODIC_JOBS

    for job in PERIODIC_JOBS:
        assert callable(import_string(job.func))
        assert job.queue in settings.QUEUE_NAMES
