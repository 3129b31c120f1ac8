from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"

    def ready(self) -> None:
        from tenants import signals  # noqa: F401  (audit of sign-ins, tagged with the active workspace)
