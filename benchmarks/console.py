"""The console's figures (issue 13, section 4). Prints ``name=value`` lines on stdout,
details on stderr. Everything runs on moto in this process.

``dashboard_reads_1k`` / ``dashboard_reads_10k``
    DynamoDB read calls (GetItem, Query, BatchGetItem) for one 30-day dashboard — the
    summary, the timeseries, the per-agent breakdown and the flow through
    ``hub.reports_api`` with an API key (its checks included) — over the aggregates of
    1,000 and 10,000 tickets. The aggregates are written through the real store path
    (``facts.ledger_of`` of a synthetic history per ticket, the ledgers summed, then
    ``MetricsTable.apply``): the reads depend on the days and dimensions, not on tickets.
``console_bundle_gzip_kb_first_load`` / ``console_bundle_gzip_kb_total``
    gzip sizes (level 9, as a CDN compresses) of what ``console/dist/index.html`` loads
    before the app renders (its script, stylesheet and preloaded chunks), and of all the
    build's JS and CSS (``make console`` first).
``inbox_p50_ms`` / ``inbox_p90_ms``
    ``GET /v1/tickets`` (the inbox's first page, signed in as the demo agent) over real
    HTTP through the local runtime (moto's server), over a tenant with 100 tickets.
``metrics_calls_per_change``
    DynamoDB calls the aggregator (``MetricsAggregator``: its hooks and the refreshes
    at the end of each stream batch) makes per history record, measured on tickets worked
    through the stream: a customer message (the web webhook), an assignment, an agent
    reply and a solve per ticket, the stream pumped after the reply and at the end.
    ``metrics_calls_per_record``: per record the aggregator looked at (history entries,
    replies, ticket changes).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
READS = frozenset({"GetItem", "Query", "BatchGetItem", "Scan"})
AGENTS = tuple(f"ag{n}" for n in range(10))
CHANNELS = ("wechat", "web", "email")
GROUPS = ("g1", "g2", "g3")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def environment() -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's
                      AWS_DEFAULT_REGION="us-east-1",
                      AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled", SWITCHBOARD_OUTBOUND_ALLOW="loopback")
    for var in ("AWS_PROFILE", "SWITCHBOARD_AWS_ENDPOINT", "SWITCHBOARD_PLUGINS"):
        os.environ.pop(var, None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


class Calls:
    """DynamoDB calls by operation, while ``on``."""

    def __init__(self, session: Any) -> None:
        self.counts: Counter[str] = Counter()
        self.on = False
        session.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        if self.on:
            self.counts[model.name] += 1

    @contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        self.counts = Counter()
        self.on = True
        try:
            yield self.counts
        finally:
            self.on = False


@contextmanager
def hub_on_moto() -> Iterator[tuple[Any, Calls, Any]]:
    import boto3
    from moto import mock_aws

    from chalicelib.hub import build_hub, set_hub
    from chalicelib.settings import Settings
    from chalicelib.storage.aws import AwsClients
    from tools.local import moto_transactions
    from tools.local.demo import seed_demo_tenant
    from tools.provision import deploy_stateful, settings_for

    moto_transactions.install()
    session = boto3.session.Session()
    calls = Calls(session)
    with mock_aws():
        aws = AwsClients(region="us-east-1", session=session)
        hub = build_hub(settings_for(deploy_stateful(aws.client("cloudformation")), Settings()))
        hub.aws = aws
        set_hub(hub)
        demo = seed_demo_tenant(hub, hub_url="http://testserver", receiver_url="http://127.0.0.1:9/none")
        yield hub, calls, demo
        set_hub(None)


def synthetic_history(n: int, start: datetime) -> list[dict[str, Any]]:
    """A ticket created at ``start``: triaged, assigned, answered, solved (a few reopened)."""
    channel, group, agent = CHANNELS[n % 3], GROUPS[n % 3], AGENTS[n % len(AGENTS)]
    ticket = {"channel": channel, "created_at": start.isoformat(), "category": f"cat{n % 7}", "tags": [f"t{n % 5}"]}

    def entry(version: int, minutes: int, status: str, **more: Any) -> dict[str, Any]:
        return {"version": version, "at": (start + timedelta(minutes=minutes)).isoformat(), "cause": f"c{version}",
                "actor": {"kind": "agent", "id": agent}, "reason": "", "event": None,
                "ticket": ticket | {"status": status, "assignee_id": more.get("assignee"), "group_id": group} | more}

    history = [entry(1, 0, "open", awaiting_since=start.isoformat()),
               entry(2, 5 + n % 50, "open", assignee=agent),
               entry(3, 30 + n % 90, "open", assignee=agent, first_response_at=(start + timedelta(
                   minutes=30 + n % 90)).isoformat()) | {"cause": "msg:r"}]
    if n % 4:
        history.append(entry(4, 200 + n % 500, "solved", assignee=agent))
    if n % 4 and n % 9 == 0:
        history.append(entry(5, 2000, "open", assignee=agent))
    return history


def seed(hub: Any, tickets: int, now: datetime) -> None:
    from chalicelib.metrics.facts import TicketInputs, ledger_of
    from chalicelib.metrics.store import MAX_WRITES
    from chalicelib.metrics.tally import Ledger, difference

    context = hub.metrics_context("demo")
    total: Ledger = {}
    for n in range(tickets):
        start = now - timedelta(days=29) + timedelta(minutes=n * 29 * 1440 // tickets)
        for key, counts in ledger_of(TicketInputs(synthetic_history(n, start)), context).items():
            item = total.setdefault(key, {})
            for name, amount in counts.items():
                item[name] = item.get(name, 0) + amount
    table = hub.metrics.table("demo")
    keys = sorted(total)
    for chunk in range(0, len(keys), MAX_WRITES):
        part = {key: total[key] for key in keys[chunk:chunk + MAX_WRITES]}
        assert table.apply(f"seed-{tickets}-{chunk}", difference(part, {}), {}, 0)
    log(f"seeded {tickets} tickets: {len(keys)} aggregate items")


def dashboard_reads(tickets: int) -> int:
    from chalicelib.api.calls import ApiCall

    with hub_on_moto() as (hub, calls, demo):
        key = demo.api_key
        now = datetime.now(UTC)
        hub.clock = lambda: now
        seed(hub, tickets, now)
        call = ApiCall(authorization=f"Bearer {key}")
        api = hub.reports_api
        api.summary(call)  # warm the container's caches (tenant record, key) like any request after the first
        with calls.counting() as counts:
            api.summary(call)
            api.timeseries(call)
            api.breakdown(ApiCall(authorization=f"Bearer {key}", query={"by": "agent"}))
            api.flow(call)
        log(f"dashboard over {tickets} tickets: {dict(counts)}")
        return sum(n for op, n in counts.items() if op in READS)


def metrics_calls_per_change(tickets: int) -> tuple[float, float]:
    from chalice.test import Client
    from switchboard_sdk import standard_webhooks

    import app as app_module
    from chalicelib.workflow.changes import ChangeActor, TicketPatch
    from chalicelib.workflow.service import Cause
    from tools.local.pumps import StreamPump, drain

    with hub_on_moto() as (hub, calls, demo):
        metered: Counter[str] = Counter()
        wrap_aggregator(hub, calls, metered)
        streams = hub.aws.client("dynamodbstreams")
        arn = streams.list_streams()["Streams"][0]["StreamArn"]
        pump = StreamPump(streams, arn, app_module.store_changes)
        secret = demo.web_secret
        with Client(app_module.app) as client:
            for n in range(tickets):
                body = json.dumps({"visitor_id": f"v{n}", "email": f"v{n}@example.com", "text": "help",
                                   "client_message_id": f"cm{n}"}).encode()
                headers = standard_webhooks.signed_headers(secret, f"msg_{n}", int(time.time()), body)
                client.http.post("/hooks/demo/web", body=body, headers=headers | {"content-type": "application/json"})
            drain([pump])
            for ticket_id in [t["ticket_id"] for t in ticket_items(hub)]:
                ticket = hub.store.tickets("demo").load(ticket_id)
                agent = ChangeActor(kind="agent", id="ag1", name="Ada")
                hub.workflow.change("demo", ticket_id, TicketPatch(assignee_id="ag1"),
                                    Cause(id=f"b:{ticket_id}:a", actor=agent, at=hub.clock()))
                hub.poster.post(ticket, "on it", author_id="ag1", author_name="Ada")
                drain([pump])
                hub.workflow.change("demo", ticket_id, TicketPatch(status="solved"),
                                    Cause(id=f"b:{ticket_id}:s", actor=agent, at=hub.clock()))
            drain([pump])
        log(f"aggregator: {dict(metered)}")
        calls_made = sum(v for k, v in metered.items() if k.startswith("calls:"))
        per_change = calls_made / max(1, metered["records:history"])
        per_record = calls_made / max(1, sum(v for k, v in metered.items() if k.startswith("records:")))
        return per_change, per_record


def ticket_items(hub: Any) -> list[dict[str, Any]]:
    from chalicelib.storage.items import from_item

    items = hub.aws.dynamodb.scan(TableName=hub.settings.table_name)["Items"]
    return [t for t in (from_item(i) for i in items) if t.get("type") == "ticket"]


def wrap_aggregator(hub: Any, calls: Calls, metered: Counter[str]) -> None:
    aggregator = hub.metrics
    for kind in ("history", "message", "ticket", "flush"):
        name = kind if kind == "flush" else f"on_{kind}"
        method: Callable[..., Any] = getattr(aggregator, name)

        def wrapped(*args: Any, _method: Callable[..., Any] = method, _kind: str = kind) -> Any:
            with calls.counting() as counts:
                result = _method(*args)
            metered[f"records:{_kind}" if _kind != "flush" else "batches"] += 1
            metered[f"calls:{_kind}"] += sum(counts.values())
            return result

        setattr(aggregator, name, wrapped)


INBOX = "/v1/tickets"  # the inbox's first page ("all" view); views add filters to the same query


def gzip_kb(path: Path) -> float:
    return len(gzip.compress(path.read_bytes(), compresslevel=9)) / 1024


def console_bundle_gzip_kb(dist: Path = ROOT / "console" / "dist") -> dict[str, float]:
    """gzip KB of the first page load (what index.html names) and of all JS and CSS."""
    index = dist / "index.html"
    if not index.is_file():
        raise SystemExit(f"{dist} has no build: run `make console` first")
    named = set(re.findall(r'(?:src|href)="/console/(assets/[^"]+\.(?:js|css))"', index.read_text()))
    everything = [p for p in (dist / "assets").iterdir() if p.suffix in (".js", ".css")]
    return {
        "console_bundle_gzip_kb_first_load": round(gzip_kb(index) + sum(gzip_kb(dist / n) for n in named), 1),
        "console_bundle_gzip_kb_total": round(sum(gzip_kb(p) for p in everything), 1),
    }


def _seed_tickets(hub_url: str, web_url: str, secret: str, tickets: int) -> None:
    """``tickets`` web-chat visitors, one message each (each opens a ticket)."""
    from tools.local import samples

    for n in range(tickets):
        sample = samples.web_message(web_url, secret, f"Order {n} has not arrived", email=f"visitor{n}@example.com",
                                     visitor_id=f"bench-{n}")
        sent = urllib.request.Request(sample.url, data=sample.body, headers=sample.headers, method="POST")
        with urllib.request.urlopen(sent, timeout=30) as answer:
            assert answer.status == 202, answer.status


def _settle(receiver_url: str, tickets: int, quiet_for: float = 3.0, timeout: float = 600.0) -> None:
    """Wait until the demo receiver has every ticket's ``ticket.created`` and
    ``message.created`` and then nothing for ``quiet_for`` seconds: the stream and queue
    pumps are through the seeding, and the timings are the inbox's own."""
    from tools.local import browser

    deadline, seen, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(browser.request(f"{receiver_url}/events")[1]["events"])
        if count != seen:
            seen, since = count, time.monotonic()
        elif count >= 2 * tickets and time.monotonic() - since >= quiet_for:
            return
        time.sleep(0.25)
    raise SystemExit(f"the pumps were not through {tickets} tickets in {timeout:g}s ({seen} deliveries)")


def inbox_p50_ms(tickets: int = 100, requests: int = 50) -> dict[str, float]:
    """Median (and p90) ms of the inbox's GET through the local runtime's HTTP server."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tools.local import browser
    from tools.local.runtime import LocalRuntime, free_port

    local = LocalRuntime(port=free_port(), receiver_port=free_port(), state_dir=Path(tempfile.mkdtemp()))
    try:
        _, demo = local.serve_in_background()
        _seed_tickets(demo.hub_url, demo.web_hook_url, demo.web_secret, tickets)
        auth = browser.agent_token(demo.hub_url, demo.agent_email, demo.agent_password)
        _settle(demo.receiver_url, tickets)
        for _ in range(10):  # warm: imports, token keys, tenant cache
            assert browser.request(demo.hub_url + INBOX, headers=auth)[0] == 200
        took = []
        for _ in range(requests):
            started = time.perf_counter()
            status, _answer = browser.request(demo.hub_url + INBOX, headers=auth)
            took.append((time.perf_counter() - started) * 1000)
            assert status == 200
    finally:
        local.stop()
    cuts = statistics.quantiles(took, n=10)
    return {"inbox_p50_ms": round(statistics.median(took), 1), "inbox_p90_ms": round(cuts[-1], 1),
            "inbox_tickets": tickets, "inbox_requests": requests}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20, help="tickets worked for metrics_calls_per_change")
    parser.add_argument("--no-dashboard", action="store_true", help="skip the dashboard_reads figures")
    parser.add_argument("--no-inbox", action="store_true", help="skip inbox_p50_ms (the local runtime over HTTP)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures: dict[str, Any] = console_bundle_gzip_kb()
    if not args.no_inbox:  # first: the local runtime keeps its own environment (moto's server)
        figures |= inbox_p50_ms()
    environment()
    logging.getLogger("chalicelib").setLevel(logging.WARNING)
    if not args.no_dashboard:
        figures |= {"dashboard_reads_1k": dashboard_reads(1_000), "dashboard_reads_10k": dashboard_reads(10_000)}
    per_change, per_record = metrics_calls_per_change(args.tickets)
    figures |= {"metrics_calls_per_change": f"{per_change:.2f}", "metrics_calls_per_record": f"{per_record:.2f}"}
    for name, value in figures.items():
        print(f"{name}={value}")
    log(f"took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
