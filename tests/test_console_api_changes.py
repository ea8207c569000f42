"""GET /v1/changes: the console's poll. 304 from one read of the feed when nothing
changed; otherwise the tickets changed after the cursor, as the caller's scope shows
them, through reassignments, merges, other tenants and repeated stream records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.hub import Hub
from chalicelib.storage.conventions import iso
from chalicelib.storage.items import to_item
from chalicelib.storage.keys import TenantKeys
from chalicelib.tenancy.tenants import PluginSetting, TenantRecord
from tests.conftest import Pipeline
from tests.console_support import World, build_world, ok, send, set_visibility
from tools.local.demo import DemoTenant, new_whsec


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


@pytest.fixture
def world(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, user_pool: None) -> World:
    return build_world(client, hub, demo, pipeline)


class Calls:
    """Every DynamoDB call the hub makes (a botocore hook on its client): operation and key."""

    def __init__(self, hub: Hub) -> None:
        self.seen: list[tuple[str, str]] = []

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:  # the call's own parameters
            self.seen.append((model.name, str(params.get("Key", {}).get("pk", {}).get("S", ""))))

        self._hook = record  # botocore keeps handlers by weak reference
        hub.aws.dynamodb.meta.events.register("provide-client-params.dynamodb", record)

    def during(self, action: Any) -> list[tuple[str, str]]:
        self.seen.clear()
        action()
        return list(self.seen)


def poll(client: Client, headers: dict[str, str], cursor: str | None = None,
         etag: str | None = None) -> tuple[int, dict[str, Any] | None, str | None]:
    path = "/v1/changes" + (f"?cursor={cursor}" if cursor is not None else "")
    sent = headers | ({"if-none-match": etag} if etag else {})
    answer = client.http.get(path, headers=sent)
    body = json.loads(answer.body) if answer.body else None
    headers_back = {k.lower(): v for k, v in answer.headers.items()}
    return answer.status_code, body, headers_back.get("etag")


def changed(client: Client, headers: dict[str, str], cursor: str) -> tuple[list[dict[str, Any]], str]:
    status, body, etag = poll(client, headers, cursor, f'"{cursor}"')
    if status == 304:
        return [], cursor
    assert status == 200, body
    assert body is not None
    assert etag == f'"{body["cursor"]}"'
    return body["tickets"], body["cursor"]


def test_nothing_changed_is_a_304_from_one_read_and_a_change_is_listed(client: Client, hub: Hub, demo: DemoTenant,
                                                                      pipeline: Pipeline, world: World) -> None:
    status, body, etag = poll(client, world.ada.headers)
    assert status == 200
    assert body is not None
    assert body["tickets"] == []
    assert body["more"] is False
    cursor = body["cursor"]
    assert etag == f'"{cursor}"'
    assert poll(client, world.ada.headers, cursor)[0] == 200  # no If-None-Match: the answer again
    calls = Calls(hub)
    made = calls.during(lambda: _expect_304(client, world.ada.headers, cursor))
    feed = [c for c in made if c[1].endswith("#CHANGES")]
    assert feed == [("GetItem", "T#demo#CHANGES")]  # the feed's own cost: one read of its mark
    assert all(op in ("GetItem", "UpdateItem") for op, _ in made)  # besides: the access gate's agent, tenant, rate
    print(f"dynamodb_calls_304={len(made)} {made}")

    send(client, demo, 3, "still waiting")
    pipeline.drain()
    made = calls.during(lambda: changed(client, world.ada.headers, cursor))
    tickets, after = changed(client, world.ada.headers, cursor)
    assert [t["id"] for t in tickets] == [world.tickets[3]]
    assert tickets[0]["stage"] == "triage"
    assert int(after) > int(cursor)
    print(f"dynamodb_calls_changed={len(made)} {made}")
    assert [op for op, _ in made if op in ("Query", "BatchGetItem")] == ["Query", "BatchGetItem"]
    _expect_304(client, world.ada.headers, after)
    _expect_304(client, world.admin, after)  # keys poll the same feed
    status, body, _ = poll(client, world.ada.headers, "not-a-cursor")
    assert status == 400


def _expect_304(client: Client, headers: dict[str, str], cursor: str) -> None:
    status, body, etag = poll(client, headers, cursor, f'W/"{cursor}"')
    assert (status, body, etag) == (304, None, f'"{cursor}"')


def test_reassignment_and_merge_show_only_to_who_sees_the_tickets(client: Client, hub: Hub, pipeline: Pipeline,
                                                                  world: World) -> None:
    t0, t1, t2, t3 = world.tickets
    set_visibility(client, world.admin, "assigned")
    start = {name: ok(client, "get", "/v1/changes", headers)["cursor"]
             for name, headers in (("ada", world.ada.headers), ("bob", world.bob.headers), ("admin", world.admin))}
    ok(client, "patch", f"/v1/tickets/{t0}", world.admin, {"assignee_id": world.bob.agent.id})
    pipeline.drain()
    bob, bob_cursor = changed(client, world.bob.headers, start["bob"])
    assert [(t["id"], t["assignee_id"]) for t in bob] == [(t0, world.bob.agent.id)]
    ada, ada_cursor = changed(client, world.ada.headers, start["ada"])
    assert ada == []  # no longer hers: she cannot see it, so it is not named to her
    assert ada_cursor == bob_cursor  # the cursor moved on all the same

    ok(client, "post", f"/v1/tickets/{t1}/merge", world.admin, {"into": t3})
    pipeline.drain()
    admin, _ = changed(client, world.admin, start["admin"])
    by_id = {t["id"]: t for t in admin}
    assert {t0, t1, t3} <= set(by_id)
    assert t2 not in by_id
    assert by_id[t1]["status"] == "merged"
    assert by_id[t1]["merged_into"] == t3
    ada, _ = changed(client, world.ada.headers, ada_cursor)
    assert ada == []
    bob, _ = changed(client, world.bob.headers, bob_cursor)
    assert {t["id"] for t in bob} <= {t0, t2}


def test_another_tenants_changes_never_reach_the_feed(client: Client, hub: Hub, demo: DemoTenant,
                                                     pipeline: Pipeline, world: World) -> None:
    cursor = ok(client, "get", "/v1/changes", world.admin)["cursor"]
    secret = new_whsec()
    hub.tenants.put(TenantRecord(id="other-co", name="Other", created_at=hub.clock().isoformat(),
                                 plugins={"web": PluginSetting(config={"secrets": [secret]})}))
    send(client, demo, 7, "elsewhere", tenant_id="other-co", secret=secret)
    pipeline.drain()
    _expect_304(client, world.admin, cursor)
    _expect_304(client, world.ada.headers, cursor)
    [other] = hub.store.reads("other-co").list_tickets()[0]
    found = hub.change_feeds.of("other-co")
    assert other.id in found.since(0, found.current(), datetime.now(UTC)).ticket_ids


def test_a_repeated_stream_record_does_not_break_the_cursor(client: Client, hub: Hub, world: World) -> None:
    cursor = ok(client, "get", "/v1/changes", world.admin)["cursor"]
    item = hub.aws.dynamodb.get_item(TableName=hub.settings.table_name, Key=TenantKeys("demo").ticket(world.tickets[2]))
    record = {"eventName": "MODIFY", "eventSource": "aws:dynamodb",
              "dynamodb": {"Keys": {k: item["Item"][k] for k in ("pk", "sk")}, "NewImage": item["Item"],
                           "OldImage": item["Item"], "SequenceNumber": "900"}}
    for _ in range(2):  # Lambda hands the same record over again
        assert hub.stream.process([record]) == {"batchItemFailures": []}
    tickets, after = changed(client, world.admin, cursor)
    assert [t["id"] for t in tickets] == [world.tickets[2]]
    assert int(after) == hub.change_feeds.of("demo").current().seq
    _expect_304(client, world.admin, after)
    # a record of another tenant's item claiming to be demo's is not noted for demo
    forged = json.loads(json.dumps(record))
    forged["dynamodb"]["NewImage"]["tenant_id"] = {"S": "other-co"}
    hub.change_feeds.note_records([(forged, _image_of(forged))])
    _expect_304(client, world.admin, after)


def _image_of(record: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.storage.items import from_item

    return from_item(record["dynamodb"]["NewImage"])


# -- the feed itself: gaps and limits -----------------------------------------------


def _take_number(hub: Hub, at: datetime) -> None:
    """A batch that took a number and has not written (or never wrote) its entry."""
    hub.aws.dynamodb.update_item(TableName=hub.settings.table_name,
                                 Key={"pk": {"S": "T#demo#CHANGES"}, "sk": {"S": "MARK"}},
                                 UpdateExpression="ADD seq :one SET #at = :at", ExpressionAttributeNames={"#at": "at"},
                                 ExpressionAttributeValues=to_item({":one": 1, ":at": iso(at)}))


def test_a_reader_waits_at_a_young_gap_and_skips_an_old_one(hub: Hub) -> None:
    feed, now = hub.change_feeds.of("demo"), datetime.now(UTC)
    assert feed.current().seq == 0
    assert feed.note(["tkt_a"], now) == 1
    _take_number(hub, now)  # 2: still writing
    assert feed.note(["tkt_b", "tkt_a"], now) == 3
    waiting = feed.since(0, feed.current(), now)
    assert (waiting.seq, waiting.ticket_ids, waiting.more) == (1, ["tkt_a"], False)
    later = feed.since(0, feed.current(), now + timedelta(seconds=31))
    assert (later.seq, sorted(later.ticket_ids)) == (3, ["tkt_a", "tkt_b"])  # each once
    _take_number(hub, now)  # 4: the newest number, its entry not written
    assert feed.since(3, feed.current(), now).seq == 3
    assert feed.since(3, feed.current(), now + timedelta(seconds=31)).seq == 4


def test_a_page_of_changes_is_bounded_and_says_more(hub: Hub) -> None:
    feed, now = hub.change_feeds.of("demo"), datetime.now(UTC)
    for n in range(3):
        feed.note([f"tkt_{n}a", f"tkt_{n}b"], now)
    first = feed.since(0, feed.current(), now, max_tickets=3)
    assert (first.seq, first.ticket_ids, first.more) == (1, ["tkt_0a", "tkt_0b"], True)
    rest = feed.since(first.seq, feed.current(), now, max_tickets=3)
    assert (rest.seq, rest.more) == (2, True)
    last = feed.since(rest.seq, feed.current(), now, max_tickets=3)
    assert (last.seq, last.more) == (3, False)
    big = hub.change_feeds.of("demo")
    big.note([f"tkt_{n}" for n in range(100)], now)  # a batch is at most 100 records (app.py): never split
    assert len(big.since(3, big.current(), now, max_tickets=100).ticket_ids) == 100


class FailingFeeds:
    """A feed whose writes fail with ``error`` (and count the tries)."""

    def __init__(self, error: Exception) -> None:
        self.error, self.tries = error, 0

    def note_records(self, records: Any) -> int:
        self.tries += 1
        raise self.error


def test_a_feed_that_cannot_note_retries_the_batch_only_when_the_failure_may_pass(hub: Hub) -> None:
    from botocore.exceptions import ClientError

    from chalicelib.pipeline.stream import StreamProcessor

    record = {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "T#demo#X"}, "sk": {"S": "X"}},
                                                  "NewImage": {"pk": {"S": "T#demo#X"}, "type": {"S": "other"}},
                                                  "SequenceNumber": "77"}}
    stream = hub.stream
    throttled = FailingFeeds(ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
                                         "UpdateItem"))
    retried = StreamProcessor(stream._conversations, stream._dispatcher, stream._shelf, changes=throttled)  # type: ignore[arg-type]
    assert retried.process([record]) == {"batchItemFailures": [{"itemIdentifier": "77"}]}
    broken = FailingFeeds(ValueError("a bug"))
    going_on = StreamProcessor(stream._conversations, stream._dispatcher, stream._shelf, changes=broken)  # type: ignore[arg-type]
    assert going_on.process([record]) == {"batchItemFailures": []}
    assert (throttled.tries, broken.tries) == (1, 1)


def test_numbers_without_entries_move_the_cursor_and_name_no_ticket(client: Client, hub: Hub,
                                                                    demo: DemoTenant) -> None:
    from switchboard_sdk import Ticket

    admin = {"authorization": f"Bearer {demo.api_key}"}
    now = datetime.now(UTC)
    hub.store.conversations("demo").touch_ticket(Ticket(id="tkt_quiet", tenant_id="demo", customer_id="cus_1",
                                                        channel="web", created_at=now, last_activity_at=now))
    _take_number(hub, datetime.now(UTC) - timedelta(minutes=5))  # a batch that failed before its entry, long ago
    _take_number(hub, datetime.now(UTC) - timedelta(minutes=5))
    tickets, cursor = changed(client, admin, "0")
    assert (tickets, cursor) == ([], "2")
    _expect_304(client, admin, "2")
    _take_number(hub, datetime.now(UTC))  # a batch still writing its entry: wait for it
    assert changed(client, admin, "2") == ([], "2")
