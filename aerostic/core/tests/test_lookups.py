"""`__any_of`: the same rows as `__in`, with the list sent as one array parameter."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_any_of_finds_what_in_finds_with_one_parameter():
    users = [User.objects.create_user(email=f"u{n}@example.com", password="x" * 12) for n in range(5)]
    wanted = [users[0].pk, users[3].pk, 10**12]
    with CaptureQueriesContext(connection) as queries:
        found = set(User.objects.filter(pk__any_of=wanted).values_list("pk", flat=True))
    assert found == set(User.objects.filter(pk__in=wanted).values_list("pk", flat=True)) == {users[0].pk, users[3].pk}
    assert "= ANY(" in queries.captured_queries[0]["sql"]
    assert set(User.objects.filter(pk__any_of=[]).values_list("pk", flat=True)) == set()
