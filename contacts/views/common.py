"""What the contacts pages share: badge kinds, page size, form error and attribute helpers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from aerostic.core.errors import DomainError
from contacts.models import AttributeDefinition, ConsentState

CONSENT_KIND = {ConsentState.OPTED_IN: "success", ConsentState.OPTED_OUT: "danger", ConsentState.UNKNOWN: "neutral"}
PAGE_SIZE = 50


def problems_to_form(form: Any, error: DomainError) -> None:
    problems = getattr(error, "problems", None)
    if isinstance(problems, dict):
        for field, problem in problems.items():
            form.add_error(field if field in form.fields else None, problem)
    else:
        form.add_error(None, error.message)


def attribute_values(request: HttpRequest, definitions: list[AttributeDefinition]) -> dict[str, Any]:
    return {d.key: request.POST.get(f"attr_{d.key}", "") for d in definitions if f"attr_{d.key}" in request.POST}
