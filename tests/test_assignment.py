"""Automatic assignment (issue 12, section 3): round robin and least loaded per group,
capacity, only online agents, returning customers, the backlog drained in priority
then waiting order when an agent comes online or frees capacity, and shared fairly;
the load accounting every change keeps; the agents' and groups' new fields in the API.

The desk below builds groups, agents and triaged tickets straight through the stores,
and a workflow service that keeps agents' loads as every change must
(:func:`chalicelib.workflow.loads.accounting_writes`)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Ticket, stage_of

import app as app_module
from chalicelib.agents.directory import Agent, AgentDirectory, AssignmentMode, Group
from chalicelib.hub import Hub
from chalicelib.storage.conventions import iso
from chalicelib.storage.items import from_item
from chalicelib.storage.keys import TenantKeys
from chalicelib.tenancy.audit import Actor
from chalicelib.workflow.assignment import Assigner
from chalicelib.workflow.changes import ChangeActor, TicketPatch
from chalicelib.workflow.loads import accounting_writes, holder, last_agent_writes, load_writes
from chalicelib.workflow.service import Cause, Extra, Outcome, WorkflowService
from tests.conftest import Pipeline, signed_web_headers, web_message
from tools.local.demo import DemoTenant

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
TENANT = "demo"


class AccountedService(WorkflowService):
    """The service as the hub wires it: every change also moves the agents' loads."""

    def change(self, tenant_id: str, ticket_id: str, patch: TicketPatch, cause: Cause, *,
               extra: Extra | None = None, **kwargs: Any) -> Outcome:
        table, keys = self._store.table_name, TenantKeys(tenant_id)

        def both(before: Ticket, after: Ticket) -> Sequence[dict[str, Any]]:
            own = list(extra(before, after)) if extra is not None else []
            return own + accounting_writes(table, keys, before, after, own)

        return super().change(tenant_id, ticket_id, patch, cause, extra=both, **kwargs)


class Desk:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.now = T0
        self.service = AccountedService(hub.store, hub.workflow_settings)
        self.assigner = Assigner(hub.store, hub.agent_store, self.service, lambda: self.now, sleep=lambda _: None)
        self.changes = 0

    @property
    def directory(self) -> AgentDirectory:
        return self.hub.agent_store.of(TENANT)

    def _audit(self, target: str) -> dict[str, Any]:
        return self.hub.audit.entry(TENANT, Actor(key_id="setup"), "test.setup", target)[1]

    def group(self, group_id: str, mode: AssignmentMode = "round_robin") -> str:
        now = iso(self.now)
        self.directory.add_group(Group(id=group_id, name=group_id, assignment=mode, created_at=now, updated_at=now),
                                 self._audit(f"group/{group_id}"))
        return group_id

    def agent(self, agent_id: str, groups: Sequence[str] = (), *, capacity: int = 10,
              availability: str = "online", status: str = "active") -> str:
        now = iso(self.now)
        agent = Agent.model_validate({
            "id": agent_id, "username": agent_id, "tenant_id": TENANT, "email": f"{agent_id}@demo.example",
            "name": agent_id, "role": "agent", "status": status, "availability": availability,
            "group_ids": list(groups), "capacity": capacity, "created_at": now, "updated_at": now})
        self.directory.add_agent(agent, self._audit(f"agent/{agent_id}"))
        return agent_id

    def set_availability(self, agent_id: str, availability: str) -> None:
        assert self.directory.set_availability(agent_id, availability, iso(self.now))  # type: ignore[arg-type]

    def ticket(self, ticket_id: str, *, group: str | None = None, priority: str = "normal",
               customer: str = "cus_someone", waited: int = 0) -> str:
        """A triaged ticket waiting since ``waited`` minutes after T0."""
        at = T0 + timedelta(minutes=waited)
        self.hub.store.conversations(TENANT).touch_ticket(Ticket(
            id=ticket_id, tenant_id=TENANT, customer_id=customer, channel="web", created_at=at, last_activity_at=at))
        patch = TicketPatch.model_validate({"status": "open", "group_id": group, "priority": priority})
        self.change(ticket_id, patch, facts={"awaiting_since": at + timedelta(seconds=1)})
        return ticket_id

    def change(self, ticket_id: str, patch: TicketPatch, *, facts: dict[str, Any] | None = None,
               actor: ChangeActor | None = None) -> Outcome:
        self.changes += 1
        cause = Cause(id=f"test:{self.changes}", actor=actor or ChangeActor.system("test"), at=self.now)
        return self.service.change(TENANT, ticket_id, patch, cause,
                                   facts=(lambda _: facts) if facts is not None else None)

    def load(self, ticket_id: str) -> Ticket:
        return self.hub.store.tickets(TENANT).load(ticket_id)

    def open_tickets(self, agent_id: str) -> int:
        """The agent's load item's count."""
        item = self.hub.store.client.get_item(TableName=self.hub.store.table_name,
                                              Key=TenantKeys(TENANT).agent_load(agent_id), ConsistentRead=True)
        return int(from_item(item.get("Item", {})).get("open_tickets", 0))

    def held(self, ticket_ids: Sequence[str]) -> dict[str, int]:
        """How many of ``ticket_ids`` each agent holds, from the tickets themselves."""
        counts: dict[str, int] = {}
        for ticket_id in ticket_ids:
            agent = holder(self.load(ticket_id))
            if agent is not None:
                counts[agent] = counts.get(agent, 0) + 1
        return counts

    def backlog(self, group: str | None) -> list[str]:
        return self.hub.store.tickets(TENANT).backlog(group, limit=100)


@pytest.fixture
def desk(hub: Hub, demo: DemoTenant) -> Desk:
    return Desk(hub)


def assign_all(desk: Desk, ticket_ids: Sequence[str]) -> list[str | None]:
    return [desk.assigner.assign(TENANT, ticket_id) for ticket_id in ticket_ids]


# -- choosing the agent -----------------------------------------------------------------


def test_round_robin_gives_the_groups_online_agents_tickets_in_turn(desk: Desk) -> None:
    group = desk.group("billing")
    for agent_id in ("agt_c", "agt_a", "agt_b"):
        desk.agent(agent_id, [group])
    desk.agent("agt_other", ["elsewhere"])  # not in the group
    tickets = [desk.ticket(f"tkt_{n}", group=group, customer=f"cus_{n}", waited=n) for n in range(7)]
    assert assign_all(desk, tickets) == ["agt_a", "agt_b", "agt_c", "agt_a", "agt_b", "agt_c", "agt_a"]
    assert desk.backlog(group) == []
    ticket = desk.load("tkt_0")
    assert (ticket.assignee_id, stage_of(ticket.status, ticket.assignee_id)) == ("agt_a", "handle")
    [entry] = [e for e in desk.hub.store.tickets(TENANT).history("tkt_0") if e["cause"].startswith("assign:")]
    assert entry["actor"] == {"kind": "system", "id": None, "name": "assignment", "rule_chain": []}
    assert entry["changes"] == [{"field": "assignee_id", "before": None, "after": "agt_a"}]
    assert {a: desk.open_tickets(a) for a in ("agt_a", "agt_b", "agt_c")} == {"agt_a": 3, "agt_b": 2, "agt_c": 2}


def test_the_round_robin_cursor_survives_between_calls(desk: Desk) -> None:
    group = desk.group("billing")
    desk.agent("agt_a", [group])
    desk.agent("agt_b", [group])
    assert desk.assigner.assign(TENANT, desk.ticket("tkt_1", group=group, customer="cus_1")) == "agt_a"
    later = Assigner(desk.hub.store, desk.hub.agent_store, desk.service, lambda: desk.now)  # another Lambda
    assert later.assign(TENANT, desk.ticket("tkt_2", group=group, customer="cus_2")) == "agt_b"


def test_least_loaded_picks_the_agent_with_fewest_open_tickets(desk: Desk) -> None:
    group = desk.group("vip", "least_loaded")
    for agent_id in ("agt_a", "agt_b", "agt_c"):
        desk.agent(agent_id, [group])
    for n, agent_id in enumerate(["agt_a", "agt_a", "agt_c"]):  # by hand: a holds 2, c 1, b none
        desk.ticket(f"tkt_hand{n}", group=group, customer=f"cus_h{n}")
        desk.change(f"tkt_hand{n}", TicketPatch(assignee_id=agent_id))
    tickets = [desk.ticket(f"tkt_{n}", group=group, customer=f"cus_{n}") for n in range(4)]
    # b (0); then b and c tie at 1: round-robin order after b → c; b (1 < 2); then all tie → c after b
    assert assign_all(desk, tickets) == ["agt_b", "agt_c", "agt_b", "agt_c"]
    assert {a: desk.open_tickets(a) for a in ("agt_a", "agt_b", "agt_c")} == {"agt_a": 2, "agt_b": 2, "agt_c": 3}


def test_capacity_is_respected_and_the_rest_waits_in_the_backlog(desk: Desk) -> None:
    group = desk.group("billing")
    desk.agent("agt_a", [group], capacity=2)
    desk.agent("agt_b", [group], capacity=0)  # takes nothing automatically
    tickets = [desk.ticket(f"tkt_{n}", group=group, customer=f"cus_{n}", waited=n) for n in range(3)]
    assert assign_all(desk, tickets) == ["agt_a", "agt_a", None]
    assert desk.backlog(group) == ["tkt_2"]
    assert desk.open_tickets("agt_a") == 2
    assert desk.open_tickets("agt_b") == 0


def test_only_online_active_agents_receive_tickets(desk: Desk) -> None:
    group = desk.group("billing")
    desk.agent("agt_a", [group], availability="away")
    desk.agent("agt_b", [group], availability="offline")
    desk.agent("agt_c", [group])
    desk.agent("agt_d", [group], status="deactivated", availability="online")
    tickets = [desk.ticket(f"tkt_{n}", group=group, customer=f"cus_{n}") for n in range(3)]
    assert assign_all(desk, tickets) == ["agt_c"] * 3
    desk.set_availability("agt_c", "away")
    assert desk.assigner.assign(TENANT, desk.ticket("tkt_late", group=group)) is None
    assert desk.backlog(group) == ["tkt_late"]


def test_a_ticket_without_a_group_goes_to_any_online_agent(desk: Desk) -> None:
    desk.agent("agt_a", ["billing"])
    desk.agent("agt_b", [], availability="offline")
    assert desk.assigner.assign(TENANT, desk.ticket("tkt_1")) == "agt_a"


def test_a_returning_customer_goes_back_to_their_previous_agent(desk: Desk) -> None:
    group = desk.group("billing")
    for agent_id in ("agt_a", "agt_b", "agt_c"):
        desk.agent(agent_id, [group])
    assert desk.assigner.assign(TENANT, desk.ticket("tkt_1", group=group, customer="cus_back")) == "agt_a"
    assert desk.assigner.assign(TENANT, desk.ticket("tkt_2", group=group, customer="cus_new")) == "agt_b"
    desk.change("tkt_1", TicketPatch(status="solved"))
    assert desk.assigner.assign(TENANT, desk.ticket("tkt_3", group=group, customer="cus_back")) == "agt_a"
    # the sticky assignment did not take anyone's turn: c is next
    assert desk.assigner.assign(TENANT, desk.ticket("tkt_4", group=group, customer="cus_other")) == "agt_c"
    # a supervisor hands the customer's ticket to b: b is their agent now
    desk.change("tkt_3", TicketPatch(assignee_id="agt_b"))
    desk.set_availability("agt_a", "offline")
    assert desk.assigner.assign(TENANT, desk.ticket("tkt_5", group=group, customer="cus_back")) == "agt_b"
    desk.set_availability("agt_b", "offline")  # the previous agent is away: the usual turn
    assert desk.assigner.assign(TENANT, desk.ticket("tkt_6", group=group, customer="cus_back")) == "agt_c"


def test_manual_groups_and_tickets_not_waiting_are_left_alone(desk: Desk) -> None:
    group = desk.group("legal", "manual")
    desk.agent("agt_a", [group])
    assert desk.assigner.assign(TENANT, desk.ticket("tkt_1", group=group)) is None
    assert desk.backlog(group) == ["tkt_1"]
    assert desk.assigner.agent_available(TENANT, "agt_a") == []
    desk.ticket("tkt_2", customer="cus_2")
    desk.change("tkt_2", TicketPatch(status="pending"))
    assert desk.assigner.assign(TENANT, "tkt_2") is None  # pending: someone is on it already
    assert desk.assigner.assign(TENANT, "tkt_missing") is None
    desk.change("tkt_2", TicketPatch(status="open", assignee_id="agt_a"))
    assert desk.assigner.assign(TENANT, "tkt_2") is None
    assert desk.load("tkt_2").assignee_id == "agt_a"


# -- the backlog ------------------------------------------------------------------------


def test_the_backlog_is_worked_most_urgent_then_longest_waiting_first(desk: Desk) -> None:
    group = desk.group("billing")
    desk.agent("agt_a", [group], capacity=3, availability="offline")
    desk.ticket("tkt_low_early", group=group, priority="low", waited=0)
    desk.ticket("tkt_normal_late", group=group, priority="normal", waited=9)
    desk.ticket("tkt_urgent_late", group=group, priority="urgent", waited=8)
    desk.ticket("tkt_normal_early", group=group, priority="normal", waited=1)
    desk.ticket("tkt_urgent_early", group=group, priority="urgent", waited=5)
    desk.ticket("tkt_high", group=group, priority="high", waited=7)
    order = ["tkt_urgent_early", "tkt_urgent_late", "tkt_high", "tkt_normal_early", "tkt_normal_late",
             "tkt_low_early"]
    assert desk.backlog(group) == order
    # the agent signs in: it takes the head of the backlog, up to its capacity
    desk.set_availability("agt_a", "online")
    assert desk.assigner.agent_available(TENANT, "agt_a") == order[:3]
    assert desk.backlog(group) == order[3:]
    assert desk.open_tickets("agt_a") == 3
    # solving a ticket frees capacity: the next ticket of the backlog follows
    desk.change("tkt_urgent_early", TicketPatch(status="solved"))
    assert desk.open_tickets("agt_a") == 2
    assert desk.assigner.agent_available(TENANT, "agt_a") == ["tkt_normal_early"]
    assert desk.backlog(group) == order[4:]


def test_draining_shares_the_backlog_among_all_online_agents(desk: Desk) -> None:
    group = desk.group("billing")
    desk.agent("agt_a", [group])
    desk.agent("agt_b", [group], availability="offline")
    desk.set_availability("agt_a", "away")
    tickets = [desk.ticket(f"tkt_{n}", group=group, customer=f"cus_{n}", waited=n) for n in range(6)]
    desk.set_availability("agt_b", "online")
    desk.set_availability("agt_a", "online")
    # a signed in last and triggers the drain, but b is online too: they take turns
    assert desk.assigner.agent_available(TENANT, "agt_a") == tickets
    assert [desk.load(t).assignee_id for t in tickets] == ["agt_a", "agt_b"] * 3
    assert desk.held(tickets) == {"agt_a": 3, "agt_b": 3}


def test_least_loaded_draining_evens_out_loads(desk: Desk) -> None:
    group = desk.group("vip", "least_loaded")
    desk.agent("agt_a", [group], capacity=4)
    desk.agent("agt_b", [group], capacity=4)
    for n in range(2):
        desk.ticket(f"tkt_hand{n}", group=group, customer=f"cus_h{n}")
        desk.change(f"tkt_hand{n}", TicketPatch(assignee_id="agt_b"))
    tickets = [desk.ticket(f"tkt_{n}", group=group, customer=f"cus_{n}", waited=n) for n in range(7)]
    assert desk.assigner.drain_backlog(TENANT, group) == tickets[:6]  # both full at 4
    # a until the loads tie, then ties go round robin (after a: b), the lower load first
    assert [desk.load(t).assignee_id for t in tickets[:6]] == ["agt_a", "agt_a", "agt_b", "agt_a", "agt_b", "agt_a"]
    assert desk.open_tickets("agt_a") == 4
    assert desk.open_tickets("agt_b") == 4
    assert desk.backlog(group) == tickets[6:]


def test_an_agent_of_several_groups_drains_them_in_one_order(desk: Desk) -> None:
    desk.group("billing")
    desk.group("vip")
    desk.agent("agt_a", ["billing", "vip"], capacity=3)
    desk.ticket("tkt_billing_normal", group="billing", waited=0)
    desk.ticket("tkt_vip_urgent", group="vip", priority="urgent", waited=5)
    desk.ticket("tkt_nogroup_high", priority="high", waited=3)
    desk.ticket("tkt_billing_low", group="billing", priority="low", waited=1)
    assert desk.assigner.agent_available(TENANT, "agt_a") == ["tkt_vip_urgent", "tkt_nogroup_high",
                                                              "tkt_billing_normal"]
    assert desk.backlog("billing") == ["tkt_billing_low"]


def test_a_drain_is_bounded(desk: Desk) -> None:
    group = desk.group("billing")
    desk.agent("agt_a", [group], capacity=50)
    tickets = [desk.ticket(f"tkt_{n:02}", group=group, customer=f"cus_{n}", waited=n) for n in range(8)]
    assert desk.assigner.drain_backlog(TENANT, group, limit=5) == tickets[:5]
    assert desk.assigner.drain_backlog(TENANT, group, limit=5) == tickets[5:]


def test_an_erased_tickets_backlog_entry_is_dropped(desk: Desk) -> None:
    group = desk.group("billing")
    desk.agent("agt_a", [group], availability="offline")
    desk.ticket("tkt_gone", group=group, waited=0)
    desk.ticket("tkt_here", group=group, waited=1)
    desk.hub.store.client.delete_item(TableName=desk.hub.store.table_name, Key=TenantKeys(TENANT).ticket("tkt_gone"))
    desk.set_availability("agt_a", "online")
    assert desk.assigner.agent_available(TENANT, "agt_a") == ["tkt_here"]
    assert desk.backlog(group) == []


# -- load accounting --------------------------------------------------------------------


def test_every_change_keeps_the_agents_loads(desk: Desk) -> None:
    desk.agent("agt_a", capacity=1)
    desk.agent("agt_b", capacity=1)
    desk.ticket("tkt_1", customer="cus_1")
    desk.ticket("tkt_2", customer="cus_2")
    desk.change("tkt_1", TicketPatch(assignee_id="agt_a"))
    desk.change("tkt_2", TicketPatch(assignee_id="agt_a"))  # by hand: over capacity is allowed
    assert desk.open_tickets("agt_a") == 2
    desk.change("tkt_2", TicketPatch(assignee_id="agt_b"))  # moved
    assert (desk.open_tickets("agt_a"), desk.open_tickets("agt_b")) == (1, 1)
    desk.change("tkt_2", TicketPatch(status="pending"))
    desk.change("tkt_2", TicketPatch(status="on_hold"))
    assert desk.open_tickets("agt_b") == 1
    desk.change("tkt_2", TicketPatch(status="solved"))
    assert desk.open_tickets("agt_b") == 0
    desk.change("tkt_2", TicketPatch(status="open"))  # reopened while assigned: held again
    assert desk.open_tickets("agt_b") == 1
    desk.change("tkt_1", TicketPatch(assignee_id=None))
    desk.change("tkt_2", TicketPatch(status="closed"))
    assert (desk.open_tickets("agt_a"), desk.open_tickets("agt_b")) == (0, 0)


def test_load_writes_enforce_capacity_only_when_asked() -> None:
    keys = TenantKeys(TENANT)
    before = Ticket(id="tkt_1", tenant_id=TENANT, customer_id="cus_1", channel="web", status="open",
                    created_at=T0, last_activity_at=T0)
    after = before.model_copy(update={"assignee_id": "agt_a"})
    [enforced] = load_writes("t", keys, before, after, enforce_capacity=True, capacity=3)
    assert "ConditionExpression" in enforced["Update"]
    assert enforced["Update"]["ExpressionAttributeValues"][":capacity"] == {"N": "3"}
    [free] = load_writes("t", keys, before, after, enforce_capacity=False)
    assert "ConditionExpression" not in free["Update"]
    assert load_writes("t", keys, after, after.model_copy(update={"status": "pending"}), enforce_capacity=False) == []
    moved = load_writes("t", keys, after, after.model_copy(update={"assignee_id": "agt_b"}), enforce_capacity=False)
    assert [w["Update"]["ExpressionAttributeValues"][":d"] for w in moved] == [{"N": "-1"}, {"N": "1"}]
    merged = after.model_copy(update={"status": "merged", "merged_into": "tkt_9"})
    assert [w["Update"]["ExpressionAttributeValues"][":d"] for w in load_writes(
        "t", keys, after, merged, enforce_capacity=False)] == [{"N": "-1"}]
    with pytest.raises(ValueError, match="capacity"):
        load_writes("t", keys, before, after, enforce_capacity=True)
    # what every change adds leaves out the items the caller writes itself
    assert accounting_writes("t", keys, before, after, [enforced]) == last_agent_writes("t", keys, before, after)
    assert len(accounting_writes("t", keys, before, after)) == 2


def test_a_ticket_triaged_behind_the_stream_is_assigned(hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> None:
    desk = Desk(hub)
    desk.agent("agt_a")
    with Client(app_module.app) as client:
        body = web_message("Where is my parcel?", client_id="c-1", visitor_id="v-1", email="v-1@example.com")
        answer = client.http.post(f"/hooks/{TENANT}/web", body=body,
                                  headers=signed_web_headers(demo.web_secret, body, msg_id="wh_1"))
        assert answer.status_code == 202, answer.body
    pipeline.drain()
    [ticket] = hub.store.reads(TENANT).list_tickets(limit=10)[0]
    assert ticket.status == "open"
    assert ticket.assignee_id == "agt_a"  # the engine assigned it right after triage
    assert desk.assigner.assign(TENANT, ticket.id, known=ticket) is None  # nothing left to do
    assert desk.load(ticket.id).assignee_id == "agt_a"
    assert desk.open_tickets("agt_a") == 1
    key = TenantKeys(TENANT).customer(ticket.customer_id)
    item = hub.store.client.get_item(TableName=hub.store.table_name, Key=key)
    customer = from_item(item["Item"])
    assert (customer["customer_id"], customer["last_agent_id"]) == (ticket.customer_id, "agt_a")


# -- the API ----------------------------------------------------------------------------


def test_capacity_and_assignment_mode_through_the_api(hub: Hub, demo: DemoTenant) -> None:
    desk = Desk(hub)
    desk.agent("agt_a")
    auth = {"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"}
    with Client(app_module.app) as client:
        created = client.http.post("/v1/groups", headers=auth,
                                   body=json.dumps({"name": "VIP", "assignment": "least_loaded"}))
        assert created.status_code in (200, 201), created.body
        group = json.loads(created.body)
        assert group["assignment"] == "least_loaded"
        changed = client.http.patch(f"/v1/groups/{group['id']}", headers=auth,
                                    body=json.dumps({"assignment": "manual"}))
        assert json.loads(changed.body)["assignment"] == "manual"
        bad = client.http.patch(f"/v1/groups/{group['id']}", headers=auth, body=json.dumps({"assignment": "random"}))
        assert bad.status_code in (400, 422), bad.body
        agent = client.http.patch("/v1/agents/agt_a", headers=auth, body=json.dumps({"capacity": 3}))
        assert json.loads(agent.body)["capacity"] == 3, agent.body
        for wrong in (-1, 201, "many"):
            refused = client.http.patch("/v1/agents/agt_a", headers=auth, body=json.dumps({"capacity": wrong}))
            assert refused.status_code in (400, 422), refused.body
        listed = json.loads(client.http.get("/v1/agents", headers=auth).body)["agents"]
        assert [a["capacity"] for a in listed if a["id"] == "agt_a"] == [3]
    assert hub.agent_store.of(TENANT).group(group["id"]).assignment == "manual"  # type: ignore[union-attr]


def test_items_written_before_these_fields_stay_valid() -> None:
    agent = Agent.model_validate({"id": "a", "username": "a", "tenant_id": TENANT, "email": "a@x.example",
                                  "name": "A", "role": "agent", "status": "active", "created_at": "x",
                                  "updated_at": "x"})
    group = Group.model_validate({"id": "g", "name": "G", "created_at": "x", "updated_at": "x"})
    assert (agent.capacity, group.assignment) == (10, "round_robin")
