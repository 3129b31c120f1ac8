"""The platform console's production-readiness page (super-admins; aerostic/readiness.py)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from aerostic.readiness import DEFAULT_DAYS, GATES, production_readiness


def production_readiness_page(request: HttpRequest) -> TemplateResponse:
    verdict = production_readiness(days=DEFAULT_DAYS)
    rows = [(gate, verdict.gates[gate], verdict.reasons.get(gate, "")) for gate in GATES]
    context = {
        **admin.site.each_context(request),
        "title": f"Production readiness: {'PASS' if verdict.passed else 'FAIL'}",
        "verdict": verdict,
        "rows": rows,
        "days": DEFAULT_DAYS,
    }
    return TemplateResponse(request, "admin/production_readiness.html", context)
