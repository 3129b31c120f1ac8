from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"

    def ready(self) -> None:
        # whatsapp (a layer below) hands the inbox what it receives and sends through its fan-out
        # and never imports the inbox (DESIGN §1).
        from inbox import conversations, inbound, outbound, statuses
        from whatsapp import fanout

        fanout.register_message_store(
            fanout.MessageStore(
                inbound_many=inbound.inbound_store_many,
                statuses_many=statuses.status_record_many,
                echo=outbound.echo_store,
                history=outbound.history_store,
                conversations=conversations.conversations_of,
            )
        )
        fanout.on_sent(outbound.outbound_store_many)
