"""Template lifecycle (a package: each module stays short): draft → validate → submit → (Meta) →
approved / rejected / paused, edit and resubmit, delete, refresh, sync; and the webhooks that move
templates between those states. Import from here:

    from whatsapp.message_templates.services import template_submit, templates_sync, ...

- common: `TemplateInvalid`, `TemplateRefused`, `EDITABLE_AT_META`, `LIVE_AT_META`;
- lifecycle: `template_draft_save`, `template_submit`, `template_delete`;
- sync: `template_refresh`, `templates_sync`, `SyncResult`;
- webhook_updates: `template_status_apply`, `template_category_apply`, `template_quality_apply`,
  `template_components_apply`.

Meta is the source of truth for every status but DRAFT. Graph refusals (duplicate name, edit limit,
invalid parameter) reach the user as Meta worded them, with the code for support.
"""

from whatsapp.message_templates.services.common import (
    EDITABLE_AT_META,
    LIVE_AT_META,
    TemplateInvalid,
    TemplateRefused,
)
from whatsapp.message_templates.services.lifecycle import template_delete, template_draft_save, template_submit
from whatsapp.message_templates.services.sync import SyncResult, template_refresh, templates_sync
from whatsapp.message_templates.services.webhook_updates import (
    template_category_apply,
    template_components_apply,
    template_quality_apply,
    template_status_apply,
)

__all__ = [
    "EDITABLE_AT_META",
    "LIVE_AT_META",
    "SyncResult",
    "TemplateInvalid",
    "TemplateRefused",
    "template_category_apply",
    "template_components_apply",
    "template_delete",
    "template_draft_save",
    "template_quality_apply",
    "template_refresh",
    "template_status_apply",
    "template_submit",
    "templates_sync",
]
