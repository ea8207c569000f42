"""The ``twilio`` channel's delivery statuses: Twilio's message status callbacks
as :class:`~switchboard_sdk.sending.StatusUpdate` values.

Twilio posts them, form-encoded and signed like every webhook, to the
``StatusCallback`` URL a reply was sent with (:mod:`.send`): ``MessageSid``,
``MessageStatus`` (``queued``, ``sending``, ``sent``, ``delivered``, ``read``,
``undelivered``, ``failed``, …) and, on failure, ``ErrorCode``. A request that is
not one (an inbound message, a call, a recording) is left to :mod:`.parse`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import ValidationError
from switchboard_sdk.errors import BadPayload, describe_validation_error
from switchboard_sdk.sending import StatusUpdate
from switchboard_sdk.webhooks import WebhookRequest

from . import codes
from .parse import OUTBOUND_FAILED, OUTBOUND_PROGRESS, classify, event_marker, form_params, message_sid, message_status

Status = Literal["sent", "delivered", "read", "failed"]
_STATUSES: dict[str, Status] = {
    "sent": "sent", "delivered": "delivered", "read": "read",
    "undelivered": "failed", "failed": "failed", "canceled": "failed",
}
_FALLBACK = {
    "undelivered": "the carrier could not deliver the message",
    "failed": "the message could not be sent",
    "canceled": "the message was canceled before it was sent",
}
_MAX_CODE = 16


def status_updates(request: WebhookRequest) -> list[StatusUpdate] | None:
    """The updates a verified message status callback carries (none for progress
    Twilio reports before ``sent``: the send's answer already said ``sent``), or
    ``None`` for any other request."""
    params = _message_params(request)
    if params is None:
        return None
    status = message_status(params)
    if status not in OUTBOUND_PROGRESS and status not in OUTBOUND_FAILED:
        return None  # received, receiving: a message the customer wrote
    if status not in _STATUSES:
        return []  # accepted, scheduled, queued, sending, partially_delivered
    sid = message_sid(params)
    if not sid:
        raise BadPayload("MessageSid is missing from the status callback")
    try:
        return [_update(request, params, sid, status)]
    except ValidationError as err:
        # field locations and pydantic's messages; never the offending input
        raise BadPayload(f"invalid twilio status callback: {describe_validation_error(err)}") from None


def _message_params(request: WebhookRequest) -> Mapping[str, str] | None:
    """The form of a messaging request; ``None`` for calls, recordings and
    anything :mod:`.parse` refuses (it will say why)."""
    try:
        params = form_params(request)
        kind = classify(event_marker(request), params)
    except BadPayload:
        return None
    return params if kind == "message" else None


def _update(request: WebhookRequest, params: Mapping[str, str], sid: str, status: str) -> StatusUpdate:
    update = _STATUSES[status]
    if update != "failed":
        return StatusUpdate(provider_message_id=sid, status=update, occurred_at=request.received_at)
    raw = params.get("ErrorCode", "").strip()
    code = raw if raw.isascii() and raw.isdigit() and len(raw) <= _MAX_CODE else None
    return StatusUpdate(
        provider_message_id=sid, status="failed", code=code, reason=codes.reason(code, _FALLBACK[status]),
        occurred_at=request.received_at,
    )
