"""The five-stage lifecycle through the hub: triage behind the stream, agents' changes
(PATCH, bulk, merge) with history, reopening and follow-up tickets, and the events
connectors receive for each change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk.testing import StatusServer

import app as app_module
from chalicelib.hub import Hub
from tests.conftest import Pipeline, signed_web_headers, table_items, web_message
from tests.sealed_docs import opened_item
from tools.local.demo import DemoTenant


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


class Desk:
    def __init__(self, client: Client, demo: DemoTenant, pipeline: Pipeline) -> None:
        self.client, self.demo, self.pipeline = client, demo, pipeline
        self.auth = {"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"}
        self.sent = 0

    def customer_writes(self, text: str, visitor: str = "v-42") -> None:
        self.sent += 1
        body = web_message(text, client_id=f"c-{self.sent}", visitor_id=visitor, email=f"{visitor}@example.com")
        answer = self.client.http.post(f"/hooks/{self.demo.tenant_id}/web", body=body,
                                       headers=signed_web_headers(self.demo.web_secret, body, msg_id=f"wh_{self.sent}"))
        assert answer.status_code == 202, answer.body
        self.pipeline.drain()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        kwargs = {"headers": self.auth} | ({"body": json.dumps(body)} if body is not None else {})
        answer = getattr(self.client.http, method)(path, **kwargs)
        return answer.status_code, json.loads(answer.body)

    def tickets(self) -> list[dict[str, Any]]:
        status, body = self.call("get", "/v1/tickets?limit=100")
        assert status == 200, body
        return list(body["tickets"])

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        status, body = self.call("get", f"/v1/tickets/{ticket_id}")
        assert status == 200, body
        return dict(body)

    def history(self, ticket_id: str) -> list[dict[str, Any]]:
        status, body = self.call("get", f"/v1/tickets/{ticket_id}/history")
        assert status == 200, body
        return list(body["history"])


@pytest.fixture
def desk(client: Client, demo: DemoTenant, pipeline: Pipeline) -> Desk:
    return Desk(client, demo, pipeline)


def received(receiver: StatusServer, kind: str) -> list[dict[str, Any]]:
    events = [json.loads(r.body) for r in receiver.requests]
    return [e for e in events if e.get("type") == kind]


def test_a_new_ticket_is_triaged_open_behind_the_stream(desk: Desk, receiver: StatusServer) -> None:
    desk.customer_writes("My parcel never arrived")
    [ticket] = desk.tickets()
    assert (ticket["status"], ticket["stage"]) == ("open", "triage")
    assert ticket["awaiting_since"] is not None
    assert ticket["version"] == 1
    [entry] = desk.history(ticket["id"])
    assert entry["changes"] == [{"field": "status", "before": "new", "after": "open"}]
    assert entry["actor"]["kind"] == "customer"
    assert entry["reason"] == "triaged"
    assert entry["stages"] == {"before": "accept", "after": "triage"}
    [updated] = received(receiver, "ticket.updated")
    assert updated["data"]["changes"][0]["after"] == "open"
    assert updated["data"]["customer"]["id"]


def test_agents_change_tickets_and_every_change_is_in_the_history(desk: Desk, receiver: StatusServer) -> None:
    desk.customer_writes("Refund please")
    ticket_id = desk.tickets()[0]["id"]
    status, body = desk.call("patch", f"/v1/tickets/{ticket_id}",
                             {"priority": "urgent", "add_tags": ["Refund", "vip"], "category": "billing",
                              "reason": "VIP refund"})
    assert status == 200, body
    assert body["ticket"]["priority"] == "urgent"
    assert body["ticket"]["tags"] == ["refund", "vip"]
    assert {c["field"] for c in body["changes"]} == {"priority", "tags", "category"}
    status, body = desk.call("patch", f"/v1/tickets/{ticket_id}", {"status": "pending", "version": 1})
    assert status == 409
    assert body["error"]["code"] == "conflict"
    status, body = desk.call("patch", f"/v1/tickets/{ticket_id}", {"status": "pending", "version": 2})
    assert status == 200
    assert body["ticket"]["stage"] == "handle"
    desk.pipeline.drain()
    history = desk.history(ticket_id)
    assert [e["version"] for e in history] == [1, 2, 3]
    assert history[1]["reason"] == "VIP refund"
    assert history[1]["actor"]["kind"] == "api_key"
    kinds = [e["data"]["changes"] for e in received(receiver, "ticket.updated")]
    assert len(kinds) == 3  # triage, the agent's two changes: each announced once


@pytest.mark.parametrize(("body", "code"), [
    ({}, "invalid_input"), ({"status": "merged"}, "invalid_input"), ({"priority": "asap"}, "invalid_input"),
    ({"assignee_id": "nobody"}, "invalid_input"), ({"group_id": "grp_nope"}, "invalid_input"),
    ({"tags": ["no spaces allowed"]}, "invalid_input"), ({"colour": "red"}, "invalid_input"),
])
def test_bad_changes_are_refused_and_change_nothing(desk: Desk, body: dict[str, Any], code: str) -> None:
    desk.customer_writes("hello")
    ticket_id = desk.tickets()[0]["id"]
    status, answer = desk.call("patch", f"/v1/tickets/{ticket_id}", body)
    assert (status, answer["error"]["code"]) == (422, code) or (status == 400 and answer["error"]["code"])
    assert desk.ticket(ticket_id)["ticket"]["version"] == 1


def test_a_customer_reply_reopens_a_solved_ticket_and_a_closed_one_gets_a_follow_up(desk: Desk) -> None:
    desk.customer_writes("first question")
    ticket_id = desk.tickets()[0]["id"]
    assert desk.call("patch", f"/v1/tickets/{ticket_id}", {"status": "solved"})[0] == 200
    desk.pipeline.drain()
    assert desk.ticket(ticket_id)["ticket"]["solved_at"] is not None
    desk.customer_writes("actually, one more thing")
    reopened = desk.ticket(ticket_id)["ticket"]
    assert (reopened["status"], reopened["solved_at"]) == ("open", None)
    assert desk.call("patch", f"/v1/tickets/{ticket_id}", {"status": "closed"})[0] == 200
    desk.pipeline.drain()
    status, _body = desk.call("patch", f"/v1/tickets/{ticket_id}", {"status": "open"})
    assert status == 409  # closed is final
    desk.customer_writes("a new problem")
    tickets = {t["id"]: t for t in desk.tickets()}
    assert len(tickets) == 2
    [follow_up] = [t for t in tickets.values() if t["id"] != ticket_id]
    assert follow_up["follow_up_of"] == ticket_id
    assert follow_up["status"] == "open"
    assert len(desk.ticket(ticket_id)["messages"]) == 2  # nothing more landed on the closed ticket


def test_merge_moves_messages_and_later_follow_ups_land_in_the_target(desk: Desk, hub: Hub,
                                                                       receiver: StatusServer) -> None:
    desk.customer_writes("order 1 is late", visitor="v-1")
    desk.customer_writes("order 2 is late", visitor="v-2")
    first, second = sorted(desk.tickets(), key=lambda t: t["subject"])
    assert desk.call("post", f"/v1/tickets/{first['id']}/merge", {"into": first["id"]})[0] == 409
    status, body = desk.call("post", f"/v1/tickets/{second['id']}/merge", {"into": first["id"], "reason": "same"})
    assert status == 200, body
    assert (body["moved"], body["complete"]) == (1, True)
    desk.pipeline.drain()
    source = desk.ticket(second["id"])
    assert (source["ticket"]["status"], source["ticket"]["merged_into"], source["messages"]) == \
        ("merged", first["id"], [])
    assert len(desk.ticket(first["id"])["messages"]) == 2
    assert desk.call("post", f"/v1/tickets/{first['id']}/merge", {"into": second["id"]})[0] == 409
    created = len(received(receiver, "message.created"))
    desk.customer_writes("any news on order 2?", visitor="v-2")
    assert len(desk.ticket(first["id"])["messages"]) == 3  # the merged ticket's customer lands in the target
    assert len(received(receiver, "message.created")) == created + 1  # moved messages were not announced again


def test_bulk_updates_each_ticket_on_its_own(desk: Desk) -> None:
    desk.customer_writes("a", visitor="v-1")
    desk.customer_writes("b", visitor="v-2")
    ids = [t["id"] for t in desk.tickets()]
    status, body = desk.call("post", "/v1/tickets/bulk", {"ticket_ids": [*ids, "tkt_missing"],
                                                          "update": {"priority": "low", "add_tags": ["batch"]}})
    assert status == 200, body
    results = {r["id"]: r for r in body["results"]}
    assert {results[i]["result"] for i in ids} == {"updated"}
    assert results["tkt_missing"]["error"]["code"] == "not_found"
    assert {t["priority"] for t in desk.tickets()} == {"low"}


def test_a_redelivered_message_record_changes_the_ticket_once(desk: Desk, hub: Hub) -> None:
    desk.customer_writes("hello")
    ticket_id = desk.tickets()[0]["id"]
    [message] = [i for i in table_items(hub, "message")]
    image = opened_item(hub, message)  # as the stream hands it on: its text opened
    assert hub.workflow_engine.on_message(image) is not None  # the same record again
    assert desk.ticket(ticket_id)["ticket"]["version"] == 1
    assert len(desk.history(ticket_id)) == 1
