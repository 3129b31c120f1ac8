"""Session limits on every Postgres connection: a statement running too long is stopped, a
transaction left idle is closed, `migrate` runs without them, and /readyz names old transactions."""

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import DatabaseError, OperationalError, connection, transaction

from aerostic.core.db_session import long_transactions, timeout_options, use_timeouts

pytestmark = pytest.mark.django_db(transaction=True)


def _show(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@pytest.fixture
def restore_timeouts():
    yield
    use_timeouts(
        statement_ms=django_settings.DB_STATEMENT_TIMEOUT_MS,
        idle_in_transaction_ms=django_settings.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    )


def test_options_keep_other_settings_and_replace_old_limits():
    merged = timeout_options(
        "-c search_path=app -c statement_timeout=5", statement_ms=30000, idle_in_transaction_ms=60000
    )
    assert merged == "-c search_path=app -c statement_timeout=30000 -c idle_in_transaction_session_timeout=60000"


def test_every_connection_starts_with_the_web_limits():
    assert _show("statement_timeout") == "30s"
    assert _show("idle_in_transaction_session_timeout") == "1min"


def show_statement_timeout() -> str:  # an RQ job of the test below
    return _show("statement_timeout")


def test_a_worker_runs_its_jobs_with_the_longer_statement_limit_and_gives_it_back():
    from aerostic import worker
    from aerostic.core import queues

    queue = queues.get_queue("low")
    job = queue.enqueue("aerostic.core.tests.test_db_session.show_statement_timeout")
    worker.SweepingWorker([queue], connection=queue.connection).work(burst=True)
    job.refresh()
    assert job.return_value() == "5min"
    assert _show("statement_timeout") == "30s"


def test_a_statement_over_the_limit_is_cancelled_and_the_connection_stays_usable(restore_timeouts):
    use_timeouts(statement_ms=100, idle_in_transaction_ms=60000)
    with (
        pytest.raises(OperationalError, match="statement timeout"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT pg_sleep(2)")
    assert _show("statement_timeout") == "100ms"


def test_a_transaction_left_idle_is_closed_by_postgres(restore_timeouts):
    import time

    use_timeouts(statement_ms=30000, idle_in_transaction_ms=200)
    with (
        pytest.raises(DatabaseError, match="idle-in-transaction timeout"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT 1")
        time.sleep(0.6)  # a request that went off to do something slow with a transaction open
        cursor.execute("SELECT 1")
    connection.close()


def test_migrate_runs_without_the_limits(restore_timeouts):
    seen = {}

    def spy(*args, **kwargs):
        seen["statement"] = _show("statement_timeout")
        seen["idle"] = _show("idle_in_transaction_session_timeout")

    from django.db.models.signals import pre_migrate

    pre_migrate.connect(spy, dispatch_uid="test-db-session-spy")
    try:
        call_command("migrate", verbosity=0)
    finally:
        pre_migrate.disconnect(dispatch_uid="test-db-session-spy")
    assert seen == {"statement": "0", "idle": "0"}
    assert _show("statement_timeout") == "30s"  # and back for what runs after it


def test_readyz_lists_transactions_open_too_long(client, settings):
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k not in ("cursor_factory", "context")}) as other:
        other.execute("SELECT 1")  # psycopg opened a transaction, now left open
        pid = other.info.backend_pid
        found = long_transactions(older_than_seconds=0)
        assert any(row["pid"] == pid and row["state"] == "idle in transaction" for row in found)
        settings.READYZ_LONG_TRANSACTION_SECONDS = 1
        import time

        time.sleep(1.2)
        body = client.get("/readyz").json()
        listed = body["checks"]["postgres"]["long_transactions"]
        assert body["status"] == "ok"  # reported, not a reason to leave the load balancer
        assert [row["pid"] for row in listed] == [pid] and listed[0]["seconds"] >= 1
        assert set(listed[0]) == {"pid", "state", "application", "backend", "seconds"}  # never the statement
    assert long_transactions(older_than_seconds=0) == [] or all(
        row["pid"] != pid for row in long_transactions(older_than_seconds=0)
    )
