"""The ``webhook`` connector: POST each event to a tenant's URL, signed per Standard Webhooks.

``webhook-id`` is the event id, stable across retries and replays, so receivers
de-duplicate on it. Outcomes are classified from the status code (Airbyte-style
table below); a receiver's failure is never raised. See ``docs/connectors/webhook.md``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from switchboard_sdk import outcomes, standard_webhooks
from switchboard_sdk.errors import ConnectorError, OutcomeReached
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.netguard import OUTBOUND_URL
from switchboard_sdk.secret_fields import rotates_into
from switchboard_sdk.transport import DeliveryContext, HttpResponse

NAME = "webhook"
USER_AGENT = "Switchboard-Webhooks/0.1"


# -- config -------------------------------------------------------------------




class WebhookConfig(BaseModel):
    """Where a tenant's events go and the secret they are signed with. During a
    rotation each request is signed with ``secret`` and ``previous_secret``, so
    the receiver may verify with either while it switches over."""

    # hide_input: a malformed secret must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    # the tenant chooses it: no loopback, private or metadata addresses (checked again on every call)
    url: Annotated[AnyHttpUrl, OUTBOUND_URL]
    secret: standard_webhooks.WhsecSecret = Field(json_schema_extra=rotates_into("previous_secret"))
    previous_secret: standard_webhooks.WhsecSecret | None = None
    timeout_seconds: float = Field(default=10.0, ge=0.1, le=30.0)

    def signing_secrets(self) -> list[str]:
        """The current secret, then the one being rotated out."""
        secrets = [self.secret.get_secret_value()]
        if self.previous_secret is not None:
            secrets.append(self.previous_secret.get_secret_value())
        return secrets


def _as_config(config: BaseModel) -> WebhookConfig:
    return expect_config(config, WebhookConfig)


# -- request ------------------------------------------------------------------


def build_request(event: EventEnvelope, config: WebhookConfig, now: datetime) -> tuple[dict[str, str], bytes]:
    """The signed headers and body of one delivery attempt."""
    body = event.model_dump_json().encode()
    current, *previous = config.signing_secrets()
    headers = standard_webhooks.signed_headers(current, event.id, int(now.timestamp()), body, previous=previous)
    headers.update({"content-type": "application/json", "user-agent": USER_AGENT})
    return headers, body


# -- classification -------------------------------------------------------------
















def _redact(outcome: DeliveryOutcome, secrets: list[str]) -> DeliveryOutcome:
    # belt and braces: a receiver echoing our secret back must not show it to the tenant
    prefix = standard_webhooks.SECRET_PREFIX
    return outcomes.redact(outcome, [form for s in secrets for form in (s, s.removeprefix(prefix))])


# -- delivery ----------------------------------------------------------------------


def send(event: EventEnvelope, config: WebhookConfig, context: DeliveryContext, now: datetime) -> HttpResponse:
    """One signed POST; ``OutcomeReached`` when no answer came (refused, reset, timed out)."""
    headers, body = build_request(event, config, now)
    timeout = min(config.timeout_seconds, context.timeout_seconds)
    try:
        return context.http.request("POST", str(config.url), headers=headers, body=body, timeout=timeout)
    except ConnectorError as err:  # TransportError
        raise OutcomeReached(outcomes.unreachable(err)) from err


def deliver(event: EventEnvelope, config: WebhookConfig, context: DeliveryContext) -> DeliveryOutcome:
    """One signed POST, classified."""
    now = context.clock()
    outcome = outcomes.settle(lambda: outcomes.classify(send(event, config, context, now), now))
    return _redact(outcome, config.signing_secrets())


class WebhookConnector:
    """The plugin object registered under the ``webhook`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="connector",
            contract_version=CONTRACT_VERSION,
            config_model=WebhookConfig,
            version="0.1.0",
            summary="POST every event to a URL, signed per Standard Webhooks",
        )

    @hookimpl
    def switchboard_connector_deliver(
        self, event: EventEnvelope, config: BaseModel, context: DeliveryContext
    ) -> DeliveryOutcome:
        return deliver(event, _as_config(config), context)


plugin = WebhookConnector()

__all__ = ["WebhookConfig", "WebhookConnector", "plugin"]
