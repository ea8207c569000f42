"""A ticket's history entries → events for connectors.

Each change of a ticket is one history item (:mod:`chalicelib.storage.tickets`),
holding the transition and the ticket after it, so its events need no read:
``ticket.updated`` (what changed, by whom, why), ``ticket.assigned`` (a new
assignee), ``ticket.sla_warning`` / ``ticket.sla_breached`` (the target that
warned or breached). Event ids derive from the ticket and the change's cause, so
a redelivered stream record yields the same ids and the queue drops the repeat.
"""

from __future__ import annotations

from typing import Any

from switchboard_sdk import Customer, EventEnvelope

from ..storage.ids import event_id_for

SLA_EVENTS = {"sla_warning": "ticket.sla_warning", "sla_breached": "ticket.sla_breached"}


def is_history(image: dict[str, Any]) -> bool:
    return image.get("type") == "ticket_history" and isinstance(image.get("ticket"), dict)


def history_events(image: dict[str, Any], customer: Customer | None = None) -> list[EventEnvelope]:
    """The events one history entry (a stream image, deserialised) announces."""
    ticket, changes = image["ticket"], image.get("changes") or []
    base = {"ticket": ticket} | ({"customer": customer.model_dump(mode="json")} if customer else {})
    object_id = f"{ticket['id']}#{image['cause']}"
    events = []
    if changes:
        events.append(_envelope("ticket.updated", image, object_id, base | {
            "changes": changes, "actor": image.get("actor"), "reason": image.get("reason", "")}))
    assigned = next((c for c in changes if c.get("field") == "assignee_id" and c.get("after")), None)
    if assigned is not None:
        events.append(_envelope("ticket.assigned", image, object_id, base | {
            "assignee_id": assigned["after"], "group_id": ticket.get("group_id"), "actor": image.get("actor")}))
    kind = SLA_EVENTS.get(str(image.get("event")))
    if kind is not None:
        metric = (image.get("detail") or {}).get("metric")
        target = next((t for t in ticket.get("sla") or [] if t.get("metric") == metric), None)
        events.append(_envelope(kind, image, object_id, base | {"target": target}))
    return events


def _envelope(kind: str, image: dict[str, Any], object_id: str, data: dict[str, Any]) -> EventEnvelope:
    return EventEnvelope.model_validate({
        "id": event_id_for(kind, str(image["tenant_id"]), object_id), "type": kind,
        "tenant_id": image["tenant_id"], "ticket_id": image["ticket_id"], "occurred_at": image["at"], "data": data})
