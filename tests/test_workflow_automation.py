"""Rules, macros and surveys at work behind the stream and the scheduler: triage on a
new ticket (priority, group, SLA policy, a template reply), ticket.updated rules
with their loop guard, a time rule firing once, a macro applied at once, and 回访:
solved → survey sent (with signed links on web) → a "2" recorded as CSAT, not a
reopening → a follow-up target for a supervisor and csat.received to connectors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk.testing import StatusServer

import app as app_module
from chalicelib.hub import Hub
from chalicelib.storage.keys import TenantKeys
from tests.conftest import Pipeline, signed_web_headers, table_items, web_message
from tests.erasure_support import Clock
from tests.sealed_docs import opened_items
from tools.local.demo import DemoTenant


class Desk:
    def __init__(self, client: Client, demo: DemoTenant, pipeline: Pipeline, hub: Hub, clock: Clock) -> None:
        self.client, self.demo, self.pipeline, self.hub, self.clock = client, demo, pipeline, hub, clock
        self.auth = {"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"}
        self.sent = 0

    def customer_writes(self, text: str, visitor: str = "v-42") -> None:
        self.sent += 1
        body = web_message(text, client_id=f"c-{self.sent}", visitor_id=visitor, email=f"{visitor}@example.com")
        answer = self.client.http.post(f"/hooks/{self.demo.tenant_id}/web", body=body,
                                       headers=signed_web_headers(self.demo.web_secret, body, msg_id=f"wh_{self.sent}",
                                                                          at=int(self.clock.now.timestamp())))
        assert answer.status_code == 202, answer.body
        self.pipeline.drain()

    def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        kwargs = {"headers": self.auth} | ({"body": json.dumps(body)} if body is not None else {})
        answer = getattr(self.client.http, method)(path, **kwargs)
        assert answer.status_code == status, answer.body
        return json.loads(answer.body)

    def ticket(self, ticket_id: str | None = None) -> dict[str, Any]:
        ticket_id = ticket_id or self.call("get", "/v1/tickets")["tickets"][0]["id"]
        return dict(self.call("get", f"/v1/tickets/{ticket_id}"))

    def tick(self) -> None:
        self.hub.scheduler.tick()
        self.pipeline.drain()


@pytest.fixture
def desk(hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> Iterator[Desk]:
    clock = Clock()
    hub.clock = clock
    with Client(app_module.app) as client:
        desk = Desk(client, demo, pipeline, hub, clock)
        desk.tick()  # the schedule runs from the start (its first run ever looks back only minutes)
        yield desk


def events(receiver: StatusServer, kind: str) -> list[dict[str, Any]]:
    return [e for e in (json.loads(r.body) for r in receiver.requests) if e.get("type") == kind]


def test_triage_rules_route_a_new_ticket_and_reply_with_a_template(desk: Desk) -> None:
    desk.call("post", "/v1/templates", {"code": "refund_ack", "title": "Refund received",
                                        "texts": {"en": "Hi {{customer.name}}, refund {{ticket.ref}} is with us."}},
              status=201)
    desk.call("post", "/v1/sla-policies", {"name": "billing", "targets": {"urgent": {"first_response_minutes": 30}}},
              status=201)
    policy = desk.call("get", "/v1/sla-policies")["policies"][0]["id"]
    desk.call("post", "/v1/rules", {
        "name": "refunds are urgent", "trigger": "ticket.created",
        "conditions": {"all": [{"type": "text", "keywords": ["refund", "退款"]}]},
        "actions": [{"type": "set_priority", "priority": "urgent"}, {"type": "set_category", "category": "billing"},
                    {"type": "apply_sla_policy", "policy_id": policy}, {"type": "send_template", "code": "refund_ack"},
                    {"type": "add_note", "text": "check the payment provider"}]}, status=201)
    desk.customer_writes("I want a refund for order 7")
    detail = desk.ticket()
    ticket = detail["ticket"]
    assert (ticket["status"], ticket["priority"], ticket["category"]) == ("open", "urgent", "billing")
    [target] = ticket["sla"]
    assert (target["metric"], target["state"], target["target_minutes"]) == ("first_response", "active", 30)
    outbound = [m for m in detail["messages"] if m["direction"] == "outbound"]
    reply = next(m for m in outbound if not m["internal"])
    assert reply["text"].startswith("Hi Ada, refund ")
    assert reply["author_id"].startswith("rule:")
    assert any(m["internal"] and m["text"] == "check the payment provider" for m in outbound)
    history = desk.call("get", f"/v1/tickets/{ticket['id']}/history")["history"]
    assert history[0]["actor"]["kind"] == "rule"
    assert history[0]["actor"]["name"] == "refunds are urgent"
    assert ticket["first_response_at"] is None  # the rule's automatic reply is not an agent's response


def test_customer_rules_see_the_tags_the_message_found_without_reading_the_customer(desk: Desk) -> None:
    desk.call("post", "/v1/rules", {
        "name": "VIPs first", "trigger": "message.created",
        "conditions": {"all": [{"type": "customer_tag", "values": ["vip"]},
                               {"type": "customer_attribute", "key": "tier", "values": ["gold"]}]},
        "actions": [{"type": "set_priority", "priority": "urgent"}]}, status=201)
    desk.customer_writes("hello")
    ticket = desk.ticket()["ticket"]
    assert ticket["priority"] == "normal"  # not a VIP yet
    desk.call("patch", f"/v1/customers/{ticket['customer_id']}", {"add_tags": ["vip"], "attributes": {"tier": "gold"}})
    customer_key = TenantKeys(desk.demo.tenant_id).customer(ticket["customer_id"])
    reads: list[dict[str, Any]] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        reads.append(params["Key"])

    desk.hub.aws.dynamodb.meta.events.register("provide-client-params.dynamodb.GetItem", seen)
    try:
        desk.customer_writes("still waiting")
        assert customer_key not in reads  # linking the message read the tags back with its update
        desk.hub.customer_of(desk.demo.tenant_id, ticket["customer_id"])  # (a read the hook does see)
        assert reads[-1] == customer_key
    finally:
        desk.hub.aws.dynamodb.meta.events.unregister("provide-client-params.dynamodb.GetItem", seen)
    assert desk.ticket(ticket["id"])["ticket"]["priority"] == "urgent"
    [item] = [m for m in opened_items(desk.hub, table_items(desk.hub, "message")) if m.get("text") == "still waiting"]
    assert item["customer_state"]["tags"] == ["vip"]
    assert set(item["customer_state"]) == {"tags", "attributes", "created_at"}  # no name, no identities


def test_ticket_updated_rules_fire_on_a_change_but_never_on_their_own(desk: Desk) -> None:
    desk.call("post", "/v1/rules", {
        "name": "urgent gets a tag", "trigger": "ticket.updated",
        "conditions": {"all": [{"type": "changed", "fields": ["priority"], "to": "urgent"}]},
        "actions": [{"type": "add_tags", "tags": ["escalated"]}, {"type": "set_priority", "priority": "urgent"}]},
              status=201)
    desk.customer_writes("hello")
    ticket_id = desk.ticket()["ticket"]["id"]
    desk.call("patch", f"/v1/tickets/{ticket_id}", {"priority": "urgent"})
    desk.pipeline.drain()
    ticket = desk.ticket(ticket_id)["ticket"]
    assert ticket["tags"] == ["escalated"]
    history = desk.call("get", f"/v1/tickets/{ticket_id}/history")["history"]
    assert [e["actor"]["kind"] for e in history] == ["customer", "api_key", "rule"]  # no loop


def test_a_time_rule_fires_once_when_its_hours_have_passed(desk: Desk) -> None:
    desk.call("post", "/v1/rules", {
        "name": "pending for 48 h: solve", "trigger": "time", "hours_since": 48, "since": "updated",
        "conditions": {"all": [{"type": "status", "values": ["pending"]}]},
        "actions": [{"type": "set_status", "status": "solved"}]}, status=201)
    desk.customer_writes("hello")
    ticket_id = desk.ticket()["ticket"]["id"]
    desk.call("patch", f"/v1/tickets/{ticket_id}", {"status": "pending"})
    desk.clock.now += timedelta(hours=47)
    desk.tick()
    assert desk.ticket(ticket_id)["ticket"]["status"] == "pending"
    desk.clock.now += timedelta(hours=2)
    for _ in range(3):
        desk.tick()
    assert desk.ticket(ticket_id)["ticket"]["status"] == "solved"
    rule_changes = [e for e in desk.call("get", f"/v1/tickets/{ticket_id}/history")["history"]
                    if e["actor"]["kind"] == "rule"]
    assert len(rule_changes) == 1


def test_a_macro_changes_replies_and_notes_at_once(desk: Desk) -> None:
    desk.call("post", "/v1/templates", {"code": "solved_bye", "title": "Solved",
                                        "texts": {"en": "Glad we could help, {{customer.name}}!"}}, status=201)
    macro = desk.call("post", "/v1/macros", {"name": "Solve politely", "actions": {
        "patch": {"status": "solved", "add_tags": ["polite"]}, "reply_template": "solved_bye",
        "note": "closed by macro"}}, status=201)
    desk.customer_writes("thanks!")
    ticket_id = desk.ticket()["ticket"]["id"]
    answer = desk.call("post", f"/v1/tickets/{ticket_id}/macros/{macro['id']}", {})
    assert answer["ticket"]["status"] == "solved"
    assert answer["reply"]["text"] == "Glad we could help, Ada!"
    assert answer["note"]["internal"] is True
    broken = {"name": "broken", "actions": {"note": "for {{customer.attributes.plan}}"}}
    missing = desk.call("post", "/v1/macros", broken, status=201)
    error = desk.call("post", f"/v1/tickets/{ticket_id}/macros/{missing['id']}", {}, status=422)
    assert error["error"]["code"] == "missing_variables"


def test_survey_goes_out_when_solved_and_a_low_score_is_followed_up(desk: Desk, receiver: StatusServer) -> None:
    desk.call("patch", "/v1/settings", {"public_base_url": "https://help.example.com"})
    desk.customer_writes("my order is late")
    ticket_id = desk.ticket()["ticket"]["id"]
    desk.call("post", f"/v1/tickets/{ticket_id}/messages", {"text": "It ships today."}, status=202)
    desk.call("patch", f"/v1/tickets/{ticket_id}", {"status": "solved"})
    desk.pipeline.drain()
    assert desk.call("get", f"/v1/tickets/{ticket_id}/survey")["state"] == "scheduled"
    desk.clock.now += timedelta(minutes=61)
    desk.tick()
    survey = desk.call("get", f"/v1/tickets/{ticket_id}/survey")
    assert survey["state"] == "sent"
    question = next(m for m in desk.ticket(ticket_id)["messages"] if m["author_id"] == "system:survey")
    assert "1 (poor)" in question["text"]
    assert "https://help.example.com/csat/" in question["text"]  # web: signed one-click links too
    desk.customer_writes("2 - the parcel was damaged")
    detail = desk.ticket(ticket_id)
    ticket = detail["ticket"]
    assert ticket["status"] == "solved"  # a score is not a reopening
    survey = desk.call("get", f"/v1/tickets/{ticket_id}/survey")
    assert (survey["state"], survey["score"], survey["comment"]) == ("answered", 2, "the parcel was damaged")
    assert "csat_follow_up" in ticket["tags"]
    assert ticket["priority"] == "high"
    [follow_up] = [t for t in ticket["sla"] if t["metric"] == "follow_up"]
    assert follow_up["state"] == "active"
    assert follow_up["target_minutes"] == 24 * 60
    [csat] = events(receiver, "csat.received")
    assert csat["data"]["csat"]["score"] == 2
    desk.call("post", f"/v1/tickets/{ticket_id}/messages", {"text": "Called back", "internal": True}, status=202)
    desk.pipeline.drain()
    [met] = [t for t in desk.ticket(ticket_id)["ticket"]["sla"] if t["metric"] == "follow_up"]
    assert met["state"] == "met"


def test_a_survey_outside_the_channel_window_is_recorded_as_not_sent(desk: Desk, hub: Hub) -> None:
    desk.customer_writes("hello")
    ticket_id = desk.ticket()["ticket"]["id"]
    desk.call("patch", f"/v1/tickets/{ticket_id}", {"status": "solved"})
    desk.pipeline.drain()
    desk.clock.now += timedelta(hours=30)  # web chat: 24 hours since the visitor last wrote
    for _ in range(10):
        desk.tick()
    survey = desk.call("get", f"/v1/tickets/{ticket_id}/survey")
    assert survey["state"] == "not_sent"
    assert "24-hour window" in survey["not_sent_reason"]
    assert not [m for m in desk.ticket(ticket_id)["messages"] if m["author_id"] == "system:survey"]
    assert [e["event"] for e in desk.call("get", f"/v1/tickets/{ticket_id}/history")["history"]
            if e.get("event")] == ["survey_not_sent"]
    assert table_items(hub, "survey")
