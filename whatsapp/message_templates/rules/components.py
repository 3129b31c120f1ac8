"""The checks of each component of a template: header, body (authentication bodies apart), footer
and buttons, against Meta's Cloud API rules."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from whatsapp.message_templates.rules.limits import (
    BUTTON_LIMITS,
    BUTTON_TYPES,
    HEADER_FORMATS,
    MAX_BODY_TEXT,
    MAX_BUTTON_TEXT,
    MAX_BUTTONS,
    MAX_COUPON_CODE,
    MAX_FOOTER_TEXT,
    MAX_HEADER_TEXT,
    MAX_PHONE_NUMBER,
    MAX_URL,
    MEDIA_HEADER_FORMATS,
    OTP_TYPES,
    VARIABLE_RE,
    Problem,
    show,
    text_of,
    too_long,
    variables_in,
)
from whatsapp.message_templates.rules.variables import check_examples, check_variable_names


def check_header(component: dict, fmt: str | None, is_auth: bool, problems: list[Problem]) -> None:
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
        text = text_of(component, "header", "header", problems)
        if text is None:
            return
        too_long("header", "The header text", text, MAX_HEADER_TEXT, problems)
        variables = variables_in(text)
        if len(variables) > 1:
            problems.append(Problem("header", "The header can have at most one variable."))
        kind = check_variable_names(variables, fmt, "header", "Header", problems)
        check_examples(component, variables, kind, "header", "header", problems)
    elif header_format in MEDIA_HEADER_FORMATS:
        example = component.get("example")
        handles = example.get("header_handle") if isinstance(example, dict) else None
        if not isinstance(handles, list) or not handles or not all(isinstance(h, str) and h for h in handles):
            problems.append(
                Problem("header", f"Upload a sample {header_format.lower()} for the header so Meta can review it.")
            )
    # LOCATION headers carry no text and no example: the location is given when sending.


def check_auth_body(component: dict, problems: list[Problem]) -> None:
    """Meta writes the body of an authentication template itself; only its options are ours."""
    flag = component.get("add_security_recommendation")
    if flag is not None and not isinstance(flag, bool):
        problems.append(Problem("body", "“add_security_recommendation” must be true or false."))


def check_body(component: dict, fmt: str | None, problems: list[Problem]) -> None:
    text = text_of(component, "body", "body", problems)
    if text is None:
        return
    too_long("body", "The body text", text, MAX_BODY_TEXT, problems)
    variables = variables_in(text)
    kind = check_variable_names(variables, fmt, "body", "Body", problems)
    check_examples(component, variables, kind, "body", "body", problems)
    if not variables:
        return
    stripped = text.strip()
    first = VARIABLE_RE.match(stripped)
    if first:
        problems.append(Problem("body", f"The body cannot start with a variable: add text before {first.group(0)}."))
    last = list(VARIABLE_RE.finditer(stripped))[-1]
    if last.end() == len(stripped):
        problems.append(Problem("body", f"The body cannot end with a variable: add text after {last.group(0)}."))
    for match in re.finditer(r"\{\{[^{}]*\}\}(?=\{\{[^{}]*\}\})", text):
        following = VARIABLE_RE.match(text, match.end())
        assert following is not None  # guaranteed by the lookahead
        problems.append(
            Problem(
                "body",
                f"{match.group(0)} and {following.group(0)} are next to each other: put some text between them.",
            )
        )
    words = len(VARIABLE_RE.sub(" ", text).split())
    if words < len(variables):
        problems.append(
            Problem(
                "body",
                f"The body has too many variables for its length ({len(variables)} variables, {words} other "
                f"word{'s' if words != 1 else ''}): add more text or use fewer variables.",
            )
        )


def check_footer(component: dict, is_auth: bool, problems: list[Problem]) -> None:
    if is_auth and "text" not in component:
        # Authentication footers are written by Meta from code_expiration_minutes.
        minutes = component.get("code_expiration_minutes")
        if minutes is not None and (
            not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 90
        ):
            problems.append(Problem("footer", "The code expiry must be a whole number of minutes from 1 to 90."))
        return
    text = text_of(component, "footer", "footer", problems)
    if text is None:
        return
    too_long("footer", "The footer text", text, MAX_FOOTER_TEXT, problems)
    if variables_in(text):
        problems.append(Problem("footer", "The footer cannot contain variables."))


def check_buttons(component: dict, is_auth: bool, problems: list[Problem]) -> None:
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
            Problem(where, f"Unknown button type {show(kind)}: use QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE or OTP.")
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
            too_long(where, "The button text", text, MAX_BUTTON_TEXT, problems)

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
            too_long(where, "The offer code", code, MAX_COUPON_CODE, problems)
    return kind


def _check_url_button(where: str, button: dict, problems: list[Problem]) -> None:
    url = button.get("url")
    if not isinstance(url, str) or not url:
        problems.append(Problem(where, "The website button needs a URL."))
        return
    if not url.startswith(("https://", "http://")):
        problems.append(Problem(where, "The URL must start with https:// or http://."))
    too_long(where, "The URL", url, MAX_URL, problems)
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
