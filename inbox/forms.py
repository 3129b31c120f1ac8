"""Forms of the inbox's settings pages. They only shape the input: the rules (unique names and
shortcuts, lengths, colours) live in inbox.settings_services, whose errors land on these fields."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from aerostic.core.errors import DomainError
from inbox.models import Label, QuickReply


def refusal_to_form(form: forms.Form, error: DomainError) -> None:
    """A service's refusal beside each field its `problems` name (inbox.settings_services.SettingInvalid),
    or above the form."""
    problems = getattr(error, "problems", None)
    if not isinstance(problems, dict):
        problems = {None: error.message}
    for field, message in problems.items():
        form.add_error(field if field in form.fields else None, message)


class InboxSettingsForm(forms.Form):
    send_read_receipts = forms.BooleanField(
        required=False,
        label="Send read receipts",
        help_text="Customers see blue ticks when an agent opens their conversation.",
    )


class TeamForm(forms.Form):
    name = forms.CharField(max_length=80, label="Team name")


class TeamMemberForm(forms.Form):
    user = forms.TypedChoiceField(coerce=int, label="Add a member")

    def __init__(self, *args: Any, candidates: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Choose an agent…")] + [
            (user.pk, user.get_full_name() or user.email) for user in candidates
        ]


class LabelForm(forms.Form):
    name = forms.CharField(max_length=50)
    color = forms.ChoiceField(choices=Label.Color.choices, initial=Label.Color.GREY, label="Colour")


class QuickReplyForm(forms.Form):
    shortcut = forms.CharField(
        max_length=41, help_text="Typed after a slash in the composer, e.g. <code>hours</code> for /hours."
    )
    title = forms.CharField(max_length=80)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=QuickReply._meta.get_field("body").max_length, label="Text"
    )
