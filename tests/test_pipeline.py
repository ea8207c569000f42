"""A signed web message in, a ticket in the store, a signed event out — in process."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chalice.test import Client
from switchboard_sdk import standard_webhooks
from switchboard_sdk.testing import StatusServer

import app as app_module
from tests.conftest import Pipeline, signed_web_headers, web_message
from tools.local.demo import DemoTenant


def _post(client: Client, demo: DemoTenant, body: bytes, msg_id: str = "wh_1") -> Any:
    return client.http.post(
        f"/hooks/{demo.tenant_id}/web", body=body, headers=signed_web_headers(demo.web_secret, body, msg_id)
    )


def test_message_becomes_ticket_and_signed_event(demo: DemoTenant, pipeline: Pipeline, receiver: StatusServer) -> None:
    with Client(app_module.app) as client:
        response = _post(client, demo, web_message())
        assert response.status_code == 202, response.body
        pipeline.drain()
        auth = {"authorization": f"Bearer {demo.api_key}"}
        listing = json.loads(client.http.get("/v1/tickets", headers=auth).body)
        assert len(listing["tickets"]) == 1
        ticket_id = listing["tickets"][0]["id"]
        detail = json.loads(client.http.get(f"/v1/tickets/{ticket_id}", headers=auth).body)
    assert [m["text"] for m in detail["messages"]] == ["Hello, my order is late"]
    events = []
    for _method, _path, headers, body in receiver.requests:
        standard_webhooks.verify([demo.webhook_secret], headers, body, now=datetime.now(UTC))
        events.append(json.loads(body))
    # the new ticket, its first message, then the workflow's triage of it (new → open), in that order
    assert [e["type"] for e in events] == ["ticket.created", "message.created", "ticket.updated"]
    assert {e["ticket_id"] for e in events} == {ticket_id}
    created, message, triaged = events
    assert created["data"]["ticket"]["status"] == "new"
    assert triaged["data"]["changes"] == [{"field": "status", "before": "new", "after": "open"}]
    assert (triaged["data"]["reason"], triaged["data"]["ticket"]["status"]) == ("triaged", "open")
    customer = message["data"]["customer"]
    assert {"kind": "email", "value": "ada@example.com"} in customer["identities"], "connectors match CRM contacts"
