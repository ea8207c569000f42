"""A permanently failing endpoint: every event of 20 tickets is dead-lettered with its
reason and shown as failed in the delivery log; once the endpoint is fixed, the CLI
replays the dead-letter queue and every event arrives. Through the local runtime over
HTTP, like tests/test_reliability.py (whose helpers and runtime fixture it shares)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest

from chalicelib.hub import Hub
from tests.test_reliability import (
    PACE_SECONDS,
    ROOT,
    FlakyReceiver,
    point_webhook_at,
    queue_depth,
    runtime,
    send_conversations,
    wait_until,
)
from tools.local.demo import DemoTenant
from tools.local.runtime import LocalRuntime

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
__all__ = ["runtime"]  # the shared module-scoped fixture, used below by name
BROKEN_CUSTOMERS, BROKEN_MESSAGES = 20, 5  # 140 events: enough to fill several batches of every call


def test_a_broken_endpoint_dead_letters_everything_and_the_cli_replays_it(
    runtime: tuple[LocalRuntime, Hub, DemoTenant],
) -> None:
    local, hub, demo = runtime
    receiver = FlakyReceiver(demo.webhook_secret)
    receiver.mode = "broken"
    point_webhook_at(hub, demo, receiver.url)
    try:
        # and per ticket its ticket.created and the workflow's triage of it (one ticket.updated)
        events = BROKEN_CUSTOMERS * (BROKEN_MESSAGES + 2)
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        send_conversations(demo, "b", customers=BROKEN_CUSTOMERS, messages=BROKEN_MESSAGES, pace=PACE_SECONDS)
        wait_until(lambda: queue_depth(hub, hub.settings.dlq_url) >= events, f"{events} dead letters", timeout=240)
        wait_until(lambda: queue_depth(hub, hub.settings.queue_url) == 0, "an empty delivery queue", timeout=60)
        logged = _failed_in_log(demo, since=started)
        assert len(logged) == events
        receiver.mode = "flaky"  # fixed, though still imperfect
        replay = subprocess.run(
            [sys.executable, "-m", "tools.cli", "deliveries", "--state-dir", str(local.state_dir),
             "replay", "--source", "dlq", "--connector", "webhook"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )
        assert replay.returncode == 0, replay.stderr
        assert f"re-queued {events} event(s)" in replay.stdout
        wait_until(lambda: len(receiver.distinct()) >= events, "the replayed deliveries", timeout=240)
    finally:
        receiver.stop()
    assert receiver.distinct() == logged
    replayed = {d["id"]: d["type"] for d in receiver.accepted}
    assert Counter(replayed.values()) == {"ticket.created": BROKEN_CUSTOMERS, "ticket.updated": BROKEN_CUSTOMERS,
                                          "message.created": BROKEN_CUSTOMERS * BROKEN_MESSAGES}
    assert queue_depth(hub, hub.settings.dlq_url) == 0


def _failed_in_log(demo: DemoTenant, since: str) -> set[str]:
    """Event ids the delivery log shows failed since ``since`` (ISO time), read through
    the API's pages, newest first, until they reach attempts older than that."""
    import urllib.request

    failed: set[str] = set()
    cursor = ""
    while True:
        url = f"{demo.hub_url}/v1/deliveries?connector=webhook&limit=100" + (f"&cursor={cursor}" if cursor else "")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {demo.api_key}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.loads(response.read())
        recent = [d for d in page["deliveries"] if d["at"] >= since]
        failed |= {d["event_id"] for d in recent if d["outcome"] == "failed"}
        if not page["next_cursor"] or len(recent) < len(page["deliveries"]):
            return failed
        cursor = urllib.parse.quote(page["next_cursor"])
