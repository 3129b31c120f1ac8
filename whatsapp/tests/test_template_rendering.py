"""Rendering templates for a send: Graph payloads in Meta's documented shapes, value errors, and the preview."""

from __future__ import annotations

from typing import Any

import pytest

from whatsapp.message_templates.rendering import (
    Rendered,
    TemplateParameterError,
    sample_values,
    template_fill,
    template_message,
)
from whatsapp.tests.test_template_rules import authentication, marketing, named, utility


def render(template: dict[str, Any], values: dict[str, Any]) -> Rendered:
    return template_fill(
        components=template["components"], parameter_format=template["parameter_format"], values=values
    )


def body_template(text: str) -> dict[str, Any]:
    return {"parameter_format": "POSITIONAL", "components": [{"type": "BODY", "text": text}]}


def media_template(kind: str) -> dict[str, Any]:
    return {
        "parameter_format": "POSITIONAL",
        "components": [
            {"type": "HEADER", "format": kind, "example": {"header_handle": ["4::aW1h"]}},
            {"type": "BODY", "text": "Your receipt is attached."},
        ],
    }


UTILITY_VALUES = {"header": {"1": "#123"}, "body": {"1": "Ana", "2": "#123"}, "buttons": {"0": "abc"}}


# --- payloads ---------------------------------------------------------------------------------------------------


def test_text_header_body_and_url_button_use_metas_shapes():
    rendered = render(utility(), UTILITY_VALUES)
    assert rendered.components == [
        {"type": "header", "parameters": [{"type": "text", "text": "#123"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#123"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "abc"}]},
    ]


def test_body_parameters_follow_variable_numbers_not_text_order():
    template = body_template("Your order {{2}} for {{1}} ships today.")
    rendered = render(template, {"body": {"1": "Ana", "2": "#123"}})
    assert rendered.components == [
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#123"}]}
    ]
    assert rendered.preview == "Your order #123 for Ana ships today."


def test_repeated_variable_is_sent_once():
    rendered = render(body_template("Hi {{1}}, yes {{1}}, you won."), {"body": {"1": "Ana"}})
    assert rendered.components == [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    assert rendered.preview == "Hi Ana, yes Ana, you won."


def test_named_parameters_carry_their_names():
    values = {"header": {"order_id": "#123"}, "body": {"first_name": "Ana", "ship_date": "May 1"}}
    assert render(named(), values).components == [
        {"type": "header", "parameters": [{"type": "text", "parameter_name": "order_id", "text": "#123"}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Ana"},
                {"type": "text", "parameter_name": "ship_date", "text": "May 1"},
            ],
        },
    ]


def test_image_header_by_link_and_copy_code_button():
    values = {
        "header": {"image": {"link": "https://cdn.example.com/sale.jpg"}},
        "body": {"1": "Ana"},
        "buttons": {"2": "SAVE20"},
    }
    assert render(marketing(), values).components == [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/sale.jpg"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "2",
            "parameters": [{"type": "coupon_code", "coupon_code": "SAVE20"}],
        },
    ]


def test_video_header_by_media_id():
    rendered = render(media_template("VIDEO"), {"header": {"video": {"id": "1234567890"}}})
    assert rendered.components == [{"type": "header", "parameters": [{"type": "video", "video": {"id": "1234567890"}}]}]


def test_document_header_keeps_its_filename():
    values = {"header": {"document": {"link": "https://x.com/r.pdf", "filename": "receipt.pdf"}}}
    rendered = render(media_template("DOCUMENT"), values)
    assert rendered.components == [
        {
            "type": "header",
            "parameters": [
                {"type": "document", "document": {"link": "https://x.com/r.pdf", "filename": "receipt.pdf"}}
            ],
        }
    ]
    assert rendered.preview == "[Document: receipt.pdf]\n\nYour receipt is attached."


def test_location_header():
    template = media_template("LOCATION")
    location = {"latitude": 38.7223, "longitude": -9.1393, "name": "Aerostic HQ", "address": "Rua Augusta 1, Lisboa"}
    rendered = render(template, {"header": {"location": location}})
    assert rendered.components == [{"type": "header", "parameters": [{"type": "location", "location": location}]}]
    assert rendered.preview.startswith("[Location: Aerostic HQ]\n\n")


def test_authentication_sends_the_code_in_body_and_otp_button():
    rendered = render(authentication(), {"body": {"1": "123456"}})
    assert rendered.components == [
        {"type": "body", "parameters": [{"type": "text", "text": "123456"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "123456"}]},
    ]


def test_authentication_preview_spells_out_metas_text():
    rendered = render(authentication(), {"body": {"1": "123456"}})
    assert rendered.preview == (
        "123456 is your verification code. For your security, do not share this code.\n\n"
        "This code expires in 10 minutes.\n\n"
        "[Copy code]"
    )


def test_authentication_with_one_tap_button_fetched_from_meta():
    """Templates read back from Meta carry the body text Meta wrote."""
    template = authentication()
    template["components"] = [
        {"type": "BODY", "text": "*{{1}}* is your verification code."},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "ONE_TAP"}]},
    ]
    rendered = render(template, {"body": {"1": "987654"}})
    assert rendered.components[1] == {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "987654"}],
    }
    assert rendered.preview == "*987654* is your verification code.\n\n[Autofill]"


def test_template_without_variables_has_no_components():
    template = {
        "parameter_format": "POSITIONAL",
        "components": [
            {"type": "BODY", "text": "Thanks for your order!"},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Track"}]},
        ],
    }
    rendered = render(template, {})
    assert rendered.components == []
    assert template_message(name="thanks", language="en", rendered=rendered) == {
        "name": "thanks",
        "language": {"code": "en"},
    }


def test_template_message_wraps_the_components():
    rendered = render(utility(), UTILITY_VALUES)
    assert template_message(name="order_shipped", language="en_US", rendered=rendered) == {
        "name": "order_shipped",
        "language": {"code": "en_US"},
        "components": rendered.components,
    }


# --- values that Meta would refuse ------------------------------------------------------------------------------


def test_missing_and_unexpected_values_are_listed_together():
    with pytest.raises(TemplateParameterError) as caught:
        render(utility(), {"header": {"1": "#123"}, "body": {"1": "Ana", "3": "x"}, "coupon": "SAVE"})
    error = caught.value
    assert (error.missing, error.extra, error.invalid) == (["body.2", "buttons.0"], ["body.3", "coupon"], [])
    assert str(error) == "Missing values: body.2, buttons.0. Unexpected values: body.3, coupon."


def test_empty_string_counts_as_missing():
    values = {**UTILITY_VALUES, "body": {"1": "Ana", "2": ""}}
    with pytest.raises(TemplateParameterError, match=r"^Missing values: body\.2\.$"):
        render(utility(), values)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("x" * 1025, "longer than 1024 characters", id="too-long"),
        pytest.param("Ana\nSilva", "contains a newline, a tab or more than 4 spaces in a row", id="newline"),
        pytest.param("Ana\tSilva", "contains a newline, a tab or more than 4 spaces in a row", id="tab"),
        pytest.param("Ana     Silva", "contains a newline, a tab or more than 4 spaces in a row", id="five-spaces"),
        pytest.param(["Ana"], "must be text", id="not-text"),
    ],
)
def test_body_value_meta_refuses_is_invalid(value, reason):
    with pytest.raises(TemplateParameterError) as caught:
        render(utility(), {**UTILITY_VALUES, "body": {"1": value, "2": "#123"}})
    assert caught.value.invalid == ["body.1"]
    assert str(caught.value) == f"Invalid values: body.1 ({reason})."


def test_four_spaces_are_still_fine():
    rendered = render(utility(), {**UTILITY_VALUES, "body": {"1": "Ana    Silva", "2": "#123"}})
    assert rendered.components[1]["parameters"][0]["text"] == "Ana    Silva"


def test_missing_extra_and_invalid_all_in_one_error():
    values = {"header": {"1": "a\nb"}, "body": {"1": "Ana", "9": "x"}}
    with pytest.raises(TemplateParameterError) as caught:
        render(utility(), values)
    assert str(caught.value) == (
        "Missing values: body.2, buttons.0. Unexpected values: body.9. "
        "Invalid values: header.1 (contains a newline, a tab or more than 4 spaces in a row)."
    )


def test_media_header_needs_a_link_or_id():
    with pytest.raises(TemplateParameterError) as caught:
        render(media_template("IMAGE"), {"header": {"image": {"caption": "Sale"}}})
    assert str(caught.value) == "Invalid values: header.image (needs a link or an id)."


def test_media_header_value_is_required():
    with pytest.raises(TemplateParameterError, match=r"^Missing values: header\.image\.$"):
        render(media_template("IMAGE"), {})


def test_coupon_code_longer_than_metas_limit_is_invalid():
    values = {"header": {"image": {"id": "1"}}, "body": {"1": "Ana"}, "buttons": {"2": "SPRINGSALE2025XYZ"}}
    with pytest.raises(TemplateParameterError, match=r"buttons\.2 \(longer than 15 characters\)"):
        render(marketing(), values)


def test_authentication_code_is_required():
    with pytest.raises(TemplateParameterError, match=r"^Missing values: body\.1\.$"):
        render(authentication(), {})


def test_values_for_a_template_without_variables_are_unexpected():
    with pytest.raises(TemplateParameterError, match=r"^Unexpected values: body\.1\.$"):
        render(body_template("Thanks for your order!"), {"body": {"1": "Ana"}})


# --- preview ----------------------------------------------------------------------------------------------------


def test_preview_reads_like_the_message():
    assert render(utility(), UTILITY_VALUES).preview == (
        "Order #123\n\nHi Ana, your order #123 ships today.\n\nReply STOP to opt out\n\n[Track]"
    )


def test_preview_lists_every_button():
    values = {"header": {"image": {"id": "1"}}, "body": {"1": "Ana"}, "buttons": {"2": "SAVE20"}}
    assert render(marketing(), values).preview == (
        "[Image]\n\nOur spring sale starts now, Ana! Use the code below.\n\n[Yes]\n[Stop promotions]\n[Copy offer code]"
    )


# --- sample values ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        pytest.param(utility(), id="utility"),
        pytest.param(marketing(), id="marketing"),
        pytest.param(named(), id="named"),
        pytest.param(authentication(), id="authentication"),
        pytest.param({**media_template("LOCATION"), "name": "x"}, id="location"),
        pytest.param({**media_template("DOCUMENT"), "name": "x"}, id="document"),
    ],
)
def test_sample_values_render_without_error(template):
    values = sample_values(components=template["components"], parameter_format=template["parameter_format"])
    rendered = render(template, values)
    assert rendered.preview


def test_sample_values_come_from_the_templates_examples():
    assert sample_values(components=utility()["components"], parameter_format="POSITIONAL") == UTILITY_VALUES
    assert sample_values(components=named()["components"], parameter_format="NAMED") == {
        "header": {"order_id": "#123"},
        "body": {"first_name": "Ana", "ship_date": "May 1"},
    }


def test_sample_values_without_examples_show_the_placeholders():
    template = body_template("Hi {{1}}, your order {{2}} ships today.")
    values = sample_values(components=template["components"], parameter_format="POSITIONAL")
    assert render(template, values).preview == "Hi {{1}}, your order {{2}} ships today."
