"""The registry of personal data kept by the apps above compliance (DESIGN.md §1: the higher layer
registers a handler, compliance never names it). Each app that keeps its own copy of what a person
wrote or was sent (the inbox's conversations and messages, whatsapp's outbound messages and raw
webhook bodies, campaigns' recipients) registers how to erase, expire and export it from its
AppConfig.ready(); the contact erase, the subject-access export and message retention call them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ErasedPerson:
    """Whom a contact erase is about, as the other apps' handlers find their rows."""

    tenant_id: int
    contact_id: int
    wa_id: str  # digits; "" when the contact had no number left
    customer_index: str  # the contact's phone_index: also their conversations' and outbound messages' key; "" if none


@dataclass(frozen=True)
class PersonalDataExport:
    """What a handler adds to a subject-access export."""

    sections: dict[str, Any]  # top-level keys of the export's JSON
    counts: dict[str, int] = field(default_factory=dict)  # recorded in the export's audit event


@dataclass(frozen=True)
class PersonalDataHandler:
    # erase(*, person: ErasedPerson) -> rows changed, or {count name: rows} for several kinds of rows
    erase: Callable[..., int | Mapping[str, int]]
    expire: Callable[..., int] | None  # expire(*, tenant_id: int, before: datetime) -> rows changed
    export: Callable[..., PersonalDataExport] | None  # export(*, contact, customer_index: str)
    # erase_workspace(*, tenant_id: int) -> None: what a workspace erase must remove besides rows
    # (stored files), called before the rows are deleted
    erase_workspace: Callable[..., None] | None = None


_PERSONAL_DATA: dict[str, PersonalDataHandler] = {}


def register_personal_data(
    name: str,
    *,
    erase: Callable[..., int | Mapping[str, int]],
    expire: Callable[..., int] | None = None,
    export: Callable[..., PersonalDataExport] | None = None,
    erase_workspace: Callable[..., None] | None = None,
) -> None:
    """Called from the AppConfig.ready() of an app that keeps its own copy of what a person wrote or
    was sent. `erase` runs inside `contact_erase`'s transaction and returns how many rows it
    changed, recorded under `name` in the erase's audit event (or a dict of counts, recorded under
    their own names); `expire` runs inside `retention_purge`'s (tenant context set); `export` adds
    its sections to `contact_data_export`; `erase_workspace` runs inside `tenant_erase`'s
    transaction (tenant context set) before every tenant row is deleted."""
    _PERSONAL_DATA[name] = PersonalDataHandler(
        erase=erase, expire=expire, export=export, erase_workspace=erase_workspace
    )


def personal_data_handlers() -> list[tuple[str, PersonalDataHandler]]:
    """The registered handlers, in registration order (INSTALLED_APPS order)."""
    return list(_PERSONAL_DATA.items())
