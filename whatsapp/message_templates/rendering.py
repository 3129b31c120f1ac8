"""Turns a template plus the values for its variables into Graph's send payload and a plain-text preview.

One function builds both so that what the portal shows is what the customer receives, and every
missing, unexpected or unacceptable value is reported together before anything reaches Meta.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from whatsapp.message_templates.rules import MAX_COUPON_CODE, MEDIA_HEADER_FORMATS, variables_in

MAX_TEXT_PARAMETER = 1024
SECTIONS = ("header", "body", "buttons")
_VARIABLE_RE = re.compile(r"\{\{([^{}]*)\}\}")
# Meta refuses text parameters with newlines, tabs or more than four consecutive spaces.
_FORBIDDEN_IN_TEXT = re.compile(r"[\n\t]| {5,}")
_SAMPLE_CODE = "123456"
_SAMPLE_EXTENSIONS = {"image": "jpg", "video": "mp4", "document": "pdf"}
_OTP_LABELS = {"COPY_CODE": "Copy code", "ONE_TAP": "Autofill", "ZERO_TAP": "Autofill"}


class TemplateParameterError(ValueError):
    """Every problem with the values at once, so a caller fixes them in one round trip."""

    def __init__(
        self,
        *,
        missing: list[str],
        extra: list[str],
        invalid: list[str] | tuple[str, ...] = (),
        reasons: dict[str, str] | None = None,
    ) -> None:
        self.missing = list(missing)
        self.extra = list(extra)
        self.invalid = list(invalid)
        self.reasons = dict(reasons or {})
        parts = []
        if self.missing:
            parts.append(f"Missing values: {', '.join(self.missing)}.")
        if self.extra:
            parts.append(f"Unexpected values: {', '.join(self.extra)}.")
        if self.invalid:
            described = [f"{key} ({self.reasons[key]})" if key in self.reasons else key for key in self.invalid]
            parts.append(f"Invalid values: {', '.join(described)}.")
        super().__init__(" ".join(parts))


@dataclass(frozen=True)
class Rendered:
    """The send payload's `components` and what the customer will read."""

    components: list[dict]
    preview: str


class _Collector:
    """Reads values section by section, remembering which were expected and which were wrong."""

    def __init__(self, values: Any) -> None:
        self.missing: list[str] = []
        self.invalid: list[str] = []
        self.reasons: dict[str, str] = {}
        self.expected: dict[str, set[str]] = {section: set() for section in SECTIONS}
        self.sections: dict[str, dict] = {}
        self.extra: list[str] = []
        if not isinstance(values, dict):
            if values is not None:
                self.refuse("values", "must be an object")
            values = {}
        self.unknown = [str(section) for section in values if section not in SECTIONS]
        for section in SECTIONS:
            given = values.get(section)
            if isinstance(given, dict):
                self.sections[section] = given
            elif given is not None:
                self.refuse(section, "must be an object keyed by variable")

    def refuse(self, key: str, reason: str) -> None:
        self.invalid.append(key)
        self.reasons[key] = reason

    def raw(self, section: str, key: str) -> Any:
        """The value as given, or None after noting it missing."""
        self.expected[section].add(key)
        value = self.sections.get(section, {}).get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.missing.append(f"{section}.{key}")
            return None
        return value

    def text(self, section: str, key: str, *, limit: int = MAX_TEXT_PARAMETER, strict: bool = True) -> str | None:
        """A text value; `strict` applies Meta's body/header rules on whitespace."""
        value = self.raw(section, key)
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.refuse(f"{section}.{key}", "must be text")
        elif len(value) > limit:
            self.refuse(f"{section}.{key}", f"longer than {limit} characters")
        elif strict and _FORBIDDEN_IN_TEXT.search(value):
            self.refuse(f"{section}.{key}", "contains a newline, a tab or more than 4 spaces in a row")
        else:
            return value
        return None

    def check(self) -> None:
        for section, given in self.sections.items():
            self.extra.extend(f"{section}.{key}" for key in given if str(key) not in self.expected[section])
        self.extra.extend(self.unknown)
        if self.missing or self.extra or self.invalid:
            raise TemplateParameterError(
                missing=self.missing, extra=self.extra, invalid=self.invalid, reasons=self.reasons
            )


def _first(components: Any, kind: str) -> dict | None:
    if not isinstance(components, list):
        return None
    return next((c for c in components if isinstance(c, dict) and c.get("type") == kind), None)


def _ordered(variables: list[str]) -> list[str]:
    """Distinct variables in send order: numbered ones by number (Meta maps parameters by position)."""
    distinct = list(dict.fromkeys(variables))
    if all(v.isdigit() for v in distinct):
        return sorted(distinct, key=int)
    return distinct


def _substitute(text: str, filled: dict[str, str]) -> str:
    return _VARIABLE_RE.sub(lambda m: filled.get(m.group(1), m.group(0)), text)


def _text_parameters(names: list[str], filled: dict[str, str], named: bool) -> list[dict]:
    parameters = []
    for name in names:
        parameter = {"type": "text", "text": filled[name]}
        if named:
            parameter["parameter_name"] = name
        parameters.append(parameter)
    return parameters


def _buttons(components: Any) -> list[Any]:
    component = _first(components, "BUTTONS")
    buttons = component.get("buttons") if component else None
    return buttons if isinstance(buttons, list) else []


def _is_authentication(components: Any) -> bool:
    return any(isinstance(b, dict) and b.get("type") == "OTP" for b in _buttons(components))


def template_fill(*, components: list[dict], parameter_format: str, values: dict) -> Rendered:
    """The Graph `components` for a template send and its preview; raises TemplateParameterError on bad values."""
    named = parameter_format == "NAMED"
    collect = _Collector(values)
    payload: list[dict] = []
    blocks: list[str] = []

    header = _first(components, "HEADER")
    if header is not None:
        blocks.append(_render_header(header, named, collect, payload))

    is_auth = _is_authentication(components)
    code: str | None = None
    body = _first(components, "BODY")
    if body is not None:
        text, code = _render_body(body, named, is_auth, collect, payload)
        blocks.append(text)

    footer = _first(components, "FOOTER")
    if footer is not None:
        if isinstance(footer.get("text"), str):
            blocks.append(footer["text"])
        elif isinstance(footer.get("code_expiration_minutes"), int):
            blocks.append(f"This code expires in {footer['code_expiration_minutes']} minutes.")

    labels = [
        _render_button(index, button, code, collect, payload) for index, button in enumerate(_buttons(components))
    ]
    collect.check()

    preview = "\n\n".join(block for block in blocks if block)
    if labels:
        preview = (preview + "\n\n" if preview else "") + "\n".join(labels)
    return Rendered(components=payload, preview=preview)


def _text_of(component: dict, key: str) -> str:
    """`component[key]` when it is a string (Meta's JSON may hold anything), else ""."""
    value = component.get(key)
    return value if isinstance(value, str) else ""


def _dict_of(component: dict, key: str) -> dict:
    """`component[key]` when it is an object, else {}."""
    value = component.get(key)
    return value if isinstance(value, dict) else {}


def _render_header(header: dict, named: bool, collect: _Collector, payload: list[dict]) -> str:
    """Adds the header parameter (if any) and returns the header's preview line."""
    header_format = header.get("format")
    if header_format == "TEXT":
        text = _text_of(header, "text")
        names = _ordered(variables_in(text))
        filled = {name: value for name in names if (value := collect.text("header", name)) is not None}
        if names and len(filled) == len(names):
            payload.append({"type": "header", "parameters": _text_parameters(names, filled, named)})
        return _substitute(text, filled)
    if header_format in MEDIA_HEADER_FORMATS:
        kind = header_format.lower()
        media = collect.raw("header", kind)
        if media is None:
            return f"[{kind.title()}]"
        if not isinstance(media, dict) or not any(isinstance(media.get(k), str) and media[k] for k in ("link", "id")):
            collect.refuse(f"header.{kind}", "needs a link or an id")
            return f"[{kind.title()}]"
        allowed = ("link", "id", "filename") if kind == "document" else ("link", "id")
        obj = {key: media[key] for key in allowed if isinstance(media.get(key), str) and media[key]}
        payload.append({"type": "header", "parameters": [{"type": kind, kind: obj}]})
        return f"[Document: {obj['filename']}]" if "filename" in obj else f"[{kind.title()}]"
    if header_format == "LOCATION":
        location = collect.raw("header", "location")
        if location is None:
            return "[Location]"
        if not isinstance(location, dict) or not all(
            isinstance(location.get(k), (int, float, str)) and not isinstance(location.get(k), bool)
            for k in ("latitude", "longitude")
        ):
            collect.refuse("header.location", "needs a latitude and a longitude")
            return "[Location]"
        obj = {key: location[key] for key in ("latitude", "longitude", "name", "address") if key in location}
        payload.append({"type": "header", "parameters": [{"type": "location", "location": obj}]})
        label = location.get("name") or location.get("address")
        return f"[Location: {label}]" if label else "[Location]"
    return ""


def _render_body(
    body: dict, named: bool, is_auth: bool, collect: _Collector, payload: list[dict]
) -> tuple[str, str | None]:
    """Adds the body parameters and returns the body preview and, for authentication, the code."""
    text = _text_of(body, "text")
    if is_auth:
        # Meta writes the body of an authentication template; the code is always its single parameter.
        code = collect.text("body", "1")
        if code is not None:
            payload.append({"type": "body", "parameters": [{"type": "text", "text": code}]})
        if not text:
            text = "{{1}} is your verification code."
            if body.get("add_security_recommendation"):
                text += " For your security, do not share this code."
        return _substitute(text, {"1": code} if code else {}), code
    names = _ordered(variables_in(text))
    filled = {name: value for name in names if (value := collect.text("body", name)) is not None}
    if names and len(filled) == len(names):
        payload.append({"type": "body", "parameters": _text_parameters(names, filled, named)})
    return _substitute(text, filled), None


def _render_button(index: int, button: Any, code: str | None, collect: _Collector, payload: list[dict]) -> str:
    """Adds the button's parameter when it takes one and returns its preview line."""
    if not isinstance(button, dict):
        return ""
    kind = button.get("type")
    key = str(index)
    label = _text_of(button, "text")
    if kind == "URL" and variables_in(button.get("url") or ""):
        suffix = collect.text("buttons", key, limit=2000, strict=False)
        if suffix is not None:
            payload.append(_button("url", key, {"type": "text", "text": suffix}))
    elif kind == "COPY_CODE":
        label = "Copy offer code"  # Meta's fixed label
        coupon = collect.text("buttons", key, limit=MAX_COUPON_CODE, strict=False)
        if coupon is not None:
            payload.append(_button("copy_code", key, {"type": "coupon_code", "coupon_code": coupon}))
    elif kind == "OTP":
        otp_type = button.get("otp_type")
        label = label or (_OTP_LABELS.get(otp_type, "Copy code") if isinstance(otp_type, str) else "Copy code")
        # The code comes from body "1"; a value for the button itself, when given, overrides it.
        if collect.sections.get("buttons", {}).get(key) in (None, ""):
            collect.expected["buttons"].add(key)
            otp = code
        else:
            otp = collect.text("buttons", key, strict=False)
        if otp is not None:
            payload.append(_button("url", key, {"type": "text", "text": otp}))
    return f"[{label}]" if label else ""


def _button(sub_type: str, index: str, parameter: dict) -> dict:
    return {"type": "button", "sub_type": sub_type, "index": index, "parameters": [parameter]}


def template_message(*, name: str, language: str, rendered: Rendered) -> dict:
    """The `template` object of a POST /{phone-number-id}/messages call."""
    message: dict[str, Any] = {"name": name, "language": {"code": language}}
    if rendered.components:
        message["components"] = rendered.components
    return message


def sample_values(*, components: list[dict], parameter_format: str) -> dict:
    """Values taken from the template's own examples, so the portal can preview it before any real send.

    Variables without an example get their own placeholder ("{{1}}"), which keeps the preview honest
    and still renders.
    """
    values: dict[str, dict] = {}
    header = _first(components, "HEADER")
    if header is not None:
        header_values = _sample_header(header)
        if header_values:
            values["header"] = header_values

    is_auth = _is_authentication(components)
    body = _first(components, "BODY")
    if is_auth:
        values["body"] = {"1": _SAMPLE_CODE}
    elif body is not None:
        text = _text_of(body, "text")
        names = _ordered(variables_in(text))
        examples = _examples(body.get("example"), "body", names)
        if names:
            values["body"] = {name: examples.get(name) or f"{{{{{name}}}}}" for name in names}

    buttons: dict[str, str] = {}
    for index, button in enumerate(_buttons(components)):
        if not isinstance(button, dict):
            continue
        url = _text_of(button, "url")
        if button.get("type") == "URL" and variables_in(url):
            buttons[str(index)] = _url_suffix(url, button.get("example"))
        elif button.get("type") == "COPY_CODE":
            example = button.get("example")
            buttons[str(index)] = example if isinstance(example, str) and example else "CODE"
    if buttons:
        values["buttons"] = buttons
    return values


def _sample_header(header: dict) -> dict:
    header_format = header.get("format")
    example = _dict_of(header, "example")
    if header_format == "TEXT":
        text = _text_of(header, "text")
        names = _ordered(variables_in(text))
        examples = _examples(example, "header", names)
        return {name: examples.get(name) or f"{{{{{name}}}}}" for name in names}
    if header_format in MEDIA_HEADER_FORMATS:
        handles = example.get("header_handle")
        handle = handles[0] if isinstance(handles, list) and handles and isinstance(handles[0], str) else ""
        kind = header_format.lower()
        # Fetched templates carry a URL here; a fresh upload handle is not a link, so fall back to a sample.
        if not handle.startswith(("https://", "http://")):
            handle = f"https://example.com/sample.{_SAMPLE_EXTENSIONS[kind]}"
        return {kind: {"link": handle}}
    if header_format == "LOCATION":
        return {"location": {"latitude": 0, "longitude": 0, "name": "Location"}}
    return {}


def _examples(example: Any, section: str, names: list[str]) -> dict[str, str]:
    """The example value per variable name, from either Meta example shape."""
    if not isinstance(example, dict):
        return {}
    found: dict[str, str] = {}
    positional = example.get(f"{section}_text")
    if section == "body" and isinstance(positional, list) and positional and isinstance(positional[0], list):
        positional = positional[0]
    if isinstance(positional, list):
        found.update({name: value for name, value in zip(names, positional, strict=False) if isinstance(value, str)})
    named = example.get(f"{section}_text_named_params")
    if isinstance(named, list):
        for entry in named:
            if not isinstance(entry, dict):
                continue
            name, value = entry.get("param_name"), entry.get("example")
            if isinstance(name, str) and isinstance(value, str):
                found[name] = value
    return found


def _url_suffix(url: str, example: Any) -> str:
    """The part of the example URL that replaces {{1}}: Meta's example is the whole URL."""
    full = example[0] if isinstance(example, list) and example and isinstance(example[0], str) else ""
    prefix = url.split("{{", 1)[0]
    if full.startswith(prefix) and len(full) > len(prefix):
        return full[len(prefix) :]
    return full or "sample"
