"""The ``webhook`` connector against real loopback receivers."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from fakes import loopback_allowed, loopback_transport
from pydantic import BaseModel, SecretStr, ValidationError
from switchboard_plugins import webhook
from switchboard_plugins.webhook.config import WebhookConfig
from switchboard_plugins.webhook.deliver import deliver as webhook_deliver
from switchboard_sdk import outcomes
from switchboard_sdk import standard_webhooks as sw
from switchboard_sdk.errors import ConnectorError, VerificationFailed
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.testing import ConnectorConformance, StatusServer, sample_event
from switchboard_sdk.transport import DeliveryContext, TransportError

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
RAW_KEY = base64.b64encode(b"tenant-webhook-secret-32-bytes!!").decode()
SECRET = "whsec_" + RAW_KEY
__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback fakes (see fakes/__init__.py)
TRANSPORT = loopback_transport()  # the fakes are loopback servers, refused by default


def make_config(url: str, *, timeout: float = 10.0) -> WebhookConfig:
    return WebhookConfig.model_validate({"url": url, "secret": SECRET, "timeout_seconds": timeout})


def deliver(
    url: str,
    event: EventEnvelope | None = None,
    *,
    config_timeout: float = 10.0,
    context_timeout: float = 2.0,
) -> DeliveryOutcome:
    context = DeliveryContext(http=TRANSPORT, clock=lambda: NOW, timeout_seconds=context_timeout)
    return webhook_deliver(event or sample_event(), make_config(url, timeout=config_timeout), context)


class TestWebhookConformance(ConnectorConformance):
    plugin = webhook.plugin

    def make_config(self, base_url: str) -> BaseModel:
        return make_config(base_url + "/hooks/switchboard")


@pytest.fixture(scope="module")
def shared_server() -> Iterator[StatusServer]:
    with StatusServer() as server:
        yield server


@pytest.fixture
def receiver(shared_server: StatusServer) -> StatusServer:
    """One loopback server for the module (start/stop costs ~0.5 s), reset per test."""
    shared_server.status, shared_server.body, shared_server.delay = 200, b"{}", 0.0
    shared_server.headers = {"Content-Type": "application/json"}
    shared_server.requests.clear()
    return shared_server


# -- wiring -------------------------------------------------------------------


def test_is_discovered_through_its_entry_point() -> None:
    registry = build_plugin_manager(allowlist={"webhook"})
    info = registry.info("webhook", "connector")
    assert info is not None
    assert info.config_model is WebhookConfig


def test_the_hub_wrapper_delivers(receiver: StatusServer) -> None:
    registry = build_plugin_manager(extra_plugins=[webhook.plugin], load_entry_points=False)
    config = registry.validate_config("webhook", {"url": receiver.url, "secret": SECRET})
    outcome = registry.deliver("webhook", sample_event(), config, DeliveryContext(http=TRANSPORT))
    assert outcome == DeliveryOutcome.delivered(200)


# -- what the receiver gets -------------------------------------------------------


def test_the_receiver_gets_the_signed_envelope(receiver: StatusServer) -> None:
    event = sample_event("t-acme")
    assert deliver(receiver.url + "/in?src=sb", event).kind == "delivered"
    ((method, path, headers, body),) = receiver.requests
    assert (method, path) == ("POST", "/in?src=sb")
    assert body == event.model_dump_json().encode()
    assert EventEnvelope.model_validate_json(body) == event
    assert headers["webhook-id"] == event.id
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert sw.verify([SECRET], headers, body, now=NOW) == event.id
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Switchboard-Webhooks/0.1"


WORKFLOW_DATA: dict[str, dict[str, Any]] = {
    "ticket.updated": {"changes": [{"field": "status", "before": "open", "after": "pending"}],
                       "actor": {"kind": "agent", "id": "agent-ada"}, "reason": "waiting for the customer"},
    "ticket.assigned": {"assignee_id": "agent-ada", "group_id": "grp_vip", "actor": {"kind": "rule", "id": "r1"}},
    "ticket.sla_warning": {"target": {"metric": "first_response", "policy_id": "pol_1", "state": "warning"}},
    "ticket.sla_breached": {"target": {"metric": "resolution", "policy_id": "pol_1", "state": "breached"}},
    "csat.received": {"csat": {"score": 2, "comment": "slow", "agent_id": "agent-ada", "channel": "sms"}},
    "message.sent": {"message": {"id": "msg_r", "direction": "outbound"}, "ticket_subject": "Refund"},
    "message.failed": {"message": {"id": "msg_r", "direction": "outbound", "status": "failed"}},
}


@pytest.mark.parametrize("kind", sorted(WORKFLOW_DATA))
def test_every_event_type_is_forwarded_as_is(receiver: StatusServer, kind: str) -> None:
    # the connector forwards what it is given: no type is filtered, no data reshaped
    event = EventEnvelope(id=f"evt_{kind}", type=kind, tenant_id="t-acme", ticket_id="tkt_1", occurred_at=NOW,
                          data={"ticket": {"id": "tkt_1", "status": "pending"}} | WORKFLOW_DATA[kind])
    assert deliver(receiver.url, event).kind == "delivered"
    ((_, _, headers, body),) = receiver.requests
    assert (json.loads(body)["type"], json.loads(body)["data"]) == (kind, event.data)
    assert sw.verify([SECRET], headers, body, now=NOW) == event.id


def test_a_redelivery_keeps_the_webhook_id(receiver: StatusServer) -> None:
    receiver.status = 503
    deliver(receiver.url)
    receiver.status = 200
    deliver(receiver.url)
    first, again = (headers["webhook-id"] for _, _, headers, _ in receiver.requests)
    assert first == again == sample_event().id


def test_another_secret_does_not_verify(receiver: StatusServer) -> None:
    deliver(receiver.url)
    ((_, _, headers, body),) = receiver.requests
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(VerificationFailed):
        sw.verify([other], headers, body, now=NOW)


def test_during_a_rotation_both_secrets_sign(receiver: StatusServer) -> None:
    new = "whsec_" + base64.b64encode(b"n" * 32).decode()
    config = WebhookConfig.model_validate({"url": receiver.url, "secret": new, "previous_secret": SECRET})
    context = DeliveryContext(http=TRANSPORT, clock=lambda: NOW)
    assert webhook_deliver(sample_event(), config, context).kind == "delivered"
    ((_, _, headers, body),) = receiver.requests
    assert len(headers["webhook-signature"].split(" ")) == 2
    # a receiver still on the old secret, one already on the new: both accept
    assert sw.verify([SECRET], headers, body, now=NOW) == sw.verify([new], headers, body, now=NOW)
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(VerificationFailed):
        sw.verify([other], headers, body, now=NOW)


def test_without_a_previous_secret_one_signature_is_sent(receiver: StatusServer) -> None:
    deliver(receiver.url)
    ((_, _, headers, _),) = receiver.requests
    assert " " not in headers["webhook-signature"]


def test_the_secret_fields_rotate() -> None:
    from switchboard_sdk.secret_fields import SECRET_ROTATION

    extra = WebhookConfig.model_fields["secret"].json_schema_extra
    assert isinstance(extra, dict)
    assert extra[SECRET_ROTATION] == "previous_secret"


# -- classification -----------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_delivered(receiver: StatusServer, status: int) -> None:
    receiver.status = status
    assert deliver(receiver.url) == DeliveryOutcome.delivered(status)


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504, 599])
def test_transient_statuses_retry(receiver: StatusServer, status: int) -> None:
    receiver.status = status
    outcome = deliver(receiver.url)
    assert (outcome.kind, outcome.status_code, outcome.retry_after_seconds) == ("retry", status, None)
    assert outcome.reason.startswith(f"receiver answered {status}")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 410, 413, 422])
def test_rejections_fail(receiver: StatusServer, status: int) -> None:
    receiver.status = status
    outcome = deliver(receiver.url)
    assert (outcome.kind, outcome.status_code) == ("failed", status)
    assert outcome.reason.startswith(f"receiver answered {status}")


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_fail_and_are_not_followed(receiver: StatusServer, status: int) -> None:
    receiver.status, receiver.body = status, b""
    receiver.headers["Location"] = receiver.url + "/elsewhere"
    outcome = deliver(receiver.url)
    assert (outcome.kind, outcome.status_code) == ("failed", status)
    assert "redirects are not followed" in outcome.reason
    assert len(receiver.requests) == 1


def test_a_short_body_is_quoted_in_the_reason(receiver: StatusServer) -> None:
    receiver.status, receiver.body = 422, b'{"error":\n"unknown ticket"}'
    assert deliver(receiver.url).reason == 'receiver answered 422; body: {"error": "unknown ticket"}'


def test_a_long_body_is_cut_short(receiver: StatusServer) -> None:
    receiver.status, receiver.body = 400, b"<html>" + b"x" * 20_000
    reason = deliver(receiver.url).reason
    assert len(reason) < 260
    assert reason.endswith("…")


# -- Retry-After ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_are_honoured(receiver: StatusServer, status: int) -> None:
    receiver.status, receiver.headers["Retry-After"] = status, "120"
    assert deliver(receiver.url).retry_after_seconds == 120


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_http_date_is_honoured(receiver: StatusServer, status: int) -> None:
    receiver.status = status
    receiver.headers["Retry-After"] = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert deliver(receiver.url).retry_after_seconds == 90


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        (" 7 ", 7.0),
        ("86400", 3600.0),
        ("9" * 5000, 3600.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
        (format_datetime(NOW + timedelta(days=2), usegmt=True), 3600.0),
        ("Fri, 02 Jan 2026 03:05:05 -0000", 60.0),
        ("", None),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("Fri, 99 Foo 2026 03:05:05 GMT", None),
        (None, None),
    ],
)
def test_retry_after_parsing(value: str | None, seconds: float | None) -> None:
    assert outcomes.retry_after(value, NOW) == seconds


def test_retry_after_is_ignored_on_permanent_failures(receiver: StatusServer) -> None:
    receiver.status, receiver.headers["Retry-After"] = 404, "30"
    assert deliver(receiver.url).retry_after_seconds is None


# -- transport failures ------------------------------------------------------------------


def test_the_shorter_of_config_and_context_timeouts_wins(receiver: StatusServer) -> None:
    receiver.delay = 0.6
    for config_timeout, context_timeout in ((0.2, 5.0), (5.0, 0.2)):
        started = time.monotonic()
        outcome = deliver(receiver.url, config_timeout=config_timeout, context_timeout=context_timeout)
        assert outcome.kind == "retry"
        assert "0.2s" in outcome.reason
        assert time.monotonic() - started < 0.5


def test_transport_errors_are_classified_by_retryability() -> None:
    assert outcomes.unreachable(TransportError("connection failed: X")).kind == "retry"
    assert outcomes.unreachable(ConnectorError("tls config", retryable=False)).kind == "failed"


# -- secrets -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 301, 400, 404, 429, 500])
def test_the_secret_never_reaches_a_reason(receiver: StatusServer, status: int) -> None:
    receiver.status = status
    receiver.body = f"bad signature for secret {SECRET}, key {RAW_KEY}".encode()
    outcome = deliver(receiver.url)
    assert RAW_KEY not in outcome.model_dump_json()
    assert status == 200 or "[redacted]" in outcome.reason


def test_the_secret_is_hidden_in_failures_without_a_response() -> None:
    with socket.socket() as sock:  # bind then close: a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcome = deliver(f"http://127.0.0.1:{port}")
    assert outcome.kind == "retry"
    assert RAW_KEY not in outcome.model_dump_json()


def test_the_config_hides_its_secret() -> None:
    config = make_config("https://example.com/hook")
    assert RAW_KEY not in repr(config) + str(config) + config.model_dump_json()


def test_the_previous_secret_never_reaches_a_reason(receiver: StatusServer) -> None:
    old_key = base64.b64encode(b"previous-webhook-secret-32-byte!").decode()
    config = WebhookConfig.model_validate(
        {"url": receiver.url, "secret": SECRET, "previous_secret": "whsec_" + old_key}
    )
    receiver.status, receiver.body = 400, f"rejected {old_key}".encode()
    outcome = webhook_deliver(sample_event(), config, DeliveryContext(http=TRANSPORT, clock=lambda: NOW))
    assert old_key not in outcome.model_dump_json()
    assert "[redacted]" in outcome.reason


# -- config ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"url": "ftp://example.com/x", "secret": SECRET},
        {"url": "not a url", "secret": SECRET},
        {"url": "https://example.com", "secret": RAW_KEY},
        {"url": "https://example.com", "secret": "whsec_!!!!"},
        {"url": "https://example.com", "secret": "whsec_" + base64.b64encode(b"k" * 8).decode()},
        {"url": "https://example.com", "secret": SECRET, "timeout_seconds": 0},
        {"url": "https://example.com", "secret": SECRET, "timeout_seconds": 31},
        {"url": "https://example.com", "secret": SECRET, "headers": {}},
        {"secret": SECRET},
    ],
)
def test_config_validation_rejects(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        WebhookConfig.model_validate(raw)


def test_config_defaults() -> None:
    config = WebhookConfig(url="https://example.com/hook", secret=SecretStr(SECRET))
    assert config.timeout_seconds == 10.0
    assert str(config.url) == "https://example.com/hook"


def test_config_errors_do_not_echo_a_malformed_secret() -> None:
    with pytest.raises(ValidationError) as caught:
        WebhookConfig.model_validate({"url": "https://example.com", "secret": "whsec_TOPSECRET-malformed!"})
    assert "TOPSECRET" not in str(caught.value)
