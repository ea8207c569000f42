"""The delivery log (GET /v1/deliveries) and replay (POST /v1/deliveries/replay):
every attempt is logged, dead letters go back on the queue with a fresh budget,
and a tenant only ever sees and replays its own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk.testing import StatusServer

import app as app_module
from chalicelib.hub import Hub
from chalicelib.tenancy.tenants import PluginSetting, TenantRecord
from tests.conftest import Pipeline, signed_web_headers, web_message
from tools.local.demo import DemoTenant

# A customer's first message: its new ticket, the message, and the workflow's triage of
# the ticket (new → open, a ticket.updated), delivered in that order (FIFO per ticket).
FIRST_MESSAGE_EVENTS = ["ticket.created", "message.created", "ticket.updated"]


@pytest.fixture
def client(demo: DemoTenant) -> Any:
    with Client(app_module.app) as test_client:
        yield test_client


def auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def send(client: Any, demo: DemoTenant, text: str, client_id: str) -> None:
    body = web_message(text, client_id=client_id)
    assert client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body)
                            ).status_code == 202


def get(client: Any, key: str, query: str) -> Any:
    response = client.http.get(f"/v1/deliveries?{query}", headers=auth(key))
    return response.status_code, json.loads(response.body)


def replay(client: Any, key: str, body: dict[str, Any]) -> Any:
    response = client.http.post("/v1/deliveries/replay", body=json.dumps(body),
                                headers=auth(key) | {"content-type": "application/json"})
    return response.status_code, json.loads(response.body)


def test_every_attempt_is_logged_by_ticket_and_by_connector(
    client: Any, demo: DemoTenant, pipeline: Pipeline, receiver: StatusServer
) -> None:
    send(client, demo, "hello", "c-1")
    pipeline.drain()
    status, by_connector = get(client, demo.api_key, "connector=webhook")
    assert status == 200
    assert [d["event_type"] for d in by_connector["deliveries"]] == FIRST_MESSAGE_EVENTS[::-1], "newest first"
    assert all(d["outcome"] == "delivered" and d["status_code"] == 200 for d in by_connector["deliveries"])
    ticket = by_connector["deliveries"][0]["ticket_id"]
    _, by_ticket = get(client, demo.api_key, f"ticket_id={ticket}")
    assert {d["event_id"] for d in by_ticket["deliveries"]} == {d["event_id"] for d in by_connector["deliveries"]}
    assert "event" not in by_ticket["deliveries"][0], "the envelope stays in the log, not in the listing"


def test_listing_needs_a_ticket_or_a_connector(client: Any, demo: DemoTenant) -> None:
    status, body = get(client, demo.api_key, "")
    assert status == 400
    assert body["error"]["code"] == "bad_payload"


def test_dead_letters_are_replayed_once_the_receiver_is_fixed(
    client: Any, hub: Hub, demo: DemoTenant, pipeline: Pipeline, receiver: StatusServer
) -> None:
    receiver.status = 400  # a permanent failure: straight to the DLQ
    send(client, demo, "hello", "c-1")
    pipeline.drain()
    assert len(pipeline.dead_letters()) == len(FIRST_MESSAGE_EVENTS)
    _, log = get(client, demo.api_key, "connector=webhook")
    assert {d["outcome"] for d in log["deliveries"]} == {"failed"}
    assert len(log["deliveries"]) == len(FIRST_MESSAGE_EVENTS)
    receiver.status = 200
    status, report = replay(client, demo.api_key, {"source": "dlq", "connector": "webhook"})
    assert (status, report["requeued"]) == (200, 3)
    pipeline.drain()
    assert len(receiver.requests) == 2 * len(FIRST_MESSAGE_EVENTS), "each failed once, then arrived once"
    delivered = [json.loads(body)["type"] for _m, _p, _h, body in receiver.requests[-3:]]
    assert sorted(delivered) == sorted(FIRST_MESSAGE_EVENTS)
    assert pipeline.dead_letters() == []
    [record] = hub.audit.list("demo", action="deliveries.replay").records
    assert record.after == {"request": {"source": "dlq", "connector": "webhook", "since": None, "until": None,
                                        "event_ids": []}, "requeued": 3}


def test_replay_from_the_log_resends_delivered_events_with_the_same_id(
    client: Any, demo: DemoTenant, pipeline: Pipeline, receiver: StatusServer
) -> None:
    send(client, demo, "hello", "c-1")
    pipeline.drain()
    first = [h["webhook-id"] for _m, _p, h, _b in receiver.requests]
    assert len(set(first)) == len(first) == len(FIRST_MESSAGE_EVENTS)
    status, report = replay(client, demo.api_key, {"source": "log", "connector": "webhook"})
    assert (status, report["requeued"]) == (200, 3)
    pipeline.drain()
    again = [h["webhook-id"] for _m, _p, h, _b in receiver.requests[len(first):]]
    assert sorted(again) == sorted(first), "a receiver de-duplicates the replay by webhook-id"


def test_a_tenant_neither_sees_nor_replays_another_tenants_deliveries(
    client: Any, demo: DemoTenant, hub: Hub, pipeline: Pipeline, receiver: StatusServer
) -> None:
    receiver.status = 400
    send(client, demo, "hello", "c-1")
    pipeline.drain()
    hub.tenants.put(TenantRecord(id="other-co", name="Other", plugins={
        "webhook": PluginSetting(config={"url": receiver.url, "secret": demo.webhook_secret})}))
    other_key = hub.api_keys.create("other-co", ["tenant-admin"])[1]
    _, listing = get(client, other_key, "connector=webhook")
    assert listing["deliveries"] == []
    status, report = replay(client, other_key, {"source": "dlq"})
    assert (status, report["requeued"], report["scanned"]) == (200, 0, 3)
    assert len(pipeline.dead_letters()) == 3, "the other tenant's dead letters are left in place"


@pytest.mark.parametrize(
    ("body", "status"),
    [({"source": "tape"}, 422), ({"since": "yesterday"}, 422), ({"source": "log"}, 400), ({"bogus": 1}, 422)],
)
def test_bad_replay_requests_are_refused(client: Any, demo: DemoTenant, body: dict[str, Any], status: int) -> None:
    """Field errors are 422 with the fields named; a request that cannot work is 400."""
    answer = replay(client, demo.api_key, body)
    assert answer[0] == status
    if status == 422:
        assert answer[1]["error"]["fields"][0]["field"] == next(iter(body))


def test_replay_needs_a_tenant_admin_key(client: Any, demo: DemoTenant, hub: Hub) -> None:
    reader = hub.api_keys.create("demo", ["read-only"])[1]
    assert replay(client, reader, {})[0] == 403
    assert get(client, reader, "connector=webhook")[0] == 200

