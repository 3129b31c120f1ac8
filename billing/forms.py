"""The billing profile form: currency (only while the ledger is empty), prepaid, credit limit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from billing.money import NotExactInMicros, to_micros


class BillingProfileForm(forms.Form):
    currency = forms.CharField(
        max_length=3, min_length=3, help_text="ISO 4217 code of the rate card charged (only while the ledger is empty)"
    )
    prepaid = forms.BooleanField(required=False, help_text="Campaigns draw on a balance topped up by credits")
    credit_limit = forms.DecimalField(
        min_value=Decimal(0),
        max_digits=18,
        decimal_places=6,
        help_text="How far below zero a prepaid balance may go, in the currency",
    )

    def __init__(self, *args: Any, currency_locked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency_locked = currency_locked
        if currency_locked:
            field = self.fields["currency"]
            field.disabled = True
            field.help_text = "Fixed: the ledger already has entries in this currency."

    def clean_currency(self) -> str:
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        if not currency.isalpha():
            raise forms.ValidationError("A three-letter ISO code, e.g. USD.")
        return currency

    def clean_credit_limit(self) -> int:
        try:
            return to_micros(self.cleaned_data["credit_limit"])
        except (NotExactInMicros, ValueError):
            raise forms.ValidationError("At most six decimals.") from None

    def changes(self) -> dict[str, Any]:
        """What the service takes (`billing_profile_update`'s keyword arguments)."""
        values = {"prepaid": self.cleaned_data["prepaid"], "credit_limit_micros": self.cleaned_data["credit_limit"]}
        if not self.currency_locked:
            values["currency"] = self.cleaned_data["currency"]
        return values
