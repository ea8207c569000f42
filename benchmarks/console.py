"""The console's figures (issue 13, section 4). Prints ``name=value`` lines on stdout,
details on stderr. Everything runs on moto in this process.

``dashboard_reads_1k`` / ``dashboard_reads_10k``
    DynamoDB read calls (GetItem, Query, BatchGetItem) for one 30-day dashboard — the
    summary, the timeseries, the per-agent breakdown and the flow through
    ``hub.reports_api`` with an API key (its checks included) — over the aggregates of
    1,000 and 10,000 tickets. The aggregates are written through the real store path
    (``facts.ledger_of`` of a synthetic history per ticket, the ledgers summed, then
    ``MetricsTable.apply``): the reads depend on the days and dimensions, not on tickets.
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
import json
import logging
import os
import sys
import time
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20, help="tickets worked for metrics_calls_per_change")
    parser.add_argument("--no-dashboard", action="store_true", help="skip the dashboard_reads figures")
    args = parser.parse_args(argv)
    environment()
    logging.getLogger("chalicelib").setLevel(logging.WARNING)
    started = time.perf_counter()
    figures: dict[str, Any] = {} if args.no_dashboard else {"dashboard_reads_1k": dashboard_reads(1_000),
                                                            "dashboard_reads_10k": dashboard_reads(10_000)}
    per_change, per_record = metrics_calls_per_change(args.tickets)
    figures |= {"metrics_calls_per_change": f"{per_change:.2f}", "metrics_calls_per_record": f"{per_record:.2f}"}
    for name, value in figures.items():
        print(f"{name}={value}")
    log(f"took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
