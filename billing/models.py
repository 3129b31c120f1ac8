"""Billing data: Meta's rate cards and market structures (platform data), and per tenant the billing
profile, the append-only ledger, usage counters per billing cycle and statuses that could not be priced.

Money is never a float. Rates are `Decimal`s in the card's currency, exactly as Meta prints them
(0.0118 USD). Ledger amounts and counters are integers in **micro-units** of the currency
(1 USD = 1,000,000 micros): the issue asks for "minor units", but a per-message price is a fraction
of a cent, so cents would have to round every charge; micro-units are the integer unit in which
every published rate (at most six decimals, checked when a card is loaded) is exact, so a month of
charges adds up to exactly what the rates say. `aerostic.core.money` converts and formats.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from aerostic.core.tenant_scoped import TenantScopedModel


class PricingModel(models.TextChoices):
    """How Meta charges: per 24 h conversation (until 2025-06-30) or per delivered message (since
    2025-07-01). Webhooks say `CBP` / `PMP` (billing.pricing.WEBHOOK_MODELS maps them)."""

    PER_CONVERSATION = "per_conversation", "Per conversation"
    PER_MESSAGE = "per_message", "Per message"


class Category(models.TextChoices):
    """Meta's pricing categories (webhooks and CSVs write them in lower case)."""

    MARKETING = "MARKETING", "Marketing"
    UTILITY = "UTILITY", "Utility"
    AUTHENTICATION = "AUTHENTICATION", "Authentication"
    AUTHENTICATION_INTERNATIONAL = "AUTHENTICATION_INTERNATIONAL", "Authentication (international)"
    SERVICE = "SERVICE", "Service"


class PricingType(models.TextChoices):
    """Why a message or conversation cost what it did (Meta's `pricing.type`, plus the old free tier)."""

    REGULAR = "regular", "Charged"
    FREE_CUSTOMER_SERVICE = "free_customer_service", "Free: customer service window"
    FREE_ENTRY_POINT = "free_entry_point", "Free: entry point (click-to-WhatsApp ad)"
    FREE_TIER = "free_tier", "Free: monthly service allowance"


class RateCard(models.Model):
    """One version of Meta's prices for one currency and pricing model, loaded from a CSV by
    `manage.py seed_pricing` (billing/loading/). Platform data: the same for every tenant.

    The card in force for a message is the newest `effective_from` on or before the message's time,
    in the tenant's currency, of the pricing model in force then. Its `rules` are data, because Meta
    changes them several times a year (billing/pricing.py reads them):
      per_message:      {"service_free": true, "utility_free_in_service_window": true,
                         "free_entry_point_hours": 72, "volume_tiers": {}}
      per_conversation: {"conversation_hours": 24, "service_free_monthly_allowance": 1000,
                         "free_entry_point_hours": 72}
    """

    currency = models.CharField(max_length=3, help_text="ISO 4217, e.g. USD")
    pricing_model = models.CharField(max_length=16, choices=PricingModel.choices)
    effective_from = models.DateField()
    source = models.TextField(help_text="Where the figures come from (from the CSV's `# source:` lines)")
    retrieved = models.CharField(max_length=200, blank=True, help_text="When the figures were copied (`# retrieved:`)")
    rules = models.JSONField(default=dict, blank=True)
    is_partial = models.BooleanField(
        default=False, help_text="Some markets are missing (loaded with --allow-partial): they stay unpriced"
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["currency", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "pricing_model", "effective_from"], name="billing_rate_card_version_once"
            )
        ]

    def __str__(self) -> str:
        partial = " (partial)" if self.is_partial else ""
        return f"{self.currency} {self.get_pricing_model_display().lower()} from {self.effective_from}{partial}"


class Rate(models.Model):
    """One price of a card: per delivered message (per_message) or per conversation (per_conversation)."""

    card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="rates")
    market = models.CharField(max_length=64, help_text="Meta's market name, e.g. India, Rest of Africa, Other")
    category = models.CharField(max_length=32, choices=Category.choices)
    price = models.DecimalField(max_digits=12, decimal_places=6, help_text="In the card's currency")

    class Meta:
        ordering = ["market", "category"]
        constraints = [
            models.UniqueConstraint(fields=["card", "market", "category"], name="billing_rate_once_per_card"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="billing_rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.market} {self.category}: {self.price}"


class MarketStructure(models.Model):
    """One version of Meta's country → market mapping (Meta regroups countries now and then: on
    2026-07-01 Hong Kong, Hungary, Poland, Qatar, Romania and Singapore became markets of their own).
    The structure in force at a time is the newest `effective_from` on or before it; a country it
    does not list is in the market "Other"."""

    effective_from = models.DateField(unique=True)
    source = models.TextField()
    retrieved = models.CharField(max_length=200, blank=True)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"Markets from {self.effective_from}"


class MarketAssignment(models.Model):
    """A country's market in one structure (countries not listed: "Other")."""

    structure = models.ForeignKey(MarketStructure, on_delete=models.CASCADE, related_name="assignments")
    country_code = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    market = models.CharField(max_length=64)

    class Meta:
        ordering = ["country_code"]
        constraints = [
            models.UniqueConstraint(fields=["structure", "country_code"], name="billing_market_country_once")
        ]

    def __str__(self) -> str:
        return f"{self.country_code} → {self.market}"

    @property
    def effective_from(self) -> date:
        return self.structure.effective_from


class AITokenPrice(models.Model):
    """What the AI auto-reply's tokens cost, per provider and model, as data: platform staff keep it
    in the admin (audited, billing.services.ai_token_price_save); `seed_pricing` adds the defaults.

    The price for a reply is the newest row effective on its day for the exact model, else the
    provider's "*" row, else nothing (free) — billing.ai_pricing.ai_token_price. Prices are integer
    micro-units of `currency` per 1,000 tokens, like every amount in billing (module docstring); a
    workspace is charged from the rows in its own currency. A change is a new row with a later
    `effective_from`: replies already metered keep the amount they were charged."""

    DEFAULT_MODEL = "*"

    provider = models.CharField(max_length=24, help_text="As the inbox names it: knowledge_base, openai_compatible")
    model = models.CharField(max_length=100, help_text='The exact model name, or "*" for the provider\'s default')
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217, e.g. USD")
    prompt_micros_per_1k = models.BigIntegerField(
        validators=[MinValueValidator(0)], help_text="Micro-units per 1,000 prompt tokens (0.15 USD per 1M = 150)"
    )
    completion_micros_per_1k = models.BigIntegerField(
        validators=[MinValueValidator(0)], help_text="Micro-units per 1,000 completion tokens"
    )
    effective_from = models.DateField(help_text="Applies to replies from this day (UTC) until a newer row")
    source = models.TextField(blank=True, help_text="Where the figures come from, or why they are what they are")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "AI token price"
        ordering = ["provider", "model", "currency", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "model", "currency", "effective_from"], name="billing_ai_token_price_once"
            ),
            models.CheckConstraint(
                condition=models.Q(prompt_micros_per_1k__gte=0, completion_micros_per_1k__gte=0),
                name="billing_ai_token_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.model} {self.currency} from {self.effective_from}"


def ai_counter_category(provider: str, model: str) -> str:
    """The usage counters' category of one provider's model: the provider first, so it splits at the
    first ":" even when a model name has one (provider names never do)."""
    return f"{provider}:{model}"


class BillingProfile(TenantScopedModel):
    """A workspace's billing settings, one per tenant (billing.services.billing_profile_ensure).

    `balance_micros` moves with every ledger entry while the profile is prepaid (in the same
    transaction as the entry); it may go down to −`credit_limit_micros`. Below that, new campaign
    launches are refused and running campaigns pause (billing.selectors.launch_allowed,
    billing.jobs.pause_for_balance), unless the platform turns enforcement off
    (BILLING_ENFORCE_BALANCE). A postpaid profile's balance does not move: its spend is the ledger.
    """

    currency = models.CharField(max_length=3, default="USD", help_text="The rate card currency charged")
    prepaid = models.BooleanField(default=False)
    balance_micros = models.BigIntegerField(default=0)
    credit_limit_micros = models.BigIntegerField(
        default=0, validators=[MinValueValidator(0)], help_text="How far below zero a prepaid balance may go"
    )
    cycle_day = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Day of the month a billing cycle starts (UTC), 1–28",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="billing_profile_one_per_tenant"),
            models.CheckConstraint(
                condition=models.Q(credit_limit_micros__gte=0), name="billing_credit_limit_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(cycle_day__gte=1, cycle_day__lte=28), name="billing_cycle_day_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Billing of tenant {self.tenant_id} ({self.currency}, {'prepaid' if self.prepaid else 'postpaid'})"

    @property
    def is_below_limit(self) -> bool:
        return self.prepaid and self.balance_micros < -self.credit_limit_micros


class LedgerEntry(TenantScopedModel):
    """One line of the tenant's ledger: append-only (a database trigger refuses UPDATE and DELETE,
    except detaching a deleted campaign, number, rate or user — their foreign keys set to NULL —
    and inside a workspace erase, like the consent ledger).

    `amount_micros` is signed, in micro-units of `currency` (see the module docstring): debits are
    negative (a free message is a debit of 0, so its category and reason are on record and it is
    counted once), credits positive, adjustments either. `reference` is unique per tenant and makes
    every charge happen once however often Meta reports it: `message:<wamid>` (per-message pricing),
    `conversation:<id>` (per-conversation), `credit:<uuid>`, `adjustment:<uuid>`, `ai:<reference>`.
    """

    class Kind(models.TextChoices):
        DEBIT = "debit", "Debit"
        CREDIT = "credit", "Credit"
        ADJUSTMENT = "adjustment", "Adjustment"

    AI_CATEGORY = "AI"  # the category of AI reply debits (their provider and model are in the counters)

    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount_micros = models.BigIntegerField(help_text="Signed micro-units of the currency; debits negative")
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=255)
    wamid = models.CharField(max_length=255, blank=True, help_text="The message Meta reported (usage entries)")
    category = models.CharField(max_length=32, blank=True, help_text="A pricing category, or AI for AI tokens")
    market = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=2, blank=True)
    pricing_model = models.CharField(max_length=16, choices=PricingModel.choices, blank=True)
    pricing_type = models.CharField(max_length=24, choices=PricingType.choices, blank=True)
    rate = models.ForeignKey(Rate, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries")
    billing_cycle = models.DateField(help_text="First day of the billing cycle the entry belongs to")
    occurred_at = models.DateTimeField(help_text="When it happened (Meta's status time for usage)")
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="ledger_entries"
    )
    phone_number = models.ForeignKey(
        "whatsapp.PhoneNumber", on_delete=models.SET_NULL, null=True, blank=True, related_name="ledger_entries"
    )
    description = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "reference"], name="billing_ledger_reference_once"),
            models.CheckConstraint(
                condition=~models.Q(kind="debit") | models.Q(amount_micros__lte=0), name="billing_ledger_debit_sign"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="credit") | models.Q(amount_micros__gt=0), name="billing_ledger_credit_sign"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "billing_cycle", "occurred_at"], name="billing_ledger_cycle"),
            models.Index(
                fields=["tenant", "campaign"],
                name="billing_ledger_campaign",
                condition=models.Q(campaign__isnull=False),
            ),
            models.Index(fields=["tenant", "wamid"], name="billing_ledger_wamid", condition=~models.Q(wamid="")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_micros} µ{self.currency} ({self.reference})"


class UnpricedUsage(TenantScopedModel):
    """A delivered message Meta reported that could not be priced, with the reason: no `pricing`
    object, an unknown category, no market or no rate for the recipient, no card for the date. Never a
    crash, never a guess: the row waits here (admin shows it) until `unpriced_usage_reprice` prices it
    once the missing card is loaded, or a later status prices it (`resolved_at` then says when)."""

    class Reason(models.TextChoices):
        NO_PRICING = "no_pricing", "No pricing in the status"
        UNKNOWN_CATEGORY = "unknown_category", "Unknown pricing category"
        UNKNOWN_MODEL = "unknown_model", "Unknown pricing model"
        UNKNOWN_TYPE = "unknown_type", "Unknown pricing type"
        NO_CONVERSATION = "no_conversation", "Per-conversation pricing without a conversation id"
        NO_COUNTRY = "no_country", "Recipient country unknown"
        NO_MARKETS = "no_markets", "No market structure for the date"
        NO_CARD = "no_card", "No rate card for the date"
        NO_RATE = "no_rate", "No rate for the market and category"
        ERROR = "error", "Pricing failed"

    reference = models.CharField(max_length=255)
    wamid = models.CharField(max_length=255)
    status = models.CharField(max_length=16, help_text="Meta's status name (delivered, read)")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.CharField(max_length=255, blank=True)
    pricing = models.JSONField(default=dict, blank=True, help_text="Meta's pricing object as sent")
    conversation = models.JSONField(default=dict, blank=True, help_text="Meta's conversation object as sent")
    country = models.CharField(max_length=2, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    phone_number = models.ForeignKey(
        "whatsapp.PhoneNumber", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "unpriced usage"
        ordering = ["-occurred_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "reference"], name="billing_unpriced_once")]
        indexes = [
            models.Index(
                fields=["tenant", "occurred_at"], name="billing_unpriced_open", condition=models.Q(resolved_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.wamid}: {self.get_reason_display()}"


class UsageCounter(TenantScopedModel):
    """Usage of one kind and category in one billing cycle: moved by the same statement batch that
    inserts the ledger entry (INSERT … ON CONFLICT DO UPDATE), and only when that entry was new.

    AI usage has four kinds per `<provider>:<model>` category (`ai_counter_category`): replies metered,
    prompt tokens, completion tokens, and all tokens with their cost (`amount_micros`, on `ai_tokens`
    only, so a sum over the kinds never counts the money twice)."""

    class Kind(models.TextChoices):
        MESSAGES = "messages", "Messages"
        CONVERSATIONS = "conversations", "Conversations"
        AI_TOKENS = "ai_tokens", "AI tokens"
        AI_PROMPT_TOKENS = "ai_prompt", "AI prompt tokens"
        AI_COMPLETION_TOKENS = "ai_completion", "AI completion tokens"
        AI_REPLIES = "ai_replies", "AI replies metered"

    billing_cycle = models.DateField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    category = models.CharField(
        max_length=128, blank=True, help_text="Pricing category; <provider>:<model> for the AI kinds"
    )
    count = models.BigIntegerField(default=0)
    free_count = models.BigIntegerField(default=0, help_text="Of `count`, how many cost nothing")
    amount_micros = models.BigIntegerField(default=0, help_text="Spend, positive, in micro-units")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-billing_cycle", "kind", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "billing_cycle", "kind", "category"], name="billing_usage_counter_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.billing_cycle} {self.kind} {self.category}: {self.count}"
