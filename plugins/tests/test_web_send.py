"""The ``web`` channel's replies against a real loopback backend: what the backend receives
and verifies, and how its answers are classified."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from fakes import loopback_allowed, loopback_transport
from pydantic import ValidationError
from switchboard_plugins import web
from switchboard_plugins.web.config import WebConfig
from switchboard_plugins.web.send import NO_REPLY_URL, send_reply
from switchboard_sdk import standard_webhooks as sw
from switchboard_sdk.errors import VerificationFailed
from switchboard_sdk.models import AttachmentRef, Identity
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.sending import OutboundMessage, ReplyContext, SendContext, SendOutcome
from switchboard_sdk.testing import StatusServer, closed_port_url, sample_outbound
from switchboard_sdk.transport import Urllib3Transport

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
INBOUND = "whsec_" + base64.b64encode(b"inbound-secret-for-tests-32bytes").decode()
REPLY_KEY = base64.b64encode(b"reply-secret-for-the-backend-32b").decode()
REPLY = "whsec_" + REPLY_KEY
OLD_KEY = base64.b64encode(b"previous-reply-secret-32-bytes!!").decode()
__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback backend (see fakes/__init__.py)
TRANSPORT = loopback_transport()


def make_config(reply_url: str | None, **extra: Any) -> WebConfig:
    raw: dict[str, Any] = {"secrets": [INBOUND]}
    if reply_url is not None:
        raw |= {"reply_url": reply_url, "reply_signing_secret": REPLY}
    return WebConfig.model_validate(raw | extra)


def visitor_reply(**changes: Any) -> OutboundMessage:
    """A reply to the visitor whose message ``cm-1`` (its client_message_id) it answers."""
    answered = ReplyContext(provider_message_id="cm-1", received_at=NOW - timedelta(minutes=5))
    defaults = {"to": Identity(kind="visitor", value="v-123"), "replying_to": answered}
    return sample_outbound("web", tenant_id="t-acme").model_copy(update=defaults | changes)


def send(url: str | None, message: OutboundMessage | None = None, *, config: WebConfig | None = None,
         now: datetime = NOW, timeout: float = 2.0, http: Urllib3Transport = TRANSPORT) -> SendOutcome:
    context = SendContext(http=http, clock=lambda: now, timeout_seconds=timeout)
    return send_reply(message or visitor_reply(), config or make_config(url), context)


@pytest.fixture(scope="module")
def shared_backend() -> Iterator[StatusServer]:
    with StatusServer() as server:
        yield server


@pytest.fixture
def backend(shared_backend: StatusServer) -> StatusServer:
    """One loopback backend for the module, reset per test."""
    shared_backend.status, shared_backend.body, shared_backend.delay = 200, b"{}", 0.0
    shared_backend.headers = {"Content-Type": "application/json"}
    shared_backend.requests.clear()
    return shared_backend


def reply_url(backend: StatusServer) -> str:
    return backend.url + "/switchboard/replies?site=shop"


# -- what the backend receives -----------------------------------------------------------


def test_the_backend_gets_the_reply_signed_for_its_secret(backend: StatusServer) -> None:
    message = visitor_reply(attachments=[AttachmentRef(url="https://cdn.example.com/r.pdf", filename="r.pdf",
                                                      content_type="application/pdf", size_bytes=12)])
    assert send(reply_url(backend), message) == SendOutcome.sent(message.id, delivered=True, status_code=200)
    ((method, path, headers, body),) = backend.requests
    assert (method, path) == ("POST", "/switchboard/replies?site=shop")
    assert sw.verify([REPLY], headers, body, now=NOW) == message.id
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert (headers["content-type"], headers["user-agent"]) == ("application/json", "Switchboard-Replies/0.1")
    assert json.loads(body) == {
        "type": "reply", "id": message.id, "ticket_id": message.ticket_id, "ticket_ref": message.ticket_ref,
        "customer_id": message.customer_id, "to": {"kind": "visitor", "value": "v-123"}, "visitor_id": "v-123",
        "in_reply_to": "cm-1", "text": "Your order ships today.",
        "attachments": [{"url": "https://cdn.example.com/r.pdf", "content_type": "application/pdf",
                         "filename": "r.pdf", "size_bytes": 12}],
        "author_name": "Grace Hopper", "created_at": message.created_at.isoformat(),
    }


def test_the_site_secrets_do_not_verify_a_reply(backend: StatusServer) -> None:
    send(reply_url(backend))
    ((_, _, headers, body),) = backend.requests
    with pytest.raises(VerificationFailed):
        sw.verify([INBOUND], headers, body, now=NOW)


def test_a_reply_to_a_known_email_names_no_visitor(backend: StatusServer) -> None:
    send(reply_url(backend), visitor_reply(to=Identity(kind="email", value="ada@example.com"), replying_to=None))
    document = backend.requests[0].json()
    assert (document["to"], document["visitor_id"], document["in_reply_to"]) == (
        {"kind": "email", "value": "ada@example.com"}, None, None)


def test_every_attempt_keeps_the_webhook_id_and_signs_afresh(backend: StatusServer) -> None:
    backend.status = 503
    send(reply_url(backend))
    backend.status = 200
    send(reply_url(backend), now=NOW + timedelta(minutes=2))
    first, again = (request.headers for request in backend.requests)
    assert first["webhook-id"] == again["webhook-id"] == visitor_reply().id  # the backend de-duplicates on it
    assert first["webhook-signature"] != again["webhook-signature"]
    assert sw.verify([REPLY], again, backend.requests[1].body, now=NOW + timedelta(minutes=2))


def test_during_a_rotation_both_reply_secrets_sign(backend: StatusServer) -> None:
    config = make_config(reply_url(backend), previous_reply_signing_secret="whsec_" + OLD_KEY)
    assert send(None, config=config).kind == "delivered"
    ((_, _, headers, body),) = backend.requests
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert sw.verify(["whsec_" + OLD_KEY], headers, body, now=NOW) == sw.verify([REPLY], headers, body, now=NOW)


def test_the_reply_secret_rotates() -> None:
    from switchboard_sdk.secret_fields import SECRET_ROTATION

    extra = WebConfig.model_fields["reply_signing_secret"].json_schema_extra
    assert isinstance(extra, dict)
    assert extra[SECRET_ROTATION] == "previous_reply_signing_secret"


# -- classification ----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "body", "provider_id"), [
    (200, b'{"id": "chat-778"}', "chat-778"),
    (201, b'{"id": "chat-779", "ok": true}', "chat-779"),
    (202, b"accepted", None),
    (204, b"", None),
    (200, b'{"id": 42}', None),
    (200, b'["chat-780"]', None),
    (200, json.dumps({"id": "x" * 513}).encode(), None),
])
def test_2xx_is_delivered_under_the_backends_id_or_ours(
    backend: StatusServer, status: int, body: bytes, provider_id: str | None
) -> None:
    backend.status, backend.body = status, body
    outcome = send(reply_url(backend))
    assert (outcome.kind, outcome.status_code) == ("delivered", status)
    assert outcome.provider_message_id == (provider_id or visitor_reply().id)


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_passing_failures_are_retried(backend: StatusServer, status: int) -> None:
    backend.status, backend.body = status, b'{"error": "busy"}'
    outcome = send(reply_url(backend))
    assert (outcome.kind, outcome.status_code, outcome.retry_after_seconds) == ("retry", status, None)
    assert outcome.reason == (f'web: the backend at reply_url did not take the reply (receiver answered {status}; '
                              'body: {"error": "busy"})')


@pytest.mark.parametrize("retry_after", ["120", format_datetime(NOW + timedelta(seconds=120), usegmt=True)])
def test_retry_after_is_honoured(backend: StatusServer, retry_after: str) -> None:
    backend.status, backend.headers["Retry-After"] = 429, retry_after
    assert send(reply_url(backend)).retry_after_seconds == 120


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_refusals_fail_with_the_status_and_an_excerpt(backend: StatusServer, status: int) -> None:
    backend.status, backend.body = status, b'{"error":\n"unknown visitor"}'
    outcome = send(reply_url(backend))
    assert (outcome.kind, outcome.status_code, outcome.code) == ("failed", status, None)
    assert outcome.reason == (f"web: the backend at reply_url did not take the reply (receiver answered {status}; "
                              'body: {"error": "unknown visitor"})')


def test_a_redirect_fails_and_is_not_followed(backend: StatusServer) -> None:
    backend.status, backend.body = 302, b""
    backend.headers["Location"] = backend.url + "/elsewhere"
    outcome = send(reply_url(backend))
    assert (outcome.kind, outcome.status_code) == ("failed", 302)
    assert "redirects are not followed" in outcome.reason
    assert len(backend.requests) == 1


def test_a_backend_that_hangs_is_retried_within_the_timeout(backend: StatusServer) -> None:
    backend.delay = 1.0
    outcome = send(reply_url(backend), timeout=0.2)
    assert outcome.kind == "retry"
    assert outcome.reason == "web: the backend at reply_url did not answer (receiver unreachable: no response " \
                             "within 0.2s)"


def test_a_refused_connection_is_retried() -> None:
    outcome = send(closed_port_url() + "/replies")
    assert outcome.kind == "retry"
    assert outcome.reason.startswith("web: the backend at reply_url did not answer (receiver unreachable: ")


def test_a_destination_the_deployment_refuses_fails_permanently(backend: StatusServer) -> None:
    # the config was saved under a loopback allowance the transport does not share: refused on the call too
    outcome = send(reply_url(backend), http=Urllib3Transport())
    assert outcome.kind == "failed"
    assert "did not answer" in outcome.reason
    assert backend.requests == []


# -- without a reply_url ----------------------------------------------------------------


def test_without_a_reply_url_sending_fails_permanently_through_the_hub() -> None:
    registry = build_plugin_manager(extra_plugins=[web.plugin], load_entry_points=False)
    assert registry.sends("web")
    config = registry.validate_config("web", {"secrets": [INBOUND]})
    context = SendContext(http=TRANSPORT, clock=lambda: NOW)
    outcome = registry.send("web", visitor_reply(), config, context)
    assert (outcome.kind, outcome.code, outcome.reason) == ("failed", "no_reply_url", NO_REPLY_URL)
    assert outcome.reason.startswith("web: no reply_url is configured")


# -- secrets -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 302, 400, 401, 429, 500])
def test_no_secret_reaches_a_reason(backend: StatusServer, status: int) -> None:
    inbound_key = INBOUND.removeprefix("whsec_")
    backend.status = status
    backend.body = f"bad signature: {REPLY} {REPLY_KEY} {OLD_KEY} {inbound_key}".encode()
    config = make_config(reply_url(backend), previous_reply_signing_secret="whsec_" + OLD_KEY)
    dumped = send(None, config=config).model_dump_json()
    for key in (REPLY_KEY, OLD_KEY, inbound_key):
        assert key not in dumped
    assert status == 200 or "[redacted]" in dumped


# -- config ------------------------------------------------------------------------------


def test_replies_are_off_by_default() -> None:
    config = WebConfig.model_validate({"secrets": [INBOUND]})
    assert (config.reply_url, config.reply_signing_secret, config.reply_secrets()) == (None, None, [])


@pytest.mark.parametrize("raw", [
    {"reply_url": "https://backend.example.com/replies"},  # unsigned replies: the backend could not verify
    {"reply_url": "ftp://backend.example.com/replies", "reply_signing_secret": REPLY},
    {"reply_url": "https://backend.example.com/replies", "reply_signing_secret": REPLY_KEY},  # no whsec_
    {"reply_url": "https://backend.example.com/replies", "reply_signing_secret": "whsec_" + "a2V5" * 2},
])
def test_config_validation_rejects(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        WebConfig.model_validate({"secrets": [INBOUND], **raw})
    assert REPLY_KEY not in str(caught.value)


def test_a_reply_url_without_a_secret_says_why() -> None:
    with pytest.raises(ValidationError, match="reply_url needs a reply_signing_secret"):
        WebConfig.model_validate({"secrets": [INBOUND], "reply_url": "https://backend.example.com/replies"})


def test_a_private_reply_url_is_refused_when_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_OUTBOUND_ALLOW")
    with pytest.raises(ValidationError, match="reply_url"):
        make_config("http://127.0.0.1:8080/replies")


def test_importing_the_plugin_does_not_load_send() -> None:
    code = ("import sys, switchboard_plugins.web as w; w.plugin.switchboard_plugin_info(); "
            "print(sorted(m for m in sys.modules if m.startswith('switchboard_plugins.web.')))")
    run = [sys.executable, "-c", code]
    loaded = subprocess.run(run, capture_output=True, text=True, check=True).stdout  # noqa: S603 -- a constant script
    assert loaded.strip() == "['switchboard_plugins.web.config', 'switchboard_plugins.web.hooks']"
