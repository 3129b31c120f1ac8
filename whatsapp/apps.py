from django.apps import AppConfig


class WhatsappConfig(AppConfig):
    name = "whatsapp"

    def ready(self) -> None:
        from aerostic.core.admin_site import add_index_figure
        from compliance.privacy import register_personal_data
        from whatsapp.personal_data import outbound_erase, outbound_expire, webhook_events_erase
        from whatsapp.selectors import dead_webhook_count

        register_personal_data("outbound_messages", erase=outbound_erase, expire=outbound_expire)
        register_personal_data("webhook_events", erase=webhook_events_erase)
        # One-off sends' ledger (their table's place in the one send path: whatsapp/sending/).
        import whatsapp.dispatch  # noqa: F401

        # The platform console's index counts the dead webhook events (templates/admin/index.html).
        add_index_figure("dead_webhooks", dead_webhook_count)
        # What /metrics samples of WhatsApp (aerostic.core.metrics).
        from aerostic.core.metrics import register_sampler
        from whatsapp import metrics

        register_sampler("webhooks", metrics.webhook_backlog)
        register_sampler("tokens", metrics.tokens)
        register_sampler("breakers", metrics.breakers)
        # Its alert rules (aerostic.core.alert_rules).
        from whatsapp import alert_rules

        alert_rules.register()
