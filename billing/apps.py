from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # The higher layer registers its reaction; whatsapp never names billing (DESIGN §1).
        from billing.services.metering import usage_record_from_statuses
        from whatsapp import fanout

        # Status webhooks meter usage: charged once per message or conversation, from Meta's pricing.
        fanout.on_statuses(usage_record_from_statuses)
