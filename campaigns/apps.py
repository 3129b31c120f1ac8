from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from campaigns.personal_data import campaign_messages_erase
        from compliance.privacy import register_personal_data

        register_personal_data("campaign_messages", erase=campaign_messages_erase)
