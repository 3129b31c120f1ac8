from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self) -> None:
        # contacts sits below the consent ledger: it calls the recorder registered here.
        from compliance.imported_consent import import_consent_record
        from contacts.importing.consent import on_import_consent

        on_import_consent(import_consent_record)
