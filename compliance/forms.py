"""Portal forms of compliance: a workspace's settings, and consent recorded by hand on a contact's
pages (rules live in compliance.services and compliance.consent)."""

from __future__ import annotations

from django import forms

from compliance.models import ConsentEvent

CATEGORIES = [("MARKETING", "Marketing"), ("UTILITY", "Utility"), ("AUTHENTICATION", "Authentication")]


class ComplianceSettingsForm(forms.Form):
    extra_opt_out_words = forms.CharField(
        label="Extra opt-out words",
        required=False,
        max_length=1000,
        help_text="Comma-separated, any language. STOP, UNSUBSCRIBE, CANCEL, END, QUIT, STOPALL and their usual "
        "translations always count.",
    )
    extra_opt_in_words = forms.CharField(
        label="Extra opt-in words",
        required=False,
        max_length=1000,
        help_text="Comma-separated. START, SUBSCRIBE, UNSTOP always count.",
    )
    opt_out_reply = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=1024)
    opt_in_reply = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=1024)
    block_utility_when_opted_out = forms.BooleanField(
        label="Opted-out contacts receive no utility messages either", required=False
    )
    quiet_hours_enabled = forms.BooleanField(label="Quiet hours", required=False)
    quiet_hours_start = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}), help_text="In the contact's time zone."
    )
    quiet_hours_end = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_hours_categories = forms.MultipleChoiceField(
        choices=CATEGORIES, widget=forms.CheckboxSelectMultiple, required=False, label="Quiet hours apply to"
    )
    marketing_cap_messages = forms.IntegerField(
        min_value=0, max_value=100, label="Marketing messages per contact", help_text="0: no cap."
    )
    marketing_cap_days = forms.IntegerField(min_value=1, max_value=90, label="…per this many days")
    message_retention_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        label="Clear message texts older than (days)",
        help_text="Empty: keep.",
    )


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=ConsentEvent.RECORDABLE_KINDS, widget=forms.HiddenInput)
    evidence = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), help_text="How and when the customer said so."
    )


class OptInOnCreateForm(forms.Form):
    opted_in = forms.BooleanField(required=False, label="The customer agreed to receive our WhatsApp messages")
    evidence = forms.CharField(max_length=2000, required=False, help_text="Where and when they agreed.")
