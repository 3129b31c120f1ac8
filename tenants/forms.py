"""Team and workspace-settings forms."""

from __future__ import annotations

import zoneinfo

from django import forms

from accounts.roles import Role


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.AGENT)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TenantSettingsForm(forms.Form):
    name = forms.CharField(max_length=120)
    timezone = forms.ChoiceField(choices=[(name, name) for name in sorted(zoneinfo.available_timezones())])
    default_country = forms.RegexField(
        regex=r"^[A-Z]{2}$",
        max_length=2,
        help_text="Two-letter ISO country code used for phone numbers written without a + prefix.",
        error_messages={"invalid": "Use a two-letter country code such as IN, BR or US."},
    )
