"""The local runtime's parts: the stream pump looks for shards now and then, not
on every poll; an idle pump rests longer the longer it stays idle; the emulator
answers one call at a time."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

import pytest

from chalicelib.hub import Hub
from tests.conftest import Pipeline
from tools.local.emulator import OneCallAtATime
from tools.local.pumps import ObjectPump, StreamPump, idle_wait
from tools.local.runtime import LocalRuntime


class CountingStreams:
    def __init__(self, streams: Any) -> None:
        self._streams, self.calls = streams, Counter[str]()

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls[name] += 1
            return getattr(self._streams, name)(**kwargs)

        return call


def test_the_stream_pump_describes_the_stream_once_per_refresh_period(hub: Hub, pipeline: Pipeline) -> None:
    streams, now = CountingStreams(hub.aws.client("dynamodbstreams")), [0.0]
    pump = StreamPump(streams, pipeline.stream._arn, lambda event, context: None, refresh_seconds=10.0,
                      monotonic=lambda: now[0])
    for _ in range(5):
        pump.poll_once()
    assert streams.calls["describe_stream"] == 1
    assert streams.calls["get_records"] == 5
    now[0] = 10.0
    pump.poll_once()
    assert streams.calls["describe_stream"] == 2, "new shards are found after the period"


def test_an_idle_pump_backs_off_to_a_ceiling() -> None:
    assert [idle_wait(n) for n in range(1, 7)] == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5]
    assert idle_wait(3, first=0.1, most=1.0) == 0.4


def test_the_backoff_stays_at_its_ceiling_however_long_the_pump_idles() -> None:
    # 2.0 ** 1024 overflows a float: the wait once raised after ~1,025 idle polls
    assert {idle_wait(n) for n in (1_024, 1_025, 1_026, 5_000, 10**12)} == {0.5}
    assert idle_wait(10**12, first=1e-300, most=1.0) == 1.0
    assert idle_wait(0) == idle_wait(1) == 0.05


def test_an_idle_pump_loop_keeps_resting_past_a_thousand_empty_polls(caplog: pytest.LogCaptureFixture) -> None:
    """The runtime's pump loop over 3,000 empty polls, resting through an injected
    pause instead of the clock: it never fails, and rests at the ceiling."""
    runtime, polls, rests = LocalRuntime(), [0], list[float]()

    def empty_poll() -> int:
        polls[0] += 1
        if polls[0] == 3_000:
            runtime._stop.set()
        return 0

    with caplog.at_level(logging.ERROR):
        runtime._pump_loop("idle-pump", empty_poll, 0.0, pause=rests.append)
    assert polls[0] == 3_000
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert rests[:5] == [0.05, 0.1, 0.2, 0.4, 0.5]
    assert set(rests[4:]) == {0.5}
    assert len(rests) == 3_000


def test_the_emulator_answers_one_call_at_a_time() -> None:
    """Calls arriving together run one after another inside the emulator (as AWS
    applies each atomically), never interleaved."""
    inside, most, lock = [0], [0], threading.Lock()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        threading.Event().wait(0.01)  # long enough for the others to arrive
        with lock:
            inside[0] -= 1
        start_response("200 OK", [])
        return [b"ok"]

    serialised = OneCallAtATime(app)
    calls = [threading.Thread(target=serialised, args=({}, lambda *_: None)) for _ in range(8)]
    for call in calls:
        call.start()
    for call in calls:
        call.join()
    assert most[0] == 1


def test_an_object_that_keeps_failing_never_holds_back_the_ones_after_it(hub: Hub) -> None:
    """The object pump plays Lambda's asynchronous invocation: retried twice on later
    polls, then described to the on-failure destination and left behind."""
    for key in ("inbound/demo/email/a-poison", "inbound/demo/email/b-fine"):
        hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=key, Body=b"x")
    handled: list[str] = []
    given_up: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        key = event["detail"]["object"]["key"]
        if "poison" in key:
            raise ValueError("cannot be processed")
        handled.append(key)

    pump = ObjectPump(hub.aws.s3, hub.settings.bucket, handler, max_retries=2, on_failure=given_up.append)
    pump.poll_once()
    assert handled == ["inbound/demo/email/b-fine"]  # on the first poll, behind the failing one
    assert given_up == []
    pump.poll_once()
    pump.poll_once()
    assert [f["requestPayload"]["detail"]["object"]["key"] for f in given_up] == ["inbound/demo/email/a-poison"]
    assert given_up[0]["requestContext"] == {"condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert pump.poll_once() == 0  # given up on: not tried again
    assert handled == ["inbound/demo/email/b-fine"]
