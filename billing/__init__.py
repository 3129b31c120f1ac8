"""Billing: Meta rate cards and markets, usage metering from status webhooks, the tenant ledger, estimates."""
