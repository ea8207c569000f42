"""The ``twilio`` channel's replies, against the fake Messages API on loopback.

Every send goes through the registry, as the hub's delivery worker calls it, to
:class:`~tools.local.sandbox.twilio.FakeTwilio`, which checks credentials and
fields like Twilio. Status callbacks are in ``test_twilio_send_status.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from fakes import loopback_allowed, loopback_transport
from pydantic import ValidationError
from switchboard_plugins import twilio
from switchboard_plugins.twilio.config import TwilioConfig
from switchboard_sdk.models import AttachmentRef, Identity
from switchboard_sdk.registry import PluginRegistry, build_plugin_manager
from switchboard_sdk.sending import OutboundMessage, ReplyContext, SendContext, SendOutcome
from switchboard_sdk.testing import Reply, StatusServer, closed_port_url
from switchboard_sdk.transport import Urllib3Transport

from tools.local.sandbox.twilio import FakeTwilio

__all__ = ["loopback_allowed"]  # autouse: configs with loopback URLs validate

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACCOUNT = "AC" + "a1" * 16
AUTH = "f3c1d2e4a5b6978812345678abcdef01"
SERVICE = "MG" + "77" * 16
BUSINESS = "+18005551212"  # the tenant's Twilio number the customer wrote to
CUSTOMER = "+14155550100"
WHATSAPP_BUSINESS = "whatsapp:+14155238886"
HOOK = "https://hub.example.com/hooks/t-acme/twilio"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


def registry() -> PluginRegistry:
    return build_plugin_manager(extra_plugins=[twilio.plugin], load_entry_points=False)


def config(base_url: str, **overrides: Any) -> TwilioConfig:
    fields = {"auth_token": AUTH, "account_sid": ACCOUNT, "api_base_url": base_url, **overrides}
    return TwilioConfig.model_validate({k: v for k, v in fields.items() if v is not None})


def context(timeout: float = 2.0, transport: Urllib3Transport | None = None) -> SendContext:
    return SendContext(http=transport or loopback_transport(), clock=lambda: NOW, timeout_seconds=timeout)


def reply(*, channel: str = "sms", wrote_to: str | None = BUSINESS, text: str = "Your order ships today.",
          attachments: list[AttachmentRef] | None = None, last_inbound: timedelta = timedelta(minutes=5),
          to: Identity | None = None, callback: str | None = HOOK) -> OutboundMessage:
    """A reply to the customer's last message, written on ``channel`` to ``wrote_to``."""
    asked = NOW - last_inbound
    metadata = {"twilio_channel": channel, "account_sid": ACCOUNT} | ({"to": wrote_to} if wrote_to else {})
    return OutboundMessage(
        id="msg_reply_1", tenant_id="t-acme", channel="twilio", ticket_id="tkt_1", ticket_ref="ABC123",
        customer_id="cus_1", to=to or Identity(kind="phone", value=CUSTOMER), text=text,
        attachments=attachments or [], author_name="Grace",
        replying_to=ReplyContext(provider_message_id="SM" + "b5" * 16, received_at=asked, metadata=metadata),
        last_inbound_at=asked, status_callback_url=callback, created_at=NOW - timedelta(seconds=1),
    )


def send(message: OutboundMessage, cfg: TwilioConfig, ctx: SendContext | None = None) -> SendOutcome:
    return registry().send("twilio", message, cfg, ctx or context())


def sent_form(fake: FakeTwilio, index: int = 0) -> dict[str, list[str]]:
    return parse_qs(fake.requests[index].body.decode())


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT, AUTH, callback_statuses=()) as server:
        yield server


# -- what is sent ---------------------------------------------------------------------


def test_an_sms_reply_goes_from_the_number_the_customer_wrote_to(fake: FakeTwilio) -> None:
    outcome = send(reply(), config(fake.url))
    (request,) = fake.requests
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{ACCOUNT}:{AUTH}".encode()).decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent_form(fake) == {"To": [CUSTOMER], "From": [BUSINESS], "Body": ["Your order ships today."],
                               "StatusCallback": [HOOK]}
    (accepted,) = fake.accepted
    assert outcome == SendOutcome.sent(accepted.sid, status_code=201)
    assert accepted.sid.startswith("SM")
    assert len(accepted.sid) == 34


def test_a_messaging_service_sends_when_configured(fake: FakeTwilio) -> None:
    outcome = send(reply(), config(fake.url, messaging_service_sid=SERVICE))
    assert sent_form(fake) == {"To": [CUSTOMER], "MessagingServiceSid": [SERVICE],
                               "Body": ["Your order ships today."], "StatusCallback": [HOOK]}
    assert outcome.kind == "sent"
    assert fake.accepted[0].status == "accepted"


def test_mms_attachments_become_media_urls_in_order(fake: FakeTwilio) -> None:
    photos = [AttachmentRef(url="https://cdn.example.com/label.png", content_type="image/png"),
              AttachmentRef(url="https://cdn.example.com/invoice.pdf", content_type="application/pdf")]
    outcome = send(reply(text="", attachments=photos), config(fake.url))
    form = sent_form(fake)
    assert form["MediaUrl"] == ["https://cdn.example.com/label.png", "https://cdn.example.com/invoice.pdf"]
    assert "Body" not in form
    assert outcome.provider_message_id is not None
    assert outcome.provider_message_id.startswith("MM")


def test_no_status_callback_when_the_hub_does_not_know_its_url(fake: FakeTwilio) -> None:
    send(reply(callback=None), config(fake.url))
    assert "StatusCallback" not in sent_form(fake)


def test_the_status_callback_lives_under_the_configured_public_base_url(fake: FakeTwilio) -> None:
    """Its signatures are checked against that base (verify.signed_url), so the callback must use it."""
    send(reply(), config(fake.url, public_base_url="https://support.example.com/api"))
    assert sent_form(fake)["StatusCallback"] == ["https://support.example.com/api/hooks/t-acme/twilio"]


def test_a_whatsapp_reply_within_24_hours_goes_to_whatsapp_addresses(fake: FakeTwilio) -> None:
    message = reply(channel="whatsapp", wrote_to=WHATSAPP_BUSINESS, last_inbound=timedelta(hours=23, minutes=59))
    outcome = send(message, config(fake.url))
    form = sent_form(fake)
    assert (form["To"], form["From"]) == ([f"whatsapp:{CUSTOMER}"], [WHATSAPP_BUSINESS])
    assert outcome.kind == "sent"


def test_a_whatsapp_reply_after_24_hours_is_refused_before_calling(fake: FakeTwilio) -> None:
    message = reply(channel="whatsapp", wrote_to=WHATSAPP_BUSINESS, last_inbound=timedelta(hours=24))
    outcome = send(message, config(fake.url))
    assert outcome.kind == "window_closed"
    assert "24-hour" in outcome.reason
    assert "2026-01-01 03:04 UTC" in outcome.reason
    assert fake.requests == []


def test_twilios_closed_window_answer_is_window_closed(fake: FakeTwilio) -> None:
    fake.fail_next(63016)
    outcome = send(reply(channel="whatsapp", wrote_to=WHATSAPP_BUSINESS), config(fake.url))
    assert (outcome.kind, outcome.code, outcome.status_code) == ("window_closed", "63016", 400)
    assert outcome.reason.startswith("Twilio: WhatsApp's 24-hour reply window had closed")


# -- refused before calling -----------------------------------------------------------


@pytest.mark.parametrize(("message", "cfg", "words"), [
    (reply(), {"account_sid": None}, "account_sid"),
    (reply(wrote_to=None), {}, "no number to reply from"),
    (reply(to=Identity(kind="visitor", value="twilio-call:CA1")), {}, "no phone number"),
    (reply(text="x" * 1601), {}, "1,600 characters"),
    (reply(text="  "), {}, "no text"),
    (reply(attachments=[AttachmentRef(url="s3://bucket/key.png")]), {}, "attachment 1 is not at an http(s) URL"),
])
def test_what_twilio_would_refuse_fails_before_calling(
    fake: FakeTwilio, message: OutboundMessage, cfg: dict[str, Any], words: str
) -> None:
    outcome = send(message, config(fake.url, **cfg))
    assert outcome.kind == "failed"
    assert outcome.reason.startswith("Twilio: ")
    assert words in outcome.reason
    assert fake.requests == []


def test_without_a_number_a_messaging_service_still_sends(fake: FakeTwilio) -> None:
    assert send(reply(wrote_to=None), config(fake.url, messaging_service_sid=SERVICE)).kind == "sent"


# -- Twilio's refusals --------------------------------------------------------------------


@pytest.mark.parametrize(("code", "words"), [
    (21610, "unsubscribed"),
    (21211, "not a valid phone number"),
    (21614, "not a mobile number"),
])
def test_unsubscribed_and_invalid_numbers_fail_with_twilios_code(fake: FakeTwilio, code: int, words: str) -> None:
    fake.fail_next(code)
    outcome = send(reply(), config(fake.url))
    assert (outcome.kind, outcome.code, outcome.status_code) == ("failed", str(code), 400)
    assert outcome.reason.startswith("Twilio: ")
    assert words in outcome.reason
    assert f"(error {code})" in outcome.reason


def test_refused_credentials_fail_without_showing_them(fake: FakeTwilio) -> None:
    outcome = send(reply(), config(fake.url, auth_token="0" * 32))
    assert outcome == SendOutcome.failed("Twilio: the account SID or auth token was refused", code="20003",
                                         status_code=401)
    assert fake.accepted == []


def test_another_refusal_fails_with_twilios_code_and_message(fake: FakeTwilio) -> None:
    fake.fail_next(21606, message="The From phone number +18005551212 is not a valid, SMS-capable inbound "
                                  "phone number or short code for your account.")
    outcome = send(reply(), config(fake.url))
    assert (outcome.kind, outcome.code) == ("failed", "21606")
    assert outcome.reason == "Twilio: the sending number cannot send messages for this account (error 21606)"
    fake.fail_next(21999, message="Something new")
    assert send(reply(), config(fake.url)).reason == "Twilio: Something new (error 21999)"


def test_an_echoed_auth_token_is_redacted(fake: FakeTwilio) -> None:
    fake.fail_next(21999, message=f"Bad request for token {AUTH}")
    outcome = send(reply(), config(fake.url))
    assert AUTH not in outcome.reason
    assert "[redacted]" in outcome.reason


# -- passing failures ---------------------------------------------------------------------


def test_too_many_requests_is_retried_after_retry_after(fake: FakeTwilio) -> None:
    fake.fail_next(20429, retry_after="30")
    outcome = send(reply(), config(fake.url))
    assert (outcome.kind, outcome.code, outcome.status_code, outcome.retry_after_seconds) == (
        "retry", "20429", 429, 30.0)
    assert outcome.reason == "Twilio: too many requests; trying again later"
    assert send(reply(), config(fake.url)).kind == "sent"  # the next attempt goes through


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(fake: FakeTwilio, status: int) -> None:
    fake.fail_next(20500, status=status)
    outcome = send(reply(), config(fake.url))
    assert (outcome.kind, outcome.status_code) == ("retry", status)


def test_a_proxys_page_is_retried_without_a_code() -> None:
    with StatusServer(respond=lambda request: Reply(502, b"<html>Bad Gateway</html>")) as server:
        outcome = send(reply(), config(server.url))
    assert (outcome.kind, outcome.code, outcome.status_code) == ("retry", None, 502)


def test_a_twilio_that_hangs_is_bounded_by_the_timeout_and_retried(fake: FakeTwilio) -> None:
    fake.delay = 1.5
    outcome = send(reply(), config(fake.url), context(timeout=0.3))
    assert outcome.kind == "retry"
    assert "no answer" in outcome.reason
    # Twilio took the message before the answer was lost: the retry may send it twice (docs: "Replying")
    assert len(fake.accepted) == 1


def test_a_refused_connection_is_retried() -> None:
    outcome = send(reply(), config(closed_port_url()))
    assert outcome.kind == "retry"


def test_a_destination_the_transport_refuses_fails(fake: FakeTwilio) -> None:
    outcome = send(reply(), config(fake.url), context(transport=Urllib3Transport()))  # the production policy
    assert outcome.kind == "failed"
    assert outcome.reason.startswith("Twilio: the API cannot be called")


def test_an_accepted_answer_without_a_sid_is_not_sent_again() -> None:
    with StatusServer(respond=lambda request: Reply.json(201, {"status": "queued"})) as server:
        outcome = send(reply(), config(server.url))
    assert outcome.kind == "failed"
    assert "did not say its SID" in outcome.reason


# -- the fake itself (it stands in for Twilio in make run too) -------------------------------


def fake_post(fake: FakeTwilio, fields: dict[str, str], *, key: str = AUTH) -> tuple[int, dict[str, Any]]:
    from urllib.parse import urlencode

    auth = base64.b64encode(f"{ACCOUNT}:{key}".encode()).decode()
    answer = loopback_transport().request(
        "POST", fake.url + MESSAGES_PATH, body=urlencode(fields).encode(), timeout=2.0,
        headers={"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"})
    return answer.status, json.loads(answer.body)


@pytest.mark.parametrize(("fields", "code"), [
    ({"From": BUSINESS, "Body": "hi"}, 21604),
    ({"To": CUSTOMER, "Body": "hi"}, 21603),
    ({"To": CUSTOMER, "From": BUSINESS}, 21602),
    ({"To": "0800 FLOWERS", "From": BUSINESS, "Body": "hi"}, 21211),
    ({"To": CUSTOMER, "From": BUSINESS, "Body": "x" * 1601}, 21617),
])
def test_the_fake_validates_fields_like_twilio(fake: FakeTwilio, fields: dict[str, str], code: int) -> None:
    status, body = fake_post(fake, fields)
    assert (status, body["code"], body["status"]) == (400, code, 400)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert body["message"]
    assert fake.accepted == []


def test_the_fake_refuses_other_credentials_like_twilio(fake: FakeTwilio) -> None:
    status, body = fake_post(fake, {"To": CUSTOMER, "From": BUSINESS, "Body": "hi"}, key="wrong")
    assert (status, body) == (401, {"code": 20003, "message": "Authenticate",
                                    "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})


def test_the_fake_answers_a_message_resource(fake: FakeTwilio) -> None:
    status, body = fake_post(fake, {"To": CUSTOMER, "From": BUSINESS, "Body": "hi"})
    assert status == 201
    assert {k: body[k] for k in ("account_sid", "to", "from", "body", "status", "direction", "num_media")} == {
        "account_sid": ACCOUNT, "to": CUSTOMER, "from": BUSINESS, "body": "hi", "status": "queued",
        "direction": "outbound-api", "num_media": "0"}
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages/{body['sid']}.json"


# -- the config's reply fields ------------------------------------------------------------------


def test_configs_written_before_replies_stay_valid() -> None:
    cfg = TwilioConfig.model_validate({"auth_token": AUTH})
    assert (cfg.account_sid, cfg.messaging_service_sid, cfg.api_root) == (None, None, "https://api.twilio.com")


@pytest.mark.parametrize(("field", "value", "words"), [
    ("account_sid", "AC123", "the Account SID: AC followed by 32 hexadecimal digits"),
    ("account_sid", SERVICE, "the Account SID"),
    ("messaging_service_sid", ACCOUNT, "a Messaging Service SID: MG followed by 32"),
    ("api_base_url", "ftp://api.twilio.com", "URL"),
    ("api_base_url", "http://169.254.169.254", "169.254.169.254"),
])
def test_reply_fields_are_checked(field: str, value: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TwilioConfig.model_validate({"auth_token": AUTH, field: value})
    assert words in str(caught.value)


def test_the_api_base_url_loses_its_trailing_slash(fake: FakeTwilio) -> None:
    assert config(fake.url + "/").api_root == fake.url
