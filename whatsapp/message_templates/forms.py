"""The portal's template builder: plain fields in, Meta's component JSON out (and back for edits).

Examples are typed one per line, in the order of the variables, so the builder needs no script;
the live preview re-renders the bubble from the same form on every change (htmx)."""

from __future__ import annotations

from typing import Any

from django import forms

from whatsapp.message_templates.rules import LANGUAGES, variables_in
from whatsapp.models import MessageTemplate

HEADER_FORMATS = [("", "No header"), ("TEXT", "Text"), ("IMAGE", "Image"), ("VIDEO", "Video")]
HEADER_FORMATS += [("DOCUMENT", "Document"), ("LOCATION", "Location")]
BUTTON_TYPES = [
    ("", "—"),
    ("QUICK_REPLY", "Quick reply"),
    ("URL", "Visit website"),
    ("PHONE_NUMBER", "Call phone number"),
    ("COPY_CODE", "Copy offer code"),
    ("OTP", "One-time password"),
]
BUTTON_ROWS = 5


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class TemplateBuilderForm(forms.Form):
    account = forms.ModelChoiceField(queryset=None, empty_label=None, label="WhatsApp account")
    name = forms.CharField(max_length=512, help_text="Lowercase letters, digits and underscores, e.g. order_update.")
    language = forms.ChoiceField(choices=[(code, code) for code in sorted(LANGUAGES)], initial="en_US")
    category = forms.ChoiceField(choices=MessageTemplate.Category.choices, initial="UTILITY")
    parameter_format = forms.ChoiceField(
        choices=MessageTemplate.ParameterFormat.choices, initial="POSITIONAL", label="Variables"
    )
    header_format = forms.ChoiceField(choices=HEADER_FORMATS, required=False, label="Header")
    header_text = forms.CharField(max_length=60, required=False, label="Header text")
    header_example = forms.CharField(
        max_length=2000,
        required=False,
        label="Header example",
        help_text="The sample value of the header variable, or the media handle from Meta's upload.",
    )
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=1100)
    body_examples = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Body examples",
        help_text="One sample value per line, in the order of the variables.",
    )
    footer = forms.CharField(max_length=60, required=False)

    def __init__(self, *args: Any, accounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        for row in range(BUTTON_ROWS):
            self.fields[f"button_{row}_type"] = forms.ChoiceField(choices=BUTTON_TYPES, required=False, label="Type")
            self.fields[f"button_{row}_text"] = forms.CharField(max_length=25, required=False, label="Text")
            self.fields[f"button_{row}_value"] = forms.CharField(
                max_length=2000, required=False, label="URL, phone number or code"
            )
            self.fields[f"button_{row}_example"] = forms.CharField(max_length=2000, required=False, label="Example")

    def button_rows(self) -> list[list[Any]]:
        return [
            [self[f"button_{row}_{part}"] for part in ("type", "text", "value", "example")]
            for row in range(BUTTON_ROWS)
        ]

    def components(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        named = data.get("parameter_format") == "NAMED"
        components: list[dict[str, Any]] = []
        header_format = data.get("header_format") or ""
        if header_format == "TEXT":
            header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": data.get("header_text", "")}
            names = variables_in(header["text"])
            if names and data.get("header_example"):
                header["example"] = (
                    {"header_text_named_params": [{"param_name": names[0], "example": data["header_example"]}]}
                    if named
                    else {"header_text": [data["header_example"]]}
                )
            components.append(header)
        elif header_format in ("IMAGE", "VIDEO", "DOCUMENT"):
            header = {"type": "HEADER", "format": header_format}
            if data.get("header_example"):
                header["example"] = {"header_handle": [data["header_example"]]}
            components.append(header)
        elif header_format == "LOCATION":
            components.append({"type": "HEADER", "format": "LOCATION"})
        body: dict[str, Any] = {"type": "BODY", "text": data.get("body", "")}
        examples = _lines(data.get("body_examples", ""))
        if examples:
            if named:
                names = list(dict.fromkeys(variables_in(body["text"])))
                body["example"] = {
                    "body_text_named_params": [
                        {"param_name": name, "example": value} for name, value in zip(names, examples, strict=False)
                    ]
                }
            else:
                body["example"] = {"body_text": [examples]}
        components.append(body)
        if data.get("footer"):
            components.append({"type": "FOOTER", "text": data["footer"]})
        buttons = [button for row in range(BUTTON_ROWS) if (button := self._button(row))]
        if buttons:
            components.append({"type": "BUTTONS", "buttons": buttons})
        return components

    def _button(self, row: int) -> dict[str, Any] | None:
        data = self.cleaned_data
        kind = data.get(f"button_{row}_type") or ""
        text, value, example = (data.get(f"button_{row}_{part}", "") for part in ("text", "value", "example"))
        if kind == "QUICK_REPLY":
            return {"type": kind, "text": text}
        if kind == "URL":
            button = {"type": kind, "text": text, "url": value}
            if example:
                button["example"] = [example]
            return button
        if kind == "PHONE_NUMBER":
            return {"type": kind, "text": text, "phone_number": value}
        if kind == "COPY_CODE":
            return {"type": kind, "example": value or example}
        if kind == "OTP":
            return {"type": kind, "otp_type": value or "COPY_CODE", "text": text or "Copy code"}
        return None


def initial_from(template: MessageTemplate) -> dict[str, Any]:
    """The builder's fields for an existing template (the reverse of `components()`)."""
    initial: dict[str, Any] = {
        "account": template.account_id,
        "name": template.name,
        "language": template.language,
        "category": template.requested_category or template.category,
        "parameter_format": template.parameter_format,
    }
    for component in template.components or []:
        kind = str(component.get("type", "")).upper()
        example = component.get("example") or {}
        if kind == "HEADER":
            initial["header_format"] = component.get("format", "")
            initial["header_text"] = component.get("text", "")
            handle = example.get("header_handle") or example.get("header_text") or []
            named = example.get("header_text_named_params") or []
            initial["header_example"] = (handle[0] if handle else "") or (named[0].get("example", "") if named else "")
        elif kind == "BODY":
            initial["body"] = component.get("text", "")
            if example.get("body_text"):
                initial["body_examples"] = "\n".join(str(v) for v in example["body_text"][0])
            elif example.get("body_text_named_params"):
                initial["body_examples"] = "\n".join(
                    str(p.get("example", "")) for p in example["body_text_named_params"]
                )
        elif kind == "FOOTER":
            initial["footer"] = component.get("text", "")
        elif kind == "BUTTONS":
            for row, button in enumerate((component.get("buttons") or [])[:BUTTON_ROWS]):
                kind_b = str(button.get("type", "")).upper()
                initial[f"button_{row}_type"] = kind_b
                initial[f"button_{row}_text"] = button.get("text", "")
                initial[f"button_{row}_value"] = (
                    button.get("url") or button.get("phone_number") or button.get("otp_type") or ""
                )
                sample = button.get("example")
                initial[f"button_{row}_example"] = sample[0] if isinstance(sample, list) and sample else sample or ""
                if kind_b == "COPY_CODE":
                    initial[f"button_{row}_value"] = sample or ""
    return initial
