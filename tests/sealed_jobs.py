"""Delivery jobs, dead letters and delivery-log items as tests read them: the event a job
carries is sealed (chalicelib/pipeline/jobs.py, docs/encryption.md), so a test that looks at
it opens it here, and these helpers fail when an event rides in clear."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.hub import Hub
from chalicelib.pipeline.jobs import STORED, logged_event, open_event
from chalicelib.storage.sealing import is_sealed


def opened(hub: Hub, wire: dict[str, Any], *, clear_allowed: bool = False) -> dict[str, Any]:
    """A job's or a dead letter's wire (decoded JSON) with its sealed event opened under
    ``"event"``, as jobs carried it before sealing; a job by reference as it is. An event in
    clear fails the test unless ``clear_allowed`` (a job queued before sealing, put by the test)."""
    if "sealed" in wire:
        assert "event" not in wire, "a sealed job also carries its event in clear"
        ref = wire["ref"]
        event = open_event(hub.crypto, ref["tenant_id"], ref["id"], wire["sealed"], ref.get("customer_id"))
        return wire | {"event": event.model_dump(mode="json")}
    assert clear_allowed or "event" not in wire, "a job carries its event in clear"
    return wire


def opened_body(hub: Hub, body: str, *, clear_allowed: bool = False) -> dict[str, Any]:
    """:func:`opened` of an SQS body."""
    return opened(hub, json.loads(body), clear_allowed=clear_allowed)


def logged(hub: Hub, item: dict[str, Any], *, clear_allowed: bool = False) -> dict[str, Any]:
    """The envelope a delivery-log item keeps, opened (a large event's: its reference under
    ``switchboard:stored``). An envelope in clear fails the test unless ``clear_allowed``."""
    event = logged_event(hub.crypto, item).model_dump(mode="json")
    assert clear_allowed or is_sealed(str(item["event"])) or STORED in event["data"], \
        "the delivery log keeps an event in clear"
    return event
