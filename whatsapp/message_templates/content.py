"""A template as a message to send: its Graph message object, the category Meta will bill, and the
text the customer will read. Shared by every sender that picks a template (the messages API, the
inbox composer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aerostic.core.errors import DomainError
from whatsapp.message_templates.rendering import TemplateParameterError, template_fill, template_message
from whatsapp.message_templates.selectors import billing_category
from whatsapp.models import MessageTemplate


@dataclass(frozen=True)
class TemplateContent:
    content: dict[str, Any]  # {"type": "template", "template": {...}}
    category: str
    preview: str


def template_content(template: MessageTemplate, *, phone: Any, values: dict[str, Any]) -> TemplateContent:
    """The template filled with `values` for a send from `phone`; DomainError says what is wrong
    (another account's template, a missing or invalid value)."""
    if template.account_id != phone.account_id:
        raise DomainError("This template belongs to another WhatsApp account than the number.")
    try:
        rendered = template_fill(
            components=template.components, parameter_format=template.parameter_format, values=values
        )
    except TemplateParameterError as error:
        raise DomainError(str(error)) from None
    return TemplateContent(
        content={
            "type": "template",
            "template": template_message(name=template.name, language=template.language, rendered=rendered),
        },
        category=billing_category(template),
        preview=rendered.preview,
    )
