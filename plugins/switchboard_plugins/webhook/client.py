"""The ``webhook`` connector's HTTP: one signed POST of an event to the tenant's URL."""

from __future__ import annotations

from datetime import datetime

from switchboard_sdk import outcomes, standard_webhooks
from switchboard_sdk.errors import ConnectorError, OutcomeReached
from switchboard_sdk.models import EventEnvelope
from switchboard_sdk.transport import DeliveryContext, HttpResponse

from .config import WebhookConfig

USER_AGENT = "Switchboard-Webhooks/0.1"


def build_request(event: EventEnvelope, config: WebhookConfig, now: datetime) -> tuple[dict[str, str], bytes]:
    """The signed headers and body of one delivery attempt."""
    body = event.model_dump_json().encode()
    current, *previous = config.signing_secrets()
    headers = standard_webhooks.signed_headers(current, event.id, int(now.timestamp()), body, previous=previous)
    headers.update({"content-type": "application/json", "user-agent": USER_AGENT})
    return headers, body


def send(event: EventEnvelope, config: WebhookConfig, context: DeliveryContext, now: datetime) -> HttpResponse:
    """One signed POST; ``OutcomeReached`` when no answer came (refused, reset, timed out)."""
    headers, body = build_request(event, config, now)
    timeout = min(config.timeout_seconds, context.timeout_seconds)
    try:
        return context.http.request("POST", str(config.url), headers=headers, body=body, timeout=timeout)
    except ConnectorError as err:  # TransportError
        raise OutcomeReached(outcomes.unreachable(err)) from err
