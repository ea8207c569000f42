"""``GET /v1/stream/aside`` and ``POST /v1/stream/aside/replay``: the caller's
tenant's entries, paged; replay (tenant-admin) through the stream and
stored-object handlers, audited; and never another tenant's entries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.hub import Hub
from chalicelib.storage.items import to_item
from chalicelib.storage.keys import TenantKeys
from chalicelib.tenancy.tenants import PluginSetting, TenantRecord
from tests.conftest import Pipeline, table_items
from tests.probe_plugin import ProbeChannel, spec
from tests.sealed_docs import opened_items
from tests.test_poison import write_inbound
from tests.test_store import EMAIL, inbound
from tools.local.demo import DemoTenant

B = "other"


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


def call(client: Client, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
    response = client.http.request(method, path, headers={"authorization": f"Bearer {key}",
                                                          "content-type": "application/json"},
                                   body=json.dumps(body).encode() if body is not None else b"")
    return response.status_code, json.loads(response.body)


def poison(hub: Hub, tenant_id: str, name: str) -> None:
    """An inbound record that does not validate: the stream handler sets it aside."""
    write_inbound(hub, tenant_id, name, '{"schema": "from the future"}')


def repair(hub: Hub, tenant_id: str, name: str) -> None:
    write_inbound(hub, tenant_id, name, inbound(name, EMAIL, tenant=tenant_id, text=f"{name} repaired")
                  .model_dump_json())


@pytest.fixture
def other(hub: Hub) -> str:
    """Tenant B, with a tenant-admin key."""
    hub.tenants.put(TenantRecord(id=B, name="Other Co", created_at="2026-11-25T00:00:00Z", plugins={}))
    return hub.api_keys.create(B, ["tenant-admin"], name="b-admin")[1]


def test_entries_are_listed_a_page_at_a_time_to_any_reading_key(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    for n in range(3):
        poison(hub, "demo", f"poison-{n}")
    pipeline.drain()
    reader = hub.api_keys.create("demo", ["read-only"], name="reader")[1]
    seen, cursor = [], None
    while True:
        status, page = call(client, "GET", "/v1/stream/aside?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                            reader)
        assert status == 200, page
        assert len(page["entries"]) <= 2
        seen += page["entries"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len({e["id"] for e in seen}) == 3
    assert {e["record_keys"]["pk"] for e in seen} == {f"T#demo#IN#web#poison-{n}" for n in range(3)}
    entry = seen[0]
    assert (entry["kind"], entry["error"], entry["event_name"]) == ("stream", "ValidationError", "INSERT")
    assert entry["reason"].startswith("ValidationError: ")
    assert entry["object_key"] is None


def test_replay_takes_a_tenant_admin_key_and_is_audited(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    poison(hub, "demo", "fixed")
    poison(hub, "demo", "still-broken")
    pipeline.drain()
    ids = {e["record_keys"]["pk"].rsplit("#", 1)[1]: e["id"] for e in hub.set_aside.entries("demo")}
    agent = hub.api_keys.create("demo", ["agent"], name="agent")[1]
    status, body = call(client, "POST", "/v1/stream/aside/replay", agent, {})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert len(hub.set_aside.entries("demo")) == 2, "a refused replay replays nothing"

    repair(hub, "demo", "fixed")
    status, report = call(client, "POST", "/v1/stream/aside/replay", demo.api_key, {})
    assert status == 200, report
    assert (report["replayed"], report["still_failing"], report["gone"]) == (1, 1, 0)
    outcomes = {r["id"]: (r["outcome"], r["reason"]) for r in report["results"]}
    assert outcomes[ids["fixed"]] == ("replayed", None)
    assert outcomes[ids["still-broken"]][0] == "still_failing"
    assert outcomes[ids["still-broken"]][1].startswith("ValidationError: ")
    assert report["next_cursor"] is None
    assert [e["id"] for e in hub.set_aside.entries("demo")] == [ids["still-broken"]]
    [message] = opened_items(hub, table_items(hub, "message"))
    assert message["text"] == "fixed repaired"

    [record] = [r for r in hub.audit.list("demo").records if r.action == "aside.replay"]
    assert record.target == "stream/aside"
    assert record.after == {"request": {"ids": [], "cursor": None}, "replayed": 1, "still_failing": 1, "gone": 0}
    assert record.actor.key_id == demo.api_key.split("_")[1]


def test_replay_of_named_entries_leaves_the_others_alone(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    for name in ("one", "two"):
        poison(hub, "demo", name)
    pipeline.drain()
    ids = {e["record_keys"]["pk"].rsplit("#", 1)[1]: e["id"] for e in hub.set_aside.entries("demo")}
    repair(hub, "demo", "one")
    repair(hub, "demo", "two")
    status, report = call(client, "POST", "/v1/stream/aside/replay", demo.api_key,
                          {"ids": [ids["one"], "asd_" + "a" * 26]})
    assert status == 200, report
    assert (report["replayed"], report["still_failing"], report["gone"]) == (1, 0, 1)
    assert [e["id"] for e in hub.set_aside.entries("demo")] == [ids["two"]]
    status, body = call(client, "POST", "/v1/stream/aside/replay", demo.api_key, {"ids": ["not-an-id"]})
    assert (status, body["error"]["code"]) == (422, "invalid_input")
    status, body = call(client, "GET", "/v1/stream/aside?cursor=T%23other%23IN", demo.api_key)
    assert (status, body["error"]["code"]) == (400, "bad_payload")


def test_replay_goes_through_all_entries_a_page_at_a_time(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        poison(hub, "demo", f"p-{n}")
    pipeline.drain()
    monkeypatch.setattr("chalicelib.api.aside.REPLAY_PAGE", 2)  # a page of two, so three take two calls
    status, first = call(client, "POST", "/v1/stream/aside/replay", demo.api_key, {})
    assert status == 200, first
    assert (first["still_failing"], first["next_cursor"] is not None) == (2, True)
    status, second = call(client, "POST", "/v1/stream/aside/replay", demo.api_key, {"cursor": first["next_cursor"]})
    assert (second["still_failing"], second["next_cursor"]) == (1, None)
    assert {r["id"] for r in first["results"] + second["results"]} == {e["id"] for e in hub.set_aside.entries("demo")}


@pytest.mark.usefixtures("probe")
def test_a_set_aside_object_is_replayed_through_the_stored_object_handler(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline
) -> None:
    key = "inbound/demo/probe/0001"
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=key, Body=json.dumps([spec("m-1", subject="Hi")]).encode())
    hub.set_aside.put_object("demo", hub.settings.bucket, key, "retries exhausted: RetriesExhausted",
                             error="TimeoutError")
    status, page = call(client, "GET", "/v1/stream/aside", demo.api_key)
    assert status == 200
    [entry] = page["entries"]
    assert (entry["kind"], entry["object_key"], entry["error"]) == ("object", key, "TimeoutError")
    status, report = call(client, "POST", "/v1/stream/aside/replay", demo.api_key, {"ids": [entry["id"]]})
    assert (status, report["replayed"]) == (200, 1)
    pipeline.drain()
    [message] = opened_items(hub, table_items(hub, "message"))
    assert message["subject"] == "Hi"


@pytest.fixture
def probe(hub: Hub, demo: DemoTenant) -> None:
    hub.registry.add(ProbeChannel())
    tenant = hub.tenants.get("demo")
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"probe": PluginSetting()}}))


# -- isolation ------------------------------------------------------------------------------------


def b_state(hub: Hub) -> list[str]:
    """Every item of tenant B's, as stored."""
    items = hub.aws.dynamodb.scan(TableName=hub.settings.table_name)["Items"]
    return sorted(json.dumps(i, sort_keys=True) for i in items if i["pk"]["S"].startswith(f"T#{B}#"))


def test_a_tenant_never_sees_nor_replays_another_tenants_entries(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, other: str
) -> None:
    poison(hub, B, "b-secret-record")
    poison(hub, "demo", "a-record")
    hub.set_aside.put_object(B, hub.settings.bucket, f"inbound/{B}/email/b-object", "retries exhausted: X")
    pipeline.drain()
    b_ids = [e["id"] for e in hub.set_aside.entries(B)]
    assert len(b_ids) == 2
    repair(hub, B, "b-secret-record")  # replayable now: a replay in B's name would take it
    before = b_state(hub)

    status, page = call(client, "GET", "/v1/stream/aside?limit=100", demo.api_key)
    assert status == 200
    assert [e["record_keys"]["pk"] for e in page["entries"]] == ["T#demo#IN#web#a-record"]
    status, page = call(client, "GET", f"/v1/stream/aside?cursor={b_ids[0]}", demo.api_key)
    assert status == 200
    assert not {e["id"] for e in page["entries"]} & set(b_ids)
    assert "b-secret-record" not in json.dumps(page)

    status, report = call(client, "POST", "/v1/stream/aside/replay", demo.api_key, {"ids": b_ids})
    assert (status, report["replayed"], report["still_failing"], report["gone"]) == (200, 0, 0, 2)
    status, report = call(client, "POST", "/v1/stream/aside/replay", demo.api_key, {})
    assert status == 200
    assert not {r["id"] for r in report["results"]} & set(b_ids)
    assert b_state(hub) == before, "B's entries and items are untouched"
    assert sorted(e["id"] for e in hub.set_aside.entries(B)) == sorted(b_ids)

    status, page = call(client, "GET", "/v1/stream/aside", other)  # B's own key sees B's
    assert sorted(e["id"] for e in page["entries"]) == sorted(b_ids)


def test_an_entry_naming_another_tenants_item_is_never_replayed(hub: Hub, demo: DemoTenant) -> None:
    """The shelf only writes entries naming the tenant's own items; one that names
    another's (a corrupted table) is refused, not run."""
    item = TenantKeys("demo").set_aside("asd_forged") | to_item({
        "type": "set_aside", "tenant_id": "demo", "id": "asd_forged", "kind": "stream", "put_id": "x",
        "record_keys": {"pk": f"T#{B}#IN#web#p", "sk": "IN"}, "event_name": "INSERT", "sequence": "1",
        "reason": "forged", "error": "", "at": "2026-11-25T00:00:00Z"})
    hub.aws.dynamodb.put_item(TableName=hub.settings.table_name, Item=item)
    ran: list[Any] = []
    report = hub.set_aside.replay("demo", lambda records: ran.append(records) or {"batchItemFailures": []})
    assert ran == []
    assert report.still_failing == {"asd_forged": "PermissionError"}
