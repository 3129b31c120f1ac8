"""Rebuild the inbox search index of one workspace (or all) from the stored messages and names:
`manage.py inbox_search_reindex --tenant 3` (after BLIND_INDEX_KEY changed, or for data older than
the index; inbox.search_reindex)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from aerostic.core.tenant_context import platform_context
from inbox.search_reindex import search_terms_rebuild
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Rebuild the inbox search terms of a workspace (--tenant) or of every workspace (--all)."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--tenant", type=int, help="Tenant id")
        which.add_argument("--all", action="store_true", help="Every workspace")

    def handle(self, *args, tenant: int | None = None, all: bool = False, **options):  # noqa: A002
        if all:
            with platform_context("inbox search reindex: list workspaces"):
                tenants = list(Tenant.objects.order_by("pk").values_list("pk", flat=True))
        else:
            tenants = [tenant]
        for tenant_id in tenants:
            counts = search_terms_rebuild(tenant_id=tenant_id)
            self.stdout.write(
                f"Workspace {tenant_id}: {counts['conversations']} conversations, {counts['terms']} terms."
            )
