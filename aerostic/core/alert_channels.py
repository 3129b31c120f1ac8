"""A workspace's alert channels (where its alert notices go): read, created, changed and deleted
from its settings page and the API, each change audited in the same transaction.

The Slack webhook URL is a secret (whoever has it posts into the workspace's Slack): it is stored
encrypted, never shown back (only its host, `webhook_hint`) and never put in the audit. Wrong input
is a `ChannelInvalid` naming the field (a form shows it beside the field, the API answers it as
`problems`) and stores nothing.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet

from aerostic.core import audit
from aerostic.core.errors import DomainError
from aerostic.core.models import Alert, AlertChannel

MAX_EMAILS = 10
MAX_WEBHOOK_LENGTH = 500
Kind = AlertChannel.Kind


class ChannelInvalid(DomainError):
    """Bad input for one field; `problems` maps the field to what is wrong with it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.problems = {field: message}


# --- reads


def alert_channel_list() -> QuerySet[AlertChannel]:
    """The current workspace's channels, by name."""
    return AlertChannel.objects.order_by("name", "id")


def alert_channel_get(channel_id: Any) -> AlertChannel:
    """One of the current workspace's channels (AlertChannel.DoesNotExist otherwise: a 404)."""
    try:
        return AlertChannel.objects.get(pk=int(channel_id))
    except (TypeError, ValueError):
        raise AlertChannel.DoesNotExist from None


def webhook_hint(channel: AlertChannel) -> str:
    """What a page may show of the webhook: its host ("hooks.slack.com/…"), never its path."""
    if channel.kind != Kind.SLACK or not channel.slack_webhook_url:
        return ""
    host = urlsplit(channel.slack_webhook_url.reveal()).hostname or "?"
    return f"{host}/…"


# --- checks


def _name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ChannelInvalid("name", "Give the channel a name.")
    limit = AlertChannel._meta.get_field("name").max_length or 80
    if len(name) > limit:
        raise ChannelInvalid("name", f"The name has at most {limit} characters.")
    return name


def _choice(value: Any, *, field: str, choices: list[str], label: str) -> str:
    if value not in choices:
        raise ChannelInvalid(field, f"Choose a {label}: one of {', '.join(choices)}.")
    return str(value)


def _emails(value: Any) -> str:
    """Addresses separated by commas, semicolons, spaces or lines; stored "a@x.com, b@y.com"."""
    raw = str(value or "").replace(";", ",").replace("\n", ",").replace(" ", ",")
    addresses: list[str] = []
    for address in (part.strip() for part in raw.split(",")):
        if not address or address.lower() in (known.lower() for known in addresses):
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise ChannelInvalid("emails", f"{address!r} is not an e-mail address.") from None
        addresses.append(address)
    if not addresses:
        raise ChannelInvalid("emails", "Give at least one e-mail address.")
    if len(addresses) > MAX_EMAILS:
        raise ChannelInvalid("emails", f"At most {MAX_EMAILS} addresses per channel: add another channel for more.")
    stored = ", ".join(addresses)
    if len(stored) > (AlertChannel._meta.get_field("emails").max_length or 500):
        raise ChannelInvalid("emails", "These addresses are too long together: split them over two channels.")
    return stored


def _webhook(value: Any) -> str:
    """An incoming webhook's URL: https (plain http only outside staging and production, for a
    local receiver). Deployed, the host must be a name on the internet, not an address or
    `localhost`: the platform posts to it, and must not be pointed at its own network."""
    url = str(value or "").strip()
    if not url:
        raise ChannelInvalid("slack_webhook_url", "Give the Slack incoming webhook's URL.")
    if len(url) > MAX_WEBHOOK_LENGTH or any(char.isspace() for char in url):
        raise ChannelInvalid("slack_webhook_url", "That is not a webhook URL.")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ChannelInvalid("slack_webhook_url", "That is not a webhook URL.") from None
    allowed = ("https",) if settings.IS_DEPLOYED else ("https", "http")
    if parts.scheme not in allowed or not host:
        raise ChannelInvalid("slack_webhook_url", "The webhook URL starts with https://.")
    if parts.username or parts.password:
        raise ChannelInvalid("slack_webhook_url", "The webhook URL carries no user name or password.")
    if settings.IS_DEPLOYED and (_is_address(host) or "." not in host):
        raise ChannelInvalid("slack_webhook_url", "The webhook URL names a public host, such as hooks.slack.com.")
    return url


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _record(action: str, channel: AlertChannel, *, actor: Any, request: Any, **metadata: Any) -> None:
    audit.record(action, actor=actor, tenant=channel.tenant_id, target=channel, request=request, metadata=metadata)


# --- writes


@transaction.atomic
def alert_channel_create(
    *,
    kind: str,
    name: str,
    emails: str = "",
    slack_webhook_url: str = "",
    min_level: str = Alert.Level.WARNING,
    enabled: bool = True,
    actor: Any,
    request: Any = None,
) -> AlertChannel:
    """A new channel of the current workspace. Only the field of its kind is kept (an e-mail
    channel's addresses, a Slack channel's webhook)."""
    channel = AlertChannel(
        kind=_choice(kind, field="kind", choices=Kind.values, label="kind"),
        name=_name(name),
        min_level=_choice(min_level, field="min_level", choices=Alert.Level.values, label="level"),
        enabled=bool(enabled),
    )
    if channel.kind == Kind.EMAIL:
        channel.emails = _emails(emails)
    else:
        channel.slack_webhook_url = _webhook(slack_webhook_url)
    channel.save()
    _record(
        "alert_channel.created",
        channel,
        actor=actor,
        request=request,
        name=channel.name,
        kind=channel.kind,
        min_level=channel.min_level,
        enabled=channel.enabled,
        emails=channel.emails,
    )
    return channel


@transaction.atomic
def alert_channel_update(
    *,
    channel: AlertChannel,
    name: str | None = None,
    emails: str | None = None,
    slack_webhook_url: str | None = None,
    min_level: str | None = None,
    enabled: bool | None = None,
    actor: Any,
    request: Any = None,
) -> AlertChannel:
    """Changes the fields given (None, and an empty webhook URL, leave a field as it is: the URL is
    never shown back, so a form left empty keeps it). A channel keeps its kind. Audited when
    something changed; the webhook only as "replaced"."""
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _name(name)
    if min_level is not None:
        values["min_level"] = _choice(min_level, field="min_level", choices=Alert.Level.values, label="level")
    if enabled is not None:
        values["enabled"] = bool(enabled)
    if emails is not None and channel.kind == Kind.EMAIL:
        values["emails"] = _emails(emails)
    changes = {
        field: [getattr(channel, field), value] for field, value in values.items() if getattr(channel, field) != value
    }
    new_url = ""
    if slack_webhook_url and channel.kind == Kind.SLACK:
        new_url = _webhook(slack_webhook_url)
        if channel.slack_webhook_url and channel.slack_webhook_url.reveal() == new_url:
            new_url = ""
    webhook_replaced = bool(new_url)
    if not changes and not webhook_replaced:
        return channel
    for field, (_before, after) in changes.items():
        setattr(channel, field, after)
    update_fields = list(changes)
    if webhook_replaced:
        channel.slack_webhook_url = new_url
        update_fields.append("slack_webhook_url")
    if webhook_replaced or "emails" in changes:
        # A new destination has not failed yet: the old one's error would mislead.
        channel.last_error = ""
        update_fields.append("last_error")
    channel.save(update_fields=update_fields)
    metadata: dict[str, Any] = {"name": channel.name, "changes": changes}
    if webhook_replaced:
        metadata["webhook"] = "replaced"
    _record("alert_channel.changed", channel, actor=actor, request=request, **metadata)
    return channel


@transaction.atomic
def alert_channel_delete(*, channel: AlertChannel, actor: Any, request: Any = None) -> None:
    _record("alert_channel.deleted", channel, actor=actor, request=request, name=channel.name, kind=channel.kind)
    channel.delete()
