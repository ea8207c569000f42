"""Erasure of a customer whose tickets went through the workflow: history from an
agent's changes, a solved ticket with an answered survey (and its CSAT record), a
ticket waiting in the backlog, a customer merged into them, tags and attributes on
the profile. Afterwards nothing in the table names them or holds their words, the
timers still due on their tickets do nothing (and hold nothing back), another
customer keeps everything, and a second erasure finds nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Identity

import app as app_module
from chalicelib.hub import Hub
from chalicelib.workflow.scheduler import DueTimer, Scheduler
from tests.conftest import Pipeline, signed_web_headers, table_items, web_message
from tests.erasure_support import Clock
from tests.sealed_docs import opened_item, without_ciphertexts
from tests.sealed_jobs import logged
from tests.test_erasure import _flat
from tools.local.demo import DemoTenant

TRACES = ("zelda", "quux", "zq-secret", "zq-comment", "zq-attr", "zq-vip", "zq-alt", "zq-reason")


def everything_opened(hub: Hub) -> str:
    """Every item as one lower-case text, what is sealed opened as the hub reads it (message
    text and subjects, delivery envelopes): a trace found here is one the hub could still show."""
    texts: list[str] = []
    for item in (opened_item(hub, i) for i in table_items(hub)):
        if item.get("type") == "delivery_log":
            item = item | {"event": logged(hub, item, clear_allowed=True)}
        texts.append(_flat(item))
    return without_ciphertexts("\n".join(texts)).lower()


class Desk:
    def __init__(self, client: Client, demo: DemoTenant, pipeline: Pipeline, hub: Hub, clock: Clock) -> None:
        self.client, self.demo, self.pipeline, self.hub, self.clock = client, demo, pipeline, hub, clock
        self.auth = {"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"}
        self.sent = 0

    def writes(self, text: str, visitor: str, email: str, name: str) -> None:
        self.sent += 1
        body = web_message(text, client_id=f"c-{self.sent}", visitor_id=visitor, email=email, name=name)
        answer = self.client.http.post(f"/hooks/{self.demo.tenant_id}/web", body=body, headers=signed_web_headers(
            self.demo.web_secret, body, msg_id=f"wh_{self.sent}", at=int(self.clock.now.timestamp())))
        assert answer.status_code == 202, answer.body
        self.pipeline.drain()

    def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        kwargs = {"headers": self.auth} | ({"body": json.dumps(body)} if body is not None else {})
        answer = getattr(self.client.http, method)(path, **kwargs)
        assert answer.status_code == status, answer.body
        return json.loads(answer.body)

    def ticket_of(self, customer_id: str) -> str:
        tickets = [i for i in table_items(self.hub, "ticket") if i["customer_id"] == customer_id]
        return str(max(tickets, key=lambda t: t["created_at"])["ticket_id"])

    def tick(self) -> None:
        self.hub.scheduler.tick()
        self.pipeline.drain()


@pytest.fixture
def desk(hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> Iterator[Desk]:
    clock = Clock()
    hub.clock = clock
    with Client(app_module.app) as client:
        desk = Desk(client, demo, pipeline, hub, clock)
        desk.tick()
        yield desk


def customer_of(hub: Hub, email: str) -> str:
    ref = hub.store.personal("demo").ref(Identity(kind="email", value=email))  # the key holds its blind index
    [link] = [i for i in table_items(hub, "identity") if i["pk"] == f"T#demo#ID#{ref}"]
    return str(link["customer_id"])


def zelda_worked(desk: Desk) -> tuple[str, str, list[str]]:
    """Zelda: a ticket changed by an agent, solved, surveyed and answered (a low score:
    a follow-up); a second address of hers merged in, whose ticket waits in the
    backlog; tags and attributes. Bob: a ticket of his own. Returns Zelda, Bob and
    Zelda's tickets."""
    desk.call("patch", "/v1/settings", {"public_base_url": "https://help.example.com"})
    desk.writes("ZQ-SECRET-1 my parcel is late", "zq-1", "zelda.quux@example.com", "Zelda Quux")
    desk.writes("BOB-KEEP hello", "bob-1", "bob.other@example.com", "Bob Other")
    zelda, bob = customer_of(desk.hub, "zelda.quux@example.com"), customer_of(desk.hub, "bob.other@example.com")
    first = desk.ticket_of(zelda)
    desk.call("patch", f"/v1/tickets/{first}", {"priority": "high", "add_tags": ["zq-vip"], "category": "zq-reason"})
    desk.call("post", f"/v1/tickets/{first}/messages", {"text": "It ships today, Zelda."}, status=202)
    desk.call("patch", f"/v1/tickets/{first}", {"status": "solved"})
    desk.pipeline.drain()
    desk.clock.now += timedelta(minutes=61)
    desk.tick()
    assert desk.call("get", f"/v1/tickets/{first}/survey")["state"] == "sent"
    desk.writes("2 - ZQ-COMMENT the parcel was damaged", "zq-1", "zelda.quux@example.com", "Zelda Quux")
    survey = desk.call("get", f"/v1/tickets/{first}/survey")
    assert (survey["state"], survey["score"]) == ("answered", 2)
    desk.call("patch", f"/v1/customers/{zelda}", {"tags": ["zq-vip"], "attributes": {"zq_note": "ZQ-ATTR-1"}})
    desk.writes("ZQ-SECRET-2 from my other address", "zq-2", "zq-alt@example.com", "Zelda Q.")
    alt = customer_of(desk.hub, "zq-alt@example.com")
    desk.call("patch", f"/v1/customers/{alt}", {"tags": ["zq-alt"], "attributes": {"zq_alt": "ZQ-ATTR-2"}})
    second = desk.ticket_of(alt)
    desk.call("post", f"/v1/customers/{zelda}/merge", {"source_id": alt})
    assert [i["customer_id"] for i in table_items(desk.hub, "ticket") if i["ticket_id"] == second] == [zelda]
    return zelda, bob, [first, second]


def test_a_worked_customer_leaves_nothing_behind(desk: Desk, hub: Hub) -> None:
    zelda, bob, tickets = zelda_worked(desk)
    before = everything_opened(hub)
    assert all(trace in before for trace in TRACES), [t for t in TRACES if t not in before]
    kinds = {i.get("type") for i in table_items(hub) if any(name in _flat(i) for name in [zelda, *tickets])}
    assert {"ticket_history", "survey", "csat", "customer_merge", "backlog", "customer"} <= kinds
    bobs = sorted((i for i in table_items(hub) if bob in _flat(i)), key=lambda i: (i["pk"], i["sk"]))

    report = desk.call("delete", f"/v1/customers/{zelda}")

    after = everything_opened(hub)
    assert [(i["pk"], i["sk"]) for i in table_items(hub) if any(t in _flat(i).lower() for t in TRACES)] == []
    assert [trace for trace in TRACES if trace in after] == []
    left = [i for i in table_items(hub) if zelda in _flat(i) and i.get("type") != "audit"]
    assert left == [], "nothing names her (the audit record of the erasure names her id only)"
    # the consoles' changes feed names ticket ids only (nothing personal) and expires within a day
    assert not [i for i in table_items(hub) if any(t in _flat(i) for t in tickets)
                and i.get("type") not in ("ticket", "timer", "audit", "changes_entry")], \
        "only tombstones, due timers and the changes feed"
    states = [i for i in table_items(hub, "metrics_ticket") if any(t in _flat(i) for t in tickets)]
    assert states == [], "the tickets' metric states went with them"
    for ticket in (i for i in table_items(hub, "ticket") if i["ticket_id"] in tickets):
        assert ticket["customer_id"] == "erased"
        assert not {"tags", "category", "language", "assignee_id", "subject"} & {k for k, v in ticket.items() if v}
    erased = report["erased"]
    assert erased["tickets_redacted"] == 2
    assert (erased["surveys"], erased["csat_records"]) == (1, 1)
    assert erased["ticket_history_entries"] >= 5  # created, changed, solved, survey sent, csat, follow-up, ...
    assert erased["backlog_items"] == 1  # the merged-in ticket waited for an agent
    assert (erased["merge_records"], erased["merged_customers"], erased["customer"]) == (1, 1, 1)
    assert erased["identities"] == 4  # her two addresses and two web visitor ids
    assert sorted((i for i in table_items(hub) if bob in _flat(i)), key=lambda i: (i["pk"], i["sk"])) == bobs
    desk.call("delete", f"/v1/customers/{zelda}", status=404)  # a second erasure finds nothing


def test_erasing_the_merged_in_customer_takes_the_record_that_names_them(desk: Desk, hub: Hub) -> None:
    zelda, _bob, _tickets = zelda_worked(desk)
    alt = next(i["source_id"] for i in table_items(hub, "customer_merge"))
    report = desk.call("delete", f"/v1/customers/{alt}")
    assert report["erased"]["merge_records"] == 1
    assert table_items(hub, "customer_merge") == []
    assert [i["customer_id"] for i in table_items(hub, "customer") if i["customer_id"] in (zelda, alt)] == [zelda]


def test_an_assigned_ticket_leaves_its_agents_load(desk: Desk, hub: Hub) -> None:
    desk.writes("ZQ-SECRET-1 hello", "zq-1", "zelda.quux@example.com", "Zelda Quux")
    zelda = customer_of(hub, "zelda.quux@example.com")
    ticket = desk.ticket_of(zelda)
    keys = hub.store.conversations("demo").keys
    load = keys.agent_load("agent-7")
    hub.aws.dynamodb.update_item(TableName=hub.settings.table_name, Key=load,
                                 UpdateExpression="SET open_tickets = :n", ExpressionAttributeValues={":n": {"N": "4"}})
    # as an assignment leaves them (chalicelib/workflow/loads.py): the ticket held, the load counting it
    hub.aws.dynamodb.update_item(TableName=hub.settings.table_name, Key=keys.ticket(ticket),
                                 UpdateExpression="SET assignee_id = :a, #s = :open",
                                 ExpressionAttributeNames={"#s": "status"},
                                 ExpressionAttributeValues={":a": {"S": "agent-7"}, ":open": {"S": "open"}})

    def open_tickets() -> int:
        item = hub.aws.dynamodb.get_item(TableName=hub.settings.table_name, Key=load, ConsistentRead=True)["Item"]
        return int(item["open_tickets"]["N"])

    assert open_tickets() == 4
    report = desk.call("delete", f"/v1/customers/{zelda}")
    assert report["erased"]["agent_loads_released"] == 1
    assert open_tickets() == 3


def test_timers_on_an_erased_ticket_do_nothing_and_hold_nothing_back(desk: Desk, hub: Hub) -> None:
    zelda, _bob, tickets = zelda_worked(desk)
    desk.call("delete", f"/v1/customers/{zelda}")
    now = desk.clock.now.astimezone(UTC)
    handlers = hub.scheduler._handlers  # the hub's own: close, sla, survey, rule
    for name in ("close", "sla:first_response:due", "sla:follow_up:warn", "survey"):
        scheduler = Scheduler(hub.aws.dynamodb, hub.settings.table_name, handlers, lambda: now)
        report = scheduler.tick()
        assert report.failed == 0
        for ticket in tickets:  # straight at the handler, as a tick would
            due = now - timedelta(minutes=1)
            fired = scheduler._fire(DueTimer("demo", ticket, name, due, due), now, report)
            assert fired, f"{name} on an erased ticket is done, not retried"
        assert (report.failed, report.fired, report.errors) == (0, 0, [])
    desk.clock.now += timedelta(days=3)  # the auto-close and follow-up timers come due
    for _ in range(3):
        report = hub.scheduler.tick()
        assert report.failed == 0, report.errors
    assert report.through is not None
    assert datetime.fromisoformat(report.through.replace("Z", "+00:00")) >= desk.clock.now.astimezone(UTC), \
        "the schedule caught up"
    after = everything_opened(hub)
    assert [trace for trace in TRACES if trace in after] == []
