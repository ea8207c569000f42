"""Mailgun event webhooks: delivery statuses of the replies we sent through Mailgun.

Mailgun posts each event as JSON, ``{"signature": {"timestamp", "token",
"signature"}, "event-data": {...}}``, signed like a route POST (HMAC-SHA256 of
``timestamp + token`` under the webhook signing key) but with the signature
inside the body; :mod:`.verify` checks it. Events name the mail by its
Message-ID (``event-data.message.headers.message-id``, without ``<>``): the
provider id :mod:`.send` stored for a Mailgun reply.

=============  ===========================  ===========================================
event          severity                     status
=============  ===========================  ===========================================
delivered                                   ``delivered``
failed         ``permanent``                ``failed`` (SMTP code, Mailgun's reason)
failed         ``temporary``                nothing: Mailgun retries, then reports again
opened                                      ``read``
complained                                  ``failed`` ("the recipient marked it as spam")
(others)                                    nothing (accepted, clicked, unsubscribed, …)
=============  ===========================  ===========================================
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from switchboard_sdk.errors import BadPayload, SwitchboardError, VerificationFailed
from switchboard_sdk.sending import StatusUpdate
from switchboard_sdk.webhooks import WebhookRequest

from .threading import message_ids

MAX_DETAIL_CHARS = 300
COMPLAINT_REASON = "Mailgun: the recipient marked it as spam"
# Mailgun drops mail to addresses on the domain's suppression lists without trying
_SUPPRESSED = {
    "suppress-bounce": "the address bounced before and is on Mailgun's bounce list",
    "suppress-complaint": "the recipient marked earlier mail as spam (Mailgun's complaint list)",
    "suppress-unsubscribe": "the recipient unsubscribed (Mailgun's unsubscribe list)",
}


def is_json(request: WebhookRequest) -> bool:
    """Mailgun posts events as JSON; route (inbound) POSTs are forms."""
    return (request.header("content-type") or "").strip().lower().startswith("application/json")


def read_body(request: WebhookRequest, *, verifying: bool = False) -> dict[str, Any]:
    """The JSON object; unreadable is :class:`VerificationFailed` while verifying
    (nothing is proven yet), :class:`BadPayload` afterwards. RecursionError too:
    the decoder recurses per nesting level."""
    unreadable: type[SwitchboardError] = VerificationFailed if verifying else BadPayload
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError) as err:
        raise unreadable("the JSON body could not be parsed") from err
    if not isinstance(body, dict):
        raise unreadable("the JSON body is not an object")
    return body


def signature_fields(body: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """``(timestamp, token, signature)`` from the body's ``signature`` object
    (Mailgun's examples send the timestamp as a string, its table says int)."""
    signed = body.get("signature")
    if not isinstance(signed, dict):
        return None, None, None

    def text(name: str) -> str | None:
        value = signed.get(name)
        if isinstance(value, bool):
            return None
        return str(value) if isinstance(value, (str, int)) else None

    return text("timestamp"), text("token"), text("signature")


def _text(value: object) -> str:
    return " ".join(str(value).split())[:MAX_DETAIL_CHARS] if value not in (None, "") else ""


def _failure(data: dict[str, Any], status: dict[str, Any]) -> tuple[str | None, str]:
    """``(code, reason)`` of a permanent failure: the SMTP code (else Mailgun's
    ``reason``) and the receiving server's words."""
    code = status.get("code")
    smtp = str(code) if isinstance(code, int) and not isinstance(code, bool) else None
    why = str(data.get("reason") or "")[:64] or None
    if why in _SUPPRESSED:
        return why, f"Mailgun: not sent: {_SUPPRESSED[why]}"
    detail = _text(status.get("description")) or _text(status.get("message"))
    words = f"Mailgun: not delivered ({smtp})" if smtp else "Mailgun: not delivered"
    return smtp or why, f"{words}: {detail}" if detail else words


def _occurred(data: dict[str, Any]) -> datetime | None:
    stamp = data.get("timestamp")
    if not isinstance(stamp, (int, float)) or isinstance(stamp, bool):
        return None
    try:
        return datetime.fromtimestamp(stamp, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _message_id(data: dict[str, Any]) -> str | None:
    message = data.get("message")
    headers = message.get("headers") if isinstance(message, dict) else None
    value = headers.get("message-id") if isinstance(headers, dict) else None
    ids = message_ids(value) if isinstance(value, str) else []
    return ids[0] if ids else None


def update(data: dict[str, Any]) -> StatusUpdate | None:
    """The status one ``event-data`` object reports, or ``None`` (see the table above)."""
    event, provider_id = data.get("event"), _message_id(data)
    if provider_id is None:
        return None
    when = _occurred(data)
    if event == "delivered":
        return StatusUpdate(provider_message_id=provider_id, status="delivered", occurred_at=when)
    if event == "opened":
        return StatusUpdate(provider_message_id=provider_id, status="read", occurred_at=when)
    if event == "complained":
        return StatusUpdate(
            provider_message_id=provider_id, status="failed", code="complained", reason=COMPLAINT_REASON,
            occurred_at=when,
        )
    if event == "failed" and data.get("severity") == "permanent":
        status = data.get("delivery-status")
        code, reason = _failure(data, status if isinstance(status, dict) else {})
        return StatusUpdate(provider_message_id=provider_id, status="failed", code=code, reason=reason,
                            occurred_at=when)
    return None


def status_updates(request: WebhookRequest) -> list[StatusUpdate] | None:
    """The updates a verified request carries: ``None`` for a route POST (a form,
    parsed as mail), a list (maybe empty) for an event webhook."""
    if not is_json(request):
        return None
    data = read_body(request).get("event-data")
    if not isinstance(data, dict):
        raise BadPayload("a Mailgun webhook without event-data")
    found = update(data)
    return [found] if found is not None else []


__all__ = ["is_json", "read_body", "signature_fields", "status_updates", "update"]
