"""`make test`: throwaway Postgres + Redis (unless given by URL), then pytest with the given arguments."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from devstack.services import ServiceError, Services

ROOT = Path(__file__).resolve().parent.parent
NO_TESTS_COLLECTED = 5


def main(pytest_args: list[str]) -> int:
    services = Services(Path(tempfile.mkdtemp(prefix="aerostic-test-")), persistent=False)
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        try:
            services.start()
        except ServiceError as error:
            print(f"Could not start the test services: {error}", file=sys.stderr)
            return 1
        code = subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT)  # noqa: S603
        if code == NO_TESTS_COLLECTED:
            print("pytest collected no tests: that is a failure here.", file=sys.stderr)
            return 1
        return code
    except KeyboardInterrupt:
        return 130
    finally:
        services.stop()
        services.delete()
