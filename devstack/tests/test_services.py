"""The embedded services behind `make run` / `make test`: real servers, started and stopped."""

import subprocess
import sys

import psycopg
import pytest

from devstack.services import EmbeddedPostgres, EmbeddedRedis, ServiceError, port_in_use


def test_embedded_postgres_gives_a_role_that_cannot_bypass_rls(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    try:
        host = url.split("host=", 1)[1]
        with psycopg.connect(dbname="aerostic", user="aerostic", host=host) as conn:
            row = conn.execute("SELECT rolsuper, rolbypassrls, rolcreatedb FROM pg_roles WHERE rolname = current_user")
            assert row.fetchone() == (False, False, True)
        assert server.start() == url  # a second start reuses the running server and the role
    finally:
        server.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dbname="aerostic", user="aerostic", host=host, connect_timeout=2)


def test_embedded_redis_answers_and_stops(tmp_path):
    redis = EmbeddedRedis(tmp_path / "redis", persistent=False)
    url = redis.start()
    port = redis.port
    try:
        assert url == f"redis://127.0.0.1:{port}/0"
        assert port_in_use(port)
    finally:
        redis.stop()
    assert not port_in_use(port)


def test_redis_on_a_busy_port_is_a_clear_error(tmp_path):
    first = EmbeddedRedis(tmp_path / "a", persistent=False)
    first.start()
    try:
        with pytest.raises(ServiceError, match="already in use"):
            EmbeddedRedis(tmp_path / "b", persistent=False, port=first.port).start()
    finally:
        first.stop()


def test_unknown_devstack_command_exits_2():
    result = subprocess.run([sys.executable, "-m", "devstack", "dance"], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "usage" in result.stderr
