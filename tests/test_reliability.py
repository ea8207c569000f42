"""The delivery pipeline loses nothing: 1,000 events across 50 tickets, sent in
as signed webhooks over HTTP, through the local runtime (moto's server, the real
pumps, the HTTP app) to a receiver that fails 30% of requests, hangs on 5% and
is down for a stretch. (A permanently failing endpoint, dead-lettered and replayed
with the CLI: tests/test_reliability_dead_letters.py, a file of its own so the two
long runs go to different test workers.)

Bounded: short timeouts and backoff through settings, a deadline on every wait,
loopback only.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from switchboard_sdk import SwitchboardError, standard_webhooks
from switchboard_sdk.testing import Recorded, Reply, StatusServer

from chalicelib.hub import Hub, set_hub
from chalicelib.tenancy.tenants import PluginSetting
from tools.local import samples
from tools.local.demo import DemoTenant
from tools.local.runtime import LocalRuntime, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parent.parent
HUB_TIMEOUT = 0.3
CUSTOMERS, MESSAGES = 50, 18  # 50 tickets
# Per ticket: its ticket.created, the workflow's triage of it (new → open, one ticket.updated;
# later messages change nothing the workflow announces) and a message.created per message.
PER_TICKET = MESSAGES + 2
EVENTS = CUSTOMERS * PER_TICKET  # 1,000
SENDERS = 5  # concurrent senders, each taking turns over its customers
# Each customer writes about every two seconds (25 messages/s in all). Sent faster,
# jobs only pile up in the emulator's queue, whose SQS calls slow down with its
# depth (real SQS's do not), and the run takes longer, not shorter.
PACE_SECONDS = 2.0


class FlakyReceiver:
    """A webhook receiver that verifies signatures and misbehaves on purpose (a
    :class:`StatusServer` answering through :meth:`respond`).

    ``mode`` "flaky": 30% answered 500/503/429 (Retry-After: 1), 5% processed but
    answered only after the hub's timeout (the hub does not know, so it retries — a
    true duplicate), the rest 200; while ``down``, connections are dropped unanswered.
    ``mode`` "broken": every request gets 404 (a removed endpoint). ``accepted``
    records every processed delivery, repeats included, in arrival order.
    """

    def __init__(self, secret: str, seed: int = 7) -> None:
        self.secret, self.mode, self.down = secret, "flaky", False
        self.accepted: list[dict[str, Any]] = []
        self.requests = 0
        self._rng, self._lock = random.Random(seed), threading.Lock()
        self._server = StatusServer(respond=self.respond)
        self._server.__enter__()

    @property
    def url(self) -> str:
        return f"{self._server.url}/events"

    def stop(self) -> None:
        self._server.__exit__(None, None, None)

    def distinct(self) -> set[str]:
        with self._lock:
            return {d["id"] for d in self.accepted}

    def decide(self) -> str:
        with self._lock:
            self.requests += 1
            roll = self._rng.random()
        if self.down:
            return "drop"
        if self.mode == "broken":
            return "404"
        if self.mode == "healthy":
            return "ok"
        return "error" if roll < 0.30 else "hang" if roll < 0.35 else "ok"

    def accept(self, headers: dict[str, str], body: bytes) -> bool:
        try:
            standard_webhooks.verify([self.secret], headers, body, now=datetime.now(UTC))
        except SwitchboardError:
            return False
        with self._lock:
            self.accepted.append(json.loads(body))
        return True

    def respond(self, request: Recorded) -> Reply:
        verdict = self.decide()
        if verdict == "drop":
            return Reply(drop=True)
        if verdict in ("error", "404"):
            status = 404 if verdict == "404" else random.choice((500, 503, 429))
            return Reply(status, headers={"Retry-After": "1"} if status == 429 else {})
        ok = self.accept(request.headers, request.body)
        # a hang: the answer comes after the hub gave up on it
        return Reply(200 if ok else 401, delay=HUB_TIMEOUT * 1.6 if verdict == "hang" else 0.0)


def wait_until(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalRuntime, Hub, DemoTenant]]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in {"SWITCHBOARD_DELIVERY_TIMEOUT_SECONDS": str(HUB_TIMEOUT),
                            "SWITCHBOARD_RETRY_BASE_SECONDS": "1", "SWITCHBOARD_BREAKER_COOLDOWN_SECONDS": "1",
                            "SWITCHBOARD_MAX_DELIVERY_ATTEMPTS": "25", "SWITCHBOARD_RETRY_MAX_SECONDS": "4"}.items():
            env.setenv(name, value)
        env.delenv("SWITCHBOARD_AWS_ENDPOINT", raising=False)
        local = LocalRuntime(port=free_port(), receiver_port=free_port(),
                             state_dir=tmp_path_factory.mktemp("state"),
                             demo_assistant=False)  # its answers would add events to the count
        hub, demo = local.serve_in_background()
        try:
            yield local, hub, demo
        finally:
            local.stop()
            set_hub(None)


def point_webhook_at(hub: Hub, demo: DemoTenant, url: str) -> None:
    tenant = hub.tenants.get(demo.tenant_id)
    webhook = PluginSetting(config={"url": url, "secret": demo.webhook_secret, "timeout_seconds": HUB_TIMEOUT})
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"webhook": webhook}}))


def send_conversations(demo: DemoTenant, prefix: str, customers: int, messages: int, pace: float) -> None:
    """Each customer writes ``messages`` times, in order, all customers at once:
    each sender takes turns over its customers, a round every ``pace`` seconds."""
    def sender(first: int) -> None:
        for m in range(messages):
            round_started = time.monotonic()
            for c in range(first, customers, SENDERS):
                post_like_a_provider(samples.web_message(
                    demo.web_hook_url, demo.web_secret, f"{prefix}{c:02d}-m{m:02d}", email=f"{prefix}{c}@example.com",
                    client_message_id=f"{prefix}{c}-{m}", visitor_id=f"{prefix}-visitor-{c}"))
            time.sleep(max(0.0, round_started + pace - time.monotonic()))

    with ThreadPoolExecutor(SENDERS) as pool:
        for future in [pool.submit(sender, s) for s in range(SENDERS)]:
            future.result()  # a sender that failed fails the test here, not at a later deadline


def post_like_a_provider(sample: samples.Sample, tries: int = 30) -> None:
    """POST until accepted (202); a 429 is sent again after its Retry-After, as providers do."""
    import urllib.error
    import urllib.request

    for _ in range(tries):
        request = urllib.request.Request(sample.url, data=sample.body, headers=sample.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 202
                return
        except urllib.error.HTTPError as err:
            if err.code != 429:
                raise
            time.sleep(float(err.headers.get("Retry-After") or 1))
    raise AssertionError(f"still rate limited after {tries} tries")


def queue_depth(hub: Hub, url: str) -> int:
    attributes = hub.aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def in_ticket_order(accepted: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per ticket, the order in which each event was first processed."""
    order: dict[str, list[str]] = defaultdict(list)
    for delivery in accepted:
        if delivery["id"] not in order[delivery["ticket_id"]]:
            order[delivery["ticket_id"]].append(delivery["id"])
    return order


def test_a_thousand_events_through_failures_arrive_once_each_in_order(
    runtime: tuple[LocalRuntime, Hub, DemoTenant],
) -> None:
    _, hub, demo = runtime
    receiver = FlakyReceiver(demo.webhook_secret)
    point_webhook_at(hub, demo, receiver.url)
    stop = threading.Event()

    def outage_in_the_middle() -> None:
        """Down for 3 s once 40% of the events are through."""
        while len(receiver.distinct()) < EVENTS * 0.4 and not stop.wait(0.1):
            pass
        receiver.down = True
        stop.wait(3.0)
        receiver.down = False

    outage = threading.Thread(target=outage_in_the_middle, daemon=True)
    outage.start()
    try:
        send_conversations(demo, "r", customers=CUSTOMERS, messages=MESSAGES, pace=PACE_SECONDS)
        wait_until(lambda: len(receiver.distinct()) >= EVENTS, f"{EVENTS} distinct deliveries", timeout=720)
        wait_until(lambda: queue_depth(hub, hub.settings.queue_url) == 0, "an empty delivery queue", timeout=60)
    finally:
        stop.set()
        outage.join(timeout=10)
        receiver.stop()
    by_id = {d["id"]: d for d in receiver.accepted}
    assert len(by_id) == EVENTS
    assert receiver.requests > EVENTS * 1.3, "the receiver really failed a third of the time"
    assert queue_depth(hub, hub.settings.dlq_url) == 0
    tickets = in_ticket_order(receiver.accepted)
    assert len(tickets) == CUSTOMERS
    for ticket_id, ids in tickets.items():
        events = [by_id[i] for i in ids]
        assert len(events) == PER_TICKET, ticket_id
        kinds = [e["type"] for e in events]
        assert kinds[0] == "ticket.created", f"ticket {ticket_id} delivered out of order: {kinds}"
        [triage] = [e for e in events if e["type"] == "ticket.updated"]
        assert triage["data"]["changes"] == [{"field": "status", "before": "new", "after": "open"}], ticket_id
        # the triage follows the first message (it is that message's consequence); where it
        # falls among the later messages depends on when they were written, so is not fixed
        assert kinds.index("ticket.updated") > kinds.index("message.created"), \
            f"ticket {ticket_id} delivered out of order: {kinds}"
        texts = [e["data"]["message"]["text"] for e in events if e["type"] == "message.created"]
        assert texts == sorted(texts), f"ticket {ticket_id} delivered out of order"
        assert len(texts) == MESSAGES
