from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        # The higher layer registers its reactions; compliance and whatsapp never name campaigns
        # (DESIGN §1).
        from campaigns.engine.statuses import campaign_statuses_received
        from campaigns.personal_data import campaign_messages_erase
        from campaigns.services import campaigns_pause_for_number, campaigns_pause_for_template
        from compliance.privacy import register_personal_data
        from whatsapp import fanout

        register_personal_data("campaign_messages", erase=campaign_messages_erase)
        # A kill-switch turned back on wakes the batches it held.
        from campaigns.jobs import enqueue_wake_campaigns
        from compliance.services import on_sending_resumed

        on_sending_resumed(enqueue_wake_campaigns)
        # A disconnected or deactivated number pauses its campaigns at once.
        fanout.on_number_stopped(campaigns_pause_for_number)
        # A template Meta paused or disabled pauses the campaigns that use it.
        fanout.on_template_stopped(campaigns_pause_for_template)
        # Status webhooks move campaign recipients forward (sent → delivered → read, or failed).
        fanout.on_statuses(campaign_statuses_received)
        # The campaign audience's ledger in the one send path (statuses settle it, the sweeper marks it).
        import campaigns.engine.source  # noqa: F401
        from campaigns.engine.sweeper import requeue_due_batches
        from whatsapp.sending.sweeper import on_sweep

        on_sweep(requeue_due_batches)  # lost or due batches go again with the one sweeper of sends
        # The inbox's contact side panel shows the contact's past campaigns and their outcomes.
        from campaigns.inbox_panel import SECTION_TITLE, campaign_history_section
        from inbox.contact_panel import register_contact_panel_section

        register_contact_panel_section(SECTION_TITLE, campaign_history_section)
        # What /metrics samples of campaigns (aerostic.core.metrics).
        from aerostic.core.metrics import register_sampler
        from campaigns.metrics import campaign_progress

        register_sampler("campaigns", campaign_progress)
