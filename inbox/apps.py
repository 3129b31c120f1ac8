from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"

    def ready(self) -> None:
        # compliance sits below the inbox and never names it: the inbox registers what compliance
        # reads of conversations and messages, and what it keeps of a person (GDPR, retention).
        from compliance.conversations import register_conversation_lookups
        from compliance.privacy import register_personal_data
        from inbox.compliance_lookups import LOOKUPS
        from inbox.personal_data import conversations_erase, conversations_export, messages_expire

        register_conversation_lookups(LOOKUPS)
        register_personal_data(
            "conversations", erase=conversations_erase, expire=messages_expire, export=conversations_export
        )
