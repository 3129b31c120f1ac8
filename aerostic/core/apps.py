"""App configs for the core app and for Django admin (the platform console)."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    default = True
    name = "aerostic.core"
    label = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from aerostic.core.rls import install_scope_wrapper

        connection_created.connect(install_scope_wrapper, dispatch_uid="aerostic_rls_scope")
        from aerostic.core.checks import guard_database_role  # also registers the system check

        connection_created.connect(guard_database_role, dispatch_uid="aerostic_database_role_guard")
        from django.db.models import IntegerField

        from aerostic.core.lookups import AnyOf

        IntegerField.register_lookup(AnyOf)


class PlatformAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "aerostic.core.admin_site.PlatformAdminSite"
