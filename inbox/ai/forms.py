"""Forms of the AI auto-reply's settings pages. They only shape the input: the rules (the threshold's
range, the reply cap, the chat model's URL, a knowledge pair's lengths, the CSV's columns) live in
inbox.ai.services, whose `SettingInvalid` lands on the field of the same name (field names here
are the services' keyword names for that reason)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from inbox.ai.models import AISettings, KnowledgeAnswer


class AISettingsForm(forms.Form):
    enabled = forms.BooleanField(
        required=False,
        label="Answer customers with the AI",
        help_text="On the numbers ticked below, inside the customer's 24-hour window only.",
    )
    phone_number_ids = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label="Numbers the AI answers on",
        widget=forms.CheckboxSelectMultiple,
    )
    provider = forms.ChoiceField(
        choices=AISettings.Provider.choices, widget=forms.RadioSelect, label="Answers come from"
    )
    chat_base_url = forms.CharField(
        required=False, max_length=300, label="Chat model base URL", help_text="e.g. https://api.openai.com/v1"
    )
    chat_model = forms.CharField(required=False, max_length=200, label="Chat model", help_text="e.g. gpt-4o-mini")
    # Never rendered with a value: the stored key stays on the server (PasswordInput drops it).
    chat_api_key = forms.CharField(
        required=False,
        max_length=500,
        label="API key",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_chat_api_key = forms.BooleanField(required=False, label="Remove the stored key")
    threshold = forms.FloatField(
        label="Confidence threshold",
        widget=forms.NumberInput(attrs={"min": "0.05", "max": "0.99", "step": "0.01"}),
        help_text="0.05–0.99: the AI answers only when it is at least this sure; below it, a person answers.",
    )
    daily_reply_cap = forms.IntegerField(
        label="AI replies per conversation per day",
        widget=forms.NumberInput(attrs={"min": "1", "max": "50"}),
        help_text="1–50, counted in the workspace's day; past it, a person answers.",
    )
    blocked_words = forms.CharField(
        required=False,
        label="Also hand over when a customer mentions",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One word or phrase per line (at most 200).",
    )
    handover_team_id = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="Hand-overs go to the team"
    )

    def __init__(
        self,
        *args: Any,
        phones: Iterable[Any] = (),
        teams: Iterable[Any] = (),
        key_is_stored: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.key_is_stored = key_is_stored
        self.fields["phone_number_ids"].choices = [
            (phone.pk, f"{phone.name} · {phone.detail}" if phone.detail else phone.name) for phone in phones
        ]
        self.fields["handover_team_id"].choices = [("", "No team: left unassigned")] + [
            (team.pk, team.name) for team in teams
        ]
        key = self.fields["chat_api_key"]
        if key_is_stored:
            key.help_text = "A key is stored. Leave this empty to keep it, or type a new one to replace it."
        else:
            key.help_text = "No key is stored: the platform's own chat model is used when it has one."
            del self.fields["clear_chat_api_key"]

    @staticmethod
    def initial_from(settings: AISettings, number_ids: Iterable[int]) -> dict[str, Any]:
        return {
            "enabled": settings.enabled,
            "phone_number_ids": sorted(number_ids),
            "provider": settings.provider,
            "chat_base_url": settings.chat_base_url,
            "chat_model": settings.chat_model,
            "threshold": settings.threshold,
            "daily_reply_cap": settings.daily_reply_cap,
            "blocked_words": settings.blocked_words,
            "handover_team_id": settings.handover_team_id,
        }


class KnowledgeForm(forms.Form):
    language = forms.CharField(max_length=20, initial="en", help_text="A code such as en, hi or pt-br.")
    question = forms.CharField(max_length=1000, widget=forms.TextInput(attrs={"maxlength": "500"}))
    alternates = forms.CharField(
        required=False,
        label="Other ways customers ask it",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line (at most 20).",
    )
    answer = forms.CharField(
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": "4096"}),
        help_text="Sent as it is: at most 4,096 characters.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="The AI may answer with this pair")

    @staticmethod
    def initial_from(pair: KnowledgeAnswer) -> dict[str, Any]:
        return {
            "language": pair.language,
            "question": pair.question,
            "alternates": pair.alternates,
            "answer": pair.answer,
            "enabled": pair.enabled,
        }


class KnowledgeImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, columns language, question, alternates, answer (alternates separated by “ | ”). "
        "A question already here in that language has its answer and alternates replaced.",
    )


class TryQuestionForm(forms.Form):
    question = forms.CharField(
        max_length=1000, label="A customer writes", widget=forms.TextInput(attrs={"placeholder": "When do you open?"})
    )
    language = forms.CharField(
        max_length=12, required=False, label="Language", help_text="Optional: e.g. en or hi; empty lets the AI tell."
    )
