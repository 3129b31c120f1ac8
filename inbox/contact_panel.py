"""Sections the apps above the inbox add to a conversation's contact side panel (campaigns: the
contact's past campaigns and their outcomes). The inbox never names those apps (DESIGN §1): each
registers a section from its AppConfig.ready(), and the panel renders every registered one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from contacts.models import Contact

# render(request, contact) -> the section's HTML (render_to_string's output, already escaped), or
# None to leave the section out (the member may not see it).
SectionRenderer = Callable[[HttpRequest, Contact], str | None]


@dataclass(frozen=True)
class ContactPanelSection:
    title: str
    render: SectionRenderer


@dataclass(frozen=True)
class RenderedSection:
    title: str
    html: str


_SECTIONS: dict[str, ContactPanelSection] = {}


def register_contact_panel_section(title: str, render: SectionRenderer) -> None:
    """Adds a section under `title` (registering the same title again replaces it, so a test may
    swap one in). Sections show in registration order (INSTALLED_APPS order)."""
    _SECTIONS[title] = ContactPanelSection(title=title, render=render)


def unregister_contact_panel_section(title: str) -> None:
    _SECTIONS.pop(title, None)


def contact_panel_sections(request: HttpRequest, contact: Contact) -> list[RenderedSection]:
    """Every registered section this member may see, rendered for the contact. Only markup marked
    safe (render_to_string's) is kept as HTML; a plain string is escaped by the panel's template."""
    rendered = []
    for section in _SECTIONS.values():
        html = section.render(request, contact)
        if html is None:
            continue
        rendered.append(RenderedSection(title=section.title, html=html))
    return rendered
