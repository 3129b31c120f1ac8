"""Factories and helpers for contacts: valid phone numbers and CSV files to import."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Iterator

import factory

from contacts import phones
from contacts.models import AttributeDefinition, Contact, ContactList
from tenants.tests.factories import TenantScopedFactory

# Number shapes libphonenumber accepts as valid mobiles, one per market.
_SHAPES = (
    ("IN", "+91 9{:09d}", 10**9),
    ("US", "+1 201{:07d}", 10**7),
    ("DE", "+49 151{:08d}", 10**8),
    ("GB", "+44 74{:08d}", 10**8),
    ("BR", "+55 11 9{:08d}", 10**8),
    ("MX", "+52 55{:08d}", 10**8),
)


def phone_numbers(count: int, *, seed: int = 1) -> list[str]:
    """`count` distinct valid numbers across several countries, written the way people type them."""
    rng = random.Random(seed)
    seen: set[str] = set()
    numbers: list[str] = []
    while len(numbers) < count:
        _country, shape, span = _SHAPES[len(numbers) % len(_SHAPES)]
        number = shape.format(rng.randrange(span))
        if number not in seen and (shape != "+1 201{:07d}" or number[6] not in "01"):
            seen.add(number)
            numbers.append(number)
    return numbers


def csv_bytes(rows: Iterable[Iterable[object]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def csv_rows(text: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""))


class ContactFactory(TenantScopedFactory):
    class Meta:
        model = Contact

    phone = factory.Sequence(lambda n: f"+4915100{n:06d}")
    phone_index = factory.LazyAttribute(lambda o: phones.normalize(o.phone).index_for(tenant=o.tenant.pk))
    phone_hint = factory.LazyAttribute(lambda o: phones.mask(o.phone))
    country = "DE"
    calling_code = 49
    name = factory.Faker("name")


class AttributeDefinitionFactory(TenantScopedFactory):
    class Meta:
        model = AttributeDefinition

    key = factory.Sequence(lambda n: f"attribute_{n}")
    label = factory.LazyAttribute(lambda o: o.key.replace("_", " ").title())
    kind = AttributeDefinition.Kind.TEXT


class ContactListFactory(TenantScopedFactory):
    class Meta:
        model = ContactList

    name = factory.Sequence(lambda n: f"List {n}")
