"""The ``webhook`` connector: POST each event to a tenant's URL, signed per Standard Webhooks.

``webhook-id`` is the event id, stable across retries and replays, so receivers
de-duplicate on it. Outcomes are classified from the status code (Airbyte-style
table below); a receiver's failure is never raised. See ``docs/connectors/webhook.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field
from switchboard_sdk import standard_webhooks
from switchboard_sdk.errors import ConnectorError, PluginConfigError
from switchboard_sdk.hookspecs import PluginInfo, hookimpl
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.transport import DeliveryContext, HttpResponse

NAME = "webhook"
USER_AGENT = "Switchboard-Webhooks/0.1"
RETRY_STATUSES = frozenset({408, 425, 429})  # plus every 5xx
MAX_RETRY_AFTER_SECONDS = 3600.0
MAX_REASON_DETAIL = 200


# -- config -------------------------------------------------------------------




class WebhookConfig(BaseModel):
    """Where a tenant's events go and the secret they are signed with."""

    # hide_input: a malformed secret must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    url: AnyHttpUrl
    secret: standard_webhooks.WhsecSecret
    timeout_seconds: float = Field(default=10.0, ge=0.1, le=30.0)


def _as_config(config: BaseModel) -> WebhookConfig:
    if not isinstance(config, WebhookConfig):
        raise PluginConfigError("webhook connector called with a config that is not WebhookConfig")
    return config


# -- request ------------------------------------------------------------------


def build_request(event: EventEnvelope, config: WebhookConfig, now: datetime) -> tuple[dict[str, str], bytes]:
    """The signed headers and body of one delivery attempt."""
    body = event.model_dump_json().encode()
    secret = config.secret.get_secret_value()
    headers = standard_webhooks.signed_headers(secret, event.id, int(now.timestamp()), body)
    headers.update({"content-type": "application/json", "user-agent": USER_AGENT})
    return headers, body


# -- classification -------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # transports keep the receiver's header casing
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or HTTP-date), capped."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value) if len(value) <= 10 else MAX_RETRY_AFTER_SECONDS
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = (_aware(when) - _aware(now)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _snippet(body: bytes) -> str:
    """A short printable excerpt of a response body, for tenants debugging a 4xx."""
    text = body[: MAX_REASON_DETAIL * 4].decode("utf-8", "replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text[:MAX_REASON_DETAIL] + ("…" if len(text) > MAX_REASON_DETAIL else "")


def _reason(response: HttpResponse, note: str = "") -> str:
    snippet = _snippet(response.body)
    parts = [f"receiver answered {response.status}", note, snippet and f"body: {snippet}"]
    return "; ".join(part for part in parts if part)


def classify(response: HttpResponse, now: datetime) -> DeliveryOutcome:
    """2xx delivered; 408/425/429/5xx retried; anything else fails permanently."""
    status = response.status
    if 200 <= status < 300:
        return DeliveryOutcome.delivered(status)
    if status in RETRY_STATUSES or 500 <= status < 600:
        after = retry_after(_header(response.headers, "retry-after"), now)
        return DeliveryOutcome.retry(_reason(response), status_code=status, after=after)
    note = "redirects are not followed; configure the final URL" if 300 <= status < 400 else ""
    return DeliveryOutcome.failed(_reason(response, note), status_code=status)


def _unreachable(err: ConnectorError) -> DeliveryOutcome:
    reason = f"receiver unreachable: {err.message}"[: MAX_REASON_DETAIL + 50]
    return DeliveryOutcome.retry(reason) if err.retryable else DeliveryOutcome.failed(reason)


def _redact(outcome: DeliveryOutcome, secret: str) -> DeliveryOutcome:
    # belt and braces: a receiver echoing our secret back must not show it to the tenant
    raw = secret.removeprefix(standard_webhooks.SECRET_PREFIX)
    if raw and raw in outcome.reason:
        return outcome.model_copy(update={"reason": outcome.reason.replace(raw, "[redacted]")})
    return outcome


# -- delivery ----------------------------------------------------------------------


def deliver(event: EventEnvelope, config: WebhookConfig, context: DeliveryContext) -> DeliveryOutcome:
    """One signed POST, classified."""
    now = context.clock()
    headers, body = build_request(event, config, now)
    timeout = min(config.timeout_seconds, context.timeout_seconds)
    try:
        response = context.http.request("POST", str(config.url), headers=headers, body=body, timeout=timeout)
    except ConnectorError as err:  # TransportError: refused, reset, timed out
        return _unreachable(err)
    return _redact(classify(response, now), config.secret.get_secret_value())


class WebhookConnector:
    """The plugin object registered under the ``webhook`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="connector",
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
