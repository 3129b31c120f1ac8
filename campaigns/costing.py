"""What a campaign costs, as the layer above (billing) prices it (DESIGN §1).

Campaigns needs prices at launch (the estimate stored on the campaign, and whether the workspace's
balance allows it) and on the campaign page (the actual cost so far), but billing sits above
campaigns: billing registers its pricing here from its `AppConfig.ready()`, and campaigns calls
it through this module without naming billing. With no pricing registered every estimate is
"unknown", every launch is allowed and there is no actual cost to show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aerostic.core.registry import Slot


@dataclass(frozen=True)
class Costing:
    # estimate(*, campaign, by_country, variants) -> the estimate dict stored on the campaign.
    estimate: Callable[..., dict[str, Any]]
    # launch_allowed(tenant, estimate) -> (allowed, reason when refused).
    launch_allowed: Callable[[Any, dict[str, Any] | None], tuple[bool, str]]
    # actual(campaign) -> {"currency", "total_micros", "charged_messages", "free_messages",
    # "unpriced_messages", ...}: what the campaign cost so far.
    actual: Callable[[Any], dict[str, Any]]


_costing: Slot[Costing] = Slot("pricing", filled_by="the billing app")


def register_costing(
    *,
    estimate: Callable[..., dict[str, Any]],
    launch_allowed: Callable[[Any, dict[str, Any] | None], tuple[bool, str]],
    actual: Callable[[Any], dict[str, Any]],
) -> None:
    """Called once from the pricing app's `AppConfig.ready()`; a second registration replaces the first."""
    _costing.register(Costing(estimate=estimate, launch_allowed=launch_allowed, actual=actual))


def campaign_estimate(*, campaign: Any, by_country: dict[str, int], variants: list[Any]) -> dict[str, Any]:
    """The registered estimate of the campaign, or "unknown" (said so, never guessed)."""
    costing = _costing.get_or_none()
    if costing is None:
        return {
            "status": "unknown",
            "reason": "No pricing is installed, so the cost cannot be estimated.",
            "recipients_by_country": by_country,
        }
    return costing.estimate(campaign=campaign, by_country=by_country, variants=variants)


def launch_allowed(tenant: Any, estimate: dict[str, Any] | None) -> tuple[bool, str]:
    """May the workspace launch a campaign of this estimate (a prepaid balance may refuse it)?"""
    costing = _costing.get_or_none()
    return (True, "") if costing is None else costing.launch_allowed(tenant, estimate)


def campaign_actual(campaign: Any) -> dict[str, Any] | None:
    """What the campaign cost so far, or None when no pricing is installed."""
    costing = _costing.get_or_none()
    return None if costing is None else costing.actual(campaign)
