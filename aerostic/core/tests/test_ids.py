import pytest

from aerostic.core.ids import BIGINT_MAX, parse_row_id


@pytest.mark.parametrize(
    "text, expected",
    [
        ("42", 42),
        ("007", 7),
        (str(BIGINT_MAX), BIGINT_MAX),
        (str(BIGINT_MAX + 1), None),  # Postgres would refuse it as a bigint
        ("\u00b2", None),  # a digit to str.isdigit(), not to int()
        ("\u0663", None),  # Arabic-Indic three: int() reads it, but no id of ours is written so
        ("-1", None),
        ("1.5", None),
        (" 1", None),
        ("", None),
    ],
)
def test_only_ascii_digits_within_bigint_are_an_id(text, expected):
    assert parse_row_id(text) == expected
