"""Two-way conversations end to end, over real HTTP on the local runtime `make run`
starts: the demo agent signs in (POST /v1/session → a Cognito JWT from the emulator's
user pool), a customer writes on a channel, the agent answers, the provider sandbox
receives a correctly authenticated request, and its signed status callback makes the
ticket show the reply `delivered`; a refused send shows why and is sent again."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from chalicelib.hub import Hub
from tests.helpers import local_runtime, wait_for
from tools.local import samples
from tools.local.demo import DemoTenant
from tools.local.provider_sandbox import ProviderSandbox

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


class Desk:
    """The demo agent at the hub's HTTP API."""

    def __init__(self, demo: DemoTenant, sandbox: ProviderSandbox) -> None:
        self.demo, self.sandbox = demo, sandbox
        status, tokens = request(f"{demo.hub_url}/v1/session", {"email": demo.agent_email,
                                                                 "password": demo.agent_password})
        assert status == 200, tokens
        self.auth = {"Authorization": f"Bearer {tokens['id_token']}"}

    def ticket_of(self, channel: str, text: str) -> str:
        def find() -> str | None:
            for ticket in request(f"{self.demo.hub_url}/v1/tickets", headers=self.auth)[1]["tickets"]:
                if ticket["channel"] == channel and any(m["text"].strip() == text for m in self.messages(ticket["id"])):
                    return str(ticket["id"])
            return None

        return str(wait_for(find, f"the {channel} ticket of {text!r}"))

    def messages(self, ticket_id: str) -> list[dict[str, Any]]:
        status, detail = request(f"{self.demo.hub_url}/v1/tickets/{ticket_id}", headers=self.auth)
        assert status == 200, detail
        return list(detail["messages"])

    def reply(self, ticket_id: str, text: str) -> dict[str, Any]:
        status, answer = request(f"{self.demo.hub_url}/v1/tickets/{ticket_id}/messages", {"text": text},
                                 headers=self.auth)
        assert status == 202, answer
        return dict(answer["message"])

    def retry(self, ticket_id: str, message_id: str) -> dict[str, Any]:
        status, answer = request(f"{self.demo.hub_url}/v1/tickets/{ticket_id}/messages/{message_id}/retry", {},
                                 headers=self.auth)
        assert status == 202, answer
        return dict(answer["message"])

    def settled(self, ticket_id: str, message_id: str, *statuses: str) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            found = next(m for m in self.messages(ticket_id) if m["id"] == message_id)
            return found if found["status"] in statuses else None

        return dict(wait_for(probe, f"reply {message_id} to be {' or '.join(statuses)}"))


def request(url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    sent = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                  headers={"Content-Type": "application/json"} | (headers or {}))
    try:
        with urllib.request.urlopen(sent, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def post(sample: samples.Sample) -> int:
    sent = urllib.request.Request(sample.url, data=sample.body, headers=sample.headers, method="POST")
    with urllib.request.urlopen(sent, timeout=10) as answer:
        return int(answer.status)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, DemoTenant, ProviderSandbox, Path]]:
    state = tmp_path_factory.mktemp("state")
    started: list[Any] = []
    with local_runtime(state, started=started, queue_workers=1) as (hub, demo):
        assert started[0].sandbox is not None
        yield hub, demo, started[0].sandbox, state


@pytest.fixture(scope="module")
def desk(runtime: tuple[Hub, DemoTenant, ProviderSandbox, Path]) -> Desk:
    return Desk(runtime[1], runtime[2])


def sms(desk: Desk, text: str, sender: str) -> str:
    token = desk.demo.channels["twilio"]["auth_token"]
    assert post(samples.twilio_sms(desk.demo.hook_url("twilio"), token, text, sender=sender)) == 200
    return desk.ticket_of("twilio", text)


def test_an_sms_answered_by_the_agent_reaches_twilio_and_shows_delivered(desk: Desk) -> None:
    twilio = desk.sandbox.twilio
    assert twilio is not None
    ticket_id = sms(desk, "Where is my parcel?", sender="+14155550142")
    reply = desk.reply(ticket_id, "Your parcel leaves today")
    assert (reply["status"], reply["author_name"]) == ("queued", "Dana Demo")
    delivered = desk.settled(ticket_id, reply["id"], "delivered")
    [sent] = [m for m in twilio.accepted if m.body == "Your parcel leaves today"]
    assert (sent.to, sent.from_) == ("+14155550142", "+15005550006"), "from the number the customer wrote to"
    assert delivered["provider_message_id"] == sent.sid
    assert sent.status_callback is not None
    assert sent.status_callback.startswith(desk.demo.hook_url("twilio"))
    [call] = [r for r in twilio.requests if parse_qs(r.body.decode()).get("Body") == [sent.body]]
    credentials = f"{twilio.account_sid}:{desk.demo.channels['twilio']['auth_token']}"
    assert call.headers["authorization"] == "Basic " + base64.b64encode(credentials.encode()).decode()
    posted = [c for c in twilio.callbacks if c.params["MessageSid"] == sent.sid]
    assert [(c.status, c.answer) for c in posted] == [("sent", 200), ("delivered", 200)], "signed, and accepted"


def test_a_refused_send_shows_why_and_retry_sends_it_again(desk: Desk) -> None:
    twilio = desk.sandbox.twilio
    assert twilio is not None
    ticket_id = sms(desk, "Stop texting me... actually, answer this", sender="+14155550143")
    # the assistant's own answer goes out first: armed before it, the failure would be its
    wait_for(lambda: any(m.to == "+14155550143" for m in twilio.accepted), "the assistant's answer")
    twilio.fail_next(21610)
    reply = desk.reply(ticket_id, "Sorry for the trouble")
    failed = desk.settled(ticket_id, reply["id"], "failed")
    assert failed["error_code"] == "21610"
    assert failed["error_reason"].startswith("Twilio:")
    assert "unsubscribed" in failed["error_reason"]
    assert not [m for m in twilio.accepted if m.body == "Sorry for the trouble"]
    assert desk.retry(ticket_id, reply["id"])["status"] == "queued"
    desk.settled(ticket_id, reply["id"], "delivered")
    assert len([m for m in twilio.accepted if m.body == "Sorry for the trouble"]) == 1


def test_wechat_email_and_web_replies_reach_their_providers(desk: Desk) -> None:
    wechat, mailgun, demo = desk.sandbox.wechat, desk.sandbox.mailgun, desk.demo
    assert wechat is not None
    assert mailgun is not None
    config = demo.channels["wechat"]
    assert post(samples.wechat_text(demo.hook_url("wechat"), token=config["token"],
                                    aes_key=config["encoding_aes_key"], app_id=config["app_id"],
                                    text="我的订单在哪里?", openid="oE2eUser")) == 200
    raw, mail_id = samples.email_mime("My invoice is wrong.", sender="grace@example.com", subject="Invoice 42")
    assert post(samples.mailgun_mime(demo.hook_url("email"), demo.channels["email"]["mailgun_signing_key"],
                                     raw)) == 200
    assert post(samples.web_message(demo.web_hook_url, demo.web_secret, "Hello from the site",
                                    email="linus@example.com", visitor_id="e2e-web")) == 202
    wechat_reply = desk.reply(desk.ticket_of("wechat", "我的订单在哪里?"), "明天发货")
    email_ticket = desk.ticket_of("email", "My invoice is wrong.")
    email_reply = desk.reply(email_ticket, "A corrected invoice is attached.")
    web_reply = desk.reply(desk.ticket_of("web", "Hello from the site"), "Glad to help")
    # WeChat reports no delivery: its API's acceptance is as far as a reply goes
    desk.settled(wechat_reply["ticket_id"], wechat_reply["id"], "sent")
    assert [(m.touser, m.content) for m in wechat.accepted if m.content == "明天发货"] == [("oE2eUser", "明天发货")]
    delivered = desk.settled(email_ticket, email_reply["id"], "delivered")  # Mailgun's signed event
    [mail] = [m for m in mailgun.accepted if m.message_id == delivered["provider_message_id"]]
    assert mail.to == ("grace@example.com",)
    assert mail.header("In-Reply-To") == f"<{mail_id}>", "threads under the customer's mail"
    desk.settled(web_reply["ticket_id"], web_reply["id"], "delivered")
    replies = request(f"{demo.receiver_url}/replies")[1]["replies"]
    assert [r["text"] for r in replies if r["id"] == web_reply["id"]] == ["Glad to help"], "signed, verified"
