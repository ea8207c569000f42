"""The audit partition is a hash chain: edits, deletions, reordering and replaced hashes are
reported where they happened; expiry trims the start without breaking it; concurrent
writers, alone or inside other transactions, never fork it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from switchboard_sdk import BadPayload

from chalicelib.hub import Hub
from chalicelib.storage.aws import write_together
from chalicelib.storage.items import from_item, to_item
from chalicelib.tenancy.audit import Actor, AuditLog
from chalicelib.tenancy.audit_chain import ChainHead, chain_sort_key, chained_fields, record_hash
from tests.conftest import AtomicCalls

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ACTOR = Actor(key_id="key_1", key_name="ops", scopes=["tenant-admin"], source_ip="203.0.113.9")
PARTITION = "T#acme#AUDIT"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _log(hub: Hub, clock: Clock, client: Any = None, **kwargs: Any) -> AuditLog:
    return AuditLog(client or hub.aws.dynamodb, hub.settings.table_name, clock, **kwargs)


def _append(log: AuditLog, n: int, tenant_id: str | None = "acme") -> None:
    for i in range(n):
        log.record(tenant_id, ACTOR, "settings.update", f"tenant/{tenant_id}", after={"i": i})


def _item(hub: Hub, seq: int, partition: str = PARTITION) -> dict[str, Any]:
    got = hub.aws.dynamodb.get_item(TableName=hub.settings.table_name,
                                    Key=to_item({"pk": partition, "sk": chain_sort_key(seq)}))
    return from_item(got["Item"])


def _put(hub: Hub, item: dict[str, Any]) -> None:
    hub.aws.dynamodb.put_item(TableName=hub.settings.table_name, Item=to_item(item))


def _delete(hub: Hub, seq: int) -> None:
    hub.aws.dynamodb.delete_item(TableName=hub.settings.table_name,
                                 Key=to_item({"pk": PARTITION, "sk": chain_sort_key(seq)}))


def test_an_untouched_chain_verifies_and_lists_newest_first(hub: Hub) -> None:
    log = _log(hub, Clock())
    _append(log, 5)
    report = log.verify("acme")
    assert (report.ok, report.records, report.first, report.last, report.trimmed) == (True, 5, 1, 5, False)
    assert report.last_hash == _item(hub, 5)["hash"]
    first = log.list("acme", limit=3)
    assert [r.after for r in first.records] == [{"i": 4}, {"i": 3}, {"i": 2}]
    rest = log.list("acme", limit=3, before=first.next_cursor)
    assert [r.after for r in rest.records] == [{"i": 1}, {"i": 0}]
    assert rest.next_cursor is None


def test_each_record_links_to_the_one_before_and_hashes_its_canonical_form(hub: Hub) -> None:
    log = _log(hub, Clock())
    _append(log, 2)
    one, two = _item(hub, 1), _item(hub, 2)
    assert one["prev_hash"] == "0" * 64
    assert two["prev_hash"] == one["hash"]
    fields = chained_fields(PARTITION, two["doc"], 2, ChainHead(1, one["hash"], one["expires_at"]),
                            two["expires_at"])
    assert two["hash"] == record_hash(fields)
    assert len(two["hash"]) == 64


def test_an_edited_record_is_reported_at_its_place(hub: Hub) -> None:
    log = _log(hub, Clock())
    _append(log, 5)
    _put(hub, _item(hub, 3) | {"doc": _item(hub, 3)["doc"].replace('"i":2', '"i":7')})
    report = log.verify("acme")
    assert (report.broken_at, report.records, report.last) == (3, 2, 2)
    assert "record #3 was changed" in (report.reason or "")


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(hub: Hub) -> None:
    log = _log(hub, Clock())
    _append(log, 5)
    three, two = _item(hub, 3), _item(hub, 2)
    doc = three["doc"].replace('"i":2', '"i":7')
    forged = record_hash(chained_fields(PARTITION, doc, 3, ChainHead(2, two["hash"], two["expires_at"]),
                                        three["expires_at"]))
    _put(hub, three | {"doc": doc, "hash": forged})
    report = log.verify("acme")
    assert report.broken_at == 4
    assert "does not follow record #3" in (report.reason or "")


def test_a_deleted_middle_record_is_reported_after_the_gap(hub: Hub) -> None:
    log = _log(hub, Clock())
    _append(log, 5)
    _delete(hub, 3)
    report = log.verify("acme")
    assert report.broken_at == 4
    assert "#3..#3 are missing" in (report.reason or "")


def test_reordered_records_are_out_of_place(hub: Hub) -> None:
    log = _log(hub, Clock())
    _append(log, 4)
    two, three = _item(hub, 2), _item(hub, 3)
    _put(hub, three | {"sk": chain_sort_key(2)})
    _put(hub, two | {"sk": chain_sort_key(3)})
    report = log.verify("acme")
    assert report.broken_at == 2
    assert "out of its place" in (report.reason or "")


def test_a_replaced_hash_is_reported_at_its_record(hub: Hub) -> None:
    log = _log(hub, Clock())
    _append(log, 4)
    _put(hub, _item(hub, 2) | {"hash": "f" * 64})
    report = log.verify("acme")
    assert report.broken_at == 2
    assert "was changed" in (report.reason or "")


def test_a_malformed_record_is_a_break_not_a_crash(hub: Hub) -> None:
    log = _log(hub, Clock())
    _append(log, 3)
    item = _item(hub, 2)
    del item["prev_hash"]
    _put(hub, item)
    report = log.verify("acme")
    assert report.broken_at == 2
    assert "malformed" in (report.reason or "")


def test_expiry_trims_the_start_and_deletion_before_expiry_does_not(hub: Hub) -> None:
    clock = Clock()
    log = _log(hub, clock, retention_days=1)
    _append(log, 3)
    clock.now = T0 + timedelta(days=10)
    _append(log, 2)
    for seq in (1, 2, 3):  # what DynamoDB's TTL does, in any order
        _delete(hub, seq)
    report = log.verify("acme")
    assert (report.ok, report.trimmed, report.first, report.last, report.records) == (True, True, 4, 5, 2)
    clock.now = T0 + timedelta(hours=12)  # the same gap while those records were still due to be kept
    report = log.verify("acme")
    assert report.broken_at == 4
    assert "had not expired" in (report.reason or "")


def test_expiry_never_comes_before_the_previous_records(hub: Hub) -> None:
    """A writer with a clock behind the last one's must not expire first and punch a hole."""
    clock = Clock(T0 + timedelta(minutes=5))
    log = _log(hub, clock)
    _append(log, 1)
    clock.now = T0
    _append(log, 1)
    assert _item(hub, 2)["expires_at"] == _item(hub, 1)["expires_at"]
    assert _item(hub, 1)["expires_at"] >= int((T0 + timedelta(days=3 * 365)).timestamp())


def test_partitions_are_separate_chains(hub: Hub) -> None:
    log = _log(hub, Clock())
    _append(log, 2, "acme")
    _append(log, 3, None)
    _append(log, 1, "globex")
    assert [log.verify(t).last for t in ("acme", None, "globex", "nobody")] == [2, 3, 1, None]
    assert log.verify("nobody").ok


def test_records_written_before_the_chain_are_listed_and_left_out_of_it(hub: Hub) -> None:
    log = _log(hub, Clock())
    _put(hub, {"pk": PARTITION, "sk": "2024-01-01T00:00:00+00:00#aud_00000000000000000000", "type": "audit",
               "action": "key.create", "doc": '{"id":"aud_00000000000000000000","at":"2024-01-01T00:00:00+00:00",'
               '"tenant_id":"acme","action":"key.create","target":"key/k","actor":{}}'})
    _append(log, 2)
    assert [r.action for r in log.list("acme").records] == ["settings.update", "settings.update", "key.create"]
    page = log.list("acme", limit=2)
    assert [r.action for r in log.list("acme", before=page.next_cursor).records] == ["key.create"]
    assert log.verify("acme").records == 2


def test_a_cursor_the_api_did_not_give_is_refused(hub: Hub) -> None:
    with pytest.raises(BadPayload):
        _log(hub, Clock()).list("acme", before="SEQ#1 OR 1=1")


def test_concurrent_writers_keep_one_chain(hub: Hub) -> None:
    client = AtomicCalls(hub.aws.dynamodb)  # DynamoDB's per-call atomicity, which moto lacks across threads
    logs = [_log(hub, Clock(), client) for _ in range(6)]
    errors: list[Exception] = []

    def append(log: AuditLog) -> None:
        try:
            _append(log, 8)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=append, args=(log,)) for log in logs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = logs[0].verify("acme")
    assert (report.ok, report.records, report.first, report.last) == (True, 48, 1, 48)
    assert sorted(r.after["i"] for r in logs[0].list("acme", limit=100).records if r.after) == sorted(
        list(range(8)) * 6)


def test_an_entry_inside_a_transaction_that_lost_the_race_is_placed_again(hub: Hub) -> None:
    """Another writer took the head between ``entry()`` and the caller's transaction: the
    caller's change and its record are still written together, one position later."""
    log = _log(hub, Clock())
    _, late = log.entry("acme", ACTOR, "rule.create", "rule/r1", after={"name": "vip"})
    _append(log, 1)  # takes #1
    change = {"Put": {"TableName": hub.settings.table_name, "Item": to_item({"pk": "T#acme#TEST", "sk": "X"}),
                      "ConditionExpression": "attribute_not_exists(pk)"}}
    assert write_together(hub.aws.dynamodb, [change, late]) == [True, True]
    assert _item(hub, 2)["action"] == "rule.create"
    assert log.verify("acme").ok


def test_a_failed_condition_of_the_change_itself_is_still_the_answer(hub: Hub) -> None:
    log = _log(hub, Clock())
    _, entry = log.entry("acme", ACTOR, "rule.create", "rule/r1")
    change = {"Put": {"TableName": hub.settings.table_name, "Item": to_item({"pk": "T#acme#TEST", "sk": "X"}),
                      "ConditionExpression": "attribute_exists(pk)"}}
    assert write_together(hub.aws.dynamodb, [change, entry]) == [False, True]
    assert log.verify("acme").last is None
