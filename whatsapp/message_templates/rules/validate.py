"""Checks a template against Meta's Cloud API rules before submission, so users see every mistake at once.

Meta rejects a bad template with one terse error at a time and a review delay in between; checking
locally first lets the portal list every problem in words a business user understands. The input is
Meta's own create-template JSON, so what passes here is exactly what we submit.
"""

from __future__ import annotations

from typing import Any

from whatsapp.message_templates.rules.components import (
    check_auth_body,
    check_body,
    check_buttons,
    check_footer,
    check_header,
)
from whatsapp.message_templates.rules.limits import (
    CATEGORIES,
    COMPONENT_TYPES,
    LANGUAGES,
    MAX_NAME,
    NAME_RE,
    PARAMETER_FORMATS,
    Problem,
    show,
    too_long,
)


def validate_template(
    *, name: str, language: str, category: str, parameter_format: str, components: list[dict]
) -> list[Problem]:
    """Every problem Meta would reject the template for (as far as we can know locally); [] when it is fine."""
    problems: list[Problem] = []
    _check_name(name, problems)
    if language in (None, ""):
        problems.append(Problem("language", "Choose the template's language."))
    elif not isinstance(language, str) or language not in LANGUAGES:
        problems.append(Problem("language", f"{show(language)} is not a language Meta accepts for templates."))
    if category not in CATEGORIES:
        problems.append(Problem("category", "Category must be MARKETING, UTILITY or AUTHENTICATION."))
    if parameter_format not in PARAMETER_FORMATS:
        problems.append(Problem("parameter_format", "Parameter format must be POSITIONAL or NAMED."))
    is_auth = category == "AUTHENTICATION"
    fmt = parameter_format if parameter_format in PARAMETER_FORMATS else None

    found = _components_by_type(components, problems)
    if not found["BODY"]:
        problems.append(Problem("body", "A template needs a body."))
    for kind in COMPONENT_TYPES:
        if len(found[kind]) > 1:
            problems.append(Problem(kind.lower(), f"A template can have only one {kind.lower()}."))

    if found["HEADER"]:
        check_header(found["HEADER"][0], fmt, is_auth, problems)
    if found["BODY"]:
        if is_auth:
            check_auth_body(found["BODY"][0], problems)
        else:
            check_body(found["BODY"][0], fmt, problems)
    if found["FOOTER"]:
        check_footer(found["FOOTER"][0], is_auth, problems)
    if found["BUTTONS"]:
        check_buttons(found["BUTTONS"][0], is_auth, problems)
    elif is_auth:
        problems.append(Problem("buttons", "Authentication templates need exactly one OTP button."))
    return problems


def _check_name(name: Any, problems: list[Problem]) -> None:
    if not isinstance(name, str) or not name:
        problems.append(Problem("name", "The template needs a name."))
        return
    if not NAME_RE.fullmatch(name):
        problems.append(
            Problem("name", "The template name can only contain lowercase letters, digits and underscores.")
        )
    too_long("name", "The template name", name, MAX_NAME, problems)


def _components_by_type(components: Any, problems: list[Problem]) -> dict[str, list[dict]]:
    """Groups the components by type, reporting anything that is not a known component."""
    found: dict[str, list[dict]] = {kind: [] for kind in COMPONENT_TYPES}
    if not isinstance(components, list):
        problems.append(Problem("components", "The template's components must be a list."))
        return found
    for index, component in enumerate(components):
        where = f"components[{index}]"
        if not isinstance(component, dict):
            problems.append(Problem(where, "Each component must be an object with a “type”."))
            continue
        kind = component.get("type")
        if kind not in COMPONENT_TYPES:
            problems.append(
                Problem(where, f"Unknown component type {show(kind)}: use HEADER, BODY, FOOTER or BUTTONS.")
            )
            continue
        found[kind].append(component)
    return found
