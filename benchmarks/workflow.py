"""The service workflow's price: AWS calls behind the stream per message, per SLA tick,
rule evaluation time, and dollars per million messages (issue 12, section 8).

Everything runs on moto in this process (``mock_aws``), the stream and the delivery
queue pumped synchronously like Lambda's event sources (``tools.local.pumps``), the
webhook and the API driven through ``chalice.test.Client``. Every AWS call is booked
by phase with botocore hooks on the hub's session (``benchmarks/meter.py``); the
event sources' own calls (GetRecords, ReceiveMessage, DeleteMessageBatch) are booked
apart. Prints ``name=value`` lines on stdout, details on stderr:

``conversation_calls_per_message`` (issue: 5.20 without the workflow, target <= 6)
    AWS calls the stream handler makes per customer message to build conversations
    (``ConversationBuilder.absorb``/``release``/``mark_bounced``) and to run the
    workflow on what follows (``WorkflowEngine.on_message``/``on_history``/
    ``on_agent``/``on_survey``: triage rules, ``ticket.updated`` rules, assignment,
    SLA planning, the saves and their history entries). The tenant: the demo tenant
    with 20 rules (keyword, regex, channel, customer-tag, language and business-hours
    triage; three ``message.created`` and three ``ticket.updated`` rules), two SLA
    policies (one in business hours on a calendar), a round-robin group of two online
    agents (capacity 50). Of the rules, three look at the customer (two at tags: "VIP
    customers", "VIP follow-up"; one at an attribute: "Key accounts") and two act on the
    customer's tags ("Complaint risk", "Gold members"); the rest look at the text, the
    channel, the language, the priority, business hours or what changed. Because one
    ``ticket.created`` and one ``message.created`` rule look at the customer, every
    customer message has the rules read its customer (``rule_customer_reads_per_message``).
    The primary mix is the one behind the 5.20 (``benchmarks/delivery.py``'s default):
    10 web customers each sending 20 messages, the first opening their ticket and 19
    follow-ups on it — one message in 20 opens a ticket. Here the messages go a round
    at a time (one per customer), each round pumped through the stream before the next.
    ``conversation_calls_per_message_without_workflow``: the same messages from an
    identical tenant whose stream records go to a ``StreamProcessor`` built with
    ``workflow=None``, measured first in the same run (5.20 with this mix: 9 calls for
    a message that opens a ticket, 5 for a follow-up). ``stream_calls_per_message``
    (and ``_without_workflow``) add the dispatch (delivery jobs to SQS, the customers
    read for the events) — everything the stream handler calls.
    ``calls_per_new_ticket_workflow`` / ``calls_per_follow_up_workflow``: the workflow's
    calls alone (its phases, ``workflow-*``) for a message that opens a ticket (the
    first round: triage rules, the save with SLA targets, assignment, the reactions to
    its history entries and to the agent's load) and for a follow-up on an open ticket
    (the later rounds); ``conversation_calls_per_new_ticket`` / ``_per_follow_up`` (and
    ``_without_workflow``) are conversation building plus the workflow for each kind.
    The figures ending ``_new_ticket_heavy`` repeat all of it for a second mix in the
    same run, on new customers: 60 customers with three messages each, so every third
    message opens a ticket (the first figures of this benchmark were of this mix).
    Per-phase breakdowns (calls, estimated capacity, operations) go to stderr.

``aws_calls_per_idle_sla_tick`` / ``aws_calls_per_sla_tick_1pct_due``
    A fresh table with 1,000 open tickets, each with first-response and resolution
    targets and their timers written by the workflow service
    (``hub.workflow.change`` on tickets made by ``touch_ticket``), the hub's clock
    injected. ``hub.scheduler.tick()``'s calls for a minute in which nothing is due
    (the mean of four such minutes), and for a minute in which 10 tickets' (1%)
    warnings come due.

``rule_eval_us``
    ``chalicelib.workflow.rules.evaluate.evaluate`` of 50 ``ticket.created`` rules
    (keywords, regexes, tags, attributes, channel, language, priority, business hours)
    on a web ticket, its 230-character message and a tagged customer; median of many
    runs, microseconds.

``usd_per_million_messages`` / ``usd_floor_per_million_messages`` / ``usd_ratio_to_floor``
    The workflow tenant's messages of the primary mix, each arriving (API Gateway REST
    request + the webhook Lambda), joining its ticket, triaged, routed, assigned, given SLA
    targets, and delivered with every event it leads to to the webhook connector:
    DynamoDB capacity estimated from the measured calls and item sizes (see
    ``meter.py``), SQS requests (the dispatcher's sends; the event source's receives
    that returned jobs and its deletes — empty receives are the pollers' idle cost and
    left out; Streams reads by Lambda are free), Lambda requests (the webhook, stream
    and worker invocations counted) and GB-seconds (each invocation timed with
    ``perf_counter``; memory ``lambda_memory_size`` from .chalice/config.json), at
    :data:`meter.PRICES` (list prices, us-east-1, with their date). Floor: one API
    Gateway request, one Lambda invocation of the webhook's median duration, one WRU.
    Durations are moto's in-process ones: no network latency, moto's own work instead.
    ``usd_per_million_messages_new_ticket_heavy`` (and its ratio): the same for the
    second mix.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meter import PRICES, PRICES_CHECKED, Meter, Usage, total  # noqa: E402 - beside this script
from phases import PHASE, tagged  # noqa: E402

from tools.local import moto_transactions  # noqa: E402

TENANT, PLAIN = "demo", "plain"
GROUP = "grp_support"
AGENTS = ("agt_ada", "agt_bo")
BASE = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai: the calendar is open
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            # lets moto's in-process DynamoDB Streams answer (tests/conftest.py)
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "SWITCHBOARD_OUTBOUND_ALLOW": "loopback"}
OFFICE = {"name": "Office", "time_zone": "Asia/Shanghai",
          "week": {d: [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]
                   for d in ("mon", "tue", "wed", "thu", "fri")},
          "holidays": ["2026-10-01", "2027-01-01"]}
FIRSTS = (
    "Hello, my order #{n:05d} is late. Where is my order? The tracking page shows nothing.",
    "I want a refund for order #{n:05d}: the kettle arrived damaged and leaks.",
    "How do I change the email address on my account?",
    "Please cancel my subscription asap, I was charged twice this month.",
    "This is unacceptable. Third time I write about order #{n:05d}; I will talk to my lawyer.",
    "Hi, gold member here. The delivery of #{n:05d} was supposed to arrive yesterday.",
    "The app keeps crashing when I open the basket, can you help?",
    "您好, 我的订单 #{n:05d} 还没有到, 请帮忙查一下物流。",
)
FOLLOW_UPS = (
    "Any update on this?",
    "Thanks. I also attached a photo of the box.",
    "Still waiting, please check again.",
    "One more thing: the invoice address is wrong.",
)


def log(text: str) -> None:
    print(text, file=sys.stderr)


class Clock:
    """The hub's clock: set by hand, or following real time from ``now`` (``running``)."""

    def __init__(self, now: datetime, *, running: bool = False) -> None:
        self.now = now
        self._started = time.monotonic() if running else None

    def __call__(self) -> datetime:
        if self._started is None:
            return self.now
        return self.now + timedelta(seconds=time.monotonic() - self._started)


def fake_aws_environment() -> None:
    os.environ.update(FAKE_AWS)
    for var in ("AWS_PROFILE", "SWITCHBOARD_AWS_ENDPOINT", "SWITCHBOARD_PLUGINS"):
        os.environ.pop(var, None)


def lambda_memory_gb() -> float:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return int(config.get("lambda_memory_size", 512)) / 1024


# -- the hub on moto ---------------------------------------------------------------------


@dataclass
class Bench:
    hub: Any
    api: Any  # chalice.test TestHTTPClient
    api_key: str
    outputs: dict[str, str]
    meter: Meter
    clock: Clock
    secrets: dict[str, str] = field(default_factory=dict)  # tenant → its web channel's signing secret
    durations: dict[str, list[float]] = field(default_factory=dict)  # phase → seconds per invocation

    def call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = getattr(self.api, method)(path, body=json.dumps(body), headers={
            "authorization": f"Bearer {self.api_key}", "content-type": "application/json"})
        if answer.status_code >= 300:
            raise RuntimeError(f"{method.upper()} {path} answered {answer.status_code}: {answer.body!r}")
        return dict(json.loads(answer.body or b"{}"))

    def timed(self, phase: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` as a Lambda invocation: its calls booked under ``phase``, its duration kept."""
        inner = tagged(phase, func)

        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.durations.setdefault(phase, []).append(time.perf_counter() - started)

        return run


def build_hub(clock: Clock) -> tuple[Any, Meter, dict[str, str]]:
    """A hub on moto (inside ``mock_aws``), every client metered, ``clock`` injected
    before any part of it is built."""
    import boto3
    from switchboard_sdk.netguard import LOOPBACK, OutboundPolicy

    from chalicelib.hub import build_hub as build
    from chalicelib.hub import set_hub
    from chalicelib.settings import Settings
    from chalicelib.storage.aws import AwsClients
    from tools.provision import deploy_stateful, settings_for

    session = boto3.session.Session()
    meter = Meter()
    meter.install(session)  # before any client: each copies the handlers
    aws = AwsClients(region=FAKE_AWS["AWS_DEFAULT_REGION"], session=session)
    outputs = deploy_stateful(aws.client("cloudformation"))
    settings = settings_for(outputs, Settings(tenant_cache_seconds=3600, webhook_rate=100_000.0, api_rate=100_000.0,
                                              outbound_policy=OutboundPolicy.parse(LOOPBACK)))
    hub = build(settings)
    hub.aws = aws
    hub.clock = clock
    set_hub(hub)
    return hub, meter, outputs


def seed(bench: Bench, tenant_id: str, receiver_url: str) -> str:
    from tools.local.demo import seed_demo_tenant

    demo = seed_demo_tenant(bench.hub, hub_url="http://testserver", receiver_url=receiver_url, tenant_id=tenant_id)
    bench.secrets[tenant_id] = demo.web_secret
    return demo.api_key


def rule(name: str, trigger: str, actions: list[dict[str, Any]], *conditions: dict[str, Any],
         any_of: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"name": name, "trigger": trigger, "actions": actions,
            "conditions": {"all": list(conditions), "any": any_of or []}}


def words(*keywords: str) -> dict[str, Any]:
    return {"type": "text", "keywords": list(keywords)}


def tags(*values: str) -> dict[str, Any]:
    return {"type": "add_tags", "tags": list(values)}


def tenant_rules(urgent_policy: str) -> list[dict[str, Any]]:
    """A realistic set: 14 triage rules, 3 for later messages, 3 on changes."""
    created, later, updated = "ticket.created", "message.created", "ticket.updated"
    return [
        rule("Refunds", created, [{"type": "set_priority", "priority": "high"},
                                  {"type": "set_category", "category": "billing"}, tags("refund")],
             words("refund", "chargeback", "money back", "charged twice")),
        rule("Damaged goods", created, [{"type": "set_category", "category": "product"}, tags("damaged")],
             words("damaged", "broken", "defective", "leaks")),
        rule("Shipping", created, [{"type": "set_category", "category": "shipping"}, tags("shipping")],
             words("late", "where is my order", "tracking", "delivery", "物流", "没有到")),
        rule("Order number", created, [tags("has-order")], {"type": "text", "regex": r"#\d{4,12}"}),
        rule("Cancellations", created, [{"type": "set_category", "category": "cancellation"}], words("cancel")),
        rule("In a hurry", created, [{"type": "set_priority", "priority": "high"}],
             words("urgent", "asap", "immediately")),
        rule("Complaint risk", created, [{"type": "set_priority", "priority": "urgent"}, tags("escalation"),
                                         {"type": "set_customer_tags", "add": ["complaint-risk"]}],
             words("lawyer", "unacceptable", "complaint")),
        rule("Gold members", created, [{"type": "set_customer_tags", "add": ["vip"]},
                                       {"type": "set_priority", "priority": "high"}], words("gold member")),
        rule("VIP customers", created, [{"type": "set_priority", "priority": "urgent"}, tags("vip"),
                                        {"type": "apply_sla_policy", "policy_id": urgent_policy}],
             {"type": "customer_tag", "values": ["vip"]}),
        rule("Key accounts", created, [{"type": "set_priority", "priority": "high"}],
             {"type": "customer_attribute", "key": "tier", "op": "in", "values": ["gold", "platinum"]}),
        rule("WeChat", created, [tags("wechat")], {"type": "channel", "values": ["wechat"]}),
        rule("SMS", created, [tags("sms")], {"type": "channel", "values": ["twilio", "sms"]}),
        rule("Web to support", created, [{"type": "assign_group", "group_id": GROUP}],
             {"type": "channel", "values": ["web", "email"]}),
        rule("After hours", created, [tags("after-hours")], {"type": "within_business_hours", "value": False}),
        rule("Chinese", later, [tags("zh")], {"type": "language", "values": ["zh"]}),
        rule("Chasing", later, [{"type": "set_priority", "priority": "high"}, tags("chased")],
             words("still", "any update", "again"), {"type": "priority", "values": ["normal", "low"]}),
        rule("VIP follow-up", later, [{"type": "set_priority", "priority": "urgent"},
                                      {"type": "apply_sla_policy", "policy_id": urgent_policy}],
             {"type": "customer_tag", "values": ["vip", "complaint-risk"]},
             {"type": "priority", "op": "not_in", "values": ["urgent"]}),
        rule("Escalations reach the CRM", updated, [{"type": "notify_connector", "connector": "webhook",
                                                     "note": "escalated"}],
             {"type": "changed", "fields": ["priority"], "to": "urgent"}),
        rule("Refund checklist", updated, [{"type": "add_note", "text": "Refund: check the order and the policy."}],
             {"type": "changed", "fields": ["tags"], "to": "refund"}),
        rule("Solved by an agent", updated, [tags("agent-solved")],
             {"type": "changed", "fields": ["status"], "to": "solved"}, {"type": "actor", "kinds": ["agent"]}),
    ]


def configure_workflow(bench: Bench) -> None:
    """The demo tenant's calendar (its default), two SLA policies, a group of two online agents, 20 rules."""
    from chalicelib.agents.directory import Agent, Group
    from chalicelib.storage.conventions import iso
    from chalicelib.tenancy.audit import Actor

    hub = bench.hub
    calendar = bench.call("post", "/v1/calendars", OFFICE)["id"]
    urgent = bench.call("post", "/v1/sla-policies", {
        "name": "Urgent", "position": 1, "conditions": {"priorities": ["urgent"]},
        "targets": {"urgent": {"first_response_minutes": 15, "next_response_minutes": 30,
                               "resolution_minutes": 240}}})["id"]
    bench.call("post", "/v1/sla-policies", {
        "name": "Standard", "position": 10, "business_hours": True, "calendar_id": calendar,
        "targets": {p: {"first_response_minutes": m, "next_response_minutes": 2 * m, "resolution_minutes": 16 * m}
                    for p, m in (("urgent", 30), ("high", 60), ("normal", 120), ("low", 480))}})
    tenant = hub.tenants.get(TENANT)
    workflow = tenant.settings.workflow.model_copy(update={"default_calendar_id": calendar})
    hub.tenants.put(tenant.model_copy(update={"settings": tenant.settings.model_copy(update={"workflow": workflow})}))
    directory, now = hub.agent_store.of(TENANT), iso(bench.clock())

    def audit(target: str) -> dict[str, Any]:
        return dict(hub.audit.entry(TENANT, Actor(key_id="bench"), "bench.setup", target)[1])

    directory.add_group(Group(id=GROUP, name="Support", assignment="round_robin", created_at=now, updated_at=now),
                        audit(f"group/{GROUP}"))
    for agent_id in AGENTS:
        directory.add_agent(Agent.model_validate({
            "id": agent_id, "username": agent_id, "tenant_id": TENANT, "email": f"{agent_id}@demo.example",
            "name": agent_id, "role": "agent", "status": "active", "availability": "online",
            "group_ids": [GROUP], "capacity": 50, "created_at": now, "updated_at": now}), audit(f"agent/{agent_id}"))
    for body in tenant_rules(urgent):  # after the group: a rule naming a group the tenant lacks is refused
        bench.call("post", "/v1/rules", body)


# -- the pipeline: stream and queue, as Lambda's event sources ------------------------------


@dataclass
class Pipeline:
    stream: Any
    queue: Any

    def drain(self) -> None:
        from tools.local.pumps import drain

        drain([self.stream, self.queue], timeout=300)


def pipeline(bench: Bench) -> Pipeline:
    """Stream records go to the hub's processor (the workflow on), the ``plain`` tenant's
    to one built with ``workflow=None``; each tenant's share of a batch is one invocation."""
    from chalicelib.pipeline.conversations import ConversationBuilder
    from chalicelib.pipeline.setaside import tenant_of
    from chalicelib.pipeline.stream import StreamProcessor
    from tools.local.pumps import QueuePump, StreamPump

    hub = bench.hub
    plain = StreamProcessor(ConversationBuilder(hub.store, hub.retention), hub.dispatcher, hub.set_aside,
                            workflow=None)
    processors = {PLAIN: (plain, "plain:"), None: (hub.stream, "flow:")}
    for processor, prefix in processors.values():
        instrument(processor, prefix)
    worker = {prefix: bench.timed(f"{prefix}worker", hub.worker.process) for _, prefix in processors.values()}
    handlers = {prefix: bench.timed(f"{prefix}stream", processor.process) for processor, prefix in processors.values()}
    current = {"prefix": "flow:"}

    def store_changes(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        shares: dict[str, list[dict[str, Any]]] = {}
        for record in event["Records"]:
            prefix = processors[PLAIN if tenant_of(record) == PLAIN else None][1]
            shares.setdefault(prefix, []).append(record)
        failures: list[dict[str, str]] = []
        for prefix, records in shares.items():
            current["prefix"] = prefix  # the deliveries that follow belong to this tenant's stage
            failures += handlers[prefix](records)["batchItemFailures"]
        return {"batchItemFailures": failures[:1]}

    def deliveries(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        return dict(worker[current["prefix"]](event["Records"]))

    sqs, url = hub.aws.sqs, bench.outputs["DeliveryQueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stream = StreamPump(hub.aws.client("dynamodbstreams"), bench.outputs["TableStreamArn"], store_changes)
    return Pipeline(stream, QueuePump(sqs, url, arn, deliveries))


def instrument(processor: Any, prefix: str) -> None:
    """Tag the parts of a stream processor (instrumentation only: nothing they do changes)."""
    conversations = processor._conversations
    for name in ("absorb", "release", "mark_bounced"):
        setattr(conversations, name, tagged(f"{prefix}stream:conversations", getattr(conversations, name)))
    engine = processor._workflow
    if engine is not None:
        for name in ("on_message", "on_history", "on_agent", "on_survey"):
            setattr(engine, name, tagged(f"{prefix}stream:workflow-{name.removeprefix('on_')}",
                                         getattr(engine, name)))


# -- part 1 and 4: messages ----------------------------------------------------------------


def send(bench: Bench, tenant_id: str, customer: int, text: str, n: int) -> None:
    from switchboard_sdk.standard_webhooks import signed_headers

    body = json.dumps({"visitor_id": f"bench-{customer}", "name": f"Customer {customer}",
                       "email": f"customer{customer}@example.com", "text": text,
                       "client_message_id": f"{tenant_id}-{customer}-{n}",
                       "page_url": "https://shop.example.com/orders"}).encode()
    headers = signed_headers(bench.secrets[tenant_id], f"wh_{tenant_id}_{customer}_{n}",
                             int(bench.clock().timestamp()), body)
    answer = bench.timed("webhook" if tenant_id == TENANT else "plain:webhook", bench.api.post)(
        f"/hooks/{tenant_id}/web", body=body, headers={"content-type": "application/json"} | headers)
    if answer.status_code != 202:
        raise RuntimeError(f"webhook answered {answer.status_code}: {answer.body!r}")


@dataclass(frozen=True)
class Mix:
    """Who writes how much: ``customers`` each send a first message (it opens their ticket)
    and ``messages - 1`` follow-ups on it, a round of one message per customer at a time,
    each round pumped through before the next; ``suffix`` names its figures."""

    suffix: str
    customers: int
    messages: int
    first_customer: int  # customer numbers apart per mix: each mix's first messages open tickets


@dataclass
class Rounds:
    """What one tenant's rounds of a mix cost behind the stream, by phase: the first round
    (every message opens a ticket) apart from the follow-up rounds."""

    sent: int = 0
    firsts: int = 0
    follow_ups: int = 0
    first_calls: Counter[str] = field(default_factory=Counter)  # phase → calls
    follow_up_calls: Counter[str] = field(default_factory=Counter)
    customer_reads: Counter[str] = field(default_factory=Counter)  # "first"/"follow-up" → rule reads


def stream_calls(meter: Meter, prefix: str) -> Counter[str]:
    return Counter({name: usage.total_calls for name, usage in meter.usage(f"{prefix}stream").items()})


def conversation(bench: Bench, flow: Pipeline, tenant_id: str, mix: Mix, reads: Counter[str]) -> Rounds:
    """The mix for one tenant, round by round; each round's calls kept by kind of message."""
    prefix = "plain:" if tenant_id == PLAIN else "flow:"
    rounds = Rounds()
    for n in range(mix.messages):
        before, read_before = stream_calls(bench.meter, prefix), sum(reads.values())
        for c in range(mix.first_customer, mix.first_customer + mix.customers):
            text = FIRSTS[c % len(FIRSTS)].format(n=c) if n == 0 else FOLLOW_UPS[(c + n) % len(FOLLOW_UPS)]
            send(bench, tenant_id, c, text, n)
            rounds.sent += 1
        flow.drain()
        spent = stream_calls(bench.meter, prefix)
        spent.subtract(before)
        kind = "first" if n == 0 else "follow-up"
        (rounds.first_calls if n == 0 else rounds.follow_up_calls).update(spent)
        rounds.customer_reads[kind] += sum(reads.values()) - read_before
        if n == 0:
            rounds.firsts += mix.customers
        else:
            rounds.follow_ups += mix.customers
    return rounds


def count_customer_reads(hub: Any) -> Counter[str]:
    """Count the rule runner's customer reads by phase (instrumentation only: it reads as before)."""
    runner, reads = hub.rule_runner, Counter[str]()
    read = runner._customers

    def counted(tenant_id: str, customer_id: str) -> Any:
        reads[PHASE.get()] += 1
        return read(tenant_id, customer_id)

    runner._customers = counted
    return reads


def run_mix(bench: Bench, flow: Pipeline, mix: Mix, reads: Counter[str], *, with_costs: bool) -> dict[str, float]:
    """The mix from the plain tenant, then from the workflow tenant; its figures, named with its suffix."""
    bench.meter.clear()
    bench.durations.clear()
    reads.clear()
    started = time.perf_counter()
    plain = conversation(bench, flow, PLAIN, mix, reads)
    flowing = conversation(bench, flow, TENANT, mix, reads)
    log(f"mix{mix.suffix or ' (primary)'}: {mix.customers} customers x {mix.messages} messages "
        f"({mix.customers} open a ticket, {flowing.follow_ups} follow-ups), {plain.sent} + {flowing.sent} messages "
        f"in {time.perf_counter() - started:.1f} s")
    out = figures(bench, plain, flowing, reads, mix.suffix)
    if with_costs:
        out |= costs(bench, flowing.sent)
    else:
        out |= {f"{k}{mix.suffix}": v for k, v in costs(bench, flowing.sent).items()
                if k in ("usd_per_million_messages", "usd_ratio_to_floor")}
    return out


def messages_part(mixes: list[Mix]) -> dict[str, float]:
    from chalice.test import Client
    from moto import mock_aws
    from switchboard_sdk.testing import StatusServer

    import app

    with mock_aws(), StatusServer(200) as receiver:
        clock = Clock(BASE, running=True)
        hub, meter, outputs = build_hub(clock)
        http = Client(app.app, project_dir=str(ROOT)).http
        bench = Bench(hub, http, "", outputs, meter, clock)
        bench.api_key = seed(bench, TENANT, receiver.url)
        seed(bench, PLAIN, receiver.url)
        configure_workflow(bench)
        flow = pipeline(bench)
        reads = count_customer_reads(hub)
        flow.drain()  # the setup's records (agents coming online look at the backlog)
        warm(bench, flow)
        out: dict[str, float] = {}
        for n, mix in enumerate(mixes):
            out |= run_mix(bench, flow, mix, reads, with_costs=n == 0)
        log(f"{len(receiver.requests)} deliveries to the connector")
        check(hub)
        return out


def warm(bench: Bench, flow: Pipeline) -> None:
    """One conversation per tenant before counting: caches and clients warm (as in a busy container)."""
    for tenant_id in (PLAIN, TENANT):
        send(bench, tenant_id, 9999, "warm-up: where is my order #99999?", 0)
        flow.drain()
        send(bench, tenant_id, 9999, "any update?", 1)
        flow.drain()


def check(hub: Any) -> None:
    """The workflow did its work: tickets open, in the group, assigned, with SLA targets (stderr)."""
    ledger: Counter[str] = Counter()
    cursor: str | None = None
    while True:
        page, cursor = hub.store.reads(TENANT).list_tickets(limit=100, before=cursor)
        for ticket in page:
            ledger[f"{ticket.status}/{ticket.priority}/{'assigned' if ticket.assignee_id else 'unassigned'}/"
                   f"{len(ticket.sla)} targets"] += 1
        if cursor is None:
            return log(f"tickets by status/priority/assignment/SLA targets: {dict(ledger.most_common())}")


def figures(bench: Bench, plain_rounds: Rounds, rounds: Rounds, reads: Counter[str],
            suffix: str) -> dict[str, float]:
    meter, plain, flowing = bench.meter, plain_rounds.sent, rounds.sent
    flow, without = meter.usage("flow:stream"), meter.usage("plain:stream")
    building = {k: v for k, v in flow.items() if ":conversations" in k or ":workflow-" in k}

    def workflow(calls: Counter[str]) -> int:
        return sum(n for name, n in calls.items() if ":workflow-" in name)

    def building_calls(calls: Counter[str]) -> int:
        return sum(n for name, n in calls.items() if ":conversations" in name or ":workflow-" in name)

    out = {
        "messages_per_run": float(flowing),
        "conversation_calls_per_message": total(building.values()).total_calls / flowing,
        "conversation_calls_per_message_without_workflow":
            total(meter.usage("plain:stream:conversations").values()).total_calls / plain,
        "stream_calls_per_message": total(flow.values()).total_calls / flowing,
        "stream_calls_per_message_without_workflow": total(without.values()).total_calls / plain,
        "calls_per_new_ticket_workflow": workflow(rounds.first_calls) / rounds.firsts,
        "calls_per_follow_up_workflow": workflow(rounds.follow_up_calls) / max(rounds.follow_ups, 1),
        "conversation_calls_per_new_ticket": building_calls(rounds.first_calls) / rounds.firsts,
        "conversation_calls_per_follow_up": building_calls(rounds.follow_up_calls) / max(rounds.follow_ups, 1),
        "conversation_calls_per_new_ticket_without_workflow":
            building_calls(plain_rounds.first_calls) / plain_rounds.firsts,
        "conversation_calls_per_follow_up_without_workflow":
            building_calls(plain_rounds.follow_up_calls) / max(plain_rounds.follow_ups, 1),
        "rule_customer_reads_per_message": sum(rounds.customer_reads.values()) / flowing,
    }
    for name, usage in sorted(flow.items()):
        phase = name.removeprefix("flow:stream").removeprefix(":") or "dispatch"
        out[f"calls_per_message_{phase.replace('-', '_').replace(':', '_')}"] = usage.total_calls / flowing
    label = suffix.removeprefix("_").replace("_", "-") or "primary"
    log(f"[{label}] calls per message behind the stream, with the workflow, by phase and operation:")
    for name, usage in sorted(flow.items()):
        detail = ", ".join(f"{op} {n / flowing:.2f}" for op, n in usage.calls.most_common())
        refused = f", refused {dict(usage.errors)}" if usage.errors else ""
        log(f"  {name.removeprefix('flow:stream') or ' (dispatch)'}: {usage.total_calls / flowing:.2f} calls, "
            f"{usage.wru / flowing:.1f} WRU, {usage.rru / flowing:.1f} RRU  [{detail}{refused}]")
    log(f"[{label}] without the workflow: " + ", ".join(
        f"{k.removeprefix('plain:stream') or '(dispatch)'} {v.total_calls / plain:.2f} "
        f"[{', '.join(f'{op} {n / plain:.2f}' for op, n in v.calls.most_common())}]"
        for k, v in sorted(without.items())))
    for kind, calls, count in (("a message opening a ticket", rounds.first_calls, rounds.firsts),
                               ("a follow-up on an open ticket", rounds.follow_up_calls, rounds.follow_ups)):
        if count:
            log(f"[{label}] per {kind} ({count}): " + ", ".join(
                f"{k.removeprefix('flow:stream') or '(dispatch)'} {n / count:.2f}" for k, n in sorted(calls.items())))
    log(f"[{label}] the rules read the customer {reads.total()} times for {flowing} messages "
        f"(by phase {dict(reads)}; {rounds.customer_reads['first']} for {rounds.firsts} new tickets, "
        f"{rounds.customer_reads['follow-up']} for {rounds.follow_ups} follow-ups)")
    return {f"{k}{suffix}": v for k, v in out.items()}


def costs(bench: Bench, messages: int) -> dict[str, float]:
    """USD per million of the workflow tenant's messages, from what was measured (see the module)."""
    meter, gb = bench.meter, lambda_memory_gb()
    handlers = {"webhook": "webhook", "stream": "flow:stream", "worker": "flow:worker"}
    invocations = {name: len(bench.durations.get(phase, [])) for name, phase in handlers.items()}
    seconds = {name: sum(bench.durations.get(phase, [])) for name, phase in handlers.items()}
    # the calls each handler made, and the queue event source's (its receives and deletes are billed)
    usage = {name: total(meter.usage(phase).values()) for name, phase in handlers.items()}
    source = meter.phases.get("event-source", Usage())
    lines = {
        "api_gateway": messages * PRICES["apigw_rest_request"],
        "lambda_requests": sum(invocations.values()) * PRICES["lambda_request"],
        "lambda_duration": sum(seconds.values()) * gb * PRICES["lambda_gb_second"],
        "dynamodb": sum(u.wru * PRICES["ddb_wru"] + u.rru * PRICES["ddb_rru"] for u in usage.values()),
        "sqs": (sum(u.sqs_requests for u in usage.values()) + source.sqs_requests) * PRICES["sqs_fifo_request"],
        "s3": sum(u.s3_puts * PRICES["s3_put_request"] + u.s3_gets * PRICES["s3_get_request"]
                  for u in usage.values()),
    }
    per_million = {k: v / messages * 1e6 for k, v in lines.items()}
    webhook_median = statistics.median(bench.durations["webhook"])
    floor = PRICES["apigw_rest_request"] + PRICES["lambda_request"] + webhook_median * gb * PRICES[
        "lambda_gb_second"] + PRICES["ddb_wru"]
    spent = sum(per_million.values())
    calls = sum(u.total_calls for u in usage.values())
    log(f"cost per million messages at list prices of {PRICES_CHECKED} (us-east-1, {gb * 1024:.0f} MB Lambdas):")
    for name, usd in per_million.items():
        log(f"  {name}: ${usd:.2f}")
    log(f"  per message: {sum(u.wru for u in usage.values()) / messages:.2f} WRU, "
        f"{sum(u.rru for u in usage.values()) / messages:.2f} RRU, "
        f"{(sum(u.sqs_requests for u in usage.values()) + source.sqs_requests) / messages:.2f} SQS requests "
        f"({source.empty_receives} empty receives left out), "
        f"{invocations['stream'] / messages:.3f} stream and {invocations['worker'] / messages:.3f} worker "
        f"invocations, {calls / messages:.1f} AWS calls")
    log(f"  median durations: webhook {webhook_median * 1000:.1f} ms, stream batch "
        f"{statistics.median(bench.durations['flow:stream']) * 1000:.0f} ms, worker batch "
        f"{statistics.median(bench.durations['flow:worker']) * 1000:.0f} ms (moto in-process)")
    latency = calls / messages * 0.005 * gb * PRICES["lambda_gb_second"] * 1e6
    log(f"  at 5 ms of real latency per AWS call, Lambda duration would add about ${latency:.2f} per million")
    return {f"usd_per_million_{k}": v for k, v in per_million.items()} | {
        "usd_per_million_messages": spent, "usd_floor_per_million_messages": floor * 1e6,
        "usd_ratio_to_floor": spent / (floor * 1e6)}


# -- part 2: the SLA tick ------------------------------------------------------------------


def sla_tick_part(open_tickets: int) -> dict[str, float]:
    """1,000 open tickets with targets; the scheduler's calls for idle minutes and a 1%-due one."""
    from chalice.test import Client
    from moto import mock_aws
    from switchboard_sdk import Ticket

    import app
    from chalicelib.workflow.changes import ChangeActor, TicketPatch
    from chalicelib.workflow.service import Cause

    start = datetime(2026, 12, 9, 1, 0, tzinfo=UTC)  # tickets made 6 s apart from here
    spacing = timedelta(seconds=6000 / open_tickets)  # spread over 100 minutes
    with mock_aws():
        clock = Clock(start + timedelta(minutes=100))
        hub, meter, outputs = build_hub(clock)
        http = Client(app.app, project_dir=str(ROOT)).http
        bench = Bench(hub, http, "", outputs, meter, clock)
        bench.api_key = seed(bench, TENANT, "http://127.0.0.1:9/hook")
        bench.call("post", "/v1/sla-policies", {  # calendar time; warnings 15 minutes before
            "name": "Standard", "targets": {"normal": {"first_response_minutes": 120, "resolution_minutes": 1440}}})
        made = time.perf_counter()
        for i in range(open_tickets):
            created = start + i * spacing
            ticket_id = f"tkt_sla{i:05d}"
            hub.store.conversations(TENANT).touch_ticket(Ticket(
                id=ticket_id, tenant_id=TENANT, customer_id=f"cus_sla{i:05d}", channel="web",
                subject=f"Order {i}", created_at=created, last_activity_at=created))
            hub.workflow.change(TENANT, ticket_id, TicketPatch(status="open"),
                                Cause(id=f"bench:{i}", actor=ChangeActor.system("bench"), at=clock()),
                                facts=lambda _, at=created: {"awaiting_since": at})
        log(f"sla: {open_tickets} open tickets with targets and timers in {time.perf_counter() - made:.1f} s")
        hub.scheduler.tick()  # the first tick: nothing due in the five minutes it looks back
        idle: list[int] = []
        for minute in range(101, 105):  # first warnings at +105 min: these minutes are quiet
            clock.now = start + timedelta(minutes=minute)
            idle.append(metered_tick(hub, meter, expect_fired=0))
        clock.now = start + timedelta(minutes=105)
        hub.scheduler.tick()  # ticket 0's warning, exactly at +105 min
        clock.now = start + timedelta(minutes=106)
        due = metered_tick(hub, meter, expect_fired=open_tickets // 100)
    return {"open_tickets": float(open_tickets), "aws_calls_per_idle_sla_tick": statistics.mean(idle),
            "aws_calls_per_sla_tick_1pct_due": float(due)}


def metered_tick(hub: Any, meter: Meter, *, expect_fired: int) -> int:
    meter.clear()
    with phase("tick"):
        report = hub.scheduler.tick()
    if report.fired != expect_fired or report.failed:
        raise RuntimeError(f"expected {expect_fired} timers fired, the tick reported {report.as_dict()}")
    usage = meter.phases.get("tick", Usage())
    log(f"  tick: {report.fired} fired, {usage.total_calls} calls {dict(usage.calls)}")
    return usage.total_calls


@contextmanager
def phase(name: str) -> Iterator[None]:
    token = PHASE.set(name)
    try:
        yield
    finally:
        PHASE.reset(token)


# -- part 3: rule evaluation ---------------------------------------------------------------


def rule_eval_part(rules: int, runs: int) -> dict[str, float]:
    from switchboard_sdk import Customer, Message, Ticket

    from chalicelib.workflow.calendar import BusinessCalendar
    from chalicelib.workflow.rules.evaluate import RuleContext, evaluate
    from chalicelib.workflow.rules.models import Rule

    now = BASE
    stored = [Rule.model_validate(body | {"id": f"rul_{n:03d}", "position": n, "version": 1, "updated_at": now,
                                          "updated_by": "bench"})
              for n, body in enumerate(fifty_rules(rules))]
    calendar = BusinessCalendar.model_validate(OFFICE | {"id": "cal_office"})
    text = ("Hello, I ordered a kettle (order #48213) two weeks ago and the tracking page still says "
            "'label created'. I paid for express delivery. Could you tell me where it is or refund the "
            "shipping? Thanks, Ada")
    ticket = Ticket(id="tkt_1", tenant_id=TENANT, customer_id="cus_1", channel="web", subject=text[:80],
                    created_at=now, last_activity_at=now, language="en", tags=["web"])
    customer = Customer.model_validate({"id": "cus_1", "tenant_id": TENANT, "identities": [], "created_at": now,
                                        "tags": ["returning", "newsletter"], "attributes": {"tier": "silver"}})
    message = Message(id="msg_1", tenant_id=TENANT, ticket_id="tkt_1", customer_id="cus_1", channel="web",
                      provider_message_id="p1", text=text, received_at=now)
    context = RuleContext(ticket=ticket, trigger="ticket.created", now=now, customer=customer, message=message,
                          is_open=calendar.is_open)
    fired = evaluate(stored, context)
    for _ in range(50):  # patterns compiled, caches warm
        evaluate(stored, context)
    samples: list[int] = []
    for _ in range(runs):
        began = time.perf_counter_ns()
        evaluate(stored, context)
        samples.append(time.perf_counter_ns() - began)
    log(f"rules: {len(stored)} evaluated, {len(fired.matched)} fire on the sample "
        f"({', '.join(m.name for m in fired.matched)}); p90 {sorted(samples)[int(runs * 0.9)] / 1000:.0f} us")
    return {"rules_evaluated": float(len(stored)), "rule_eval_us": statistics.median(samples) / 1000}


def fifty_rules(count: int) -> list[dict[str, Any]]:
    """``count`` ticket.created rules like a busy tenant's: the 14 triage rules above, then
    variations (product lines, languages, regions, customer segments) that mostly miss."""
    base = [r for r in tenant_rules("sla_urgent") if r["trigger"] == "ticket.created"]
    products = ("kettle", "toaster", "blender", "vacuum", "headphones", "router", "camera", "watch", "phone",
                "laptop", "printer", "monitor")
    extra: list[dict[str, Any]] = []
    for n in range(count - len(base)):
        kind = n % 6
        if kind == 0:
            product = products[(n // 6) % len(products)]
            extra.append(rule(f"Product {product}", "ticket.created",
                              [{"type": "set_category", "category": f"product-{product}"}],
                              words(product, f"{product}s", f"my {product}")))
        elif kind == 1:
            extra.append(rule(f"Region {n}", "ticket.created", [tags(f"region-{n}")],
                              {"type": "customer_attribute", "key": "region", "op": "equals", "values": [f"r{n}"]}))
        elif kind == 2:
            extra.append(rule(f"Language {n}", "ticket.created", [tags(f"lang-{n}")],
                              {"type": "language", "values": ["de", "fr", "es", "ja"][n % 4:n % 4 + 1]}))
        elif kind == 3:
            extra.append(rule(f"Segment {n}", "ticket.created", [{"type": "set_priority", "priority": "high"}],
                              {"type": "customer_tag", "match": "all", "values": ["enterprise", f"seg-{n}"]},
                              {"type": "priority", "op": "not_in", "values": ["urgent"]}))
        elif kind == 4:
            extra.append(rule(f"Invoice pattern {n}", "ticket.created", [tags("invoice")],
                              {"type": "text", "regex": rf"\bINV-{n:02d}\d{{4}}\b"}))
        else:
            extra.append(rule(f"Spam guard {n}", "ticket.created", [tags("spam")],
                              words("lottery", "bitcoin", "winner", "crypto", f"promo{n}"),
                              {"type": "within_business_hours", "value": True}))
    return base + extra


# -- entry point ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=10,
                        help="customers in the primary mix (default 10, as benchmarks/delivery.py)")
    parser.add_argument("--messages", type=int, default=20,
                        help="messages per customer in the primary mix (default 20, as benchmarks/delivery.py)")
    parser.add_argument("--heavy-customers", type=int, default=60,
                        help="customers in the new-ticket-heavy mix, three messages each (default 60; 0: skip)")
    parser.add_argument("--open-tickets", type=int, default=1000, help="open tickets for the SLA tick (1000)")
    parser.add_argument("--rules", type=int, default=50, help="rules for rule_eval_us (default 50)")
    parser.add_argument("--runs", type=int, default=3000, help="rule evaluations timed (default 3000)")
    parser.add_argument("--moto-table-copies", action="store_true",
                        help="moto's whole-table transaction backups (tools/local/moto_transactions.py; slow)")
    args = parser.parse_args(argv)
    if min(args.customers, args.runs) < 1 or args.messages < 2 or args.heavy_customers < 0 \
            or args.open_tickets < 100 or args.rules < 14:
        parser.error("--customers and --runs must be positive, --messages at least 2, --open-tickets at least 100, "
                     "--rules at least 14")
    if args.customers + args.heavy_customers > 90:  # two agents of capacity 50, the warm-up's ticket
        parser.error("at most 90 customers in all: the group's two agents take 50 tickets each")
    return args


INTEGERS = ("messages_per_run", "open_tickets", "rules_evaluated")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fake_aws_environment()
    import logging

    logging.getLogger("chalicelib").setLevel(logging.WARNING)  # the hub's INFO lines are not the figures
    started = time.perf_counter()
    figures = rule_eval_part(args.rules, args.runs)
    mixes = [Mix("", args.customers, args.messages, 0)]
    if args.heavy_customers:
        mixes.append(Mix("_new_ticket_heavy", args.heavy_customers, 3, 1000))
    if not args.moto_table_copies:
        moto_transactions.install()
    figures |= messages_part(mixes)
    log(f"messages part done at {time.perf_counter() - started:.1f} s")
    figures |= sla_tick_part(args.open_tickets)
    for name, value in figures.items():
        print(f"{name}={value:.0f}" if name.startswith(INTEGERS)
              else f"{name}={value:.2f}" if "usd" in name or "calls" in name or "_us" in name or "reads" in name
              else f"{name}={value}")
    heavy = (f"; new-ticket-heavy mix {figures['conversation_calls_per_message_new_ticket_heavy']:.2f} "
             f"({figures['conversation_calls_per_message_without_workflow_new_ticket_heavy']:.2f} without)"
             if args.heavy_customers else "")
    summary = (f"{figures['conversation_calls_per_message']:.2f} calls per message behind the stream with the "
               f"workflow ({figures['conversation_calls_per_message_without_workflow']:.2f} without; target <= 6; "
               f"{args.customers} customers x {args.messages} messages){heavy}; the workflow's calls: "
               f"{figures['calls_per_new_ticket_workflow']:.2f} per new ticket, "
               f"{figures['calls_per_follow_up_workflow']:.2f} per follow-up; "
               f"SLA tick over {args.open_tickets} open tickets: {figures['aws_calls_per_idle_sla_tick']:.0f} calls "
               f"idle, {figures['aws_calls_per_sla_tick_1pct_due']:.0f} with 1% due; {args.rules} rules in "
               f"{figures['rule_eval_us']:.0f} us; ${figures['usd_per_million_messages']:.2f} per million messages, "
               f"{figures['usd_ratio_to_floor']:.1f}x the floor (${figures['usd_floor_per_million_messages']:.2f})")
    log(summary)
    log(f"took {time.perf_counter() - started:.1f} s"
        f" ({'moto whole-table transaction backups' if args.moto_table_copies else 'item backups'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
