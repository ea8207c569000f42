"""What a change to a reply's item asks of the stream handler.

* inserted ``queued``, or back to ``queued`` at a new generation (an agent's
  retry): queue its send job (:class:`~chalicelib.pipeline.jobs.SendJob`);
* turned ``sent`` (the provider took it): announce ``message.sent``;
* turned ``failed``: announce ``message.failed`` to the tenant's connectors.

Status moves that follow (``delivered``, ``read``) ask nothing. Notes
(``internal``) are never sent and never announced. A redelivered record asks
the same again: the send job's de-duplication id and the worker's generation
check, and the event's stable id, make that harmless.
"""

from __future__ import annotations

from typing import Any

from switchboard_sdk import Customer, EventEnvelope, Message

from ..storage.ids import event_id_for
from ..storage.items import from_item
from .jobs import SendJob


def is_reply(image: dict[str, Any]) -> bool:
    return image.get("type") == "message" and image.get("direction") == "outbound" and not image.get("internal")


def send_job(record: dict[str, Any], image: dict[str, Any]) -> SendJob | None:
    """The send job a reply's change queues, if any."""
    if not is_reply(image) or image.get("status") != "queued":
        return None
    old = _old_image(record)
    generation = int(image.get("send_generation", 0))
    if old is not None and old.get("status") == "queued" and int(old.get("send_generation", 0)) == generation:
        return None  # queued before this change: its job was queued then
    return SendJob(tenant_id=str(image["tenant_id"]), ticket_id=str(image["ticket_id"]), message_id=str(image["id"]),
                   received_at=str(image["received_at"]), channel=str(image["channel"]), generation=generation)


ANNOUNCED = {"sent": "message.sent", "failed": "message.failed"}


def announcement(record: dict[str, Any], image: dict[str, Any]) -> str | None:
    """The event a reply's change announces: ``message.sent`` or ``message.failed`` (once per status)."""
    status = image.get("status")
    if not is_reply(image) or status not in ANNOUNCED or (_old_image(record) or {}).get("status") == status:
        return None
    return ANNOUNCED[str(status)]


def status_event(kind: str, image: dict[str, Any], customer: Customer | None) -> EventEnvelope:
    """``message.sent`` / ``message.failed`` for a reply's item; one id per send generation."""
    message = Message.model_validate({k: v for k, v in image.items() if k in Message.model_fields})
    data: dict[str, Any] = {"message": message.model_dump(mode="json")}
    if customer is not None:
        data["customer"] = customer.model_dump(mode="json")
    if "ticket_subject" in image:
        data["ticket_subject"] = str(image["ticket_subject"])
    generation = int(image.get("send_generation", 0))
    return EventEnvelope(
        id=event_id_for(kind, message.tenant_id, f"{message.id}#{generation}"), type=kind,
        tenant_id=message.tenant_id, ticket_id=message.ticket_id,
        occurred_at=message.status_at or message.received_at, data=data,
    )


def _old_image(record: dict[str, Any]) -> dict[str, Any] | None:
    old = record.get("dynamodb", {}).get("OldImage")
    return from_item(old) if old else None
