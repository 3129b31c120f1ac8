"""Checks a template against Meta's Cloud API rules before submission, so users see every mistake at once.

Meta rejects a bad template with one terse error at a time and a review delay in between; checking
locally first lets the portal list every problem in words a business user understands. The input is
Meta's own create-template JSON, so what passes here is exactly what we submit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
LANGUAGES: frozenset[str] = frozenset(
    {
        *("af", "sq", "ar", "az", "bn", "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da", "nl"),
        *("en", "en_GB", "en_US", "et", "fil", "fi", "fr", "ka", "de", "el", "gu", "ha", "he", "hi"),
        *("hu", "id", "ga", "it", "ja", "kn", "kk", "rw_RW", "ko", "ky_KG", "lo", "lv", "lt", "mk"),
        *("ms", "ml", "mr", "nb", "fa", "pl", "pt_BR", "pt_PT", "pa", "ro", "ru", "sr", "sk", "sl"),
        *("es", "es_AR", "es_ES", "es_MX", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz", "vi", "zu"),
    }
)

COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
MEDIA_HEADER_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP")
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")
# Meta's per-type button limits; the total is capped separately at MAX_BUTTONS.
BUTTON_LIMITS = {"QUICK_REPLY": 10, "URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1}

MAX_NAME = 512
MAX_HEADER_TEXT = 60
MAX_BODY_TEXT = 1024
MAX_FOOTER_TEXT = 60
MAX_BUTTONS = 10
MAX_BUTTON_TEXT = 25
MAX_URL = 2000
MAX_PHONE_NUMBER = 20
MAX_COUPON_CODE = 15

_NAME_RE = re.compile(r"[a-z0-9_]+")
_VARIABLE_RE = re.compile(r"\{\{([^{}]*)\}\}")
_POSITIONAL_RE = re.compile(r"[1-9][0-9]*")
_NAMED_RE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Problem:
    """One thing to fix: `where` points at the part of the template, `message` is shown to the user as is."""

    where: str
    message: str


def variables_in(text: str) -> list[str]:
    """The names inside `{{…}}` in order of appearance, duplicates kept ("{{1}}" → "1")."""
    if not isinstance(text, str):
        return []
    return _VARIABLE_RE.findall(text)


def validate_template(
    *, name: str, language: str, category: str, parameter_format: str, components: list[dict]
) -> list[Problem]:
    """Every problem Meta would reject the template for (as far as we can know locally); [] when it is fine."""
    problems: list[Problem] = []
    _check_name(name, problems)
    if language in (None, ""):
        problems.append(Problem("language", "Choose the template's language."))
    elif not isinstance(language, str) or language not in LANGUAGES:
        problems.append(Problem("language", f"{_show(language)} is not a language Meta accepts for templates."))
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
        _check_header(found["HEADER"][0], fmt, is_auth, problems)
    if found["BODY"]:
        if is_auth:
            _check_auth_body(found["BODY"][0], problems)
        else:
            _check_body(found["BODY"][0], fmt, problems)
    if found["FOOTER"]:
        _check_footer(found["FOOTER"][0], is_auth, problems)
    if found["BUTTONS"]:
        _check_buttons(found["BUTTONS"][0], is_auth, problems)
    elif is_auth:
        problems.append(Problem("buttons", "Authentication templates need exactly one OTP button."))
    return problems


def _show(value: Any) -> str:
    """A value quoted for a message, short enough to read."""
    text = repr(value) if not isinstance(value, str) else f"“{value}”"
    return text if len(text) <= 40 else text[:37] + "…"


def _check_name(name: Any, problems: list[Problem]) -> None:
    if not isinstance(name, str) or not name:
        problems.append(Problem("name", "The template needs a name."))
        return
    if not _NAME_RE.fullmatch(name):
        problems.append(
            Problem("name", "The template name can only contain lowercase letters, digits and underscores.")
        )
    _too_long("name", "The template name", name, MAX_NAME, problems)


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
                Problem(where, f"Unknown component type {_show(kind)}: use HEADER, BODY, FOOTER or BUTTONS.")
            )
            continue
        found[kind].append(component)
    return found


def _too_long(where: str, what: str, value: str, limit: int, problems: list[Problem]) -> None:
    if len(value) > limit:
        problems.append(Problem(where, f"{what} must be at most {limit} characters (it has {len(value)})."))


def _text_of(component: dict, where: str, label: str, problems: list[Problem]) -> str | None:
    """The component's text, or None after reporting that it is missing or not text."""
    text = component.get("text")
    if text is None or text == "":
        problems.append(Problem(where, f"The {label} text is required."))
        return None
    if not isinstance(text, str):
        problems.append(Problem(where, f"The {label} text must be text."))
        return None
    if not text.strip():
        problems.append(Problem(where, f"The {label} text is required."))
        return None
    return text


def _join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _check_variable_names(
    variables: list[str], fmt: str | None, where: str, label: str, problems: list[Problem]
) -> str | None:
    """Checks names, kind and numbering; returns the kind in use ("POSITIONAL"/"NAMED") when consistent."""
    if not variables:
        return None
    bad = [v for v in dict.fromkeys(variables) if not (_POSITIONAL_RE.fullmatch(v) or _NAMED_RE.fullmatch(v))]
    for variable in bad:
        problems.append(
            Problem(
                where,
                f"{{{{{variable}}}}} is not a valid variable: use {{{{1}}}}, {{{{2}}}}… or a name made of "
                "lowercase letters, digits and underscores that starts with a letter.",
            )
        )
    positional = [v for v in variables if _POSITIONAL_RE.fullmatch(v)]
    named = [v for v in variables if _NAMED_RE.fullmatch(v)]
    if positional and named:
        problems.append(
            Problem(where, f"{label} mixes numbered variables like {{{{1}}}} and named variables; use one kind.")
        )
        return None
    if bad:
        return None
    kind = "POSITIONAL" if positional else "NAMED"
    if fmt is not None and kind != fmt:
        if kind == "NAMED":
            message = f"{label} uses named variables but the template's parameter format is POSITIONAL."
        else:
            message = f"{label} uses numbered variables but the template's parameter format is NAMED."
        problems.append(Problem(where, message))
    if kind == "POSITIONAL":
        numbers = {int(v) for v in positional}
        missing = [f"{{{{{n}}}}}" for n in range(1, max(numbers) + 1) if n not in numbers]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            problems.append(
                Problem(
                    where,
                    f"{label} variables must be numbered from {{{{1}}}} without gaps: {_join(missing)} {verb} missing.",
                )
            )
    return kind


def _check_examples(
    component: dict, variables: list[str], kind: str | None, section: str, where: str, problems: list[Problem]
) -> None:
    """Meta's reviewers need one sample value per variable, and nothing more."""
    example = component.get("example")
    if example is not None and not isinstance(example, dict):
        problems.append(Problem(where, f"The {section} example must be an object."))
        return
    example = example or {}
    distinct = list(dict.fromkeys(variables))
    positional_key, named_key = f"{section}_text", f"{section}_text_named_params"
    if not distinct:
        if example.get(positional_key) or example.get(named_key):
            problems.append(Problem(where, f"The {section} has no variables, so it must not have example values."))
        return
    if kind == "POSITIONAL":
        values = example.get(positional_key)
        if section == "body" and isinstance(values, list) and values and isinstance(values[0], list):
            values = values[0]  # the body's examples are one row: [["Ana", "#123"]]
        if not values:
            problems.append(
                Problem(
                    where,
                    f"Add an example value for each {section} variable "
                    f"({', '.join('{{' + v + '}}' for v in distinct)}) so Meta can review the template.",
                )
            )
            return
        if not isinstance(values, list) or not all(isinstance(value, str) and value.strip() for value in values):
            problems.append(Problem(where, f"The {section} example values must be non-empty text."))
            return
        if len(values) != len(distinct):
            problems.append(
                Problem(
                    where,
                    f"The {section} has {len(distinct)} variable{'s' if len(distinct) != 1 else ''} "
                    f"but {len(values)} example value{'s' if len(values) != 1 else ''}; give exactly one per variable.",
                )
            )
    elif kind == "NAMED":
        entries = example.get(named_key) or []
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            problems.append(Problem(where, f"The {section} named examples must be a list of objects."))
            return
        given: dict[str, Any] = {}
        for entry in entries:
            if not isinstance(entry.get("param_name"), str):
                problems.append(Problem(where, f"Each {section} named example needs a “param_name”."))
                return
            given[entry["param_name"]] = entry.get("example")
        for variable in distinct:
            value = given.get(variable)
            if not isinstance(value, str) or not value.strip():
                problems.append(Problem(where, f"Add an example value for {{{{{variable}}}}}."))
        for name in given:
            if name not in distinct:
                problems.append(
                    Problem(where, f"The example for {{{{{name}}}}} does not match any variable in the {section}.")
                )


def _check_header(component: dict, fmt: str | None, is_auth: bool, problems: list[Problem]) -> None:
    header_format = component.get("format")
    if header_format not in HEADER_FORMATS:
        problems.append(Problem("header", "Header format must be TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION."))
        return
    if is_auth and header_format != "TEXT":
        problems.append(
            Problem("header", "Authentication templates cannot have an image, video, document or location header.")
        )
        return
    if header_format == "TEXT":
        text = _text_of(component, "header", "header", problems)
        if text is None:
            return
        _too_long("header", "The header text", text, MAX_HEADER_TEXT, problems)
        variables = variables_in(text)
        if len(variables) > 1:
            problems.append(Problem("header", "The header can have at most one variable."))
        kind = _check_variable_names(variables, fmt, "header", "Header", problems)
        _check_examples(component, variables, kind, "header", "header", problems)
    elif header_format in MEDIA_HEADER_FORMATS:
        example = component.get("example")
        handles = example.get("header_handle") if isinstance(example, dict) else None
        if not isinstance(handles, list) or not handles or not all(isinstance(h, str) and h for h in handles):
            problems.append(
                Problem("header", f"Upload a sample {header_format.lower()} for the header so Meta can review it.")
            )
    # LOCATION headers carry no text and no example: the location is given when sending.


def _check_auth_body(component: dict, problems: list[Problem]) -> None:
    """Meta writes the body of an authentication template itself; only its options are ours."""
    flag = component.get("add_security_recommendation")
    if flag is not None and not isinstance(flag, bool):
        problems.append(Problem("body", "“add_security_recommendation” must be true or false."))


def _check_body(component: dict, fmt: str | None, problems: list[Problem]) -> None:
    text = _text_of(component, "body", "body", problems)
    if text is None:
        return
    _too_long("body", "The body text", text, MAX_BODY_TEXT, problems)
    variables = variables_in(text)
    kind = _check_variable_names(variables, fmt, "body", "Body", problems)
    _check_examples(component, variables, kind, "body", "body", problems)
    if not variables:
        return
    stripped = text.strip()
    first = _VARIABLE_RE.match(stripped)
    if first:
        problems.append(Problem("body", f"The body cannot start with a variable: add text before {first.group(0)}."))
    last = list(_VARIABLE_RE.finditer(stripped))[-1]
    if last.end() == len(stripped):
        problems.append(Problem("body", f"The body cannot end with a variable: add text after {last.group(0)}."))
    for match in re.finditer(r"\{\{[^{}]*\}\}(?=\{\{[^{}]*\}\})", text):
        following = _VARIABLE_RE.match(text, match.end())
        assert following is not None  # guaranteed by the lookahead
        problems.append(
            Problem(
                "body",
                f"{match.group(0)} and {following.group(0)} are next to each other: put some text between them.",
            )
        )
    words = len(_VARIABLE_RE.sub(" ", text).split())
    if words < len(variables):
        problems.append(
            Problem(
                "body",
                f"The body has too many variables for its length ({len(variables)} variables, {words} other "
                f"word{'s' if words != 1 else ''}): add more text or use fewer variables.",
            )
        )


def _check_footer(component: dict, is_auth: bool, problems: list[Problem]) -> None:
    if is_auth and "text" not in component:
        # Authentication footers are written by Meta from code_expiration_minutes.
        minutes = component.get("code_expiration_minutes")
        if minutes is not None and (
            not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 90
        ):
            problems.append(Problem("footer", "The code expiry must be a whole number of minutes from 1 to 90."))
        return
    text = _text_of(component, "footer", "footer", problems)
    if text is None:
        return
    _too_long("footer", "The footer text", text, MAX_FOOTER_TEXT, problems)
    if variables_in(text):
        problems.append(Problem("footer", "The footer cannot contain variables."))


def _check_buttons(component: dict, is_auth: bool, problems: list[Problem]) -> None:
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        problems.append(Problem("buttons", f"Add between 1 and {MAX_BUTTONS} buttons, or remove the buttons."))
        if is_auth:
            problems.append(Problem("buttons", "Authentication templates need exactly one OTP button."))
        return
    if len(buttons) > MAX_BUTTONS:
        problems.append(
            Problem("buttons", f"A template can have at most {MAX_BUTTONS} buttons (it has {len(buttons)}).")
        )

    types: list[str | None] = []
    for index, button in enumerate(buttons):
        types.append(_check_button(index, button, is_auth, problems))

    counts = Counter(kind for kind in types if kind)
    labels = {"QUICK_REPLY": "quick reply", "URL": "website", "PHONE_NUMBER": "phone number", "COPY_CODE": "copy code"}
    for kind, limit in BUTTON_LIMITS.items():
        if counts[kind] > limit:
            noun = "button" if limit == 1 else "buttons"
            problems.append(
                Problem(
                    "buttons", f"A template can have at most {limit} {labels[kind]} {noun} (it has {counts[kind]})."
                )
            )
    quick = [index for index, kind in enumerate(types) if kind == "QUICK_REPLY"]
    if quick and quick[-1] - quick[0] + 1 != len(quick):
        problems.append(
            Problem("buttons", "Quick reply buttons must be next to each other, not mixed in between other buttons.")
        )
    if is_auth and counts["OTP"] != 1:
        problems.append(
            Problem("buttons", f"Authentication templates need exactly one OTP button (it has {counts['OTP']}).")
        )


def _check_button(index: int, button: Any, is_auth: bool, problems: list[Problem]) -> str | None:
    """Checks one button and returns its type when known."""
    where = f"buttons[{index}]"
    if not isinstance(button, dict):
        problems.append(Problem(where, "Each button must be an object with a “type”."))
        return None
    kind = button.get("type")
    if kind not in BUTTON_TYPES:
        problems.append(
            Problem(where, f"Unknown button type {_show(kind)}: use QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE or OTP.")
        )
        return None
    if is_auth and kind != "OTP":
        problems.append(Problem(where, "Authentication templates can only have an OTP button."))
    if not is_auth and kind == "OTP":
        problems.append(Problem(where, "OTP buttons are only allowed in AUTHENTICATION templates."))

    text = button.get("text")
    if kind == "OTP":
        # Meta supplies a default label ("Copy code" / "Autofill") when none is given.
        if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > MAX_BUTTON_TEXT):
            problems.append(Problem(where, f"The button text must be 1 to {MAX_BUTTON_TEXT} characters."))
        if button.get("otp_type") not in OTP_TYPES:
            problems.append(Problem(where, "The OTP button type must be COPY_CODE, ONE_TAP or ZERO_TAP."))
    elif kind != "COPY_CODE":  # copy-code buttons have a fixed label set by Meta
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(where, "The button needs a text."))
        else:
            _too_long(where, "The button text", text, MAX_BUTTON_TEXT, problems)

    if kind == "URL":
        _check_url_button(where, button, problems)
    elif kind == "PHONE_NUMBER":
        phone = button.get("phone_number")
        if not isinstance(phone, str) or not phone.startswith("+") or len(phone) > MAX_PHONE_NUMBER:
            problems.append(
                Problem(
                    where,
                    f"The phone number must start with + and the country code, at most {MAX_PHONE_NUMBER} characters.",
                )
            )
    elif kind == "COPY_CODE":
        code = button.get("example")
        if not isinstance(code, str) or not code.strip():
            problems.append(Problem(where, "Give an example offer code for the copy code button."))
        else:
            _too_long(where, "The offer code", code, MAX_COUPON_CODE, problems)
    return kind


def _check_url_button(where: str, button: dict, problems: list[Problem]) -> None:
    url = button.get("url")
    if not isinstance(url, str) or not url:
        problems.append(Problem(where, "The website button needs a URL."))
        return
    if not url.startswith(("https://", "http://")):
        problems.append(Problem(where, "The URL must start with https:// or http://."))
    _too_long(where, "The URL", url, MAX_URL, problems)
    variables = variables_in(url)
    if not variables:
        return
    if len(variables) > 1:
        problems.append(Problem(where, "The URL can have at most one variable."))
    elif variables[0] != "1":
        problems.append(Problem(where, "The URL variable must be {{1}}."))
    if not url.endswith("}}"):
        problems.append(Problem(where, "The URL variable must be at the very end of the URL."))
    example = button.get("example")
    if not isinstance(example, list) or not example or not all(isinstance(e, str) and e.strip() for e in example):
        problems.append(Problem(where, "Add an example of the full URL so Meta can review the template."))
