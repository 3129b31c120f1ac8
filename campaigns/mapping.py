"""Where each template variable of a campaign takes its value from: a contact field, a contact
attribute or a constant, with an optional fallback when the contact has no value.

The mapping has the shape of the template's values (whatsapp/message_templates/rendering.py), each
leaf being a source: {"body": {"1": {"source": "field", "value": "first_name", "fallback": "there"}}}.
A recipient whose value is missing and has no fallback is skipped with the reason, never sent a
broken message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aerostic.core.errors import DomainError
from whatsapp.message_templates.rendering import sample_values
from whatsapp.models import MessageTemplate

FIELD, ATTRIBUTE, CONSTANT = "field", "attribute", "constant"
SOURCES = (FIELD, ATTRIBUTE, CONSTANT)
CONTACT_FIELDS = {
    "name": "Name",
    "first_name": "First name",
    "phone": "Phone number (E.164)",
    "country": "Country code (ISO)",
    "language": "Language",
}
MEDIA_KINDS = ("image", "video", "document", "location")
MAX_FALLBACK = 1024


class CampaignInvalid(DomainError):
    """Bad campaign input; `problems` maps each field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Variable:
    section: str  # header, body or buttons
    key: str  # "1", "name", "image", "0"...
    example: Any

    @property
    def path(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def is_media(self) -> bool:
        return self.section == "header" and self.key in MEDIA_KINDS

    @property
    def label(self) -> str:
        if self.is_media:
            return f"Header {self.key}"
        if self.section == "buttons":
            return f"Button {int(self.key) + 1} URL suffix / code"
        return f"{self.section.title()} {{{{{self.key}}}}}"


def template_variables(template: MessageTemplate) -> list[Variable]:
    """Every value a send of this template needs, in the order the template shows them."""
    values = sample_values(components=template.components, parameter_format=template.parameter_format)
    return [
        Variable(section, str(key), example)
        for section in ("header", "body", "buttons")
        for key, example in (values.get(section) or {}).items()
    ]


def clean_mapping(
    template: MessageTemplate, raw: Any, *, attribute_keys: set[str], partial: bool = False
) -> dict[str, dict[str, dict]]:
    """The mapping, checked against the template: every variable mapped, every source valid.
    Raises CampaignInvalid naming each variable that is wrong. `partial` (a draft being written)
    lets variables stay unmapped; the launch needs them all."""
    raw = raw if isinstance(raw, dict) else {}
    problems: dict[str, str] = {}
    cleaned: dict[str, dict[str, dict]] = {}
    for variable in template_variables(template):
        given = (
            (raw.get(variable.section) or {}).get(variable.key) if isinstance(raw.get(variable.section), dict) else None
        )
        if partial and not (isinstance(given, dict) and given.get("source")):
            continue
        if not isinstance(given, dict) or given.get("source") not in SOURCES:
            problems[variable.path] = f"{variable.label} needs a value: a contact field, an attribute or a fixed text."
            continue
        source, value = given["source"], given.get("value")
        fallback = given.get("fallback")
        fallback = "" if fallback is None else str(fallback).strip()
        if len(fallback) > MAX_FALLBACK:
            problems[variable.path] = f"The fallback is longer than {MAX_FALLBACK} characters."
            continue
        if variable.is_media:
            if source != CONSTANT or not _media_ok(variable.key, value):
                problems[variable.path] = (
                    f"{variable.label} needs a fixed media link (https://…) or a media id."
                    if variable.key != "location"
                    else "The location header needs a fixed latitude and longitude."
                )
                continue
            cleaned.setdefault(variable.section, {})[variable.key] = {"source": CONSTANT, "value": value}
            continue
        if source == FIELD and value not in CONTACT_FIELDS:
            problems[variable.path] = f"Unknown contact field {value!r}: one of {', '.join(CONTACT_FIELDS)}."
            continue
        if source == ATTRIBUTE and value not in attribute_keys:
            problems[variable.path] = f"Unknown contact attribute {value!r}: define it under Contacts → Attributes."
            continue
        if source == CONSTANT and not (isinstance(value, str) and value.strip()):
            problems[variable.path] = f"{variable.label}: the fixed text is empty."
            continue
        entry = {"source": source, "value": value.strip() if isinstance(value, str) else value}
        if source != CONSTANT and fallback:
            entry["fallback"] = fallback
        cleaned.setdefault(variable.section, {})[variable.key] = entry
    if problems:
        raise CampaignInvalid(problems)
    return cleaned


def _media_ok(kind: str, value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if kind == "location":
        return all(
            isinstance(value.get(k), (int, float, str)) and str(value.get(k)).strip() for k in ("latitude", "longitude")
        )
    link, media_id = value.get("link"), value.get("id")
    return (isinstance(link, str) and link.startswith("https://")) or (isinstance(media_id, str) and bool(media_id))


def contact_value(source: dict[str, Any], contact: Any, phone_e164: str) -> str:
    """The text a source gives for one contact ('' when the contact has none)."""
    kind, raw = source.get("source"), source.get("value")
    value = raw if isinstance(raw, str) else ""  # a media header's constant is an object: no text
    if kind == CONSTANT:
        return value
    if kind == ATTRIBUTE:
        found = (contact.attributes or {}).get(value)
        return "" if found is None else " ".join(str(found).split())
    if value == "first_name":
        return (contact.name or "").split(" ")[0].strip()
    if value == "phone":
        return phone_e164
    return " ".join(str(getattr(contact, value, "") or "").split())


def values_for(mapping: dict[str, dict[str, dict]], contact: Any, phone_e164: str) -> tuple[dict | None, str]:
    """The template values for one contact, or (None, why) when a variable has no value and no fallback."""
    values: dict[str, dict] = {}
    for section, variables in mapping.items():
        for key, source in variables.items():
            if source.get("source") == CONSTANT and not isinstance(source.get("value"), str):
                values.setdefault(section, {})[key] = source["value"]  # a media header
                continue
            text = contact_value(source, contact, phone_e164) or source.get("fallback", "")
            if not text:
                what = CONTACT_FIELDS.get(str(source.get("value")), source.get("value"))
                return None, f"No value for {section} {{{{{key}}}}} ({what}) and no fallback."
            values.setdefault(section, {})[key] = text
    return values, ""


def missing_value_sql(mapping: dict[str, dict[str, dict]]) -> list[tuple[str, list[Any], str]]:
    """For the launch snapshot: (SQL condition on contact `c`, params, reason) per variable whose
    contact value may be missing and has no fallback. The condition is true when the value is missing."""
    conditions: list[tuple[str, list[Any], str]] = []
    for section, variables in mapping.items():
        for key, source in variables.items():
            if source.get("source") == CONSTANT or source.get("fallback"):
                continue
            value = source.get("value")
            reason = f"No value for {section} {{{{{key}}}}} ({CONTACT_FIELDS.get(str(value), value)}) and no fallback."
            if source["source"] == ATTRIBUTE:
                conditions.append(("btrim(coalesce(c.attributes ->> %s, '')) = ''", [value], reason))
            elif value in ("name", "first_name"):
                conditions.append(("btrim(c.name) = ''", [], reason))
            elif value in ("country", "language"):
                conditions.append((f"btrim(c.{value}) = ''", [], reason))
    return conditions
