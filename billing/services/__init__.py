"""Billing writes (a package: each module stays short). Import from here:

    from billing.services import usage_record_from_status, credit_add, ...

- metering: `usage_record_from_statuses` (the webhook drainer, once per number and batch) and
  `usage_record_from_status` (a batch of one), `unpriced_usage_reprice`;
- ledger: `credit_add`, `adjustment_add`, `ai_tokens_record`;
- profiles: `billing_profile_ensure`, `billing_profile_update`.
"""

from billing.services.ledger import adjustment_add, ai_tokens_record, credit_add
from billing.services.metering import (
    BILLABLE_STATUSES,
    unpriced_usage_reprice,
    usage_record_from_status,
    usage_record_from_statuses,
)
from billing.services.profiles import billing_profile_ensure, billing_profile_update

__all__ = [
    "BILLABLE_STATUSES",
    "adjustment_add",
    "ai_tokens_record",
    "billing_profile_ensure",
    "billing_profile_update",
    "credit_add",
    "unpriced_usage_reprice",
    "usage_record_from_status",
    "usage_record_from_statuses",
]
