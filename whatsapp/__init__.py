"""WhatsApp: Graph API client, connections, webhooks and templates (later issues)."""
