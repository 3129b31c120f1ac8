"""Portal forms for contacts. They only shape input: rules live in contacts.services."""

from __future__ import annotations

from django import forms


class ContactForm(forms.Form):
    phone = forms.CharField(
        max_length=40, help_text="With the country code (+91 98123 45621), or in your default country."
    )
    name = forms.CharField(max_length=200, required=False)
    language = forms.CharField(max_length=16, required=False, help_text="Template language, e.g. en_US, pt_BR.")
    timezone_name = forms.CharField(
        label="Time zone",
        max_length=64,
        required=False,
        help_text="IANA name, e.g. Asia/Kolkata. Empty: from the number.",
    )
    tags = forms.CharField(max_length=1000, required=False, help_text="Comma-separated.")


class NamedForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=255, required=False)


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=120)
    tags_any = forms.CharField(label="Has any of these tags", max_length=500, required=False)
    tags_all = forms.CharField(label="Has all of these tags", max_length=500, required=False)
    consent = forms.ChoiceField(
        choices=[
            ("", "Any consent state"),
            ("opted_in", "Opted in"),
            ("opted_out", "Opted out"),
            ("unknown", "Unknown"),
        ],
        required=False,
    )
    country = forms.CharField(max_length=200, required=False, help_text="Country codes, comma-separated (IN, BR).")
    last_inbound_days = forms.IntegerField(
        label="Wrote to us within (days)", min_value=1, max_value=3650, required=False
    )
    attribute_key = forms.ChoiceField(label="Attribute", required=False, choices=[("", "Any attribute")])
    attribute_value = forms.CharField(label="…equals", max_length=200, required=False)

    def __init__(self, *args: object, attributes: list | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attribute_key"].choices = [("", "Any attribute")] + [(a.key, a.label) for a in attributes or []]

    def filters(self) -> dict:
        data = self.cleaned_data
        filters = {
            "tags_any": data["tags_any"],
            "tags_all": data["tags_all"],
            "consent": data["consent"],
            "country": [code for code in data["country"].replace(" ", "").split(",") if code],
            "last_inbound_days": data["last_inbound_days"],
        }
        if data["attribute_key"]:
            filters["attributes"] = {data["attribute_key"]: data["attribute_value"]}
        return filters


class AttributeForm(forms.Form):
    label = forms.CharField(max_length=120)
    key = forms.CharField(max_length=64, required=False, help_text="Column name in imports; from the label if empty.")
    kind = forms.ChoiceField(
        choices=[("text", "Text"), ("number", "Number"), ("date", "Date"), ("boolean", "Yes / no")]
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV, UTF-8 (with or without BOM), separated by commas or semicolons.")
