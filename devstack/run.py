"""`make run`: services, migrations, demo data, then web + three workers + scheduler until Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from devstack.services import ServiceError, Services, port_in_use

ROOT = Path(__file__).resolve().parent.parent
# Another folder (AEROSTIC_DATA_DIR) lets a second stack run beside a developer's (the browser test
# of the whole inbox loop starts one).
DATA = Path(os.environ.get("AEROSTIC_DATA_DIR") or ROOT / ".data")
PYTHON = sys.executable


def _manage(*args: str, capture: bool = False) -> str:
    result = subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        check=False,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed with exit code {result.returncode}.")
    return result.stdout or ""


def _has_command(name: str) -> bool:
    return (ROOT / "whatsapp" / "management" / "commands" / f"{name}.py").exists() or any(
        (app / "management" / "commands" / f"{name}.py").exists() for app in ROOT.iterdir() if app.is_dir()
    )


# As the Procfile runs them. A campaign's stream job runs as long as the campaign sends (minutes at
# Meta's default 80 msg/s): webhook processing sharing its worker would wait that long, and the
# inbox, campaign statistics and billing with it; a customer's reply waiting behind it would too.
WORKER_QUEUES = {
    "worker-webhooks": ["webhooks"],
    "worker-sends": ["sends", "ai"],
    "worker": ["campaigns", "default", "low"],
}


def web_server_command(port: int, workers: int, *options: str) -> list[str]:
    """gunicorn with uvicorn workers serving aerostic.asgi on localhost, as the Procfile runs it
    (`make run` and the benches start the web tier with this)."""
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "aerostic.asgi:application",
        "--worker-class",
        "aerostic.server.Worker",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        *options,
    ]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_in_use(port):
            return
        time.sleep(0.2)
    raise SystemExit(f"Nothing answers on port {port} after {timeout:.0f} s (see .data/logs/).")


class Supervisor:
    """Starts children, prefixes their output, and stops all of them when one ends or on a signal."""

    def __init__(self) -> None:
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()

    def start(self, name: str, args: list[str]) -> None:
        log = open(DATA / "logs" / f"{name}.log", "a", buffering=1)  # noqa: SIM115  (closed with the pump)
        process = subprocess.Popen(  # noqa: S603
            args,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # signals come from us, in order, not from the terminal
        )
        self.children[name] = process
        threading.Thread(target=self._pump, args=(name, process, log), daemon=True).start()

    def _pump(self, name: str, process: subprocess.Popen, log) -> None:
        with log:
            for line in process.stdout:
                log.write(line)
                sys.stdout.write(f"{name:<9}| {line}")

    def wait(self) -> str:
        while not self.stopping.is_set():
            for name, process in self.children.items():
                if process.poll() is not None:
                    return f"{name} exited with code {process.returncode}"
            time.sleep(0.3)
        return "stop requested"

    def stop_all(self) -> None:
        stop_process_groups(list(self.children.values()))


def stop_process_groups(processes: list[subprocess.Popen], timeout: float = 10) -> None:
    """SIGTERM each child's process group (they run in sessions of their own), wait, then SIGKILL
    what is left: no orphan outlives the command that started it."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    if port_in_use(port):
        print(f"Port {port} is already in use: stop what runs there or set PORT=<another>.", file=sys.stderr)
        return 1
    for folder in (DATA, DATA / "logs"):
        folder.mkdir(exist_ok=True)
    os.environ.setdefault("DEV_SECRETS_FILE", str(DATA / "dev-secrets.json"))
    # The web workers and RQ workers of this run share their /metrics files (aerostic/core/metrics.py);
    # a new run starts from zero, as a restarted host does.
    metrics_dir = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(DATA / "metrics")))
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)

    services = Services(DATA, persistent=True)
    supervisor = Supervisor()

    def request_stop(signum, frame) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        try:
            services.start()
        except ServiceError as error:
            print(f"Could not start the local services: {error}", file=sys.stderr)
            return 1
        _manage("migrate", "--noinput", "-v", "0")
        _manage("collectstatic", "--noinput", "-v", "0")
        if _has_command("seed_pricing"):
            _manage("seed_pricing")
        sim_port = os.environ.get("META_SIMULATOR_PORT", "8765")
        if _has_command("meta_simulator"):
            # First, so seeding can connect the demo workspace to the sandbox number.
            os.environ.setdefault("META_SANDBOX_URL", f"http://127.0.0.1:{sim_port}")
            supervisor.start(
                "simulator",
                [
                    PYTHON,
                    "manage.py",
                    "meta_simulator",
                    "--port",
                    sim_port,
                    "--state-file",
                    str(DATA / "simulator-state.json"),
                    "--webhook-url",
                    f"http://127.0.0.1:{port}/webhooks/meta/",
                ],
            )
            wait_for_port(int(sim_port))
        logins = _manage("seed_demo", "--password-file", str(DATA / "demo-password"), capture=True)

        supervisor.start("web", web_server_command(port, 2, "--access-logfile", "-"))
        # Three workers, so long jobs of one kind never delay another (WORKER_QUEUES).
        for name, queues in WORKER_QUEUES.items():
            supervisor.start(name, [PYTHON, "manage.py", "rqworker", "--with-scheduler", *queues])
        supervisor.start("scheduler", [PYTHON, "manage.py", "rqcron", "aerostic.cron"])
        supervisor.start("watchdog", [PYTHON, "manage.py", "alert_watchdog"])

        time.sleep(1.5)
        print("\n" + "=" * 72)
        print(f"Aerostic is running at http://127.0.0.1:{port}/   (Ctrl-C stops everything)")
        print(logins.rstrip())
        print("=" * 72 + "\n", flush=True)
        reason = supervisor.wait()
        print(f"\nStopping ({reason})…", flush=True)
        return 0 if reason == "stop requested" else 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        supervisor.stop_all()
        services.stop()
        print("Stopped web, workers, scheduler, Redis and PostgreSQL.", flush=True)
