"""App config of the test-only models (installed by aerostic.settings_test, never in production)."""

from django.apps import AppConfig


class TestSupportConfig(AppConfig):
    name = "aerostic.testsupport"
    label = "testsupport"
    verbose_name = "Test support"
