"""Delivery statuses of email replies: Mailgun's signed event webhooks (JSON) on the channel's webhook."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from switchboard_plugins import email
from switchboard_plugins.email.config import EmailConfig
from switchboard_plugins.email.send import send
from switchboard_plugins.email.signing import mailgun_signature
from switchboard_sdk.errors import BadPayload, VerificationFailed
from switchboard_sdk.fake_http import StatusServer
from switchboard_sdk.models import Identity
from switchboard_sdk.netguard import LOOPBACK, OutboundPolicy, validation_context
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.sending import OutboundMessage, SendContext, StatusUpdate
from switchboard_sdk.transport import Urllib3Transport
from switchboard_sdk.webhooks import WebhookRequest

from tools.local.sandbox.mailgun import FakeMailgun, PostedEvent

NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
KEY = "key-test-signing-0123456789abcdef"
API_KEY = "key-api-0123456789abcdef"
TOKEN = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123"  # noqa: S105 -- Mailgun's documented example token
REF = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
HOOKS = build_plugin_manager(extra_plugins=[email.plugin], load_entry_points=False).pm.hook
CONFIG = EmailConfig(mailgun_signing_key=KEY)


def event_data(event: str, **extra: Any) -> dict[str, Any]:
    return {
        "event": event, "id": "CCXMjJ7nQi2N3BPigGOdgQ", "timestamp": NOW.timestamp() - 30,
        "recipient": "ada@example.com", "log-level": "info",
        "message": {"headers": {"message-id": "msg_01J@acme.test", "to": "ada@example.com",
                                "from": "support@acme.test", "subject": f"Re: Order [#{REF}]"}},
        **extra,
    }


def signed(data: dict[str, Any], *, key: str = KEY, timestamp: datetime = NOW, token: str = TOKEN,
           numeric: bool = False) -> dict[str, Any]:
    stamp = str(int(timestamp.timestamp()))
    signature = {"timestamp": int(stamp) if numeric else stamp, "token": token,
                 "signature": mailgun_signature(key, stamp, token)}
    return {"signature": signature, "event-data": data}


def request(body: dict[str, Any] | bytes, *, received_at: datetime = NOW,
            content_type: str = "application/json") -> WebhookRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return WebhookRequest(tenant_id="t-acme", channel="email", method="POST",
                          public_url="https://hub.example.com/hooks/t-acme/email",
                          headers={"content-type": content_type}, query={}, body=raw, received_at=received_at)


def status(body: dict[str, Any]) -> list[StatusUpdate] | None:
    req = request(body)
    assert HOOKS.switchboard_channel_verify(request=req, config=CONFIG) is True
    result: list[StatusUpdate] | None = HOOKS.switchboard_channel_status(request=req, config=CONFIG)
    return result


# -- reading events -------------------------------------------------------------------------


def test_delivered() -> None:
    (update,) = status(signed(event_data("delivered", **{"delivery-status": {"code": 250, "message": "OK"}})))
    assert update == StatusUpdate(provider_message_id="msg_01J@acme.test", status="delivered",
                                  occurred_at=NOW - timedelta(seconds=30))


def test_opened_is_read() -> None:
    (update,) = status(signed(event_data("opened")))
    assert update.status == "read"


def test_a_complaint_fails_the_reply() -> None:
    (update,) = status(signed(event_data("complained")))
    assert (update.status, update.code) == ("failed", "complained")
    assert update.reason == "Mailgun: the recipient marked it as spam"


def test_a_permanent_failure_says_what_the_server_said() -> None:
    failure = event_data("failed", severity="permanent", reason="bounce", **{"delivery-status": {
        "code": 550, "message": "5.1.1 The email account that you tried to reach does not exist.",
        "description": "", "attempt-no": 1}})
    (update,) = status(signed(failure))
    assert (update.status, update.code) == ("failed", "550")
    assert update.reason == "Mailgun: not delivered (550): 5.1.1 The email account that you tried to reach " \
                            "does not exist."


def test_a_suppressed_address_is_explained() -> None:
    failure = event_data("failed", severity="permanent", reason="suppress-bounce", **{"delivery-status": {
        "code": 605, "message": "", "description": "Not delivering to previously bounced address"}})
    (update,) = status(signed(failure))
    assert (update.status, update.code) == ("failed", "suppress-bounce")
    assert "bounced before" in update.reason


@pytest.mark.parametrize(
    "data",
    [
        event_data("failed", severity="temporary", reason="generic"),  # Mailgun tries again, then reports
        event_data("accepted"),
        event_data("clicked"),
        event_data("unsubscribed"),
        {"event": "delivered", "timestamp": 1.0},  # names no message
    ],
)
def test_events_that_change_no_reply_are_read_as_none(data: dict[str, Any]) -> None:
    assert status(signed(data)) == []


def test_angle_brackets_and_a_numeric_timestamp_are_accepted() -> None:
    data = event_data("delivered")
    data["message"]["headers"]["message-id"] = "<msg_01J@acme.test>"
    (update,) = status(signed(data, numeric=True))
    assert update.provider_message_id == "msg_01J@acme.test"


def test_a_route_post_is_not_a_status_callback() -> None:
    form = request(b"timestamp=1&token=x&signature=y", content_type="application/x-www-form-urlencoded")
    assert HOOKS.switchboard_channel_status(request=form, config=CONFIG) is None


def test_json_without_event_data_is_a_bad_payload() -> None:
    body = signed({})
    del body["event-data"]
    with pytest.raises(BadPayload, match="event-data"):
        status(body)


def test_the_replay_key_is_the_events_token() -> None:
    assert HOOKS.switchboard_channel_replay_key(request=request(signed(event_data("delivered"))), config=CONFIG) \
        == TOKEN


# -- verification ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "req",
    [
        request(signed(event_data("delivered"), key="key-someone-else-000000")),
        request({"event-data": event_data("delivered")}),  # unsigned
        request({**signed(event_data("delivered")), "signature": "not an object"}),
        request(signed(event_data("delivered"), timestamp=NOW - timedelta(hours=10))),  # past the replay window
        request(b"{not json"),
        request(b"[1, 2]"),
        request(b"[" * 100_000),
    ],
    ids=["wrong key", "unsigned", "signature not an object", "stale", "not json", "not an object", "deep"],
)
def test_forged_or_unreadable_events_are_refused(req: WebhookRequest) -> None:
    with pytest.raises(VerificationFailed):
        HOOKS.switchboard_channel_verify(request=req, config=CONFIG)


def test_without_a_signing_key_no_event_is_accepted() -> None:
    with pytest.raises(VerificationFailed, match="no Mailgun signing key"):
        HOOKS.switchboard_channel_verify(request=request(signed(event_data("delivered"))), config=EmailConfig())


def test_the_signature_covers_the_token() -> None:
    body = signed(event_data("delivered"))
    body["signature"]["token"] = "f" * 50
    with pytest.raises(VerificationFailed, match="signature mismatch"):
        HOOKS.switchboard_channel_verify(request=request(body), config=CONFIG)


# -- round trip through the sandbox -------------------------------------------------------------


def outbound() -> OutboundMessage:
    return OutboundMessage(
        id="msg_01JROUND", tenant_id="t-acme", channel="email", ticket_id="tkt_" + REF.lower(), ticket_ref=REF,
        customer_id="cus_1", to=Identity(kind="email", value="ada@example.com"), text="Done.", subject="Order",
        created_at=NOW,
    )


def sent_and_reported(fake: FakeMailgun, hub: StatusServer) -> tuple[str | None, PostedEvent]:
    config = EmailConfig.model_validate(
        {"from_address": "support@acme.test", "mailgun_api_key": API_KEY, "api_base_url": fake.url},
        context=validation_context(OutboundPolicy.parse(LOOPBACK)))
    context = SendContext(http=Urllib3Transport(policy=OutboundPolicy.parse(LOOPBACK)), clock=lambda: NOW)
    outcome = send(outbound(), config, context)
    (event,) = fake.wait_for_events(1)
    assert event.answer == 200
    return outcome.provider_message_id, event


def hub_request(hub: StatusServer) -> WebhookRequest:
    (posted,) = hub.requests
    # the fake signs with the wall clock; the hub verifies against the time it received the post
    return replace(request(posted.body, content_type=posted.headers["content-type"]), received_at=datetime.now(UTC))


@pytest.mark.parametrize("bounce", [False, True], ids=["delivered", "bounced"])
def test_the_sandbox_reports_the_reply_by_the_id_send_returned(bounce: bool) -> None:
    with StatusServer(200) as hub, FakeMailgun(API_KEY, signing_key=KEY, event_delay=0.0) as fake:
        fake.webhook_url = f"{hub.url}/hooks/t-acme/email"
        if bounce:
            fake.bounce_next()
        provider_id, event = sent_and_reported(fake, hub)
        req = hub_request(hub)
    assert HOOKS.switchboard_channel_verify(request=req, config=CONFIG) is True
    (update,) = HOOKS.switchboard_channel_status(request=req, config=CONFIG)
    assert update.provider_message_id == provider_id == event.message_id
    assert (update.status, update.code) == (("failed", "550") if bounce else ("delivered", None))
