"""Mailgun's one-time token, through the real route: claimed once, atomically,
before anything is stored. A captured token cannot carry another body in — not
even five at once — while Mailgun's own retry of a request that failed (5xx,
429) still gets in and is stored once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client
from switchboard_sdk import RateLimited

import app as app_module
from chalicelib.hub import Hub
from tests.conftest import AtomicCalls, table_items
from tests.sealed_docs import doc_of
from tools.local import samples
from tools.local.demo import DemoTenant

URL = "/hooks/demo/email/mime"


@pytest.fixture
def client(demo: DemoTenant) -> Iterator[Any]:
    with Client(app_module.app) as test_client:
        yield test_client


def signed_form(demo: DemoTenant, raw: bytes, *, token: str, timestamp: str, reverse: bool = False) -> bytes:
    """A Mailgun route POST ("mime" variant) carrying ``token``; ``reverse`` sends
    the same fields in another order (a retry need not repeat the bytes)."""
    from switchboard_plugins.email.signing import mailgun_signature

    key = demo.channels["email"]["mailgun_signing_key"]
    fields = [("recipient", "support@demo.example"), ("timestamp", timestamp), ("token", token),
              ("signature", mailgun_signature(key, timestamp, token)), ("body-mime", raw.decode())]
    return urlencode(fields[::-1] if reverse else fields).encode()


def mail(n: int) -> tuple[bytes, str]:
    return samples.email_mime(f"message {n}", sender="ada@example.com", subject=f"Subject {n}",
                              message_id=f"m{n}@example.com")


def post(client: Any, body: bytes) -> Any:
    return client.http.post(URL, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})


def stored_ids(hub: Hub) -> set[str]:
    return {doc_of(hub, i)["provider_message_id"] for i in table_items(hub, "inbound")}


def code(response: Any) -> str:
    return str(json.loads(response.body)["error"]["code"])


def test_five_concurrent_posts_with_one_token_and_five_bodies_store_exactly_one(
    hub: Hub, demo: DemoTenant, client: Any
) -> None:
    hub.aws.use("dynamodb", AtomicCalls(hub.aws.dynamodb))  # one call at a time, as DynamoDB applies them
    for cached in ("store", "ingestor"):
        hub.__dict__.pop(cached, None)
    stamp = str(int(time.time()))
    bodies = [signed_form(demo, mail(n)[0], token="captured-token", timestamp=stamp) for n in range(5)]
    barrier, answers = threading.Barrier(len(bodies)), []

    def deliver(body: bytes) -> None:
        barrier.wait()
        answers.append(post(client, body))

    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [200, 401, 401, 401, 401]
    assert all(code(a) == "verification_failed" for a in answers if a.status_code == 401)
    assert len(stored_ids(hub)) == 1
    assert len(table_items(hub, "replay")) == 1


class FailsOnce:
    """A DynamoDB client whose first write of an inbound record fails, as a
    throttled or unavailable table would; every other call goes through."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_item(self, **kwargs: Any) -> Any:
        if not self.failed and kwargs["Item"].get("type") == {"S": "inbound"}:
            self.failed = True
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "try again"}}, "PutItem")
        return self._client.put_item(**kwargs)


def test_mailgun_retrying_after_our_5xx_gets_in_and_a_replay_with_another_body_does_not(
    hub: Hub, demo: DemoTenant, client: Any
) -> None:
    flaky = FailsOnce(hub.aws.dynamodb)
    hub.aws.use("dynamodb", flaky)
    for cached in ("store", "ingestor"):
        hub.__dict__.pop(cached, None)
    stamp = str(int(time.time()))
    (genuine, genuine_id), (forged, _) = mail(1), mail(2)
    first = post(client, signed_form(demo, genuine, token="tok-1", timestamp=stamp))
    assert first.status_code == 500
    assert flaky.failed
    assert stored_ids(hub) == set()
    replay = post(client, signed_form(demo, forged, token="tok-1", timestamp=stamp))
    assert replay.status_code == 401, "the token was claimed for the genuine request before it failed"
    assert code(replay) == "verification_failed"
    retry = post(client, signed_form(demo, genuine, token="tok-1", timestamp=stamp, reverse=True))
    assert retry.status_code == 200, "Mailgun's retry: same messages, even with the fields in another order"
    assert stored_ids(hub) == {genuine_id}


def test_mailgun_retrying_after_a_429_gets_in(hub: Hub, demo: DemoTenant, client: Any) -> None:
    refusals = [RateLimited("over the tenant's webhook rate", retry_after_seconds=1)]

    def refuse_once(tenant_id: str) -> None:
        if refusals:
            raise refusals.pop()

    hub.__dict__["ingestor"] = replace(hub.ingestor, rate_limit=refuse_once)
    raw, message_id = mail(1)
    body = signed_form(demo, raw, token="tok-429", timestamp=str(int(time.time())))
    refused = post(client, body)
    assert refused.status_code == 429
    assert code(refused) == "rate_limited"
    assert stored_ids(hub) == set(), "refused before anything was stored"
    assert post(client, body).status_code == 200
    assert stored_ids(hub) == {message_id}


def test_the_same_request_again_is_answered_alike_and_stored_once(hub: Hub, demo: DemoTenant, client: Any) -> None:
    raw, message_id = mail(1)
    body = signed_form(demo, raw, token="tok-same", timestamp=str(int(time.time())))
    answers = [post(client, body) for _ in range(3)]
    assert {(a.status_code, a.body) for a in answers} == {(answers[0].status_code, answers[0].body)}
    assert answers[0].status_code == 200
    assert stored_ids(hub) == {message_id}


def test_a_quarantined_body_claims_its_token_too(hub: Hub, demo: DemoTenant, client: Any) -> None:
    stamp = str(int(time.time()))
    unreadable = post(client, signed_form(demo, b"no headers at all", token="tok-q", timestamp=stamp))
    assert unreadable.status_code == 200
    assert table_items(hub, "inbound") == []
    assert post(client, signed_form(demo, b"no headers at all", token="tok-q", timestamp=stamp)).status_code == 200
    assert post(client, signed_form(demo, mail(1)[0], token="tok-q", timestamp=stamp)).status_code == 401
    assert table_items(hub, "inbound") == []
