"""The backup runbook (docs/operations.md), played for real: a seeded database is dumped with
pg_dump, restored into a fresh database with pg_restore, and the app started against the copy
reads the data back, decrypts what is encrypted and finds row-level security still forced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from aerostic.core.tenant_context import tenant_context
from contacts.tests.factories import ContactFactory
from whatsapp.models import AccessToken
from whatsapp.tests.factories import WhatsAppAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "EAAbackup" + "x" * 40
NUMBER = "+4915100765432"

READ_BACK = """
import json
from aerostic.core.tenant_context import platform_context
from contacts.models import Contact
from whatsapp.models import AccessToken
with platform_context("restore check"):
    token = AccessToken.objects.get()
    contact = Contact.objects.get()
    print(json.dumps({"token": token.token.reveal(), "phone": contact.phone.reveal(), "name": contact.name}))
"""


def _embedded_postgres() -> tuple[Path, str]:
    """pg_dump / pg_restore and the socket of the Postgres `make test` started (its superuser
    `postgres` is trusted on that socket only: a dump must bypass row-level security)."""
    import pgserver

    bin_dir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    host = str(connection.get_connection_params().get("host") or "")
    if not host.startswith("/") or not (bin_dir / "pg_dump").exists():
        pytest.skip("needs the embedded Postgres `make test` starts (DATABASE_URL names another server)")
    return bin_dir, host


def _run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)  # noqa: S603
    assert result.returncode == 0, f"{' '.join(command[:2])}: {result.stderr[-2000:]}"
    return result


def test_a_dump_restores_into_a_fresh_database_the_app_reads(alpha, tmp_path):
    bin_dir, host = _embedded_postgres()
    with tenant_context(alpha.tenant):
        account = WhatsAppAccountFactory()
        AccessToken.objects.create(tenant=alpha.tenant, account=account, token=TOKEN, token_type="SYSTEM_USER")
        ContactFactory(tenant=alpha.tenant, phone=NUMBER, name="Asha Backup")
    source = connection.settings_dict["NAME"]
    restored = f"restore_{uuid.uuid4().hex[:10]}"
    dump = tmp_path / "aerostic.dump"
    superuser = ("-h", host, "-U", "postgres")

    _run(str(bin_dir / "pg_dump"), *superuser, "--format=custom", f"--file={dump}", source)
    stored = dump.read_bytes()
    assert TOKEN.encode() not in stored and NUMBER.encode() not in stored  # encrypted in the dump too
    _run(str(bin_dir / "createdb"), *superuser, "--owner=aerostic", restored)
    try:
        _run(str(bin_dir / "pg_restore"), *superuser, "--exit-on-error", f"--dbname={restored}", str(dump))
        env = {**os.environ, "DATABASE_URL": f"postgres://aerostic@/{restored}?host={host}"}
        # The app against the copy: every migration there, the role obeys RLS, the rows decrypt.
        _run(sys.executable, "manage.py", "migrate", "--check", cwd=ROOT, env=env)
        _run(sys.executable, "manage.py", "check", "--database", "default", cwd=ROOT, env=env)
        result = _run(sys.executable, "manage.py", "shell", input=READ_BACK, cwd=ROOT, env=env)
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {
            "token": TOKEN,
            "phone": NUMBER,
            "name": "Asha Backup",
        }
        forced = _run(
            str(bin_dir / "psql"), *superuser, "-d", restored, "-tAc",
            "SELECT relname FROM pg_class WHERE relname IN ('contacts_contact', 'whatsapp_accesstoken')"
            " AND relrowsecurity AND relforcerowsecurity ORDER BY 1",
        )  # fmt: skip
        assert forced.stdout.split() == ["contacts_contact", "whatsapp_accesstoken"]
    finally:
        subprocess.run([str(bin_dir / "dropdb"), *superuser, "--force", restored], capture_output=True, timeout=60)  # noqa: S603
