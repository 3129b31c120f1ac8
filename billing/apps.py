from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # The higher layer registers its reactions; whatsapp, inbox and campaigns never name billing (DESIGN §1).
        from billing.selectors import campaign_actual, campaign_estimate, launch_allowed
        from billing.services.ledger import ai_usage_meter
        from billing.services.metering import usage_record_from_statuses
        from campaigns.costing import register_costing
        from inbox.ai.usage import on_ai_usage
        from whatsapp import fanout

        # Status webhooks meter usage: charged once per message or conversation, from Meta's pricing.
        fanout.on_statuses(usage_record_from_statuses)
        # Campaigns price their launch (estimate, prepaid balance) and their page (actual cost) here.
        register_costing(estimate=campaign_estimate, launch_allowed=launch_allowed, actual=campaign_actual)
        # The AI auto-reply's tokens: metered once per decision, inside the decision's transaction.
        on_ai_usage(ai_usage_meter)
