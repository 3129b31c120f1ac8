from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"

    def ready(self) -> None:
        # The navigation's count beside Alerts: the workspace's open alerts (one query).
        from aerostic.core.alerts import open_alerts
        from tenants import signals  # noqa: F401  (audit of sign-ins, tagged with the active workspace)
        from tenants.context_processors import register_nav_badge

        register_nav_badge("portal:alerts", lambda request: open_alerts().count())
