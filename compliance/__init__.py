"""Compliance: the kill-switches, the consent ledger and its signals (keywords, Meta's preferences
and refusals), the sending rules (can_send, quiet hours, frequency cap, the 24 h window), GDPR
erase / export and message retention, and a contact's consent and GDPR pages and API. It sits
above contacts and below whatsapp, inbox and campaigns: what it needs from those comes through
registries they fill from their AppConfig.ready() (compliance.conversations,
compliance.privacy.register_personal_data, compliance.services.on_sending_resumed)."""
