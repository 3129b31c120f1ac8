"""The alert-channel form of the workspace's settings (its rules are aerostic.core.alert_channels')."""

from __future__ import annotations

from typing import Any

from django import forms

from aerostic.core.alert_channels import MAX_EMAILS, MAX_WEBHOOK_LENGTH
from aerostic.core.errors import DomainError
from aerostic.core.models import Alert, AlertChannel


class AlertChannelForm(forms.Form):
    """Add (every field) or edit (`kind` fixed; the webhook left empty keeps the current one)."""

    name = forms.CharField(max_length=80, help_text="E.g. On-call e-mail, #ops on Slack.")
    kind = forms.ChoiceField(choices=AlertChannel.Kind.choices, initial=AlertChannel.Kind.EMAIL)
    emails = forms.CharField(
        required=False,
        label="E-mail addresses",
        max_length=1000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "email"}),
        help_text=f"For an e-mail channel: up to {MAX_EMAILS} addresses, separated by commas.",
    )
    slack_webhook_url = forms.CharField(
        required=False,
        label="Slack incoming-webhook URL",
        max_length=MAX_WEBHOOK_LENGTH,
        # Never rendered with a value: the URL is a secret, and is not shown back once saved.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="For a Slack channel: https://hooks.slack.com/services/… (Slack: Apps → Incoming Webhooks).",
    )
    min_level = forms.ChoiceField(
        choices=Alert.Level.choices,
        initial=Alert.Level.WARNING,
        label="Minimum level",
        help_text="Alerts of this level and above are sent here.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled")

    def __init__(self, *args: Any, channel: AlertChannel | None = None, webhook_hint: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        if channel is not None:
            kind = self.fields["kind"]
            kind.disabled, kind.help_text = True, "A channel keeps its kind: add another for the other one."
            self.initial.setdefault("kind", channel.kind)
            if channel.kind == AlertChannel.Kind.EMAIL:
                del self.fields["slack_webhook_url"]
            else:
                del self.fields["emails"]
                self.fields[
                    "slack_webhook_url"
                ].help_text = f"Now {webhook_hint or 'set'}. Leave empty to keep it; paste a new URL to replace it."

    def refused(self, error: DomainError) -> None:
        """A service's refusal beside the field it names, else above the form."""
        problems = getattr(error, "problems", None)
        if not isinstance(problems, dict):
            problems = {None: error.message}
        for field, message in problems.items():
            self.add_error(field if field in self.fields else None, message)
