"""`make lint`'s dependency audit: pip-audit checks every pin of requirements.txt against the OSV
vulnerability database and exits non-zero on a known vulnerability.

OSV is an online service. When it cannot be reached the audit has not happened, so this says so
and fails (exit 2) rather than pass in silence; `AUDIT_OFFLINE=warn` turns that into a warning for
machines that reach only package indexes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICE_HOST = "api.osv.dev"


def service_reachable(host: str = SERVICE_HOST, timeout: float = 5.0) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def main() -> int:
    if not service_reachable():
        lenient = os.environ.get("AUDIT_OFFLINE", "").lower() == "warn"
        print(
            f"dependency audit: {SERVICE_HOST} (the OSV vulnerability database) cannot be reached from "
            "this machine, so requirements.txt was NOT checked for known vulnerabilities. Run "
            "`make lint` where it is reachable"
            + (" (AUDIT_OFFLINE=warn: carrying on)." if lenient else ", or set AUDIT_OFFLINE=warn to skip it here."),
            file=sys.stderr,
        )
        return 0 if lenient else 2
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(ROOT / "requirements.txt"),
        # Every line is an exact pin: audit those versions as written, without building an environment.
        "--no-deps",
        "--disable-pip",
        "--strict",
        "--vulnerability-service",
        "osv",
        "--progress-spinner",
        "off",
        "--desc",
        "on",
    ]
    return subprocess.run(command, cwd=ROOT, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
