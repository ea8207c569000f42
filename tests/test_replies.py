"""Agents' replies through the hub, in process: stored queued, sent once through the
channel's send hook by the worker, statuses moved forward by callbacks, failures
visible and retried. The probe channel posts replies to a StatusServer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk.testing import Reply, StatusServer

from chalicelib.hub import Hub
from chalicelib.tenancy.tenants import PluginSetting
from tests.conftest import Pipeline
from tests.erasure_support import Clock, send
from tests.helpers import failed_ids, make_visible, nothing_receivable, receive_records
from tests.probe_plugin import PROBE_TOKEN, ProbeChannel, spec
from tools.local.demo import DemoTenant
from tools.local.pumps import drain


@dataclass
class Desk:
    client: Client
    clock: Clock
    provider: StatusServer
    pipeline: Pipeline
    auth: dict[str, str]
    ticket_id: str

    def reply(self, text: str = "We are on it", **fields: Any) -> Any:
        body = json.dumps({"text": text} | fields)
        return self.client.http.post(f"/v1/tickets/{self.ticket_id}/messages", body=body,
                                     headers=self.auth | {"content-type": "application/json"})

    def messages(self) -> list[dict[str, Any]]:
        answer = self.client.http.get(f"/v1/tickets/{self.ticket_id}", headers=self.auth)
        assert answer.status_code == 200, answer.body
        return list(json.loads(answer.body)["messages"])

    def outbound(self) -> list[dict[str, Any]]:
        return [m for m in self.messages() if m["direction"] == "outbound"]

    def callback(self, *statuses: dict[str, Any]) -> Any:
        return self.client.http.post("/hooks/demo/probe", body=json.dumps({"statuses": list(statuses)}),
                                     headers={"content-type": "application/json", "x-probe-token": PROBE_TOKEN})


@pytest.fixture
def provider() -> Iterator[StatusServer]:
    with StatusServer(200, body=b'{"sid": "PR1"}') as server:
        yield server


@pytest.fixture
def desk(hub: Hub, demo: DemoTenant, pipeline: Pipeline, provider: StatusServer) -> Iterator[Desk]:
    import app as app_module

    clock = Clock()
    hub.clock = clock
    hub.registry.add(ProbeChannel())
    tenant = hub.tenants.get("demo")
    probe = PluginSetting(config={"reply_url": f"{provider.url}/send"})
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"probe": probe}}))
    _, key = hub.api_keys.create("demo", ["reply", "read-only"], name="helpdesk bot")
    with Client(app_module.app) as client:
        send(client, spec("in-1", text="Where is my parcel?"))
        pipeline.drain()
        auth = {"authorization": f"Bearer {key}"}
        tickets = json.loads(client.http.get("/v1/tickets", headers=auth).body)["tickets"]
        yield Desk(client, clock, provider, pipeline, auth, tickets[0]["id"])


def test_a_reply_is_queued_then_sent_once_to_the_customer(desk: Desk, receiver: StatusServer) -> None:
    answer = desk.reply("Your parcel leaves today")
    assert answer.status_code == 202, answer.body
    queued = json.loads(answer.body)["message"]
    assert (queued["status"], queued["direction"], queued["author_name"]) == ("queued", "outbound", "helpdesk bot")
    desk.pipeline.drain()
    assert len(desk.provider.requests) == 1
    sent = desk.provider.requests[0].json()
    assert sent["to"] == {"kind": "email", "value": "ada@example.com"}
    assert sent["text"] == "Your parcel leaves today"
    assert sent["replying_to"]["provider_message_id"] == "in-1", "a reply knows what it answers"
    [reply] = desk.outbound()
    assert (reply["status"], reply["provider_message_id"]) == ("sent", "PR1")
    sent_events = [e for e in (json.loads(r.body) for r in receiver.requests) if e["type"] == "message.sent"]
    assert [e["data"]["message"]["id"] for e in sent_events] == [reply["id"]], "connectors hear it went out, once"


def test_status_callbacks_move_a_reply_forward_only(desk: Desk) -> None:
    desk.reply()
    desk.pipeline.drain()
    assert desk.callback({"provider_message_id": "PR1", "status": "delivered"}).status_code == 202
    desk.callback({"provider_message_id": "PR1", "status": "sent"})  # late
    desk.callback({"provider_message_id": "PR1", "status": "failed", "reason": "late bounce"})  # after delivery
    [reply] = desk.outbound()
    assert reply["status"] == "delivered"
    assert reply["error_reason"] is None
    desk.callback({"provider_message_id": "PR1", "status": "read"})
    assert desk.outbound()[0]["status"] == "read"


def test_a_repeated_client_message_id_sends_nothing_twice(desk: Desk) -> None:
    first = json.loads(desk.reply("once", client_message_id="tab-7:42").body)["message"]
    second = json.loads(desk.reply("once", client_message_id="tab-7:42").body)["message"]
    desk.pipeline.drain()
    assert second["id"] == first["id"]
    assert len(desk.outbound()) == 1
    assert len(desk.provider.requests) == 1


def test_a_note_is_stored_and_never_sent_nor_announced(desk: Desk, receiver: StatusServer) -> None:
    events_before = len(receiver.requests)
    answer = desk.reply("VIP, be nice", internal=True)
    assert answer.status_code == 202
    desk.pipeline.drain()
    [note] = desk.outbound()
    assert note["internal"] is True
    assert note["status"] is None
    assert desk.provider.requests == []
    assert len(receiver.requests) == events_before


def test_a_failed_reply_says_why_is_announced_and_can_be_retried(desk: Desk, receiver: StatusServer) -> None:
    desk.provider.script(Reply(400, b'{"error": "unknown recipient"}'))
    desk.reply("Sorry!")
    desk.pipeline.drain()
    [failed] = desk.outbound()
    assert (failed["status"], failed["error_code"]) == ("failed", "400")
    assert "answered 400" in failed["error_reason"]
    types = [json.loads(r.body)["type"] for r in receiver.requests]
    assert types.count("message.failed") == 1, "connectors hear of the failure"
    retried = desk.client.http.post(f"/v1/tickets/{desk.ticket_id}/messages/{failed['id']}/retry", headers=desk.auth)
    assert retried.status_code == 202
    assert json.loads(retried.body)["message"]["status"] == "queued"
    desk.pipeline.drain()
    [reply] = desk.outbound()
    assert (reply["status"], reply["error_code"], reply["error_reason"]) == ("sent", None, None)
    assert len(desk.provider.requests) == 2, "a retry really sends again"
    again = desk.client.http.post(f"/v1/tickets/{desk.ticket_id}/messages/{failed['id']}/retry", headers=desk.auth)
    assert again.status_code == 409, "only a failed reply is sent again"


def test_passing_failures_are_retried_then_given_up_with_the_last_reason(desk: Desk, hub: Hub) -> None:
    desk.provider.status = 503
    desk.reply("Still there?")
    drain([desk.pipeline.stream])
    for attempt in range(1, hub.settings.max_delivery_attempts + 1):
        record = _send_record(hub)
        result = hub.worker.process([record])
        if attempt < hub.settings.max_delivery_attempts:
            assert failed_ids(result)
            assert nothing_receivable(hub), "a retried send waits out its backoff"
            assert desk.outbound()[0]["status"] == "queued"
            make_visible(hub, record)
    [reply] = desk.outbound()
    assert reply["status"] == "failed"
    assert reply["error_reason"].startswith(f"gave up after {hub.settings.max_delivery_attempts} attempts")
    assert len(desk.provider.requests) == hub.settings.max_delivery_attempts


def test_a_job_delivered_twice_sends_once(desk: Desk, hub: Hub) -> None:
    desk.reply("just once")
    drain([desk.pipeline.stream])
    record = _send_record(hub)
    assert hub.worker.process([record]) == {"batchItemFailures": []}
    assert hub.worker.process([record | {"messageId": "redelivered"}]) == {"batchItemFailures": []}
    assert len(desk.provider.requests) == 1
    assert desk.outbound()[0]["status"] == "sent"


def test_a_send_overtaken_by_a_retry_sends_nothing(desk: Desk, hub: Hub) -> None:
    desk.provider.script(Reply(400, b"{}"))
    desk.reply("first try")
    drain([desk.pipeline.stream])
    first = _send_record(hub)
    hub.worker.process([first])
    reply = desk.outbound()[0]
    desk.client.http.post(f"/v1/tickets/{desk.ticket_id}/messages/{reply['id']}/retry", headers=desk.auth)
    assert hub.worker.process([first | {"messageId": "stale"}]) == {"batchItemFailures": []}
    assert len(desk.provider.requests) == 1, "the stale job of generation 0 sends nothing"
    desk.pipeline.drain()
    assert len(desk.provider.requests) == 2
    assert desk.outbound()[0]["status"] == "sent"


def test_another_tenants_key_cannot_reply_or_retry(desk: Desk, hub: Hub) -> None:
    from chalicelib.tenancy.tenants import TenantRecord

    hub.tenants.put(TenantRecord.model_validate({"id": "other", "name": "Other"}))
    _, key = hub.api_keys.create("other", ["reply", "read-only"], name="other bot")
    other = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    answer = desk.client.http.post(f"/v1/tickets/{desk.ticket_id}/messages", body=b'{"text": "hi"}', headers=other)
    assert answer.status_code == 404
    customer = desk.messages()[0]["customer_id"]
    assert desk.client.http.get(f"/v1/customers/{customer}", headers=other).status_code == 404
    desk.pipeline.drain()
    assert desk.provider.requests == []
    assert desk.outbound() == []


def test_a_key_without_the_reply_scope_cannot_reply(desk: Desk, hub: Hub) -> None:
    _, key = hub.api_keys.create("demo", ["read-only"], name="reader")
    answer = desk.client.http.post(f"/v1/tickets/{desk.ticket_id}/messages", body=b'{"text": "hi"}',
                                   headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
    assert answer.status_code == 403


@pytest.mark.parametrize("body", [b'{"text": ""}', b'{"text": "x", "surprise": 1}', b'{"text": "x", "attachments":'
                                  b' [{"url": "ftp://x"}]}', b'{"text": "x", "client_message_id": "has space"}'])
def test_bad_replies_are_refused_with_field_errors_and_store_nothing(desk: Desk, body: bytes) -> None:
    answer = desk.client.http.post(f"/v1/tickets/{desk.ticket_id}/messages", body=body,
                                   headers=desk.auth | {"content-type": "application/json"})
    assert answer.status_code in (400, 422), answer.body
    assert "error" in json.loads(answer.body)
    assert desk.outbound() == []


def test_the_customer_with_identities_and_tickets(desk: Desk) -> None:
    detail = json.loads(desk.client.http.get(f"/v1/tickets/{desk.ticket_id}", headers=desk.auth).body)
    customer_id = detail["customer"]["id"]
    assert {"kind": "email", "value": "ada@example.com"} in detail["customer"]["identities"]
    answer = json.loads(desk.client.http.get(f"/v1/customers/{customer_id}", headers=desk.auth).body)
    assert [t["id"] for t in answer["tickets"]] == [desk.ticket_id]


def _send_record(hub: Hub) -> dict[str, Any]:
    """The one send job queued; connector jobs received with it are delivered on the way."""
    records = receive_records(hub)
    sends = [r for r in records if '"send"' in r["body"]]
    for record in records:
        if record not in sends:  # delivered and deleted, as Lambda's event source mapping does
            assert hub.worker.process([record]) == {"batchItemFailures": []}
            hub.aws.sqs.delete_message(QueueUrl=hub.settings.queue_url, ReceiptHandle=record["receiptHandle"])
    assert len(sends) == 1, records
    return sends[0]


@pytest.mark.parametrize(("action", "status", "expected"), [
    ("failed", "5.1.1", ("failed", "5.1.1", "probe: the recipient's server returned the reply (status 5.1.1)")),
    ("delayed", "4.4.7", ("sent", None, None)),  # a delay notice fails nothing
])
def test_a_bounce_naming_a_sent_reply_fails_it_with_the_servers_status(
    desk: Desk, action: str, status: str, expected: tuple[str, str | None, str | None]
) -> None:
    desk.reply("This may bounce")
    desk.pipeline.drain()
    notice = spec("dsn-1", email=None, kind="delivery_failure", opens_ticket=False,
                  thread={"provider_ids": ["PR1"]}, metadata={"dsn_action": action, "dsn_status": status})
    send(desk.client, notice)
    desk.pipeline.drain()
    [reply] = desk.outbound()
    assert (reply["status"], reply["error_code"], reply["error_reason"]) == expected


class CrashOnce:
    """A DynamoDB client that stops the worker (as a crash would) at the first call
    ``stops`` picks, then behaves."""

    def __init__(self, client: Any, stops: Any) -> None:
        self._client, self._stops, self.crashed = client, stops, False

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)

        def maybe_crash(**kwargs: Any) -> Any:
            if not self.crashed and self._stops(name, kwargs):
                self.crashed = True
                raise SystemExit("worker stopped")
            return call(**kwargs)

        return maybe_crash


def _stopped_once(desk: Desk, hub: Hub, stops: Any) -> int:
    """Send one reply with the worker stopped once where ``stops`` says, then let the
    job come back as SQS would; returns how many requests the provider got."""
    desk.reply("Exactly once, please")
    drain([desk.pipeline.stream])
    record = _send_record(hub)
    crashing = CrashOnce(hub.store.client, stops)
    hub.store.client = crashing
    try:
        with pytest.raises(SystemExit):
            hub.worker.process([record])
        make_visible(hub, record)
        hub.worker.process(receive_records(hub))
    finally:
        hub.store.client = crashing._client
    assert desk.outbound()[0]["status"] == "sent"
    return len(desk.provider.requests)


def test_a_worker_stopped_before_the_provider_call_sends_once(desk: Desk, hub: Hub) -> None:
    assert _stopped_once(desk, hub, lambda name, kwargs: name == "query") == 1


def test_the_duplicate_window_between_the_providers_answer_and_our_write(desk: Desk, hub: Hub) -> None:
    """Documented (chalicelib/outbound/sender.py): the provider accepted the reply and the
    worker stopped before recording it; the job comes back and sends again."""
    def after_the_send(name: str, kwargs: dict[str, Any]) -> bool:
        return name == "update_item" and "#PM#" in kwargs["Key"]["pk"]["S"]

    assert _stopped_once(desk, hub, after_the_send) == 2


def test_a_reply_too_large_for_one_item_is_sent_and_answered_whole(desk: Desk) -> None:
    """Its text is kept in parts beside the item (storage/documents.py): sent, and read back, whole."""
    text = "中" * 30_000  # 90 KB of UTF-8: over one item's inline document
    first = json.loads(desk.reply(text, client_message_id="long-1").body)["message"]
    again = json.loads(desk.reply(text, client_message_id="long-1").body)["message"]
    desk.pipeline.drain()
    assert again["id"] == first["id"]
    assert again["text"] == text, "the repeat answers with the whole first reply"
    assert len(desk.provider.requests) == 1
    assert desk.provider.requests[0].json()["text"] == text
    assert desk.outbound()[0]["status"] == "sent"
