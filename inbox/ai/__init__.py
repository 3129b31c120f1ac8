"""The AI auto-reply: providers that answer a customer's message (the built-in knowledge base, an
OpenAI-compatible chat model), the guardrails that decide whether an answer goes out, and the
human takeover that silences the AI in a conversation."""
