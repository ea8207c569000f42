"""The ``web`` channel's replies: one POST of the reply, signed per Standard Webhooks, to the
business's backend at ``reply_url``, which relays it to its site or app.

``webhook-id`` is the reply's message id, the same on every attempt, so the backend
de-duplicates on it; the signature covers a fresh ``webhook-timestamp`` each attempt.
A 2xx answer means the backend took the reply: it is ``delivered`` at once (the web has
no later status callbacks). Other answers are classified by the SDK's shared table
(:mod:`switchboard_sdk.outcomes`): 408, 425, 429, 5xx and no answer are retried (after
``Retry-After`` when given), other 4xx fail with the status and a body excerpt.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from switchboard_sdk import outcomes, standard_webhooks
from switchboard_sdk.errors import ConnectorError
from switchboard_sdk.models import DeliveryOutcome
from switchboard_sdk.sending import OutboundMessage, SendContext, SendOutcome
from switchboard_sdk.transport import HttpResponse

from .config import WebConfig

USER_AGENT = "Switchboard-Replies/0.1"
MAX_ID = 512  # SendOutcome.provider_message_id's limit
NO_REPLY_URL = ("web: no reply_url is configured; set reply_url and reply_signing_secret in the web "
                "channel's settings so replies reach your backend (docs/channels/web.md, Replying)")


def reply_document(message: OutboundMessage) -> dict[str, Any]:
    """The JSON the backend receives. ``in_reply_to`` is the ``client_message_id`` of the
    customer's message this answers; ``visitor_id`` is set when the reply goes to a visitor."""
    answered = message.replying_to.provider_message_id if message.replying_to else None
    return {
        "type": "reply",
        "id": message.id,
        "ticket_id": message.ticket_id,
        "ticket_ref": message.ticket_ref,
        "customer_id": message.customer_id,
        "to": {"kind": message.to.kind, "value": message.to.value},
        "visitor_id": message.to.value if message.to.kind == "visitor" else None,
        "in_reply_to": answered,
        "text": message.text,
        "attachments": [
            {"url": a.url, "content_type": a.content_type, "filename": a.filename, "size_bytes": a.size_bytes}
            for a in message.attachments
        ],
        "author_name": message.author_name,
        "created_at": message.created_at.isoformat(),
    }


def build_request(message: OutboundMessage, config: WebConfig, now: datetime) -> tuple[dict[str, str], bytes]:
    """The signed headers and body of one attempt (signed by every reply secret during a rotation)."""
    body = json.dumps(reply_document(message), ensure_ascii=False, separators=(",", ":")).encode()
    current, *previous = config.reply_secrets()
    headers = standard_webhooks.signed_headers(current, message.id, int(now.timestamp()), body, previous=previous)
    headers.update({"content-type": "application/json", "user-agent": USER_AGENT})
    return headers, body


def send_reply(message: OutboundMessage, config: WebConfig, context: SendContext) -> SendOutcome:
    """One signed POST to ``reply_url``, classified; never raises for the backend's refusal or absence."""
    if config.reply_url is None:
        return SendOutcome.failed(NO_REPLY_URL, code="no_reply_url")
    now = context.clock()
    headers, body = build_request(message, config, now)
    try:
        response = context.http.request("POST", str(config.reply_url), headers=headers, body=body,
                                        timeout=context.timeout_seconds)
    except ConnectorError as err:  # TransportError: refused, reset, timed out, a refused destination
        outcome = _as_send(outcomes.unreachable(err), "did not answer")
    else:
        outcome = classify(response, message.id, now)
    return _redact(outcome, [*config.reply_secrets(), *(s.get_secret_value() for s in config.secrets)])


def classify(response: HttpResponse, message_id: str, now: datetime) -> SendOutcome:
    """2xx: delivered, under the id the backend answered (``{"id": …}``) or else ours."""
    if 200 <= response.status < 300:
        return SendOutcome.sent(_answered_id(response) or message_id, delivered=True,
                                status_code=response.status)
    return _as_send(outcomes.classify(response, now), "did not take the reply")


def _answered_id(response: HttpResponse) -> str | None:
    try:
        data = json.loads(response.body)
    except ValueError:  # an empty or non-JSON 2xx is a plain acceptance
        return None
    found = data.get("id") if isinstance(data, dict) else None
    return found if isinstance(found, str) and 0 < len(found) <= MAX_ID else None


def _as_send(verdict: DeliveryOutcome, what: str) -> SendOutcome:
    reason = f"web: the backend at reply_url {what} ({verdict.reason})"
    if verdict.kind == "retry":
        return SendOutcome.retry(reason, status_code=verdict.status_code, after=verdict.retry_after_seconds)
    return SendOutcome.failed(reason, status_code=verdict.status_code)


def _redact(outcome: SendOutcome, secrets: list[str]) -> SendOutcome:
    # belt and braces: a backend echoing our secrets back must not show them to agents
    prefix = standard_webhooks.SECRET_PREFIX
    text = outcome.reason
    for secret in (form for s in secrets for form in (s, s.removeprefix(prefix))):
        if len(secret) >= 6:
            text = text.replace(secret, "[redacted]")
    return outcome if text == outcome.reason else outcome.model_copy(update={"reason": text})
