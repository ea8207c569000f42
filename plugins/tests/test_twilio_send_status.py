"""The ``twilio`` channel's delivery statuses: Twilio's signed message status callbacks.

The round trip runs over loopback: a reply sent to :class:`FakeTwilio`, whose signed
callbacks reach a small stand-in of the hub's webhook (verify, then the status hook,
else parse, then respond: the hub's order). Single callbacks are signed here with
:func:`test_twilio.reference_signature`, written from Twilio's description.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

import pytest
from fakes import loopback_allowed, loopback_transport
from pydantic import BaseModel
from switchboard_plugins.twilio.respond import EMPTY_TWIML
from switchboard_sdk.errors import VerificationFailed
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.sending import StatusUpdate
from switchboard_sdk.testing import Recorded, Reply, StatusServer
from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse
from test_twilio import (
    ACCOUNT,
    INBOUND_CALL,
    MESSAGE,
    MISSED_CALL,
    MMS,
    RECORDING_CALLBACK,
    SMS,
    WHATSAPP,
    Params,
    form_request,
)
from test_twilio import HOOK as WEBHOOK
from test_twilio import config as webhook_config
from test_twilio_send import AUTH, NOW, WHATSAPP_BUSINESS, config, registry, reply, send

from tools.local.sandbox.twilio import FakeTwilio

__all__ = ["loopback_allowed"]  # autouse: configs with loopback URLs validate

HOOK_PATH = "/hooks/t-acme/twilio"


class Hub:
    """The hub's webhook for one tenant's twilio channel, as the hub runs the hooks."""

    def __init__(self, cfg: BaseModel) -> None:
        self.config = cfg
        self.updates: list[StatusUpdate] = []
        self.parsed: list[InboundMessage] = []
        self.refused = 0
        self._server = StatusServer(respond=self._respond)

    @property
    def url(self) -> str:
        return self._server.url + HOOK_PATH

    def __enter__(self) -> Hub:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def _respond(self, recorded: Recorded) -> Reply:
        answer = self.handle(WebhookRequest(
            tenant_id="t-acme", channel="twilio", method=recorded.method, public_url=self._server.url + recorded.path,
            headers=recorded.headers, query=dict(parse_qsl(recorded.path.partition("?")[2])), body=recorded.body,
            received_at=NOW))
        return Reply(answer.status_code, answer.body.encode(), answer.headers)

    def handle(self, request: WebhookRequest) -> WebhookResponse:
        hub = registry()
        try:
            hub.verify("twilio", request, self.config)
        except VerificationFailed:
            self.refused += 1
            return WebhookResponse(401, "")
        updates = hub.status("twilio", request, self.config)
        if updates is None:
            self.parsed.extend(hub.parse("twilio", request, self.config))
        else:
            self.updates.extend(updates)
        answer = hub.respond("twilio", request, self.config, IngestReport())
        assert answer is not None
        return answer


def status_of(params: Params) -> list[StatusUpdate] | None:
    """The status hook's reading of a verified callback."""
    request, cfg = form_request(params), webhook_config()
    registry().verify("twilio", request, cfg)
    return registry().status("twilio", request, cfg)


def callback(status: str, **extra: str) -> Params:
    """A message status callback as Twilio posts it."""
    params = [("MessageSid", MESSAGE), ("SmsSid", MESSAGE), ("AccountSid", ACCOUNT), ("From", "+18005551212"),
              ("To", "+14155550100"), ("MessageStatus", status), ("SmsStatus", status), ("ApiVersion", "2010-04-01")]
    return params + list(extra.items())


@pytest.fixture
def hub() -> Iterator[Hub]:
    with Hub(config("https://api.twilio.com")) as server:
        yield server


# -- the round trip ---------------------------------------------------------------------------


def test_a_sent_replys_signed_callbacks_become_status_updates(hub: Hub) -> None:
    with FakeTwilio(ACCOUNT, AUTH, callback_delay=0) as fake:
        outcome = send(reply(callback=hub.url), config(fake.url))
        callbacks = fake.wait_for_callbacks(2)
    sid = outcome.provider_message_id
    assert sid is not None
    assert [(c.url, c.status, c.answer) for c in callbacks] == [(hub.url, "sent", 200), (hub.url, "delivered", 200)]
    assert hub.updates == [StatusUpdate(provider_message_id=sid, status="sent", occurred_at=NOW),
                           StatusUpdate(provider_message_id=sid, status="delivered", occurred_at=NOW)]
    assert (hub.parsed, hub.refused) == ([], 0)


def test_whatsapp_read_receipts_are_read(hub: Hub) -> None:
    with FakeTwilio(ACCOUNT, AUTH, callback_delay=0, callback_statuses=("delivered", "read")) as fake:
        send(reply(channel="whatsapp", wrote_to=WHATSAPP_BUSINESS, callback=hub.url), config(fake.url))
        (_, read) = fake.wait_for_callbacks(2)
    assert read.params["To"].startswith("whatsapp:")
    assert [u.status for u in hub.updates] == ["delivered", "read"]


def test_a_refused_callback_is_recorded_and_not_retried() -> None:
    with StatusServer(respond=lambda request: Reply(503)) as down, \
            FakeTwilio(ACCOUNT, AUTH, callback_delay=0, callback_statuses=("sent",)) as fake:
        send(reply(callback=down.url + HOOK_PATH), config(fake.url))
        (posted,) = fake.wait_for_callbacks(1)
        assert posted.answer == 503
        assert len(down.requests) == 1


def test_an_unsigned_status_callback_is_refused(hub: Hub) -> None:
    body = urlencode(callback("delivered")).encode()
    answer = loopback_transport().request("POST", hub.url, body=body, timeout=2.0,
                                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 401
    assert (hub.refused, hub.updates) == (1, [])


def test_a_status_callback_signed_with_another_token_is_refused() -> None:
    request = form_request(callback("delivered"), key="0" * 32)
    hub = Hub(webhook_config())
    assert hub.handle(request).status_code == 401
    assert hub.updates == []


# -- each status --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["sent", "delivered", "read"])
def test_progress_after_sending_is_an_update(status: str) -> None:
    assert status_of(callback(status)) == [StatusUpdate(provider_message_id=MESSAGE, status=status, occurred_at=NOW)]


@pytest.mark.parametrize("status", ["accepted", "scheduled", "queued", "sending", "partially_delivered"])
def test_progress_before_sending_is_a_status_callback_without_updates(status: str) -> None:
    assert status_of(callback(status)) == []


@pytest.mark.parametrize(("status", "code", "reason"), [
    ("undelivered", "30003", "Twilio: the customer's phone is switched off or out of coverage (error 30003)"),
    ("failed", "63016", "Twilio: WhatsApp's 24-hour reply window had closed; the customer must write again first "
                        "(error 63016)"),
    ("undelivered", "30099", "Twilio: the carrier could not deliver the message (error 30099)"),
    ("failed", "", "Twilio: the message could not be sent"),
    ("failed", "n/a", "Twilio: the message could not be sent"),
    ("canceled", "", "Twilio: the message was canceled before it was sent"),
])
def test_failures_carry_twilios_code_and_words(status: str, code: str, reason: str) -> None:
    params = callback(status, ErrorCode=code) if code else callback(status)
    (update,) = status_of(params) or []
    assert (update.status, update.code, update.reason) == ("failed", code if code.isdigit() else None, reason)


def test_a_status_callback_is_answered_with_an_empty_response() -> None:
    answer = Hub(webhook_config()).handle(form_request(callback("delivered")))
    assert answer == WebhookResponse(200, EMPTY_TWIML, {"Content-Type": "text/xml"})


# -- what is not a status callback goes on to parse --------------------------------------------


@pytest.mark.parametrize(("params", "url"), [
    (SMS, None), (MMS, None), (WHATSAPP, None), (INBOUND_CALL, None),
    (RECORDING_CALLBACK, "?event=recording"), (MISSED_CALL, "?event=status"),
    ([("CallSid", "CA1"), ("CallStatus", "completed"), ("MessageStatus", "delivered")], None),
])
def test_messages_and_calls_are_not_status_callbacks(params: Params, url: str | None) -> None:
    request = form_request(params, url=WEBHOOK + (url or ""))
    assert registry().status("twilio", request, webhook_config()) is None
    hub = Hub(webhook_config())
    assert hub.handle(request).status_code == 200  # parsed as before
    assert hub.updates == []


def test_an_inbound_message_is_still_stored() -> None:
    hub = Hub(webhook_config())
    hub.handle(form_request(SMS))
    assert [m.provider_message_id for m in hub.parsed] == [dict(SMS)["MessageSid"]]


def test_what_parse_would_refuse_is_left_to_parse() -> None:
    unknown_marker = form_request(callback("delivered"), url=WEBHOOK + "?event=unknown")
    assert registry().status("twilio", unknown_marker, webhook_config()) is None
    json_hook = replace(form_request(SMS), public_url=WEBHOOK + "?bodySHA256=abc")
    assert registry().status("twilio", json_hook, webhook_config()) is None
