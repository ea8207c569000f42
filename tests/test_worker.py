"""The delivery worker against real SQS (moto) and real loopback receivers.

Jobs are queued by the real dispatcher and received from the real queue with
``VisibilityTimeout=0``; the tests hand them to ``hub.worker.process`` as Lambda
would, and play the passage of time by making a backed-off job visible again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from switchboard_sdk.testing import StatusServer

from chalicelib.hub import Hub
from chalicelib.pipeline.worker import MAX_DELAY_SECONDS, backoff_seconds
from tests.helpers import (
    change_webhook,
    closed_port_url,
    dead_letters,
    enqueue,
    event,
    failed_ids,
    make_visible,
    nothing_receivable,
    put_webhook_tenant,
    receive_records,
)
from tests.sealed_jobs import opened_body
from tools.local.demo import DemoTenant


def _webhook_ids(server: StatusServer) -> list[str]:
    return [headers["webhook-id"] for _method, _path, headers, _body in server.requests]


def _run_attempts(hub: Hub, attempts: int) -> list[dict[str, list[dict[str, str]]]]:
    """Receive the one queued job ``attempts`` times, letting its backoff run out in between."""
    results = []
    for attempt in range(1, attempts + 1):
        (record,) = receive_records(hub)
        assert record["attributes"]["ApproximateReceiveCount"] == str(attempt)
        result = hub.worker.process([record])
        results.append(result)
        if failed_ids(result):
            assert nothing_receivable(hub), "a retried job must be hidden by its backoff"
            make_visible(hub, record)
    return results


# -- outcomes ------------------------------------------------------------------


def test_delivered_job_is_acknowledged(hub: Hub, demo: DemoTenant, receiver: StatusServer) -> None:
    sent = event(demo.tenant_id, 1)
    assert enqueue(hub, sent) == 1
    records = receive_records(hub)

    assert hub.worker.process(records) == {"batchItemFailures": []}
    assert _webhook_ids(receiver) == [sent.id]
    (_method, _path, _headers, body) = receiver.requests[0]
    assert json.loads(body)["id"] == sent.id
    assert dead_letters(hub) == []


def test_503_is_retried_later_then_delivered(hub: Hub, demo: DemoTenant, receiver: StatusServer) -> None:
    sent = event(demo.tenant_id, 1)
    enqueue(hub, sent)
    receiver.status = 503
    (record,) = receive_records(hub)

    assert failed_ids(hub.worker.process([record])) == [record["messageId"]]
    assert nothing_receivable(hub), "the worker must push the job's visibility out (backoff)"
    assert dead_letters(hub) == []

    make_visible(hub, record)  # the backoff has run out
    receiver.status = 200
    (again,) = receive_records(hub)
    assert again["messageId"] == record["messageId"]
    assert again["attributes"]["ApproximateReceiveCount"] == "2"
    assert hub.worker.process([again]) == {"batchItemFailures": []}
    assert _webhook_ids(receiver) == [sent.id, sent.id], "same webhook-id on the retry"
    assert dead_letters(hub) == []


def test_retry_after_header_keeps_the_job_hidden(hub: Hub, demo: DemoTenant, receiver: StatusServer) -> None:
    enqueue(hub, event(demo.tenant_id, 1))
    receiver.status = 429
    receiver.headers["Retry-After"] = "120"
    (record,) = receive_records(hub)

    assert failed_ids(hub.worker.process([record])) == [record["messageId"]]
    assert nothing_receivable(hub)
    assert dead_letters(hub) == []


def test_refused_connection_ends_in_dlq_at_max_attempts(hub: Hub, demo: DemoTenant) -> None:
    sent = event(demo.tenant_id, 1)
    enqueue(hub, sent)
    change_webhook(hub, demo.tenant_id, url=closed_port_url())
    max_attempts = hub.settings.max_delivery_attempts
    assert max_attempts == 3

    results = _run_attempts(hub, max_attempts)

    assert [bool(failed_ids(r)) for r in results] == [True, True, False], "retried, retried, acknowledged"
    (letter,) = dead_letters(hub)
    assert letter["connector"] == "webhook"
    assert letter["event"]["id"] == sent.id
    assert letter["dead_letter"]["attempts"] == max_attempts
    assert letter["dead_letter"]["status_code"] is None
    assert "unreachable" in letter["dead_letter"]["reason"]


def test_hanging_receiver_is_retried_and_bounded(hub: Hub, demo: DemoTenant, receiver: StatusServer) -> None:
    sent = event(demo.tenant_id, 1)
    enqueue(hub, sent)
    change_webhook(hub, demo.tenant_id, timeout_seconds=0.2)
    receiver.delay = 1.0

    results = _run_attempts(hub, hub.settings.max_delivery_attempts)

    assert [bool(failed_ids(r)) for r in results] == [True, True, False]
    assert _webhook_ids(receiver) == [sent.id] * 3, "each attempt reached the receiver, then timed out"
    (letter,) = dead_letters(hub)
    assert letter["dead_letter"]["attempts"] == 3
    assert "no response within 0.2s" in letter["dead_letter"]["reason"]


def test_400_goes_to_dlq_on_first_attempt(hub: Hub, demo: DemoTenant, receiver: StatusServer) -> None:
    sent = event(demo.tenant_id, 1)
    enqueue(hub, sent)
    receiver.status = 400
    receiver.body = b'{"error": "schema mismatch"}'
    (record,) = receive_records(hub)

    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert hub.worker.process([record]) == {"batchItemFailures": []}, "a permanent failure is acknowledged"
    assert len(receiver.requests) == 1
    (letter,) = dead_letters(hub)
    assert letter["event"]["id"] == sent.id
    assert letter["dead_letter"]["attempts"] == 1
    assert letter["dead_letter"]["status_code"] == 400
    assert "400" in letter["dead_letter"]["reason"]
    assert "schema mismatch" in letter["dead_letter"]["reason"]


def test_disabled_connector_goes_to_dlq_with_reason(hub: Hub, demo: DemoTenant, receiver: StatusServer) -> None:
    sent = event(demo.tenant_id, 1)
    enqueue(hub, sent)  # queued while enabled …
    change_webhook(hub, demo.tenant_id, enabled=False)  # … disabled before delivery
    records = receive_records(hub)

    assert hub.worker.process(records) == {"batchItemFailures": []}
    assert receiver.requests == []
    (letter,) = dead_letters(hub)
    assert letter["event"]["id"] == sent.id
    assert letter["dead_letter"]["attempts"] == 1
    assert "not enabled" in letter["dead_letter"]["reason"]


# -- FIFO order ------------------------------------------------------------------


@pytest.fixture
def healthy() -> Iterator[StatusServer]:
    with StatusServer(200) as server:
        yield server


def test_retry_holds_back_its_group_but_not_others(
    hub: Hub, demo: DemoTenant, receiver: StatusServer, healthy: StatusServer
) -> None:
    put_webhook_tenant(hub, "other", healthy.url)
    a1, a2, b1 = event(demo.tenant_id, 1), event(demo.tenant_id, 2), event("other", 1)
    enqueue(hub, a1, a2, b1)
    receiver.status = 503  # demo's receiver fails; other's is healthy
    records = receive_records(hub)
    by_event = {opened_body(hub, r["body"])["event"]["id"]: r for r in records}
    assert list(by_event) == [a1.id, a2.id, b1.id], "one batch, queue order"
    groups = {r["attributes"]["MessageGroupId"] for r in records}
    assert len(groups) == 2

    result = hub.worker.process(records)

    assert failed_ids(result) == [by_event[a1.id]["messageId"], by_event[a2.id]["messageId"]]
    assert _webhook_ids(receiver) == [a1.id], "the job behind the retry was never attempted"
    assert _webhook_ids(healthy) == [b1.id], "another group is not held back"
    assert dead_letters(hub) == []


def test_job_held_back_behind_a_retry_keeps_its_attempt_budget(
    hub: Hub, demo: DemoTenant, receiver: StatusServer
) -> None:
    first, second = event(demo.tenant_id, 1), event(demo.tenant_id, 2)
    enqueue(hub, first, second)
    receiver.status = 503
    head, behind = receive_records(hub)
    # SQS counts every receive of both jobs, though only the head is attempted.
    # (Rebuilt by hand: moto loses FIFO order when re-receiving a group whose
    # jobs were received with VisibilityTimeout=0.)
    last = hub.settings.max_delivery_attempts
    for attempt in range(1, last):
        result = hub.worker.process([_received(head, attempt), _received(behind, attempt)])
        assert failed_ids(result) == [head["messageId"], behind["messageId"]]

    # the head's last attempt dead-letters it; the job behind then gets its first attempt
    result = hub.worker.process([_received(head, last), _received(behind, last)])

    assert _webhook_ids(receiver) == [first.id] * last + [second.id]
    assert failed_ids(result) == [behind["messageId"]], "one transient failure must be retried"
    assert [letter["event"]["id"] for letter in dead_letters(hub)] == [first.id]


def _received(record: dict[str, Any], count: int) -> dict[str, Any]:
    """``record`` as SQS hands it over on its ``count``-th receive."""
    return record | {"attributes": record["attributes"] | {"ApproximateReceiveCount": str(count)}}


# -- backoff ----------------------------------------------------------------------


def _low() -> float:
    return 0.0


def _high() -> float:
    return 0.999999


@pytest.mark.parametrize("rng", [_low, _high])
def test_backoff_grows_until_capped(rng: Callable[[], float]) -> None:
    delays = [backoff_seconds(attempt, None, rng=rng) for attempt in range(1, 30)]
    assert delays == sorted(delays), "never shorter for a later attempt"
    assert delays[0] < delays[3] < delays[7]
    assert max(delays) == round(MAX_DELAY_SECONDS * (0.5 if rng is _low else 1.0))
    assert all(delay <= MAX_DELAY_SECONDS for delay in delays)


def test_backoff_jitter_spans_half_to_full_ceiling() -> None:
    assert backoff_seconds(4, None, rng=_low) == 8  # ceiling 16
    assert backoff_seconds(4, None, rng=_high) == 16
    assert backoff_seconds(4, None, rng=lambda: 0.5) == 12


def test_backoff_honours_retry_after() -> None:
    assert backoff_seconds(1, 120.0, rng=_high) == 120
    assert backoff_seconds(1, 10_000.0, rng=_low) == MAX_DELAY_SECONDS, "retry_after is capped too"
    assert backoff_seconds(10, 1.0, rng=_low) == backoff_seconds(10, None, rng=_low), "backoff wins when longer"


def test_backoff_is_at_least_one_second() -> None:
    for attempt in (-3, 0, 1):
        for retry_after in (None, 0.0, 0.2):
            assert backoff_seconds(attempt, retry_after, rng=_low) >= 1
            assert isinstance(backoff_seconds(attempt, retry_after, rng=_low), int)


def test_backoff_is_never_sooner_than_retry_after() -> None:
    assert backoff_seconds(1, 2.4, rng=_low) >= 2.4
