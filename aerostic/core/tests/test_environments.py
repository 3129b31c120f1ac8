"""DJANGO_ENV on every page: development and staging say so (portal, sign-in, admin); production
says nothing."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

BANNER = 'class="env-banner env-banner-'


def _pages(alpha, login_client, console_client):
    return {
        "portal": login_client(alpha.admin).get("/").content.decode(),
        "sign-in": Client().get("/accounts/login/").content.decode(),
        "admin": console_client.get("/admin/").content.decode(),
    }


def test_development_says_so_everywhere(alpha, login_client, console_client, settings):
    settings.DJANGO_ENV, settings.IS_PRODUCTION = "development", False
    pages = _pages(alpha, login_client, console_client)
    for name in ("portal", "sign-in"):
        assert BANNER + "development" in pages[name], name
        assert "sample data and the sandbox: not for customers" in pages[name]
    assert '<span class="env-badge"' in pages["admin"] and ">Development</span>" in pages["admin"]


def test_staging_says_it_is_a_rehearsal(alpha, login_client, console_client, settings):
    settings.DJANGO_ENV, settings.IS_PRODUCTION = "staging", False
    pages = _pages(alpha, login_client, console_client)
    for name in ("portal", "sign-in"):
        assert BANNER + "staging" in pages[name] and "A rehearsal of production" in pages[name], name
    assert ">Staging</span>" in pages["admin"]


def test_production_shows_no_banner(alpha, login_client, console_client, settings):
    settings.DJANGO_ENV, settings.IS_PRODUCTION = "production", True
    pages = _pages(alpha, login_client, console_client)
    for name, page in pages.items():
        assert "env-banner" not in page and "env-badge" not in page, name
    assert "Django administration" in pages["admin"] or "Aerostic" in pages["admin"]
