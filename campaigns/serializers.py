"""Input and output shapes of the campaigns API (campaigns/api.py). Recipients show the contact's
masked number (`phone_hint`) only; nothing here reads a token or a full customer number."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from campaigns.models import Campaign, CampaignMessage


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with its offset (`…Z` or `…+05:30`): a bare local time would be read in the
    server's zone, which is rarely what the sender meant."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2025-06-01T09:00:00+05:30 or 2025-06-01T03:30:00Z.",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            parsed = parse_datetime(value.strip())
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        return super().to_internal_value(value)


# --- input


class CampaignVariantInput(serializers.Serializer):
    template_id = serializers.IntegerField(help_text="An approved template of the number's WhatsApp account")
    percentage = serializers.IntegerField(
        required=False, help_text="Share of the audience, 1–100; the variants add up to 100 (default 100 for one)"
    )
    mapping = serializers.DictField(
        required=False,
        help_text='Where each variable takes its value: {"body": {"1": {"source": "field", "value": "first_name", '
        '"fallback": "there"}}}; sources: field, attribute, constant',
    )


class CampaignInput(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, trim_whitespace=True)
    phone_number = serializers.IntegerField(help_text="Id of one of the workspace's WhatsApp numbers")
    list_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=500)
    segment_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=500)
    send_at = AwareDateTimeField(required=False, allow_null=True, default=None, help_text="Empty: at launch")
    variants = CampaignVariantInput(many=True, help_text="One per A/B variant (at most 3), labelled A, B, C in order")


class CampaignPauseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


# --- output


class CampaignPhoneNumberRef(serializers.Serializer):
    id = serializers.IntegerField()
    display_phone_number = serializers.CharField()


class CampaignTemplateRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    language = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()


class CampaignVariantOutput(serializers.Serializer):
    label = serializers.CharField()
    template = CampaignTemplateRef()
    percentage = serializers.IntegerField()
    mapping = serializers.DictField()


class CampaignOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    status_reason = serializers.CharField()
    phone_number = CampaignPhoneNumberRef()
    list_ids = serializers.ListField(child=serializers.IntegerField())
    segment_ids = serializers.ListField(child=serializers.IntegerField())
    send_at = serializers.DateTimeField(allow_null=True)
    variants = CampaignVariantOutput(many=True, source="variants.all")
    recipients_total = serializers.IntegerField()
    skip_reasons = serializers.DictField(child=serializers.IntegerField(), help_text="reason → recipients skipped")
    estimate = serializers.DictField()
    launched_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class CampaignCheckOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField(), help_text="Each one refuses the launch")
    warnings = serializers.ListField(child=serializers.CharField())
    audience = serializers.IntegerField()
    by_country = serializers.DictField(child=serializers.IntegerField())
    estimate = serializers.DictField()


class CampaignCountsOutput(serializers.Serializer):
    queued = serializers.IntegerField()
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    read = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    unknown = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class CampaignStatsFields(serializers.Serializer):
    counts = CampaignCountsOutput()
    total = serializers.IntegerField()
    progress_percent = serializers.IntegerField()
    delivery_rate = serializers.FloatField(allow_null=True, help_text="% of the messages Meta took")
    read_rate = serializers.FloatField(allow_null=True, help_text="% of the delivered ones")
    failure_rate = serializers.FloatField(allow_null=True)
    send_rate_per_second = serializers.FloatField(allow_null=True)


class CampaignVariantStatsOutput(CampaignStatsFields):
    label = serializers.CharField()
    template = CampaignTemplateRef()
    percentage = serializers.IntegerField()


class CampaignFailureReasonOutput(serializers.Serializer):
    state = serializers.CharField()
    code = serializers.IntegerField(allow_null=True, help_text="Meta's error code, when Meta gave one")
    reason = serializers.CharField()
    count = serializers.IntegerField()


class CampaignStatsOutput(CampaignStatsFields):
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    status_reason = serializers.CharField()
    recipients_total = serializers.IntegerField()
    variants = CampaignVariantStatsOutput(many=True)
    failure_reasons = CampaignFailureReasonOutput(many=True)
    skip_reasons = serializers.DictField(child=serializers.IntegerField(), help_text="reason → skipped at launch")


class CampaignRecipientOutput(serializers.Serializer):
    id = serializers.IntegerField()
    contact_id = serializers.IntegerField()
    contact_name = serializers.CharField(source="contact.name")
    phone_hint = serializers.CharField(source="contact.phone_hint", help_text="Masked, e.g. +91 98••••21")
    variant = serializers.CharField(source="variant.label")
    state = serializers.ChoiceField(choices=CampaignMessage.State.choices)
    hold_reason = serializers.CharField(help_text="Why a queued recipient waits (limits, quiet hours, retries)")
    error_code = serializers.IntegerField(allow_null=True)
    error_detail = serializers.CharField()
    wamid = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)


class CampaignProblemOutput(serializers.Serializer):
    where = serializers.CharField(help_text="The field, e.g. name, variant_A.mapping.body.1, launch")
    message = serializers.CharField()


class CampaignErrorOutput(serializers.Serializer):
    """A refusal (aerostic.core.api.exception_handler): 400 with `problems` for wrong input, 409 for a wrong state."""

    detail = serializers.CharField()
    code = serializers.CharField()
    problems = CampaignProblemOutput(many=True, required=False)
