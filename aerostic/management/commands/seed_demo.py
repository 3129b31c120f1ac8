"""Seed a demo workspace (admin + agent, and a second workspace to show switching). Idempotent.

A command of the project frame: it fills every app (workspace, sandbox number, contacts, consent),
so it sits above them all and no app imports it."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import tenant_context
from compliance.consent import consent_record
from compliance.models import ConsentEvent
from contacts.models import AttributeDefinition, Contact, ContactList
from contacts.phones import normalize
from contacts.services import contact_create, list_members_add
from tenants import services
from tenants.models import Membership, Tenant, WorkspaceFlag
from whatsapp.connections.connect import sandbox_connect
from whatsapp.models import WhatsAppAccount

DEMO_ADMIN = "admin@demo.aerostic.local"
DEMO_AGENT = "agent@demo.aerostic.local"


class Command(BaseCommand):
    help = "Create the demo tenant and users for local development (refused in staging and production)."

    def add_arguments(self, parser):
        parser.add_argument("--password-file", default=str(settings.BASE_DIR / ".data" / "demo-password"))

    def handle(self, *args, password_file: str, **options):
        if settings.IS_DEPLOYED:
            raise CommandError(f"seed_demo is for development only (DJANGO_ENV={settings.DJANGO_ENV}).")
        password = self._password(Path(password_file))
        with transaction.atomic():
            admin = self._user(DEMO_ADMIN, "Demo Admin", password)
            agent = self._user(DEMO_AGENT, "Demo Agent", password)
            demo = self._tenant("Demo Co", "demo", admin)
            self._tenant("Demo Two", "demo-two", admin)
            with tenant_context(demo):
                Membership.objects.get_or_create(tenant=demo, user=agent, defaults={"role": Role.AGENT})
        sandbox_line = self._connect_sandbox(demo, admin)
        audience_line = self._demo_audience(demo, admin)
        ai_line = self._demo_ai(demo, admin, agent)
        self.stdout.write(
            "\n".join(
                [
                    "Demo logins (workspace 'Demo Co'; the admin also belongs to 'Demo Two'):",
                    f"  admin  {DEMO_ADMIN}  password: {password}",
                    f"  agent  {DEMO_AGENT}  password: {password}",
                    "Platform console (/admin/): create a super-admin with `manage.py createsuperuser`.",
                    sandbox_line,
                    audience_line,
                    ai_line,
                ]
            )
        )

    def _connect_sandbox(self, tenant: Tenant, admin: User) -> str:
        """The demo workspace gets the sandbox number (when the simulator runs) so a first send works."""
        if not settings.SANDBOX_ENABLED:
            return "Sandbox disabled (SANDBOX_ENABLED=false)."
        with tenant_context(tenant):
            account = WhatsAppAccount.objects.exclude(status=WhatsAppAccount.Status.DISCONNECTED).first()
            if account is None:
                try:
                    account = sandbox_connect(tenant=tenant, actor=admin)
                except DomainError as problem:
                    return f"Sandbox number not connected: {problem.message}"
            phone = account.phone_numbers.filter(is_active=True).first()
        return f"WhatsApp: 'Demo Co' is connected to the sandbox number {phone.display_phone_number if phone else '?'}."

    def _demo_audience(self, tenant: Tenant, admin: User) -> str:
        """A small opted-in list, so a first campaign can be launched at once (the simulator
        delivers and reads each message, so the live stats move)."""
        people = [
            ("Asha Rao", "+91 98100 00001", "A-1001"),
            ("Ravi Kumar", "+91 98100 00002", "A-1002"),
            ("Meera Iyer", "+91 98100 00003", "A-1003"),
            ("Arjun Shah", "+91 98100 00004", "A-1004"),
            ("Kavya Nair", "+91 98100 00005", "A-1005"),
        ]
        with tenant_context(tenant), transaction.atomic():
            AttributeDefinition.objects.get_or_create(
                tenant_id=tenant.pk,
                key="order",
                defaults={"label": "Order number", "kind": AttributeDefinition.Kind.TEXT},
            )
            demo_list, _ = ContactList.objects.get_or_create(
                tenant_id=tenant.pk, name="Demo customers", defaults={"description": "Opted-in demo contacts"}
            )
            ids = []
            for name, number, order in people:
                contact = Contact.objects.filter(phone_index=normalize(number).index_for(tenant=tenant.pk)).first()
                if contact is None:
                    contact = contact_create(phone=number, actor=admin, name=name, attributes={"order": order})
                    consent_record(
                        contact=contact,
                        kind=ConsentEvent.Kind.OPT_IN,
                        source=ConsentEvent.Source.FORM,
                        evidence="Demo data: opted in on the demo sign-up form.",
                        actor=admin,
                    )
                ids.append(contact.pk)
            list_members_add(contact_list=demo_list, contact_ids=ids, actor=admin)
        return f"Contacts: the list 'Demo customers' ({len(ids)} opted-in people) is ready for a first campaign."

    def _demo_ai(self, tenant: Tenant, admin: User, agent: User) -> str:
        """The AI auto-reply on the sandbox number with the bundled sample knowledge base (a clothing
        shop's FAQ), hand-overs to a Support team with the demo agent; the `ai_replies` flag allows
        the demo workspace. Kept as it is once set (a person may have changed it)."""
        from inbox.ai import services as ai_services
        from inbox.ai.models import AISettings, KnowledgeAnswer
        from inbox.models import Team
        from inbox.settings_services import team_create
        from whatsapp.models import PhoneNumber

        flag, _ = WorkspaceFlag.objects.get_or_create(name="ai_replies", defaults={"note": "AI auto-reply (issue 20)"})
        flag.allowed.add(tenant)
        with tenant_context(tenant), transaction.atomic():
            if AISettings.objects.exists():
                return "AI: the demo workspace's AI settings are kept as they are."
            if not KnowledgeAnswer.objects.exists():
                sample = settings.BASE_DIR / "samples" / "ai" / "knowledge_base.csv"
                ai_services.knowledge_csv_import(data=sample.read_bytes(), actor=admin)
            team = Team.objects.filter(name="Support").first() or team_create(
                name="Support", member_ids=[agent.pk], actor=admin
            )
            ai_services.ai_numbers_set(
                phone_number_ids=list(PhoneNumber.objects.filter(is_active=True).values_list("pk", flat=True)),
                actor=admin,
            )
            ai_services.ai_settings_update(actor=admin, enabled=True, handover_team_id=team.pk)
            pairs = KnowledgeAnswer.objects.count()
        return f"AI: auto-reply on with the sample knowledge base ({pairs} pairs); hand-overs go to the Support team."

    def _password(self, path: Path) -> str:
        if path.exists():
            return path.read_text().strip()
        password = "demo-" + secrets.token_urlsafe(9)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password)
        path.chmod(0o600)
        return password

    def _user(self, email: str, name: str, password: str) -> User:
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": name})
        if created or not user.check_password(password):
            user.set_password(password)
            user.save()
        return user

    def _tenant(self, name: str, slug: str, admin: User) -> Tenant:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            tenant = services.tenant_create(name=name, slug=slug, owner=admin)
        return tenant
