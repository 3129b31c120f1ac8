"""Phone numbers: parse to E.164 (phonenumbers), mask for display, derive country and time zone.

Everything that turns user input into a stored number goes through `normalize`, so the blind
index (computed over the E.164 string) always matches for the same person however the number
was typed: "+91 98123 45621", "098123 45621" with default country IN, "919812345621" from Meta.
The index is private to a workspace (`index_for(tenant=...)`): the same number in two
workspaces has two unrelated indexes.

A customer as WhatsApp names them has one key, `customer_index`: the key of conversations, outbound
messages, status events and preference events. For a number (Meta's `wa_id` digits) it is the same
index as the contact's (`phone_index` of "+" and the digits: Meta's ids are numbers WhatsApp
delivered to, so they are not parsed again), so a contact's `phone_index` finds its conversations
directly. Users behind a username who hide their number are keyed by their business-scoped user id,
under a purpose of its own (contacts have no user ids). Until inbox 0007, whatsapp 0011 and
compliance 0007 numbers had a second index under that purpose (`contacts.reindexing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from phonenumbers import timezone as number_timezones

from aerostic.core.crypto import blind_index
from aerostic.core.values import digits

WA_ID_CACHE_SIZE = 8192  # distinct customers remembered per worker process

PHONE_INDEX_PURPOSE = "contacts.Contact.phone"
# Business-scoped user ids ("user:<id>"); numbers too before they shared PHONE_INDEX_PURPOSE.
CUSTOMER_INDEX_PURPOSE = "customer.wa_id"
_MASK = "••••"
_UNKNOWN_ZONE = "Etc/Unknown"


class InvalidPhoneNumber(ValueError):
    """A number that is not a possible, valid number: the message says why, in plain words."""


@dataclass(frozen=True)
class NormalizedNumber:
    e164: str  # "+919812345621"
    country: str  # ISO region, "IN"; "" for non-geographic numbers
    calling_code: int  # 91
    timezone: str  # IANA zone when the number maps to exactly one, else ""
    hint: str  # "+91 98••••21"

    def index_for(self, *, tenant: int) -> str:
        """The workspace's blind index of this number (Contact.phone_index)."""
        return phone_index(self.e164, tenant=tenant)

    @property
    def wa_id(self) -> str:
        """The number as WhatsApp writes it (digits, no plus)."""
        return self.e164[1:]


def normalize(raw: object, *, default_country: str = "") -> NormalizedNumber:
    """E.164 and what follows from it. Numbers without a "+" are read in `default_country` (the
    workspace's); a bare run of digits that is already a full international number (as Meta sends
    `wa_id`) is accepted too."""
    text = str(raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("No phone number.")
    if len(text) > 40:
        raise InvalidPhoneNumber("Too long to be a phone number.")
    number = _parse(text, default_country.upper() or None)
    if (number is None or not phonenumbers.is_valid_number(number)) and not text.startswith("+"):
        # Meta's wa_id and many exports write the full international number without the "+".
        international = _parse("+" + "".join(ch for ch in text if ch.isdigit()), None)
        if international is not None and phonenumbers.is_valid_number(international):
            number = international
    if number is None:
        hint = "" if default_country else " (add the country code, e.g. +91…, or set a default country)"
        raise InvalidPhoneNumber(f"Not a phone number{hint}.")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("Not a valid number for its country.")
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    region = phonenumbers.region_code_for_number(number) or ""
    return NormalizedNumber(
        e164=e164,
        country="" if region == "001" else region,
        calling_code=number.country_code or 0,  # a parsed, valid number always has one
        timezone=_single_timezone(number),
        hint=mask(e164),
    )


@lru_cache(maxsize=WA_ID_CACHE_SIZE)
def normalize_wa_id(wa_id: str) -> NormalizedNumber:
    """`normalize` for a WhatsApp id from Meta's webhooks, remembered: a customer writes many
    messages, and parsing the number again for each was a sixth of an inbound batch's CPU. The
    worker's memory holds these numbers anyway while it processes their messages; nothing is
    written anywhere. Invalid ids raise each time (exceptions are not remembered)."""
    return normalize(wa_id)


def country_of(wa_id: object) -> str:
    """The country (ISO region) of a WhatsApp id, a full international number in digits as Meta
    writes it; "" when there is none. Billing asks it for every status: the calling code alone
    settles the region when one region has it (most), and only codes shared by several regions
    (+1, +7, +44…) need the whole number parsed. Meta's ids are numbers WhatsApp delivered to,
    so they are not validated again here."""
    number = digits(wa_id)
    for length in (1, 2, 3):  # calling codes are prefix-free
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(number[:length])) if len(number) > length else None
        if regions:
            if len(regions) == 1:
                return "" if regions[0] == "001" else regions[0]
            break
    try:
        return normalize("+" + number).country if number else ""
    except InvalidPhoneNumber:
        return ""


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def _single_timezone(number: phonenumbers.PhoneNumber) -> str:
    if phonenumbers.number_type(number) == PhoneNumberType.UNKNOWN:
        return ""
    zones = [zone for zone in number_timezones.time_zones_for_number(number) if zone != _UNKNOWN_ZONE]
    return zones[0] if len(zones) == 1 else ""


def phone_index(e164: str, *, tenant: int) -> str:
    """The workspace's blind index of a number, over its E.164 string: the one index of a phone
    number, whether it keys a contact, a conversation, an outbound message or an event."""
    return blind_index(e164, purpose=PHONE_INDEX_PURPOSE, tenant=tenant)


def customer_index(*, tenant: int, wa_id: object = "", user_id: object = "") -> str:
    """The workspace's lookup key of a customer: their phone number when Meta gives it, else their
    business-scoped user id (users with a username may hide their number). "" when neither. A
    number's is its `phone_index`, the contact's."""
    number = digits(wa_id)
    if number:
        return phone_index("+" + number, tenant=tenant)
    if user_id:
        return blind_index(f"user:{user_id}", purpose=CUSTOMER_INDEX_PURPOSE, tenant=tenant)
    return ""


def mask(e164: str) -> str:
    """ "+91 98••••21": the calling code, the first two and the last two digits of the rest."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return _MASK
    national = str(number.national_number)
    if len(national) <= 4:
        return f"+{number.country_code} {_MASK}"
    return f"+{number.country_code} {national[:2]}{_MASK}{national[-2:]}"


def index_for_search(text: str, *, tenant: int, default_country: str = "") -> str | None:
    """The workspace's blind index to look a typed number up by, or None when the text is no full number."""
    try:
        return normalize(text, default_country=default_country).index_for(tenant=tenant)
    except InvalidPhoneNumber:
        return None
