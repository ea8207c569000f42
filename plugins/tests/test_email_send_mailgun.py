"""Email replies through the Mailgun messages API, against the sandbox's FakeMailgun on loopback."""

from __future__ import annotations

import base64
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from email_replies import NOW, REF
from email_replies import outbound as email_reply
from switchboard_plugins.email.config import EmailConfig
from switchboard_plugins.email.send import send
from switchboard_sdk.fake_http import Reply, StatusServer, closed_port_url
from switchboard_sdk.netguard import LOOPBACK, OutboundPolicy, validation_context
from switchboard_sdk.sending import OutboundMessage, SendContext, SendOutcome
from switchboard_sdk.transport import Urllib3Transport

from tools.local.sandbox.mailgun import FakeMailgun

API_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"  # a test key
TIMEOUT = 0.5




def outbound(**overrides: Any) -> OutboundMessage:
    return email_reply(**{"id": "msg_01JMAILGUN", **overrides})


def config(base_url: str, **overrides: Any) -> EmailConfig:
    fields = {"from_address": "support@acme.test", "from_name": "Acme Support", "mailgun_api_key": API_KEY,
              "mailgun_domain": "mg.acme.test", "api_base_url": base_url, **overrides}
    return EmailConfig.model_validate(fields, context=validation_context(OutboundPolicy.parse(LOOPBACK)))


def deliver(cfg: EmailConfig, message: OutboundMessage | None = None) -> SendOutcome:
    transport = Urllib3Transport(policy=OutboundPolicy.parse(LOOPBACK))
    context = SendContext(http=transport, clock=lambda: NOW, timeout_seconds=TIMEOUT)
    return send(message or outbound(), cfg, context)


@pytest.fixture
def fake() -> Iterator[FakeMailgun]:
    with FakeMailgun(API_KEY, domains=("mg.acme.test",)) as server:
        yield server


def test_a_reply_is_posted_as_mime_and_sent_with_its_message_id(fake: FakeMailgun) -> None:
    outcome = deliver(config(fake.url))
    assert (outcome.kind, outcome.status_code) == ("sent", 200)
    assert outcome.provider_message_id == "msg_01JMAILGUN@acme.test"  # Mailgun keeps ours, without <>
    (request,) = fake.requests
    assert request.path == "/v3/mg.acme.test/messages.mime"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"api:{API_KEY}".encode()).decode()
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    (mail,) = fake.accepted
    assert mail.to == ("ada@example.com",)
    assert mail.header("In-Reply-To") == "<reply-1@example.com>"
    assert mail.header("Reply-To") == f"Acme Support <support+{REF}@acme.test>"
    assert mail.subject == f"Re: Order 1042 [#{REF}]"
    assert mail.text.replace("\r\n", "\n") == "Your refund is on its way.\n"


def test_the_sending_domain_defaults_to_the_from_address(fake: FakeMailgun) -> None:
    fake.domains = ()
    assert deliver(config(fake.url, mailgun_domain=None)).kind == "sent"
    assert fake.requests[0].path == "/v3/acme.test/messages.mime"


def test_a_mailgun_key_makes_mailgun_the_default_and_send_via_wins(fake: FakeMailgun) -> None:
    assert config(fake.url).sender == "mailgun"
    assert config(fake.url, send_via="ses").sender == "ses"
    assert config(fake.url, mailgun_api_key=None).sender == "ses"


def test_a_refused_key_fails_without_revealing_it(fake: FakeMailgun) -> None:
    outcome = deliver(config(fake.url, mailgun_api_key="key-wrong-0000000"))
    assert (outcome.kind, outcome.code, outcome.status_code) == ("failed", "401", 401)
    assert outcome.reason == "Mailgun: the API key was refused"


def test_a_bad_request_fails_with_mailguns_words(fake: FakeMailgun) -> None:
    fake.fail_next(400, "'to' parameter is not a valid address. please check documentation")
    outcome = deliver(config(fake.url))
    assert (outcome.kind, outcome.code) == ("failed", "400")
    assert outcome.reason == "Mailgun refused the message (400): 'to' parameter is not a valid address. please " \
                             "check documentation"


def test_an_unknown_domain_hints_at_the_eu_region(fake: FakeMailgun) -> None:
    outcome = deliver(config(fake.url, mailgun_domain="mg.other.test"))
    assert (outcome.kind, outcome.code) == ("failed", "404")
    assert "Domain not found: mg.other.test" in outcome.reason
    assert "https://api.eu.mailgun.net" in outcome.reason


def test_rate_limits_are_retried_after_retry_after(fake: FakeMailgun) -> None:
    fake.fail_next(429, "Too many requests", retry_after="30")
    outcome = deliver(config(fake.url))
    assert (outcome.kind, outcome.code, outcome.retry_after_seconds) == ("retry", "429", 30.0)
    assert outcome.reason == "Mailgun answered 429: Too many requests"
    assert deliver(config(fake.url)).kind == "sent"  # the next attempt goes through
    assert len(fake.accepted) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried(fake: FakeMailgun, status: int) -> None:
    fake.fail_next(status, "Internal Server Error")
    outcome = deliver(config(fake.url))
    assert (outcome.kind, outcome.status_code) == ("retry", status)


def test_a_hanging_mailgun_is_retried(fake: FakeMailgun) -> None:
    fake.delay = TIMEOUT + 1.0
    outcome = deliver(config(fake.url))
    assert outcome.kind == "retry"
    assert outcome.reason.startswith("Mailgun: no answer")


def test_a_refused_connection_is_retried() -> None:
    assert deliver(config(closed_port_url())).kind == "retry"


def test_an_echoed_key_is_redacted() -> None:
    echo = Reply.json(503, {"message": f"upstream said {API_KEY}"})
    with StatusServer(respond=lambda request: echo) as server:
        outcome = deliver(config(server.url))
    assert outcome.kind == "retry"
    assert API_KEY not in outcome.reason
    assert "[redacted]" in outcome.reason


def test_an_answer_without_an_id_falls_back_to_our_message_id() -> None:
    with StatusServer(respond=lambda request: Reply.json(200, {"message": "Queued. Thank you."})) as server:
        outcome = deliver(config(server.url))
    assert (outcome.kind, outcome.provider_message_id) == ("sent", "msg_01JMAILGUN@acme.test")


def test_without_an_api_key_mailgun_cannot_send() -> None:
    outcome = deliver(config(closed_port_url(), mailgun_api_key=None, send_via="mailgun"))
    assert (outcome.kind, outcome.code) == ("failed", "no_api_key")


def test_the_plain_messages_endpoint_of_the_fake(fake: FakeMailgun) -> None:
    # the sandbox also takes Mailgun's field form (make run's tools may use it); checked like Mailgun
    auth = "Basic " + base64.b64encode(f"api:{API_KEY}".encode()).decode()
    fields = {"from": "support@acme.test", "to": "ada@example.com", "subject": "Hi", "text": "Hello",
              "h:Message-ID": "<own-1@acme.test>"}
    req = urllib.request.Request(  # noqa: S310 - the loopback fake
        f"{fake.url}/v3/mg.acme.test/messages", data=urlencode(fields).encode(), method="POST",
        headers={"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=5) as answer:
        assert answer.status == 200
    assert fake.accepted[0].id == "<own-1@acme.test>"
    assert fake.accepted[0].text == "Hello"
