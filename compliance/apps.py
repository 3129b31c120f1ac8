from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self) -> None:
        # tenants sits below compliance: its console page and workspace pages get compliance's
        # kill-switch, erase action and sending state through registries tenants owns.
        from compliance import tenant_admin
        from compliance.selectors import sending_allowed
        from tenants.sending_state import register_sending_reader

        tenant_admin.register()
        register_sending_reader(sending_allowed)
        # contacts sits below the consent ledger: it calls the recorder registered here.
        from compliance.imported_consent import import_consent_record
        from contacts.importing.consent import on_import_consent

        on_import_consent(import_consent_record)
