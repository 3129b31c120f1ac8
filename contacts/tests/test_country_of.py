"""contacts.phones.country_of: a WhatsApp id's country, as the full parse gives it, at a fraction
of the cost (billing asks it for every status)."""

import pytest

from contacts.phones import country_of, normalize


@pytest.mark.parametrize(
    "wa_id",
    [
        "919812345621",  # India: one region for +91
        "5511987654321",  # Brazil
        "971501234567",  # UAE
        "16505551234",  # +1 is shared: US
        "14165551234",  # +1: Canada
        "447911123456",  # +44 is shared: GB
        "77012345678",  # +7 is shared: Kazakhstan
        "79161234567",  # +7: Russia
        "2348031234567",  # Nigeria, a three-digit code
    ],
)
def test_the_country_is_the_one_a_full_parse_gives(wa_id):
    assert country_of(wa_id) == normalize("+" + wa_id).country != ""


@pytest.mark.parametrize("wa_id", ["", None, "abc", "0", "999123"])
def test_no_country_for_what_is_no_number(wa_id):
    assert country_of(wa_id) == ""
