"""``message.created`` events carry their ticket's subject (``data.ticket_subject``):
the conversation builder learns it from the ticket write it makes anyway and puts it
on the message item, so the stream handler reads no ticket per message."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from switchboard_sdk import Message
from switchboard_sdk.testing import StatusServer

from chalicelib.hub import Hub
from chalicelib.pipeline.conversations import ConversationBuilder
from chalicelib.pipeline.dispatch import events_for
from tests.conftest import Pipeline
from tests.test_store import EMAIL, T0, inbound
from tools.local.demo import DemoTenant

LARGE = "😀" * 92_000  # goes by reference: the worker rebuilds its event from the table


def delivered(receiver: StatusServer) -> list[dict[str, Any]]:
    events = [json.loads(body) for _method, _path, _headers, body in receiver.requests]
    return [e for e in events if e["type"] == "message.created"]


def test_every_message_event_names_its_tickets_subject(
    hub: Hub, demo: DemoTenant, pipeline: Pipeline, receiver: StatusServer
) -> None:
    builder = ConversationBuilder(hub.store)
    first = builder.absorb(inbound("p1", EMAIL, text="Parcel late\nOrder 1234 has not come"))
    later = builder.absorb(inbound("p2", EMAIL, at=T0 + timedelta(seconds=5), text="Any news?"))
    # arrives after p2 but was sent before it: the ticket's activity stays, the subject still comes back
    overtaken = builder.absorb(inbound("p3", EMAIL, at=T0 + timedelta(seconds=2), text="Hello?"))
    large = builder.absorb(inbound("p4", EMAIL, at=T0 + timedelta(seconds=9), text=LARGE))
    made = [first, later, overtaken, large]
    assert all(m is not None for m in made)
    assert len({m.ticket_id for m in made if m}) == 1

    pipeline.drain()
    events = delivered(receiver)
    assert sorted(e["data"]["message"]["id"] for e in events) == sorted(m.id for m in made if m)
    assert [e["data"]["ticket_subject"] for e in events] == ["Parcel late"] * 4
    assert {e["data"]["message"]["subject"] for e in events} == {None}, "the message's own subject is apart"


def test_a_message_stored_before_the_field_gets_an_event_without_it() -> None:
    message = Message(id="msg_1", tenant_id="demo", ticket_id="tkt_1", customer_id="cus_1", channel="web",
                      provider_message_id="p1", text="hi", received_at=T0)
    item = {"type": "message", **message.model_dump(mode="json")}
    [old] = events_for(item)
    assert "ticket_subject" not in old.data
    [new] = events_for(item | {"ticket_subject": ""})
    assert new.data["ticket_subject"] == "", "a ticket without a subject says so"
