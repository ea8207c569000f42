"""The workflow's events as the hub sends them to connectors, for the CRM connectors' tests:
one ticket (``tkt_1`` of ``t-acme``) as ``ticket.updated`` with its changes, or inside any
other event (SLA, CSAT, assignment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard_sdk.models import EventEnvelope


@dataclass(frozen=True)
class WorkflowEvents:
    now: datetime
    channel: str
    subject: str

    def ticket(self, version: int = 1, **fields: Any) -> dict[str, Any]:
        return {"id": "tkt_1", "tenant_id": "t-acme", "customer_id": "cus_1", "channel": self.channel,
                "status": "open", "subject": self.subject, "created_at": self.now.isoformat(),
                "last_activity_at": self.now.isoformat(), "version": version} | fields

    def updated(self, changes: dict[str, tuple[Any, Any]], version: int = 1, **fields: Any) -> EventEnvelope:
        """``ticket.updated``: ``changes`` is field → (before, after); an agent made them."""
        data = {"ticket": self.ticket(version, **fields), "reason": "agent edit",
                "changes": [{"field": name, "before": before, "after": after}
                            for name, (before, after) in changes.items()],
                "actor": {"kind": "agent", "id": "agent-ada"}}
        return EventEnvelope(id=f"evt_u_{version}", type="ticket.updated", tenant_id="t-acme", ticket_id="tkt_1",
                             occurred_at=self.now, data=data)

    def event(self, kind: str, data: dict[str, Any], event_id: str = "evt_w_1") -> EventEnvelope:
        return EventEnvelope(id=event_id, type=kind, tenant_id="t-acme", ticket_id="tkt_1",
                             occurred_at=self.now, data={"ticket": self.ticket()} | data)
