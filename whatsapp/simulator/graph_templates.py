"""The simulator's Graph endpoints for message templates: list, create (then reviewed after a delay),
edit (with Meta's edit limits), delete."""

from __future__ import annotations

import time
from typing import Any

from whatsapp.simulator import webhooks
from whatsapp.simulator.state import (
    CATEGORIES,
    TEMPLATE_NAME_RE,
    GraphFault,
    SimulatorState,
    Template,
)


class TemplateRoutes:
    """Graph endpoints for message templates (a part of SimulatorServer)."""

    # Set by SimulatorServer.__init__: this class is one of its parts.
    state: SimulatorState
    webhooks: webhooks.WebhookSender

    def _template_json(self, template: Template) -> dict[str, Any]:
        return {
            "id": template.id,
            "name": template.name,
            "language": template.language,
            "category": template.category,
            "status": template.status,
            "components": template.components,
            "parameter_format": template.parameter_format,
            "rejected_reason": template.rejected_reason,
        }

    def _templates(self, token: Any, method: str, waba_id: str, query: dict[str, str], body: dict[str, Any]) -> Any:
        self.state.waba_for(token, waba_id)
        if method == "GET":
            rows = [t for t in self.state.templates.values() if t.waba_id == waba_id and t.status != "DELETED"]
            rows.sort(key=lambda t: int(t.id))
            limit = max(1, min(int(query.get("limit", 25)), 1000))
            start = int(query["after"]) if query.get("after", "").isdigit() else 0
            page = rows[start : start + limit]
            answer: dict[str, Any] = {"data": [self._template_json(t) for t in page]}
            if page:
                answer["paging"] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
                if start + limit < len(rows):
                    answer["paging"]["next"] = f"/{waba_id}/message_templates?after={start + len(page)}"
            return answer
        if method == "DELETE":
            name = query.get("name")
            matched = [
                t
                for t in self.state.templates.values()
                if t.waba_id == waba_id
                and t.name == name
                and t.status != "DELETED"
                and (not query.get("hsm_id") or t.id == query["hsm_id"])
            ]
            if not matched:
                raise GraphFault(400, 100, "Template not found", subcode=2593002)
            for template in matched:
                template.status = "DELETED"
            return {"success": True}
        return self._create_template(waba_id, body)

    def _create_template(self, waba_id: str, body: dict[str, Any]) -> Any:
        name, category, language = body.get("name", ""), body.get("category", ""), body.get("language", "")
        components = body.get("components")
        if not TEMPLATE_NAME_RE.match(str(name)):
            raise GraphFault(
                400,
                100,
                "Invalid parameter",
                details="Template name may only contain lowercase letters, digits and underscores",
            )
        if category not in CATEGORIES:
            raise GraphFault(400, 100, "Invalid parameter", details=f"Invalid category {category!r}")
        if (
            not language
            or not isinstance(components, list)
            or not any(isinstance(c, dict) and c.get("type") == "BODY" for c in components)
        ):
            raise GraphFault(400, 100, "Invalid parameter", details="language and a BODY component are required")
        for template in self.state.templates.values():
            if (template.waba_id, template.name, template.language) == (
                waba_id,
                name,
                language,
            ) and template.status != "DELETED":
                raise GraphFault(
                    400,
                    100,
                    "Message template already exists",
                    subcode=2388024,
                    details=f"There is already {language} content for this template.",
                )
        template = self.state.add_template(
            waba_id, name=name, language=language, category=category, components=components
        )
        return {"id": template.id, "status": template.status, "category": template.category}

    def _edit_template(self, token: Any, template_id: str, body: dict[str, Any]) -> Any:
        template = self.state.templates[template_id]
        self.state.waba_for(token, template.waba_id)
        if template.status not in ("APPROVED", "REJECTED", "PAUSED"):
            raise GraphFault(
                400,
                100,
                "Template cannot be edited now",
                subcode=2593107,
                details=f"A {template.status} template cannot be edited",
            )
        if template.status == "APPROVED":
            now = time.time()
            recent = [at for at in template.approved_edits if at > now - 30 * 86400]
            if any(at > now - 86400 for at in recent) or len(recent) >= 10:
                raise GraphFault(
                    400,
                    100,
                    "Message template edit limit reached",
                    subcode=2388299,
                    details="An approved template can be edited once in 24 hours and up to 10 times in 30 days.",
                )
            if body.get("category") and body["category"] != template.category:
                raise GraphFault(
                    400, 100, "Invalid parameter", details="The category of an approved template cannot be changed."
                )
            template.approved_edits = [*recent, now]
        if "components" in body:
            template.components = body["components"]
        if "category" in body:
            template.category = body["category"]
        template.status = "PENDING"
        template.review_at = time.time() + self.state.review_seconds
        return {"success": True}
