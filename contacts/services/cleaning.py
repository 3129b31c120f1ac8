"""Input checks shared by contact writes and imports: tags, typed attribute values, the error type."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aerostic.core.errors import DomainError
from contacts.models import AttributeDefinition

MAX_TAGS = 50
MAX_TAG_LENGTH = 64


class ContactInvalid(DomainError):
    """Bad contact input; `problems` maps each field to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.problems = problems


def clean_tags(raw: Any) -> list[str]:
    """Tags as a list of trimmed, lower-case, unique words; a comma-separated string is accepted."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    tags: list[str] = []
    for item in items:
        tag = " ".join(str(item).split()).lower()
        if tag and tag not in tags:
            if len(tag) > MAX_TAG_LENGTH:
                raise ContactInvalid({"tags": f"A tag has at most {MAX_TAG_LENGTH} characters."})
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ContactInvalid({"tags": f"At most {MAX_TAGS} tags."})
    return tags


def clean_attributes(raw: Any) -> dict[str, Any]:
    """Attributes checked against the workspace's definitions: unknown keys and values of the wrong
    kind are refused with every problem listed."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ContactInvalid({"attributes": "Attributes are an object of key → value."})
    definitions = {definition.key: definition for definition in AttributeDefinition.objects.all()}
    problems: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for key, value in raw.items():
        definition = definitions.get(key)
        if definition is None:
            problems[f"attributes.{key}"] = "No such attribute: define it under Contacts → Attributes first."
            continue
        try:
            cleaned[key] = coerce_attribute(definition.kind, value)
        except ValueError as error:
            problems[f"attributes.{key}"] = str(error)
    if problems:
        raise ContactInvalid(problems)
    return cleaned


def coerce_attribute(kind: str, value: Any) -> Any:
    """A value as its attribute kind stores it (JSON): text, number, ISO date, boolean; "" / None clear it."""
    if value is None or value == "":
        return None
    if kind == AttributeDefinition.Kind.NUMBER:
        try:
            number = float(str(value).replace(",", "").strip()) if not isinstance(value, int | float) else value
        except ValueError:
            raise ValueError(f"{value!r} is not a number.") from None
        return int(number) if float(number).is_integer() else number
    if kind == AttributeDefinition.Kind.DATE:
        try:
            return datetime.fromisoformat(str(value).strip()).date().isoformat()
        except ValueError:
            raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD).") from None
    if kind == AttributeDefinition.Kind.BOOLEAN:
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "y", "on"):
            return True
        if text in ("0", "false", "no", "n", "off"):
            return False
        raise ValueError(f"{value!r} is not yes or no.")
    text = str(value).strip()
    if len(text) > 1000:
        raise ValueError("At most 1,000 characters.")
    return text
