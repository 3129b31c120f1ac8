"""Billing: Meta rate cards, usage metering and the tenant ledger (later issues)."""
