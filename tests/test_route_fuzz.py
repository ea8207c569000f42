"""Hostile input through the real route, per channel, signed and unsigned.

Whatever a sender posts — garbage, or garbage correctly signed with the tenant's
own secret (a compromised provider account, a buggy provider) — the hub answers
below 500, never shows a stack trace, and a refused request leaves nothing
behind: no table item, no stored object. A genuine-but-unparseable payload is
accepted and quarantined instead of being retried by the provider for hours.

The email channel also takes the CPython email test corpus (tests/data/cpython_email,
see its SOURCE.md) as signed Mailgun MIME posts.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from switchboard_sdk import standard_webhooks

import app as app_module
from chalicelib.hub import Hub
from tests.conftest import bucket_keys, table_items
from tools.local.demo import DemoTenant, seed_demo_tenant

CORPUS = Path(__file__).parent / "data" / "cpython_email"
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))

Post = Callable[[str, bytes, dict[str, str]], Any]


@pytest.fixture
def demo(hub: Hub, receiver: Any) -> DemoTenant:
    return seed_demo_tenant(hub, hub_url="http://testserver", receiver_url=receiver.url)


@pytest.fixture
def post(hub: Hub) -> Iterator[Post]:
    with Client(app_module.app) as client:
        def send(path: str, body: bytes, headers: dict[str, str]) -> Any:
            return client.http.post(path, body=body, headers=headers)

        yield send


def _footprint(hub: Hub) -> tuple[int, int]:
    return len(table_items(hub)), len(bucket_keys(hub))


def _check(hub: Hub, answer: Any, before: tuple[int, int]) -> None:
    """No 5xx, no trace, and a refusal writes nothing."""
    body = answer.body.decode("utf-8", "replace") if isinstance(answer.body, bytes) else str(answer.body)
    assert answer.status_code < 500, body[:500]
    assert "Traceback" not in body
    assert 'File "' not in body
    if answer.status_code >= 400:
        assert _footprint(hub) == before, f"{answer.status_code} left something behind: {body[:200]}"


text = st.text(st.characters(codec="utf-8"), max_size=300)
raw_bytes = st.binary(max_size=600)
form = st.dictionaries(st.text(min_size=1, max_size=20), text, max_size=8)


# -- unsigned: every channel refuses before doing real work -------------------------


@pytest.mark.parametrize("channel", ["web", "twilio", "wechat", "email"])
def test_unsigned_garbage_is_refused_and_leaves_nothing(hub: Hub, demo: DemoTenant, post: Post, channel: str) -> None:
    content_types = ["application/json", "application/x-www-form-urlencoded", "text/xml",
                     "multipart/form-data; boundary=xyz"]

    @FUZZ
    @given(body=raw_bytes, content_type=st.sampled_from(content_types), query=form)
    def run(body: bytes, content_type: str, query: dict[str, str]) -> None:
        before = _footprint(hub)
        answer = post(f"/hooks/demo/{channel}?{urlencode(query)}", body, {"Content-Type": content_type})
        _check(hub, answer, before)
        assert answer.status_code >= 400

    run()


# -- signed garbage: verified, then parsed or quarantined, never a 5xx ---------------


def test_signed_web_garbage(hub: Hub, demo: DemoTenant, post: Post) -> None:
    @FUZZ
    @given(body=st.one_of(raw_bytes, st.builds(lambda t: t.encode(), text),
                          st.dictionaries(st.sampled_from(["text", "visitor_id", "client_message_id", "email",
                                                           "name", "attachments", "phone"]),
                                          st.one_of(text, st.integers(), st.none(), st.lists(text, max_size=3)))
                          .map(lambda d: __import__("json").dumps(d).encode())))
    def run(body: bytes) -> None:
        before = _footprint(hub)
        headers = standard_webhooks.signed_headers(demo.web_secret, f"msg_{secrets.token_hex(8)}",
                                                   int(time.time()), body)
        _check(hub, post("/hooks/demo/web", body, headers | {"Content-Type": "application/json"}), before)

    run()


def test_signed_twilio_garbage(hub: Hub, demo: DemoTenant, post: Post) -> None:
    from switchboard_plugins.twilio.signing import signature

    base = {"MessageSid": "SM" + "0" * 32, "AccountSid": "AC" + "0" * 32, "From": "+14155550100",
            "To": "+15005550006", "Body": "hi"}

    @FUZZ
    @given(fields=form, keep=st.sets(st.sampled_from(sorted(base))))
    def run(fields: dict[str, str], keep: set[str]) -> None:
        params = {k: v for k, v in base.items() if k in keep} | fields
        url = "http://testserver/hooks/demo/twilio"
        headers = {"X-Twilio-Signature": signature(demo.channels["twilio"]["auth_token"], url,
                                                   {k: [v] for k, v in params.items()}),
                   "Content-Type": "application/x-www-form-urlencoded"}
        before = _footprint(hub)
        _check(hub, post("/hooks/demo/twilio", urlencode(params).encode(), headers), before)

    run()


def test_signed_wechat_garbage(hub: Hub, demo: DemoTenant, post: Post) -> None:
    from switchboard_plugins.wechat.crypto import WeChatCrypto, sign

    config = demo.channels["wechat"]
    crypto = WeChatCrypto(config["token"], config["encoding_aes_key"], config["app_id"])
    xmlish = st.one_of(text, st.builds(lambda t, m: f"<xml><MsgType>{m}</MsgType><Content>{t}</Content></xml>",
                                       text, st.sampled_from(["text", "image", "event", "voice", "", "?"])))

    @FUZZ
    @given(inner=xmlish)
    def run(inner: str) -> None:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        body, msg_signature = crypto.encrypted_request(inner, timestamp=timestamp, nonce=nonce,
                                                       random16=secrets.token_bytes(16), to_user="gh_demo")
        query = {"signature": sign(config["token"], timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                 "openid": "oFuzz", "encrypt_type": "aes", "msg_signature": msg_signature}
        before = _footprint(hub)
        _check(hub, post(f"/hooks/demo/wechat?{urlencode(query)}", body, {"Content-Type": "text/xml"}), before)

    run()


def _mailgun(demo: DemoTenant, fields: dict[str, str]) -> bytes:
    from switchboard_plugins.email.signing import mailgun_signature

    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signed = {"recipient": "support@demo.example", "timestamp": timestamp, "token": token,
              "signature": mailgun_signature(demo.channels["email"]["mailgun_signing_key"], timestamp, token)}
    return urlencode(fields | signed).encode()


def test_signed_mailgun_garbage(hub: Hub, demo: DemoTenant, post: Post) -> None:
    names = ["body-mime", "message-headers", "content-id-map", "sender", "from", "subject", "body-plain",
             "body-html", "stripped-text", "Message-Id", "In-Reply-To", "attachment-count"]

    @FUZZ
    @given(fields=st.dictionaries(st.sampled_from(names), text, max_size=6), mime=st.booleans())
    def run(fields: dict[str, str], mime: bool) -> None:
        path = "/hooks/demo/email/mime" if mime else "/hooks/demo/email"
        before = _footprint(hub)
        answer = post(path, _mailgun(demo, fields), {"Content-Type": "application/x-www-form-urlencoded"})
        _check(hub, answer, before)

    run()


def test_the_cpython_email_corpus_never_fails_the_route(hub: Hub, demo: DemoTenant, post: Post) -> None:
    corpus = sorted(CORPUS.glob("msg_*.txt"))
    assert len(corpus) >= 40
    answers = {}
    for path in corpus:
        raw = path.read_bytes().decode("latin-1")  # as Mailgun posts it: the message as form text
        before = _footprint(hub)
        answer = post("/hooks/demo/email/mime", _mailgun(demo, {"body-mime": raw}),
                      {"Content-Type": "application/x-www-form-urlencoded"})
        _check(hub, answer, before)
        answers[path.name] = answer.status_code
    assert set(answers.values()) == {200}, answers
