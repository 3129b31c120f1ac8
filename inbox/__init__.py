"""Inbox: conversations, messages and the AI auto-reply (later issues)."""
