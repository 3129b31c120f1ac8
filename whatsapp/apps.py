from django.apps import AppConfig


class WhatsappConfig(AppConfig):
    name = "whatsapp"

    def ready(self) -> None:
        from compliance.privacy import register_personal_data
        from whatsapp.personal_data import outbound_erase, outbound_expire, webhook_events_erase

        register_personal_data("outbound_messages", erase=outbound_erase, expire=outbound_expire)
        register_personal_data("webhook_events", erase=webhook_events_erase)
        # One-off sends' ledger (their table's place in the one send path: whatsapp/sending/).
        import whatsapp.dispatch  # noqa: F401
