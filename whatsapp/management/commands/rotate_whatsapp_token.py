"""Replace a WhatsApp account's token. The token is read from standard input, never from the
command line (shell history, process lists): `manage.py rotate_whatsapp_token --account 3 < token.txt`."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from aerostic.core.errors import DomainError
from aerostic.core.tenant_context import platform_context
from whatsapp.connections.tokens import token_rotate
from whatsapp.models import WhatsAppAccount


class Command(BaseCommand):
    help = "Rotate the access token of a WhatsApp account (new token on standard input)."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, required=True, help="WhatsAppAccount id (Django admin shows it)")

    def handle(self, *args, account: int, **options):
        with platform_context("rotate a WhatsApp token from the command line"):
            row = (
                WhatsAppAccount.all_tenants.exclude(status=WhatsAppAccount.Status.DISCONNECTED)
                .filter(pk=account)
                .first()
            )
        if row is None:
            raise CommandError(f"No connected WhatsApp account with id {account}.")
        new_token = sys.stdin.readline().strip()
        if not new_token:
            raise CommandError("Give the new token on standard input.")
        try:
            token_rotate(account=row, new_token=new_token, actor=None)
        except DomainError as problem:
            raise CommandError(problem.message) from None
        self.stdout.write(self.style.SUCCESS(f"Token of {row} rotated; the old one is erased."))
