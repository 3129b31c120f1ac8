"""Local template checks: each of Meta's rules, in the words the user sees, with no database involved."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from whatsapp.message_templates.rules import LANGUAGES, Problem, validate_template, variables_in

URL_BUTTON = {"type": "URL", "text": "Track", "url": "https://x.com/t/{{1}}", "example": ["https://x.com/t/abc"]}


def utility() -> dict[str, Any]:
    """A utility template with a text header, a body, a footer and a URL button."""
    return {
        "name": "order_shipped",
        "language": "en_US",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#123"]}},
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} ships today.",
                "example": {"body_text": [["Ana", "#123"]]},
            },
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {"type": "BUTTONS", "buttons": [dict(URL_BUTTON)]},
        ],
    }


def marketing() -> dict[str, Any]:
    """A marketing template with an image header, quick replies and a copy-code button."""
    return {
        "name": "spring_sale",
        "language": "en",
        "category": "MARKETING",
        "parameter_format": "POSITIONAL",
        "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2UvanBlZw==:ARb"]}},
            {
                "type": "BODY",
                "text": "Our spring sale starts now, {{1}}! Use the code below.",
                "example": {"body_text": [["Ana"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Yes"},
                    {"type": "QUICK_REPLY", "text": "Stop promotions"},
                    {"type": "COPY_CODE", "example": "SAVE20"},
                ],
            },
        ],
    }


def named() -> dict[str, Any]:
    """A utility template with named parameters in its header and body."""
    return {
        "name": "welcome_named",
        "language": "pt_BR",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "components": [
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Order {{order_id}}",
                "example": {"header_text_named_params": [{"param_name": "order_id", "example": "#123"}]},
            },
            {
                "type": "BODY",
                "text": "Hi {{first_name}}, your order ships on {{ship_date}}.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "first_name", "example": "Ana"},
                        {"param_name": "ship_date", "example": "May 1"},
                    ]
                },
            },
        ],
    }


def authentication() -> dict[str, Any]:
    """An authentication template: Meta writes the body and footer, we choose the OTP button."""
    return {
        "name": "login_code",
        "language": "en",
        "category": "AUTHENTICATION",
        "parameter_format": "POSITIONAL",
        "components": [
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "FOOTER", "code_expiration_minutes": 10},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
        ],
    }


def problems(template: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.where, p.message) for p in validate_template(**template)]


def component(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in template["components"] if c["type"] == kind)


def body_only(text: Any, example: Any = None, parameter_format: str = "POSITIONAL") -> dict[str, Any]:
    """A utility template made of just a body, to test one body rule at a time."""
    body: dict[str, Any] = {"type": "BODY", "text": text}
    if example is not None:
        body["example"] = example
    return {
        "name": "body_test",
        "language": "en",
        "category": "UTILITY",
        "parameter_format": parameter_format,
        "components": [body],
    }


def with_buttons(*buttons: Any, category: str = "MARKETING") -> dict[str, Any]:
    template = body_only("Hello there, thanks for your order.")
    template["category"] = category
    template["components"].append({"type": "BUTTONS", "buttons": list(buttons)})
    return template


def with_header(header: dict[str, Any]) -> dict[str, Any]:
    template = body_only("Hello there, thanks for your order.")
    template["components"].insert(0, header)
    return template


# --- variables_in -----------------------------------------------------------------------------------------------


def test_variables_in_lists_names_in_order_with_duplicates():
    assert variables_in("Hi {{1}}, {{first_name}} and {{1}} again") == ["1", "first_name", "1"]


def test_variables_in_text_without_variables_is_empty():
    assert variables_in("Hello { there } {{}") == []


def test_languages_include_metas_regional_codes():
    assert {"en", "en_US", "pt_BR", "zh_TW", "rw_RW", "ky_KG", "fil"} <= LANGUAGES
    assert "en-US" not in LANGUAGES


# --- valid templates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        pytest.param(utility(), id="utility-text-header-url-button"),
        pytest.param(marketing(), id="marketing-image-header-quick-replies-copy-code"),
        pytest.param(named(), id="named-parameters"),
        pytest.param(authentication(), id="authentication-otp"),
        pytest.param(
            with_header({"type": "HEADER", "format": "LOCATION"}),
            id="location-header-needs-no-example",
        ),
        pytest.param(
            body_only("Your order ships to {{1}}.", {"body_text": [["Lisbon"]]}),
            id="body-ending-in-variable-then-punctuation",
        ),
        pytest.param(
            with_buttons(
                {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550100"},
                {"type": "URL", "text": "Website", "url": "https://x.com/about"},
            ),
            id="phone-and-static-url",
        ),
    ],
)
def test_valid_template_has_no_problems(template):
    assert validate_template(**template) == []


def test_problem_is_a_where_and_a_message():
    assert validate_template(**body_only("")) == [Problem("body", "The body text is required.")]


# --- template-level rules ---------------------------------------------------------------------------------------


def _set(field: str, value: Any) -> dict[str, Any]:
    template = utility()
    template[field] = value
    return template


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param(
            _set("name", "Order Shipped"),
            ("name", "The template name can only contain lowercase letters, digits and underscores."),
            id="name-characters",
        ),
        pytest.param(
            _set("name", "a" * 513),
            ("name", "The template name must be at most 512 characters (it has 513)."),
            id="name-length",
        ),
        pytest.param(_set("name", ""), ("name", "The template needs a name."), id="name-empty"),
        pytest.param(
            _set("name", "order_shipped\n"),
            ("name", "The template name can only contain lowercase letters, digits and underscores."),
            id="name-trailing-newline",
        ),
        pytest.param(_set("language", ""), ("language", "Choose the template's language."), id="language-empty"),
        pytest.param(
            _set("language", "en-US"),
            ("language", "“en-US” is not a language Meta accepts for templates."),
            id="language",
        ),
        pytest.param(
            _set("category", "PROMOTION"),
            ("category", "Category must be MARKETING, UTILITY or AUTHENTICATION."),
            id="category",
        ),
        pytest.param(
            _set("parameter_format", "MIXED"),
            ("parameter_format", "Parameter format must be POSITIONAL or NAMED."),
            id="parameter-format",
        ),
    ],
)
def test_template_field_rule(template, expected):
    assert problems(template) == [expected]


def test_body_is_required():
    template = utility()
    template["components"] = [c for c in template["components"] if c["type"] != "BODY"]
    assert problems(template) == [("body", "A template needs a body.")]


@pytest.mark.parametrize("kind", ["HEADER", "BODY", "FOOTER", "BUTTONS"])
def test_each_component_type_appears_at_most_once(kind):
    template = utility()
    template["components"].append(copy.deepcopy(component(template, kind)))
    assert problems(template) == [(kind.lower(), f"A template can have only one {kind.lower()}.")]


def test_unknown_component_type_is_refused():
    template = utility()
    template["components"].append({"type": "CAROUSEL", "cards": []})
    assert problems(template) == [
        ("components[4]", "Unknown component type “CAROUSEL”: use HEADER, BODY, FOOTER or BUTTONS.")
    ]


# --- header -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            {"type": "HEADER", "format": "GIF"},
            "Header format must be TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION.",
            id="format",
        ),
        pytest.param(
            {"type": "HEADER", "format": "TEXT", "text": "x" * 61},
            "The header text must be at most 60 characters (it has 61).",
            id="text-length",
        ),
        pytest.param(
            {"type": "HEADER", "format": "TEXT", "text": ""},
            "The header text is required.",
            id="text-empty",
        ),
        pytest.param(
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Order {{1}} for {{2}}",
                "example": {"header_text": ["#123", "Ana"]},
            },
            "The header can have at most one variable.",
            id="text-one-variable",
        ),
        pytest.param(
            {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
            "Add an example value for each header variable ({{1}}) so Meta can review the template.",
            id="text-variable-example",
        ),
        pytest.param(
            {"type": "HEADER", "format": "TEXT", "text": "Order {{2}}", "example": {"header_text": ["#123"]}},
            "Header variables must be numbered from {{1}} without gaps: {{1}} is missing.",
            id="text-variable-numbering",
        ),
        pytest.param(
            {"type": "HEADER", "format": "IMAGE"},
            "Upload a sample image for the header so Meta can review it.",
            id="image-needs-handle",
        ),
        pytest.param(
            {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": []}},
            "Upload a sample document for the header so Meta can review it.",
            id="document-empty-handle",
        ),
    ],
)
def test_header_rule(header, expected):
    assert problems(with_header(header)) == [("header", expected)]


def test_named_header_needs_its_named_example():
    template = named()
    del component(template, "HEADER")["example"]
    assert problems(template) == [("header", "Add an example value for {{order_id}}.")]


# --- body -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param(body_only(""), "The body text is required.", id="empty"),
        pytest.param(body_only("   "), "The body text is required.", id="blank"),
        pytest.param(
            body_only("Thanks! " * 130),
            "The body text must be at most 1024 characters (it has 1040).",
            id="length",
        ),
        pytest.param(
            body_only("Hi {{1}}, your order {{3}} ships today.", {"body_text": [["Ana", "#123"]]}),
            "Body variables must be numbered from {{1}} without gaps: {{2}} is missing.",
            id="positional-gap",
        ),
        pytest.param(
            body_only("Hi {{2}}, your order {{5}} ships today.", {"body_text": [["Ana", "#123"]]}),
            "Body variables must be numbered from {{1}} without gaps: {{1}}, {{3}} and {{4}} are missing.",
            id="positional-gaps",
        ),
        pytest.param(
            body_only(
                "Hi {{First_Name}}, welcome aboard.",
                {"body_text_named_params": [{"param_name": "First_Name", "example": "Ana"}]},
                "NAMED",
            ),
            "{{First_Name}} is not a valid variable: use {{1}}, {{2}}… or a name made of lowercase letters, "
            "digits and underscores that starts with a letter.",
            id="named-variable-name",
        ),
        pytest.param(
            body_only("Hi {{1}}, your order {{order_id}} ships today."),
            "Body mixes numbered variables like {{1}} and named variables; use one kind.",
            id="mixed-kinds",
        ),
        pytest.param(
            body_only(
                "Hi {{first_name}}, welcome aboard.",
                {"body_text_named_params": [{"param_name": "first_name", "example": "Ana"}]},
            ),
            "Body uses named variables but the template's parameter format is POSITIONAL.",
            id="named-in-positional-template",
        ),
        pytest.param(
            body_only("Hi {{1}}, welcome aboard.", {"body_text": [["Ana"]]}, "NAMED"),
            "Body uses numbered variables but the template's parameter format is NAMED.",
            id="positional-in-named-template",
        ),
        pytest.param(
            body_only("Hi {{1}}, your order {{2}} ships today."),
            "Add an example value for each body variable ({{1}}, {{2}}) so Meta can review the template.",
            id="positional-examples-missing",
        ),
        pytest.param(
            body_only("Hi {{1}}, your order {{2}} ships today.", {"body_text": [["Ana"]]}),
            "The body has 2 variables but 1 example value; give exactly one per variable.",
            id="positional-examples-too-few",
        ),
        pytest.param(
            body_only("Hi {{1}}, your order ships today.", {"body_text": [["Ana", "#123"]]}),
            "The body has 1 variable but 2 example values; give exactly one per variable.",
            id="positional-examples-too-many",
        ),
        pytest.param(
            body_only("Hi {{1}}, your order ships today.", {"body_text": [[""]]}),
            "The body example values must be non-empty text.",
            id="positional-example-empty",
        ),
        pytest.param(
            body_only("Hi {{first_name}}, welcome aboard.", {"body_text_named_params": []}, "NAMED"),
            "Add an example value for {{first_name}}.",
            id="named-example-missing",
        ),
        pytest.param(
            body_only(
                "Hi {{first_name}}, welcome aboard.",
                {
                    "body_text_named_params": [
                        {"param_name": "first_name", "example": "Ana"},
                        {"param_name": "last_name", "example": "Silva"},
                    ]
                },
                "NAMED",
            ),
            "The example for {{last_name}} does not match any variable in the body.",
            id="named-example-extra",
        ),
        pytest.param(
            body_only("Hello there, welcome aboard.", {"body_text": [["Ana"]]}),
            "The body has no variables, so it must not have example values.",
            id="examples-without-variables",
        ),
        pytest.param(
            body_only("  {{1}}, your order ships today.", {"body_text": [["Ana"]]}),
            "The body cannot start with a variable: add text before {{1}}.",
            id="starts-with-variable",
        ),
        pytest.param(
            body_only("Your order ships to {{1}}  \n", {"body_text": [["Lisbon"]]}),
            "The body cannot end with a variable: add text after {{1}}.",
            id="ends-with-variable",
        ),
        pytest.param(
            body_only("Hi {{1}}{{2}}, your order ships today.", {"body_text": [["Ana", "Silva"]]}),
            "{{1}} and {{2}} are next to each other: put some text between them.",
            id="adjacent-variables",
        ),
        pytest.param(
            body_only("Hi {{1}} {{2}} {{3}}!", {"body_text": [["Ana", "Maria", "Silva"]]}),
            "The body has too many variables for its length (3 variables, 2 other words): "
            "add more text or use fewer variables.",
            id="too-many-variables",
        ),
    ],
)
def test_body_rule(template, expected):
    assert problems(template) == [("body", expected)]


# --- footer -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("footer", "expected"),
    [
        pytest.param(
            {"type": "FOOTER", "text": "x" * 61},
            "The footer text must be at most 60 characters (it has 61).",
            id="length",
        ),
        pytest.param(
            {"type": "FOOTER", "text": "Sent to {{1}}"}, "The footer cannot contain variables.", id="variables"
        ),
        pytest.param({"type": "FOOTER", "text": ""}, "The footer text is required.", id="empty"),
    ],
)
def test_footer_rule(footer, expected):
    template = utility()
    component(template, "FOOTER").update(footer)
    assert problems(template) == [("footer", expected)]


# --- buttons ----------------------------------------------------------------------------------------------------

QUICK = {"type": "QUICK_REPLY", "text": "Yes"}
PHONE = {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550100"}
COPY = {"type": "COPY_CODE", "example": "SAVE20"}
STATIC_URL = {"type": "URL", "text": "Shop", "url": "https://x.com/shop"}


@pytest.mark.parametrize(
    ("buttons", "expected"),
    [
        pytest.param([], "Add between 1 and 10 buttons, or remove the buttons.", id="none"),
        pytest.param(
            [QUICK] * 9 + [STATIC_URL, STATIC_URL],
            "A template can have at most 10 buttons (it has 11).",
            id="more-than-ten",
        ),
        pytest.param(
            [STATIC_URL, STATIC_URL, STATIC_URL],
            "A template can have at most 2 website buttons (it has 3).",
            id="url-limit",
        ),
        pytest.param([PHONE, PHONE], "A template can have at most 1 phone number button (it has 2).", id="phone-limit"),
        pytest.param([COPY, COPY], "A template can have at most 1 copy code button (it has 2).", id="copy-code-limit"),
        pytest.param(
            [QUICK, STATIC_URL, QUICK],
            "Quick reply buttons must be next to each other, not mixed in between other buttons.",
            id="quick-replies-grouped",
        ),
    ],
)
def test_buttons_rule(buttons, expected):
    assert problems(with_buttons(*buttons)) == [("buttons", expected)]


def test_more_than_ten_quick_replies_breaks_both_limits():
    assert problems(with_buttons(*[QUICK] * 11)) == [
        ("buttons", "A template can have at most 10 buttons (it has 11)."),
        ("buttons", "A template can have at most 10 quick reply buttons (it has 11)."),
    ]


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        pytest.param({"type": "QUICK_REPLY", "text": ""}, "The button needs a text.", id="text-empty"),
        pytest.param(
            {"type": "QUICK_REPLY", "text": "Yes, please send me more offers"},
            "The button text must be at most 25 characters (it has 31).",
            id="text-length",
        ),
        pytest.param(
            {"type": "FLOW", "text": "Open"},
            "Unknown button type “FLOW”: use QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE or OTP.",
            id="unknown-type",
        ),
        pytest.param(
            {"type": "URL", "text": "Shop", "url": "ftp://x.com/shop"},
            "The URL must start with https:// or http://.",
            id="url-scheme",
        ),
        pytest.param(
            {"type": "URL", "text": "Shop", "url": "https://x.com/" + "a" * 1987},
            "The URL must be at most 2000 characters (it has 2001).",
            id="url-length",
        ),
        pytest.param(
            {"type": "URL", "text": "Shop", "url": "https://x.com/{{1}}/{{2}}", "example": ["https://x.com/a/b"]},
            "The URL can have at most one variable.",
            id="url-one-variable",
        ),
        pytest.param(
            {"type": "URL", "text": "Shop", "url": "https://x.com/{{1}}/track", "example": ["https://x.com/a/track"]},
            "The URL variable must be at the very end of the URL.",
            id="url-variable-at-end",
        ),
        pytest.param(
            {"type": "URL", "text": "Shop", "url": "https://x.com/t/{{2}}", "example": ["https://x.com/t/abc"]},
            "The URL variable must be {{1}}.",
            id="url-variable-is-one",
        ),
        pytest.param(
            {"type": "URL", "text": "Track", "url": "https://x.com/t/{{1}}"},
            "Add an example of the full URL so Meta can review the template.",
            id="url-example",
        ),
        pytest.param({"type": "URL", "text": "Track"}, "The website button needs a URL.", id="url-missing"),
        pytest.param(
            {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "15550100"},
            "The phone number must start with + and the country code, at most 20 characters.",
            id="phone-plus",
        ),
        pytest.param(
            {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+" + "1" * 20},
            "The phone number must start with + and the country code, at most 20 characters.",
            id="phone-length",
        ),
        pytest.param(
            {"type": "COPY_CODE", "example": "SPRINGSALE2025XYZ"},
            "The offer code must be at most 15 characters (it has 17).",
            id="copy-code-length",
        ),
        pytest.param(
            {"type": "COPY_CODE"},
            "Give an example offer code for the copy code button.",
            id="copy-code-example",
        ),
        pytest.param(
            {"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"},
            "OTP buttons are only allowed in AUTHENTICATION templates.",
            id="otp-outside-authentication",
        ),
        pytest.param("Yes", "Each button must be an object with a “type”.", id="not-an-object"),
    ],
)
def test_button_rule(button, expected):
    assert problems(with_buttons(QUICK, button)) == [("buttons[1]", expected)]


# --- authentication ---------------------------------------------------------------------------------------------


def test_authentication_refuses_a_media_header():
    template = authentication()
    template["components"].insert(0, {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::x"]}})
    assert problems(template) == [
        ("header", "Authentication templates cannot have an image, video, document or location header.")
    ]


@pytest.mark.parametrize(
    "button",
    [
        pytest.param(URL_BUTTON, id="url"),
        pytest.param(PHONE, id="phone"),
        pytest.param(QUICK, id="quick-reply"),
    ],
)
def test_authentication_allows_only_the_otp_button(button):
    template = authentication()
    component(template, "BUTTONS")["buttons"].append(button)
    assert problems(template) == [("buttons[1]", "Authentication templates can only have an OTP button.")]


def test_authentication_needs_exactly_one_otp_button():
    template = authentication()
    otp = component(template, "BUTTONS")["buttons"][0]
    component(template, "BUTTONS")["buttons"] = [otp, dict(otp, otp_type="ONE_TAP")]
    assert problems(template) == [("buttons", "Authentication templates need exactly one OTP button (it has 2).")]


def test_authentication_without_buttons_is_refused():
    template = authentication()
    template["components"] = [c for c in template["components"] if c["type"] != "BUTTONS"]
    assert problems(template) == [("buttons", "Authentication templates need exactly one OTP button.")]


def test_otp_button_type_must_be_known():
    template = authentication()
    component(template, "BUTTONS")["buttons"][0]["otp_type"] = "MAGIC_LINK"
    assert problems(template) == [("buttons[0]", "The OTP button type must be COPY_CODE, ONE_TAP or ZERO_TAP.")]


@pytest.mark.parametrize("otp_type", ["COPY_CODE", "ONE_TAP", "ZERO_TAP"])
def test_every_otp_type_is_accepted(otp_type):
    template = authentication()
    component(template, "BUTTONS")["buttons"][0]["otp_type"] = otp_type
    assert problems(template) == []


def test_authentication_code_expiry_must_be_in_range():
    template = authentication()
    component(template, "FOOTER")["code_expiration_minutes"] = 120
    assert problems(template) == [("footer", "The code expiry must be a whole number of minutes from 1 to 90.")]


# --- garbage in, problems out -----------------------------------------------------------------------------------


def test_components_that_are_not_a_list():
    template = utility()
    template["components"] = "HEADER,BODY"
    assert problems(template) == [
        ("components", "The template's components must be a list."),
        ("body", "A template needs a body."),
    ]


def test_component_that_is_not_an_object():
    template = utility()
    template["components"].insert(1, "BODY")
    assert problems(template) == [("components[1]", "Each component must be an object with a “type”.")]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        pytest.param("HEADER", ("header", "The header text must be text."), id="header"),
        pytest.param("BODY", ("body", "The body text must be text."), id="body"),
        pytest.param("FOOTER", ("footer", "The footer text must be text."), id="footer"),
    ],
)
def test_text_that_is_not_a_string(kind, expected):
    template = utility()
    component(template, kind)["text"] = ["Hi", 42]
    assert problems(template) == [expected]


def test_buttons_that_are_not_a_list():
    template = utility()
    component(template, "BUTTONS")["buttons"] = {"type": "URL"}
    assert problems(template) == [("buttons", "Add between 1 and 10 buttons, or remove the buttons.")]


@pytest.mark.parametrize(
    "template",
    [
        pytest.param(
            {"name": None, "language": 3, "category": [], "parameter_format": {}, "components": None}, id="types"
        ),
        pytest.param({**utility(), "components": [{"type": "HEADER"}, {"type": "BODY", "example": "x"}]}, id="shapes"),
        pytest.param(
            {**utility(), "components": [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": "x"}}]},
            id="example",
        ),
        pytest.param(
            {**utility(), "components": [{"type": "BODY", "text": "Hi {{1}} now", "example": {"body_text": [[1]]}}]},
            id="example-values",
        ),
        pytest.param(
            {
                **named(),
                "components": [{"type": "BODY", "text": "Hi {{a}} now", "example": {"body_text_named_params": [3]}}],
            },
            id="named-example",
        ),
        pytest.param(
            {**marketing(), "components": [{"type": "HEADER", "format": "IMAGE", "example": []}, {"type": None}]},
            id="header-example",
        ),
    ],
)
def test_garbage_gives_problems_not_exceptions(template):
    assert validate_template(**template)


# --- several problems -------------------------------------------------------------------------------------------


def test_every_problem_is_reported_not_just_the_first():
    template = utility()
    template["name"] = "Order-Shipped"
    template["language"] = "klingon"
    component(template, "BODY").update(text="Hi {{1}}, your order {{3}} ships today.")
    component(template, "FOOTER")["text"] = "Sent to {{1}}"
    component(template, "BUTTONS")["buttons"].append({"type": "QUICK_REPLY", "text": "Tell me more about this order"})
    assert problems(template) == [
        ("name", "The template name can only contain lowercase letters, digits and underscores."),
        ("language", "“klingon” is not a language Meta accepts for templates."),
        ("body", "Body variables must be numbered from {{1}} without gaps: {{2}} is missing."),
        ("footer", "The footer cannot contain variables."),
        ("buttons[1]", "The button text must be at most 25 characters (it has 29)."),
    ]
