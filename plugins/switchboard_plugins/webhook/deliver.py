"""One ``webhook`` delivery: the signed POST, classified, with any echoed secret redacted."""

from __future__ import annotations

from switchboard_sdk import outcomes, standard_webhooks
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.transport import DeliveryContext

from .client import send
from .config import WebhookConfig


def _redact(outcome: DeliveryOutcome, secrets: list[str]) -> DeliveryOutcome:
    # belt and braces: a receiver echoing our secret back must not show it to the tenant
    prefix = standard_webhooks.SECRET_PREFIX
    return outcomes.redact(outcome, [form for s in secrets for form in (s, s.removeprefix(prefix))])


def deliver(event: EventEnvelope, config: WebhookConfig, context: DeliveryContext) -> DeliveryOutcome:
    """One signed POST, classified."""
    now = context.clock()
    outcome = outcomes.settle(lambda: outcomes.classify(send(event, config, context, now), now))
    return _redact(outcome, config.signing_secrets())
