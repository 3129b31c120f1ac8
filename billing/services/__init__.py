"""Billing writes (a package: each module stays short). Import from here:

    from billing.services import usage_record_from_status, credit_add, ...

- metering: `usage_record_from_statuses` (the webhook drainer, once per number and batch) and
  `usage_record_from_status` (a batch of one), `unpriced_usage_reprice`;
- ledger: `credit_add`, `adjustment_add`, `ai_tokens_record` and `ai_usage_meter` (the inbox's AI usage);
- ai_prices: `ai_token_price_save`, `ai_token_price_delete` (platform staff), `ai_token_prices_seed`;
- profiles: `billing_profile_ensure`, `billing_profile_update`.
"""

from billing.services.ai_prices import ai_token_price_delete, ai_token_price_save, ai_token_prices_seed
from billing.services.ledger import adjustment_add, ai_tokens_record, ai_usage_meter, credit_add
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
    "ai_token_price_delete",
    "ai_token_price_save",
    "ai_token_prices_seed",
    "ai_tokens_record",
    "ai_usage_meter",
    "billing_profile_ensure",
    "billing_profile_update",
    "credit_add",
    "unpriced_usage_reprice",
    "usage_record_from_status",
    "usage_record_from_statuses",
]
