"""Metering Meta's status webhooks into the ledger, keeping what cannot be priced (with the reason),
and re-pricing it once the missing card is loaded. Bulk first: the webhook drainer meters all the
statuses of a number in its batch with one call, in a fixed number of statements; one status is a
batch of one.

- statuses: `usage_record_from_statuses` / `usage_record_from_status` (what bills, read from Meta's
  payloads);
- batch: deciding usages in order and writing them together (exactly once per reference);
- reprice: `unpriced_usage_reprice`.
"""

from billing.services.metering.reprice import unpriced_usage_reprice
from billing.services.metering.statuses import BILLABLE_STATUSES, usage_record_from_status, usage_record_from_statuses

__all__ = ["BILLABLE_STATUSES", "unpriced_usage_reprice", "usage_record_from_status", "usage_record_from_statuses"]
