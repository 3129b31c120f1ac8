"""Input and output shapes of /api/v1/billing/…. Amounts are integers in micro-units of the currency
(`*_micros`, 1 unit = 1,000,000) with a decimal string beside them; rates are decimal strings as
Meta prints them ("0.0118")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from aerostic.core.money import from_micros, rate_text
from billing.models import LedgerEntry
from campaigns.serializers import AwareDateTimeField


class UsageQuery(serializers.Serializer):
    cycle = serializers.DateField(required=False, help_text="Any day of the cycle (default: the current one)")


class LedgerQuery(serializers.Serializer):
    cycle = serializers.DateField(required=False, help_text="Any day of the cycle")
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.choices, required=False)
    campaign = serializers.IntegerField(required=False, min_value=1, help_text="A campaign id")
    since = AwareDateTimeField(required=False)
    until = AwareDateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": "Must be after `since`."})
        return attrs


class RateCardQuery(serializers.Serializer):
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, help_text="ISO 4217 (default: the workspace's currency)"
    )
    at = AwareDateTimeField(required=False, help_text="When (default: now)")


MAX_ESTIMATE_VARIANTS = 3  # a campaign's own limit (A, B, C)
MAX_ESTIMATE_AUDIENCES = 50  # lists, and segments, per estimate


class EstimateVariantInput(serializers.Serializer):
    template_id = serializers.IntegerField(min_value=1)
    percentage = serializers.IntegerField(min_value=1, max_value=100)


class EstimateInput(serializers.Serializer):
    template_id = serializers.IntegerField(min_value=1, required=False, help_text="One template for everyone")
    # Caps bound the work of one request (each id is looked up, each variant priced)
    variants = serializers.ListField(
        child=EstimateVariantInput(),
        required=False,
        max_length=MAX_ESTIMATE_VARIANTS,
        error_messages={"max_length": f"At most {MAX_ESTIMATE_VARIANTS} variants (A/B/C)."},
        help_text=f"Or A/B variants adding up to 100 % (at most {MAX_ESTIMATE_VARIANTS})",
    )
    list_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=MAX_ESTIMATE_AUDIENCES,
        error_messages={"max_length": f"At most {MAX_ESTIMATE_AUDIENCES} lists."},
    )
    segment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=MAX_ESTIMATE_AUDIENCES,
        error_messages={"max_length": f"At most {MAX_ESTIMATE_AUDIENCES} segments."},
    )
    send_at = AwareDateTimeField(required=False, allow_null=True, help_text="Priced at this time (default: now)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_template, variants = attrs.get("template_id") is not None, attrs.get("variants")
        if has_template == bool(variants):
            raise serializers.ValidationError({"template_id": "Give either `template_id` or `variants`."})
        if variants and sum(variant["percentage"] for variant in variants) != 100:
            raise serializers.ValidationError({"variants": "The percentages must add up to 100."})
        if not attrs["list_ids"] and not attrs["segment_ids"]:
            raise serializers.ValidationError({"list_ids": "Choose at least one list or segment."})
        return attrs


class AmountRow(serializers.Serializer):
    amount_micros = serializers.IntegerField()
    count = serializers.IntegerField()


class CategorySpendOutput(AmountRow):
    category = serializers.CharField()


class MarketSpendOutput(AmountRow):
    market = serializers.CharField()


class DailySpendOutput(serializers.Serializer):
    day = serializers.DateField()
    amount_micros = serializers.IntegerField()


class TopCampaignOutput(serializers.Serializer):
    campaign_id = serializers.IntegerField()
    name = serializers.CharField()
    amount_micros = serializers.IntegerField()
    messages = serializers.IntegerField()


class UsageCounterOutput(serializers.Serializer):
    kind = serializers.CharField()
    category = serializers.CharField()
    count = serializers.IntegerField()
    free = serializers.IntegerField()
    amount_micros = serializers.IntegerField()


class AIUsageOutput(serializers.Serializer):
    provider = serializers.CharField()
    model = serializers.CharField()
    replies = serializers.IntegerField(help_text="AI decisions metered (each spent tokens)")
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    tokens = serializers.IntegerField(help_text="Prompt and completion tokens together")
    amount_micros = serializers.IntegerField(help_text="What they cost, at the AI token prices in force")


class UsageOutput(serializers.Serializer):
    currency = serializers.CharField()
    cycle = serializers.DateField()
    cycle_end = serializers.DateField(help_text="First day of the next cycle")
    spent_micros = serializers.IntegerField()
    spent = serializers.SerializerMethodField()
    by_category = CategorySpendOutput(many=True)
    by_market = MarketSpendOutput(many=True)
    daily = DailySpendOutput(many=True)
    top_campaigns = TopCampaignOutput(many=True)
    counters = UsageCounterOutput(many=True)
    ai_usage = AIUsageOutput(many=True, help_text="Per provider and model, costliest first")
    credits_micros = serializers.IntegerField()
    adjustments_micros = serializers.IntegerField()
    unpriced = serializers.IntegerField(help_text="Messages of the cycle not priced yet")
    prepaid = serializers.BooleanField()
    balance_micros = serializers.IntegerField(allow_null=True)
    credit_limit_micros = serializers.IntegerField(allow_null=True)

    def get_spent(self, summary: dict[str, Any]) -> str:
        return str(from_micros(summary["spent_micros"]))


class LedgerEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    amount_micros = serializers.IntegerField(help_text="Signed: debits negative")
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    reference = serializers.CharField()
    wamid = serializers.CharField()
    category = serializers.CharField()
    market = serializers.CharField()
    country = serializers.CharField()
    pricing_model = serializers.CharField()
    pricing_type = serializers.CharField()
    rate = serializers.SerializerMethodField()
    billing_cycle = serializers.DateField()
    occurred_at = serializers.DateTimeField()
    campaign_id = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()

    def get_amount(self, entry: LedgerEntry) -> str:
        return str(from_micros(entry.amount_micros))

    def get_rate(self, entry: LedgerEntry) -> str | None:
        return rate_text(entry.rate.price) if entry.rate_id else None


class RateCardMarketOutput(serializers.Serializer):
    market = serializers.CharField()
    rates = serializers.DictField(child=serializers.CharField(), help_text="Category → price")
    countries = serializers.ListField(child=serializers.CharField(), help_text="ISO 3166-1 alpha-2 codes")


class RateCardOutput(serializers.Serializer):
    id = serializers.IntegerField()
    currency = serializers.CharField()
    pricing_model = serializers.CharField()
    effective_from = serializers.DateField()
    is_partial = serializers.BooleanField()
    source = serializers.CharField()
    retrieved = serializers.CharField()
    rules = serializers.DictField()
    markets = RateCardMarketOutput(many=True)
    markets_from = serializers.DateField(allow_null=True)


class EstimateMarketOutput(serializers.Serializer):
    market = serializers.CharField()
    recipients = serializers.IntegerField()
    amount_micros = serializers.IntegerField()
    rates = serializers.DictField(child=serializers.CharField())


class EstimateUnpricedOutput(serializers.Serializer):
    country = serializers.CharField()
    market = serializers.CharField()
    category = serializers.CharField()
    recipients = serializers.IntegerField()
    reason = serializers.CharField()


class EstimateOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["estimated", "unknown"])
    reason = serializers.CharField(required=False, help_text="Why there is no amount (status unknown)")
    currency = serializers.CharField(required=False)
    total_micros = serializers.IntegerField(required=False)
    total = serializers.CharField(required=False)
    pricing_model = serializers.CharField(required=False)
    at = serializers.DateTimeField(required=False)
    card = serializers.DictField(required=False)
    markets_from = serializers.DateField(required=False)
    by_market = EstimateMarketOutput(many=True, required=False)
    unpriced = EstimateUnpricedOutput(many=True, required=False)
    categories = serializers.DictField(child=serializers.IntegerField(), required=False)
    recipients_by_country = serializers.DictField(child=serializers.IntegerField())
    recipients = serializers.IntegerField()
    assumptions = serializers.ListField(child=serializers.CharField(), required=False)
