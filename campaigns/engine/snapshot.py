"""The audience snapshot at launch: one queued recipient per contact, skips counted by reason."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection
from django.utils import timezone

from campaigns.engine.constants import BATCH_SIZE
from campaigns.mapping import missing_value_sql
from campaigns.models import Campaign, CampaignMessage, CampaignVariant
from compliance import policy

logger = logging.getLogger(__name__)

State = CampaignMessage.State
Status = Campaign.Status


def snapshot(campaign: Campaign) -> tuple[int, dict[str, int]]:
    """Inserts one queued CampaignMessage per audience contact (variant by percentage, batch number),
    then marks skipped the ones the rules already refuse, with their reason. A few statements,
    whatever the audience size. Returns (recipients, {reason: skipped})."""
    from campaigns.services import audience_contacts

    variants = list(campaign.variants.select_related("template").order_by("label"))
    audience_sql, audience_params = audience_contacts(campaign).values("pk").query.sql_with_params()
    bounds, cumulative = [], 0
    for variant in variants[:-1]:
        cumulative += variant.percentage
        bounds.append((cumulative, variant.pk))
    whens = " ".join("WHEN a.bucket < %s THEN %s" for _ in bounds)
    variant_case = f"CASE {whens} ELSE %s END" if bounds else "%s"
    variant_params: list[Any] = [value for bound in bounds for value in bound] + [variants[-1].pk]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO campaigns_campaignmessage
                (tenant_id, campaign_id, variant_id, contact_id, batch, state, attempts, hold_reason,
                 wamid, error_detail, updated_at)
            SELECT %s, %s, {variant_case}, a.id, (a.rn - 1) / %s, 'queued', 0, '', '', '', now()
            FROM (
                SELECT c.id, row_number() OVER (ORDER BY c.id) AS rn,
                       (row_number() OVER (ORDER BY md5(%s || c.id::text)) - 1) * 100 / count(*) OVER () AS bucket
                FROM contacts_contact c WHERE c.id IN ({audience_sql})
            ) a
            """,  # noqa: S608 (the pieces are fixed SQL; every value is a parameter)
            [campaign.tenant_id, campaign.pk, *variant_params, BATCH_SIZE, f"{campaign.pk}:", *audience_params],
        )
        total = cursor.rowcount
        for variant in variants:
            for condition, params, reason in _skip_rules(variant):
                cursor.execute(
                    f"""
                    UPDATE campaigns_campaignmessage m SET state = 'skipped', error_detail = %s
                    FROM contacts_contact c
                    WHERE m.contact_id = c.id AND m.campaign_id = %s AND m.variant_id = %s
                      AND m.state = 'queued' AND ({condition})
                    """,  # noqa: S608
                    [reason, campaign.pk, variant.pk, *params],
                )
        cursor.execute(
            "SELECT error_detail, count(*) FROM campaigns_campaignmessage"
            " WHERE campaign_id = %s AND state = 'skipped' GROUP BY 1 ORDER BY 2 DESC",
            [campaign.pk],
        )
        skipped = dict(cursor.fetchall())
    return total, skipped


def _skip_rules(variant: CampaignVariant) -> list[tuple[str, list[Any], str]]:
    """What `compliance.policy.can_send` would refuse for anyone, as SQL on contact `c`, in its order
    (the first matching reason is kept). Quiet hours and the frequency cap depend on the moment of
    the send: the batch job applies them."""
    category = variant.template.category
    rules: list[tuple[str, list[Any], str]] = [("c.phone_index = ''", [], "No WhatsApp number.")]
    settings = policy.compliance_settings_for(variant.tenant_id)
    if category == "MARKETING":
        rules.append(("c.consent_state = 'opted_out'", [], policy.OPTED_OUT_MARKETING))
        rules.append(
            (
                "c.consent_state <> 'opted_in'",
                [],
                policy.NO_MARKETING_CONSENT,
            )
        )
        if timezone.now() >= policy.US_MARKETING_STOPPED_ON:
            rules.append(
                (
                    "(c.country = 'US' OR (c.country = '' AND c.calling_code = 1))",
                    [],
                    policy.US_MARKETING_STOPPED,
                )
            )
    elif category == "UTILITY" and settings.block_utility_when_opted_out:
        rules.append(
            (
                "c.consent_state = 'opted_out'",
                [],
                policy.OPTED_OUT_UTILITY,
            )
        )
    elif category == "AUTHENTICATION":
        rules.append(
            (
                "c.consent_state = 'opted_out'",
                [],
                policy.OPTED_OUT_AUTHENTICATION,
            )
        )
    return rules + missing_value_sql(variant.mapping)
