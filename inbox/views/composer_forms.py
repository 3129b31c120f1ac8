"""What the composer shows: free text while the customer's 24-hour window is open, the approved
templates of the number's WhatsApp account (always, and alone once the window closed) with a field
per template variable and a live preview, and the private note form. A refused send comes back
with its message and what the agent typed."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import QueryDict

from inbox.models import Conversation
from inbox.replies import window_open
from whatsapp.message_templates.rendering import TemplateParameterError, sample_values, template_fill
from whatsapp.message_templates.selectors import templates_for
from whatsapp.models import MessageTemplate

FIELD_PREFIX = "v."
# The composer's emoji picker: a fixed grid of common ones (no library, nothing fetched).
_EMOJI_ROWS = (
    "😀 😃 😄 😁 😅 😂 🙂 😉 😊 😍 😘 😎 🤔 😐 😴 😢 😭 😡 😮 🥳",
    "👍 👎 👌 🙏 👏 🙌 💪 👋 🤝 ✌️ ❤️ 🧡 💚 💙 💯 🔥 ✨ 🎉 🎁 ⭐",
    "✅ ❌ ⚠️ ❓ ❗ ⏰ 📅 📦 🚚 🛒 💳 💰 📞 📍 📎 📝 🔗 🏠 ☕ 🍕",
)
EMOJI = tuple(symbol for row in _EMOJI_ROWS for symbol in row.split(" "))
_SECTION_LABELS = {"header": "Header", "body": "Body", "buttons": "Button"}
_SUB_LABELS = {"link": "link (https://…)", "latitude": "latitude", "longitude": "longitude", "name": "name"}


def approved_templates(conversation: Conversation) -> list[MessageTemplate]:
    return list(templates_for(account=conversation.phone_number.account_id, status=MessageTemplate.Status.APPROVED))


def approved_template(conversation: Conversation, template_id: Any) -> MessageTemplate | None:
    """One of the approved templates of the conversation's WhatsApp account, or None."""
    if not str(template_id or "").isdigit():
        return None
    return (
        templates_for(account=conversation.phone_number.account_id, status=MessageTemplate.Status.APPROVED)
        .filter(pk=int(template_id))
        .first()
    )


def values_from(data: QueryDict) -> dict[str, Any]:
    """The template's values from the form: `v.body.1`, `v.header.image.link`, … (empty ones left
    out, so the renderer names them as missing)."""
    values: dict[str, Any] = {}
    for name in data:
        if not name.startswith(FIELD_PREFIX):
            continue
        value = data.get(name, "").strip()
        path = name[len(FIELD_PREFIX) :].split(".")
        if not value or len(path) not in (2, 3) or path[0] not in _SECTION_LABELS:
            continue
        section = values.setdefault(path[0], {})
        if len(path) == 2:
            section[path[1]] = value
        else:
            section.setdefault(path[1], {})[path[2]] = _number(value) if path[2] in ("latitude", "longitude") else value
    return values


def _number(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value


def template_fields(template: MessageTemplate, given: dict[str, Any]) -> list[dict[str, str]]:
    """A field per value the template takes, with the template's own example as its hint."""
    samples = sample_values(components=template.components, parameter_format=template.parameter_format)
    fields = []
    for section, keyed in samples.items():
        for key, sample in keyed.items():
            if isinstance(sample, dict):
                for sub, example in sample.items():
                    current = (given.get(section, {}).get(key) or {}) if isinstance(given.get(section), dict) else {}
                    fields.append(
                        {
                            "name": f"{FIELD_PREFIX}{section}.{key}.{sub}",
                            "label": f"{_SECTION_LABELS[section]} {key} {_SUB_LABELS.get(sub, sub)}",
                            "value": str(current.get(sub, "")) if isinstance(current, dict) else "",
                            "hint": str(example),
                        }
                    )
                continue
            if section == "buttons" and key.isdigit():
                label = f"Button {int(key) + 1}"
            else:
                label = f"{_SECTION_LABELS[section]} {{{{{key}}}}}"
            example = str(sample)
            fields.append(
                {
                    "name": f"{FIELD_PREFIX}{section}.{key}",
                    "label": label,
                    "value": str((given.get(section) or {}).get(key, "")),
                    "hint": "" if example == f"{{{{{key}}}}}" else example,
                }
            )
    return fields


def template_preview(template: MessageTemplate, given: dict[str, Any]) -> tuple[str, str]:
    """(what the customer will read, a problem with the values): the values typed so far over the
    template's examples, so the preview reads whole from the first keystroke."""
    samples = sample_values(components=template.components, parameter_format=template.parameter_format)
    merged: dict[str, Any] = {section: dict(keyed) for section, keyed in samples.items()}
    for section, keyed in given.items():
        if section in merged and isinstance(keyed, dict):
            for key, value in keyed.items():
                if key in merged[section]:
                    if isinstance(merged[section][key], dict) and isinstance(value, dict):
                        merged[section][key] = {**merged[section][key], **value}
                    else:
                        merged[section][key] = value
    try:
        rendered = template_fill(
            components=template.components, parameter_format=template.parameter_format, values=merged
        )
    except TemplateParameterError as error:
        return "", str(error)
    return rendered.preview, ""


def template_context(
    conversation: Conversation, template: MessageTemplate | None, given: dict[str, Any]
) -> dict[str, Any]:
    if template is None:
        return {"template": None, "template_fields": [], "template_preview": "", "template_problem": ""}
    preview, problem = template_preview(template, given)
    return {
        "template": template,
        "template_fields": template_fields(template, given),
        "template_preview": preview,
        "template_problem": problem,
    }


def composer_context(
    conversation: Conversation,
    *,
    mode: str = "reply",
    text: str = "",
    reply_error: str = "",
    note: str = "",
    note_error: str = "",
    template_id: Any = None,
    values: dict[str, Any] | None = None,
    template_error: str = "",
) -> dict[str, Any]:
    """The composer as rendered: a fresh one, or one that comes back with a refusal and the text."""
    templates = approved_templates(conversation)
    chosen = next((t for t in templates if str(t.pk) == str(template_id or "")), None)
    context = {
        "composer_mode": mode,
        "composer_text": text,
        "reply_error": reply_error,
        "note_text": note,
        "note_error": note_error,
        "template_error": template_error,
        "templates": templates,
        "composer_key": uuid.uuid4().hex,
        "window_is_open": window_open(conversation),
        "emoji": EMOJI,
    }
    context.update(template_context(conversation, chosen, values or {}))
    return context
