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
        # compliance sits below the inbox and never names it: the inbox registers what compliance
        # reads of conversations and messages, and what it keeps of a person (GDPR, retention).
        from compliance.conversations import register_conversation_lookups
        from compliance.privacy import register_personal_data
        from inbox.compliance_lookups import LOOKUPS
        from inbox.personal_data import conversations_erase, conversations_export, media_erase_all, messages_expire

        register_conversation_lookups(LOOKUPS)
        register_personal_data(
            "conversations",
            erase=conversations_erase,
            expire=messages_expire,
            export=conversations_export,
            erase_workspace=media_erase_all,
        )
        # The portal's navigation (tenants, below) shows the inbox's count without naming the inbox.
        from inbox.badges import inbox_badge
        from tenants.context_processors import register_nav_badge

        register_nav_badge("inbox:index", inbox_badge)
