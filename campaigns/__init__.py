"""Campaigns: contacts, audiences and broadcast campaigns (later issues)."""
