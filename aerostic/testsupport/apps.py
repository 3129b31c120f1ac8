from django.apps import AppConfig


class TestSupportConfig(AppConfig):
    name = "aerostic.testsupport"
    label = "testsupport"
