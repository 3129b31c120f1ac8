"""Portal forms for campaigns. They only shape input (choices, the local send time, the mapping rows);
the rules live in campaigns.services and campaigns.mapping, whose problems come back as form errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from campaigns.mapping import ATTRIBUTE, CONSTANT, CONTACT_FIELDS, FIELD, Variable, template_variables
from whatsapp.models import MessageTemplate

LABELS = "ABC"
SCHEDULE_AT_LAUNCH, SCHEDULE_LATER = "launch", "later"
_LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
_VARIANT_PROBLEM = re.compile(r"variant_([ABC])\.(template|percentage)")
_MAPPING_PROBLEM = re.compile(r"variant_([ABC])\.mapping\.(.+)")


def local_input(value: datetime | None, zone: ZoneInfo) -> str:
    """An aware datetime as the value of a datetime-local input in the workspace's time zone."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def _parse_local(text: str, zone: ZoneInfo) -> datetime | None:
    for pattern in _LOCAL_FORMATS:
        try:
            naive = datetime.strptime(text, pattern)  # noqa: DTZ007 (made aware in the workspace's zone below)
        except ValueError:
            continue
        return naive.replace(tzinfo=zone).astimezone(UTC)
    return None


class CampaignForm(forms.Form):
    """The draft: name, number, audience, schedule and up to three variants (template + share)."""

    name = forms.CharField(max_length=200)
    phone_number = forms.ChoiceField(label="WhatsApp number")
    lists = forms.MultipleChoiceField(label="Contact lists", required=False, widget=forms.CheckboxSelectMultiple)
    segments = forms.MultipleChoiceField(
        label="Segments",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A segment is evaluated at launch: the review page counts who it matches now.",
    )
    schedule = forms.ChoiceField(
        label="When",
        choices=[(SCHEDULE_AT_LAUNCH, "Send at launch"), (SCHEDULE_LATER, "At a date and time")],
        widget=forms.RadioSelect,
        initial=SCHEDULE_AT_LAUNCH,
    )
    send_at = forms.CharField(
        label="Date and time",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(
        self,
        *args: Any,
        phones: list[tuple[str, str]],
        lists: list[tuple[str, str]],
        segments: list[tuple[str, str]],
        templates: list[tuple[str, list[tuple[str, str]]]],
        zone: ZoneInfo,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["phone_number"].choices = phones
        self.fields["lists"].choices = lists
        self.fields["segments"].choices = segments
        self.fields["send_at"].help_text = f"In the workspace's time zone ({zone.key})."
        for label in LABELS:
            key = label.lower()
            first = label == "A"
            blank = ("", "Choose a template") if first else ("", f"No variant {label}")
            self.fields[f"variant_{key}_template"] = forms.ChoiceField(
                label=f"Variant {label}: template",
                required=first,
                choices=[blank, *templates],
                help_text="A template of the number's WhatsApp account." if first else "",
            )
            self.fields[f"variant_{key}_percentage"] = forms.IntegerField(
                label=f"Variant {label}: share of the audience (%)",
                required=False,
                help_text="Alone, variant A gets everyone. With B or C, the shares add up to 100." if first else "",
            )

    def variant_fields(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (label, self[f"variant_{label.lower()}_template"], self[f"variant_{label.lower()}_percentage"])
            for label in LABELS
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["send_at_utc"] = None
        if data.get("schedule") == SCHEDULE_LATER:
            text = (data.get("send_at") or "").strip()
            when = _parse_local(text, self.zone) if text else None
            if not text:
                self.add_error("send_at", "Choose the date and time, or send at launch.")
            elif when is None:
                self.add_error("send_at", "A date and time, e.g. 2026-05-01 10:00.")
            elif when <= timezone.now():
                self.add_error("send_at", "Choose a time in the future.")
            else:
                data["send_at_utc"] = when
        if data.get("variant_c_template") and not data.get("variant_b_template"):
            self.add_error("variant_c_template", "Fill variant B before variant C.")
        return data

    def service_input(self, existing: dict[str, tuple[int, dict]] | None = None) -> dict[str, Any]:
        """Keyword arguments for campaign_create / campaign_update. A variant keeps its variable
        mapping while its template stays the same; a new template starts unmapped."""
        existing = existing or {}
        data = self.cleaned_data
        chosen = [label for label in LABELS if data.get(f"variant_{label.lower()}_template")]
        variants = []
        for label in chosen:
            template_id = int(data[f"variant_{label.lower()}_template"])
            percentage = data.get(f"variant_{label.lower()}_percentage")
            if percentage is None and len(chosen) == 1:
                percentage = 100
            kept_template, kept_mapping = existing.get(label, (None, {}))
            variants.append(
                {
                    "template_id": template_id,
                    "percentage": percentage,
                    "mapping": kept_mapping if kept_template == template_id else {},
                }
            )
        return {
            "name": data["name"],
            "phone_number_id": data["phone_number"],
            "list_ids": [int(value) for value in data.get("lists", [])],
            "segment_ids": [int(value) for value in data.get("segments", [])],
            "send_at": data["send_at_utc"],
            "variants": variants,
        }

    def add_problems(self, problems: dict[str, str]) -> None:
        """CampaignInvalid.problems as errors next to the fields they name."""
        for key, problem in problems.items():
            variant = _VARIANT_PROBLEM.fullmatch(key)
            mapping = _MAPPING_PROBLEM.fullmatch(key)
            if variant:
                self.add_error(f"variant_{variant[1].lower()}_{variant[2]}", problem)
            elif mapping:
                self.add_error(None, f"Variant {mapping[1]}: {problem} Change it on the Variables page.")
            elif key == "audience":
                self.add_error("lists", problem)
            elif key in self.fields:
                self.add_error(key, problem)
            else:
                self.add_error(None, problem)


# --- the variable mapping


SOURCE_CHOICES = [
    ("", "Not mapped yet"),
    (FIELD, "Contact field"),
    (ATTRIBUTE, "Contact attribute"),
    (CONSTANT, "Fixed text"),
]


@dataclass(frozen=True)
class _Row:
    label: str  # the variant
    variable: Variable
    prefix: str

    @property
    def kind(self) -> str:
        if self.variable.is_media:
            return "location" if self.variable.key == "location" else "media"
        return "text"

    @property
    def primary(self) -> str:
        """The field a problem with this variable is shown under."""
        return {"media": "link", "location": "latitude"}.get(self.kind, "source")


class MappingForm(forms.Form):
    """One row per template variable of every variant: where its value comes from, and a fallback.
    Rows left "not mapped yet" stay out of the mapping (a draft may be partial; the launch may not)."""

    def __init__(
        self,
        *args: Any,
        variants: list[tuple[str, MessageTemplate, dict]],
        attributes: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.groups: list[tuple[str, MessageTemplate, list[_Row]]] = []
        sources = SOURCE_CHOICES if attributes else [c for c in SOURCE_CHOICES if c[0] != ATTRIBUTE]
        for label, template, mapping in variants:
            rows = []
            for variable in template_variables(template):
                row = _Row(label, variable, f"{label}-{variable.section}-{variable.key}")
                current = (mapping.get(variable.section) or {}).get(variable.key) or {}
                self._add_row_fields(row, current, sources, attributes)
                rows.append(row)
            self.groups.append((label, template, rows))

    def _add_row_fields(
        self, row: _Row, current: dict, sources: list[tuple[str, str]], attributes: list[tuple[str, str]]
    ) -> None:
        p, value = row.prefix, current.get("value")
        if row.kind == "media":
            link = value.get("link", "") if isinstance(value, dict) else ""
            self.fields[f"{p}-link"] = forms.CharField(
                label="Link (https://…)", required=False, initial=link, widget=forms.URLInput()
            )
            return
        if row.kind == "location":
            place = value if isinstance(value, dict) else {}
            for name, label in (("latitude", "Latitude"), ("longitude", "Longitude"), ("place", "Place name")):
                self.fields[f"{p}-{name}"] = forms.CharField(
                    label=label, required=False, initial=place.get("name" if name == "place" else name, "")
                )
            return
        source = current.get("source", "")
        self.fields[f"{p}-source"] = forms.ChoiceField(
            label="Value from", choices=sources, required=False, initial=source
        )
        self.fields[f"{p}-field"] = forms.ChoiceField(
            label="Contact field",
            choices=list(CONTACT_FIELDS.items()),
            required=False,
            initial=value if source == FIELD else "first_name",
        )
        if attributes:
            self.fields[f"{p}-attribute"] = forms.ChoiceField(
                label="Attribute", choices=attributes, required=False, initial=value if source == ATTRIBUTE else ""
            )
        self.fields[f"{p}-text"] = forms.CharField(
            label="Fixed text", required=False, initial=value if source == CONSTANT and isinstance(value, str) else ""
        )
        self.fields[f"{p}-fallback"] = forms.CharField(
            label="Fallback when the contact has no value",
            required=False,
            initial=current.get("fallback", ""),
        )

    def display(self) -> list[dict[str, Any]]:
        """The groups with bound fields, for the template (errors included once validated)."""
        groups = []
        for label, template, rows in self.groups:
            shown = []
            for row in rows:
                names = [f"{row.prefix}-{name}" for name in self._names(row)]
                fields = {name.rsplit("-", 1)[1]: self[name] for name in names if name in self.fields}
                errors = [error for field in fields.values() for error in field.errors]
                shown.append({"variable": row.variable, "kind": row.kind, "fields": fields, "errors": errors})
            groups.append({"label": label, "template": template, "rows": shown})
        return groups

    @staticmethod
    def _names(row: _Row) -> tuple[str, ...]:
        return {
            "media": ("link",),
            "location": ("latitude", "longitude", "place"),
            "text": ("source", "field", "attribute", "text", "fallback"),
        }[row.kind]

    def mapping_of(self, label: str) -> dict[str, dict[str, dict]]:
        """The raw mapping of one variant as typed (checked by the service)."""
        data = self.cleaned_data
        raw: dict[str, dict[str, dict]] = {}
        for group_label, _template, rows in self.groups:
            if group_label != label:
                continue
            for row in rows:
                entry = self._entry(row, data)
                if entry is not None:
                    raw.setdefault(row.variable.section, {})[row.variable.key] = entry
        return raw

    @staticmethod
    def _entry(row: _Row, data: dict[str, Any]) -> dict[str, Any] | None:
        p = row.prefix
        if row.kind == "media":
            link = (data.get(f"{p}-link") or "").strip()
            return {"source": CONSTANT, "value": {"link": link}} if link else None
        if row.kind == "location":
            latitude, longitude = (data.get(f"{p}-latitude") or "").strip(), (data.get(f"{p}-longitude") or "").strip()
            if not latitude and not longitude:
                return None
            value = {"latitude": latitude, "longitude": longitude}
            if (data.get(f"{p}-place") or "").strip():
                value["name"] = data[f"{p}-place"].strip()
            return {"source": CONSTANT, "value": value}
        source = data.get(f"{p}-source") or ""
        if not source:
            return None
        value = {FIELD: data.get(f"{p}-field"), ATTRIBUTE: data.get(f"{p}-attribute"), CONSTANT: data.get(f"{p}-text")}
        return {"source": source, "value": value.get(source) or "", "fallback": data.get(f"{p}-fallback") or ""}

    def add_problems(self, problems: dict[str, str]) -> None:
        rows = {(row.label, row.variable.path): row for _label, _template, group in self.groups for row in group}
        for key, problem in problems.items():
            found = _MAPPING_PROBLEM.fullmatch(key)
            row = rows.get((found[1], found[2])) if found else None
            if row is not None:
                self.add_error(f"{row.prefix}-{row.primary}", problem)
            else:
                self.add_error(None, problem)
