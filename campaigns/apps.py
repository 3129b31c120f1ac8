from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        # A disconnected or deactivated number pauses its campaigns at once (DESIGN §1: the higher
        # layer registers, whatsapp never names campaigns).
        from campaigns.services import campaigns_pause_for_number
        from whatsapp import fanout

        fanout.on_number_stopped(campaigns_pause_for_number)
