"""Meta's rules for a template, checked before submission (a package: each module stays short).
Import from here:

    from whatsapp.message_templates.rules import validate_template, variables_in, Problem, LANGUAGES

- limits: Meta's categories, languages, types and lengths, `Problem`, `variables_in`;
- validate: `validate_template`, every problem at once;
- components / variables: the checks of each component and of its `{{variables}}` and examples.
"""

from whatsapp.message_templates.rules.limits import (
    BUTTON_LIMITS,
    BUTTON_TYPES,
    CATEGORIES,
    COMPONENT_TYPES,
    HEADER_FORMATS,
    LANGUAGES,
    MAX_BODY_TEXT,
    MAX_BUTTON_TEXT,
    MAX_BUTTONS,
    MAX_COUPON_CODE,
    MAX_FOOTER_TEXT,
    MAX_HEADER_TEXT,
    MAX_NAME,
    MAX_PHONE_NUMBER,
    MAX_URL,
    MEDIA_HEADER_FORMATS,
    OTP_TYPES,
    PARAMETER_FORMATS,
    Problem,
    variables_in,
)
from whatsapp.message_templates.rules.validate import validate_template

__all__ = [
    "BUTTON_LIMITS",
    "BUTTON_TYPES",
    "CATEGORIES",
    "COMPONENT_TYPES",
    "HEADER_FORMATS",
    "LANGUAGES",
    "MAX_BODY_TEXT",
    "MAX_BUTTONS",
    "MAX_BUTTON_TEXT",
    "MAX_COUPON_CODE",
    "MAX_FOOTER_TEXT",
    "MAX_HEADER_TEXT",
    "MAX_NAME",
    "MAX_PHONE_NUMBER",
    "MAX_URL",
    "MEDIA_HEADER_FORMATS",
    "OTP_TYPES",
    "PARAMETER_FORMATS",
    "Problem",
    "validate_template",
    "variables_in",
]
