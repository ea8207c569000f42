"""The ``hubspot`` connector against a fake HubSpot: records, associations, idempotency."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any

import pytest
from fakes import loopback_allowed, loopback_transport
from fakes.hubspot_server import FakeHubSpot
from pydantic import BaseModel, ValidationError
from switchboard_plugins import hubspot
from switchboard_plugins.hubspot.bodies import NOTE_BODY_LIMIT, note_html
from switchboard_plugins.hubspot.config import HubSpotConfig
from switchboard_sdk.hookspecs import ENTRY_POINT_GROUP
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope, Message
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.testing import ConnectorConformance, sample_event
from switchboard_sdk.transport import DeliveryContext, MemoryExternalIds

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"  # noqa: S105 -- a made-up private-app token the fake expects
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback fakes (see fakes/__init__.py)
TRANSPORT = loopback_transport()  # the fakes are loopback servers, refused by default


def make_config(base_url: str, **overrides: Any) -> HubSpotConfig:
    return HubSpotConfig.model_validate({"access_token": TOKEN, "base_url": base_url} | overrides)


def ticket_event(ticket_id: str = "tkt_1", *, status: str = "open", subject: str = "Refund for order 42",
                 customer: dict[str, Any] | None = None) -> EventEnvelope:
    ticket = {"id": ticket_id, "tenant_id": "t-acme", "customer_id": "cus_1", "status": status, "channel": "email",
              "subject": subject, "created_at": NOW.isoformat(), "last_activity_at": NOW.isoformat()}
    data: dict[str, Any] = {"ticket": ticket} | ({"customer": customer} if customer else {})
    return EventEnvelope(id=f"evt_t_{ticket_id}", type="ticket.created", tenant_id="t-acme", ticket_id=ticket_id,
                         occurred_at=NOW, data=data)


def message_event(message_id: str = "msg_1", ticket_id: str = "tkt_1", text: str = "Where is my refund?",
                  **fields: Any) -> EventEnvelope:
    message = {"id": message_id, "tenant_id": "t-acme", "ticket_id": ticket_id, "customer_id": "cus_1",
               "channel": "email", "provider_message_id": f"p-{message_id}", "text": text,
               "received_at": NOW.isoformat()} | fields
    return EventEnvelope(id=f"evt_m_{message_id}", type="message.created", tenant_id="t-acme",
                         ticket_id=ticket_id, occurred_at=NOW, data={"message": message})


def customer(*identities: tuple[str, str], name: str | None = "Ada Lovelace") -> dict[str, Any]:
    return {"id": "cus_1", "tenant_id": "t-acme", "display_name": name, "created_at": NOW.isoformat(),
            "identities": [{"kind": kind, "value": value} for kind, value in identities]}


def deliver(fake: FakeHubSpot, event: EventEnvelope, ids: MemoryExternalIds | None = None, *,
            timeout: float = 5.0, **overrides: Any) -> DeliveryOutcome:
    context = DeliveryContext(http=TRANSPORT, clock=lambda: NOW, timeout_seconds=timeout,
                              external_ids=ids if ids is not None else MemoryExternalIds())
    outcome = hubspot.plugin.switchboard_connector_deliver(
        event=event, config=make_config(fake.url, **overrides), context=context
    )
    assert isinstance(outcome, DeliveryOutcome)
    return outcome


@pytest.fixture
def fake() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(TOKEN) as server:
        yield server


def counts(fake: FakeHubSpot) -> tuple[int, int, int]:
    return len(fake.records["contacts"]), len(fake.records["tickets"]), len(fake.records["notes"])


class TestHubSpotConformance(ConnectorConformance):
    plugin = hubspot.plugin

    def make_config(self, base_url: str) -> BaseModel:
        return make_config(base_url)

    @pytest.fixture
    def healthy_server(self) -> Iterator[Any]:
        with FakeHubSpot(TOKEN) as server:
            yield server


# -- wiring -------------------------------------------------------------------------------


def test_declares_itself() -> None:
    info = hubspot.plugin.switchboard_plugin_info()
    assert (info.name, info.kind, info.config_model) == ("hubspot", "connector", HubSpotConfig)


def test_the_hub_wrapper_delivers(fake: FakeHubSpot) -> None:
    registry = build_plugin_manager(extra_plugins=[hubspot.plugin], load_entry_points=False)
    config = registry.validate_config("hubspot", {"access_token": TOKEN, "base_url": fake.url})
    outcome = registry.deliver("hubspot", ticket_event(), config, DeliveryContext(http=TRANSPORT))
    assert outcome == DeliveryOutcome.delivered(201)


def test_is_discovered_through_its_entry_point() -> None:
    if not any(ep.name == "hubspot" for ep in entry_points(group=ENTRY_POINT_GROUP)):
        pytest.skip("the hubspot entry point is not installed yet (plugins/pyproject.toml)")
    info = build_plugin_manager(allowlist={"hubspot"}).info("hubspot", "connector")
    assert info is not None
    assert info.config_model is HubSpotConfig


def test_importing_the_plugin_stays_cheap() -> None:
    code = ("import sys, switchboard_plugins.hubspot as h; h.plugin.switchboard_plugin_info(); "
            "print(sorted(m for m in sys.modules if m.startswith('switchboard_plugins.hubspot.')))")
    run = [sys.executable, "-c", code]
    loaded = subprocess.run(run, capture_output=True, text=True, check=True).stdout  # noqa: S603 -- a constant script
    assert loaded.strip() == "['switchboard_plugins.hubspot.config', 'switchboard_plugins.hubspot.hooks']"


# -- the full flow ------------------------------------------------------------------------


def test_a_ticket_and_its_message_become_contact_ticket_and_note(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    assert deliver(fake, ticket_event(), ids) == DeliveryOutcome.delivered(201)
    assert deliver(fake, message_event(), ids) == DeliveryOutcome.delivered(201)
    assert counts(fake) == (1, 1, 1)
    ((contact_id, contact),) = fake.records["contacts"].items()
    ((ticket_id, ticket),) = fake.records["tickets"].items()
    ((note_id, note),) = fake.records["notes"].items()
    assert contact == {"switchboard_customer_id": "cus_1"}
    assert ticket["subject"] == "Refund for order 42"
    assert (ticket["hs_pipeline"], ticket["hs_pipeline_stage"], ticket["switchboard_ticket_id"]) == ("0", "1", "tkt_1")
    assert ticket["content"] == "Opened on email through Switchboard, reference #1."
    assert fake.associated("tickets", ticket_id) == [("contacts", contact_id, 16)]
    assert fake.associated("notes", note_id) == [("tickets", ticket_id, 228)]
    assert "Where is my refund?" in note["hs_note_body"]
    assert "email" in note["hs_note_body"]
    assert (note["hs_timestamp"], note["switchboard_event_id"]) == ("2026-01-02T03:04:05.000Z", "evt_m_msg_1")
    assert ids.ids == {("contact", "cus_1"): contact_id, ("ticket", "tkt_1"): ticket_id,
                       ("note", "evt_m_msg_1"): note_id}


def test_every_request_carries_the_bearer_token(fake: FakeHubSpot) -> None:
    deliver(fake, ticket_event())
    assert fake.requests
    for request in fake.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"].startswith("Switchboard-HubSpot/")


def test_the_search_asks_for_the_oldest_exact_match(fake: FakeHubSpot) -> None:
    deliver(fake, ticket_event())
    first = fake.calls("POST", "/search")[0]
    assert first.path == "/crm/v3/objects/tickets/search"
    assert first.body == {
        "filterGroups": [{"filters": [{"propertyName": "switchboard_ticket_id", "operator": "EQ", "value": "tkt_1"}]}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "properties": ["switchboard_ticket_id"], "limit": 1,
    }


def test_a_second_ticket_of_the_customer_reuses_the_contact_without_searching(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    deliver(fake, ticket_event("tkt_1"), ids)
    fake.requests.clear()
    assert deliver(fake, ticket_event("tkt_2"), ids).kind == "delivered"
    assert counts(fake) == (1, 2, 0)
    assert [r.path for r in fake.calls("POST", "/search")] == ["/crm/v3/objects/tickets/search"]


def test_a_message_without_its_ticket_creates_the_ticket_first(fake: FakeHubSpot) -> None:
    event = message_event(subject="Broken zipper")
    assert deliver(fake, event).kind == "delivered"
    assert counts(fake) == (1, 1, 1)
    ((ticket_id, ticket),) = fake.records["tickets"].items()
    assert (ticket["subject"], ticket["hs_pipeline_stage"]) == ("Broken zipper", "1")
    ((note_id, _),) = fake.records["notes"].items()
    assert fake.associated("notes", note_id) == [("tickets", ticket_id, 228)]


def test_the_conformance_sample_event_lands_as_a_note(fake: FakeHubSpot) -> None:
    assert deliver(fake, sample_event()).kind == "delivered"
    assert counts(fake) == (1, 1, 1)


def test_an_unknown_ticket_subject_is_named_after_channel_and_reference(fake: FakeHubSpot) -> None:
    deliver(fake, ticket_event("tkt_01hzx", subject="  "))
    ((_, ticket),) = fake.records["tickets"].items()
    assert ticket["subject"] == "email conversation #01HZX"


# -- replays ------------------------------------------------------------------------------


def test_a_replay_with_the_same_mapping_creates_nothing(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    for event in (ticket_event(), message_event()):
        deliver(fake, event, ids)
    fake.requests.clear()
    assert deliver(fake, ticket_event(), ids) == DeliveryOutcome.delivered(200)
    assert deliver(fake, message_event(), ids) == DeliveryOutcome.delivered()
    assert counts(fake) == (1, 1, 1)
    ticket_id = ids.ids[("ticket", "tkt_1")]
    assert [(r.method, r.path) for r in fake.requests] == [("PATCH", f"/crm/v3/objects/tickets/{ticket_id}")]


def test_a_replay_after_the_mapping_was_lost_finds_everything_by_property(fake: FakeHubSpot) -> None:
    for event in (ticket_event(), message_event()):
        deliver(fake, event)  # a fresh MemoryExternalIds each time: nothing remembered
    fake.requests.clear()
    lost = MemoryExternalIds()
    assert deliver(fake, ticket_event(), lost).kind == "delivered"
    assert deliver(fake, message_event(), lost).kind == "delivered"
    assert counts(fake) == (1, 1, 1)
    assert set(lost.ids) == {("ticket", "tkt_1"), ("note", "evt_m_msg_1")}
    assert not fake.calls("POST", "/contacts")  # the ticket existed: no contact needed


def test_a_message_replayed_before_its_ticket_event_does_not_duplicate_the_ticket(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    deliver(fake, message_event(), ids)
    assert deliver(fake, ticket_event(), ids).kind == "delivered"
    assert counts(fake) == (1, 1, 1)
    ((_, ticket),) = fake.records["tickets"].items()
    assert ticket["subject"] == "Refund for order 42"  # the ticket event's subject wins


def test_two_messages_make_two_notes_on_one_ticket(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    for event in (ticket_event(), message_event("msg_1"), message_event("msg_2", text="Any news?")):
        assert deliver(fake, event, ids).kind == "delivered"
    assert counts(fake) == (1, 1, 2)


def test_a_note_created_before_a_lost_answer_is_found_on_retry(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    deliver(fake, ticket_event(), ids)
    fake.delay = 0.5  # HubSpot stores the note, but the answer comes too late
    assert deliver(fake, message_event(), ids, timeout=0.2).kind == "retry"
    fake.delay = 0.0
    assert deliver(fake, message_event(), ids).kind == "delivered"
    assert counts(fake) == (1, 1, 1)


# -- contacts -----------------------------------------------------------------------------


def test_a_contact_is_found_by_email(fake: FakeHubSpot) -> None:
    known = fake.add("contacts", {"email": "ada@example.com"})
    event = ticket_event(customer=customer(("phone", "+14155550100"), ("email", "Ada@Example.com")))
    assert deliver(fake, event).kind == "delivered"
    assert counts(fake) == (1, 1, 0)
    ((ticket_id, _),) = fake.records["tickets"].items()
    assert fake.associated("tickets", ticket_id) == [("contacts", known, 16)]


def test_a_contact_is_found_by_phone_when_no_email_matches(fake: FakeHubSpot) -> None:
    known = fake.add("contacts", {"phone": "+14155550100"})
    event = ticket_event(customer=customer(("email", "ada@example.com"), ("phone", "+1 (415) 555-0100")))
    assert deliver(fake, event).kind == "delivered"
    searched = [r.body["filterGroups"][0]["filters"][0]["propertyName"] for r in fake.calls("POST", "contacts/search")]
    assert searched == ["switchboard_customer_id", "email", "phone"]
    ((ticket_id, _),) = fake.records["tickets"].items()
    assert fake.associated("tickets", ticket_id) == [("contacts", known, 16)]


def test_a_contact_is_found_by_switchboard_customer_id_first(fake: FakeHubSpot) -> None:
    ours = fake.add("contacts", {"switchboard_customer_id": "cus_1"})
    fake.add("contacts", {"email": "ada@example.com"})
    deliver(fake, ticket_event(customer=customer(("email", "ada@example.com"))))
    ((ticket_id, _),) = fake.records["tickets"].items()
    assert fake.associated("tickets", ticket_id) == [("contacts", ours, 16)]


def test_an_unknown_customer_becomes_a_contact_with_email_phone_and_name(fake: FakeHubSpot) -> None:
    event = ticket_event(customer=customer(("email", "ada@example.com"), ("phone", "+14155550100")))
    deliver(fake, event)
    ((_, contact),) = fake.records["contacts"].items()
    assert contact == {"switchboard_customer_id": "cus_1", "email": "ada@example.com", "phone": "+14155550100",
                       "firstname": "Ada", "lastname": "Lovelace"}


def test_a_customer_of_another_id_in_the_event_is_ignored(fake: FakeHubSpot) -> None:
    other = customer(("email", "eve@example.com")) | {"id": "cus_2"}
    deliver(fake, ticket_event(customer=other))
    ((_, contact),) = fake.records["contacts"].items()
    assert contact == {"switchboard_customer_id": "cus_1"}


def test_an_email_taken_while_search_lags_resolves_to_the_existing_contact(fake: FakeHubSpot) -> None:
    taken = fake.add("contacts", {"email": "ada@example.com"})
    fake.hide_from_search(taken)  # created seconds ago by someone else
    assert deliver(fake, ticket_event(customer=customer(("email", "ada@example.com")))).kind == "delivered"
    ((ticket_id, _),) = fake.records["tickets"].items()
    assert fake.associated("tickets", ticket_id) == [("contacts", taken, 16)]


def test_a_conflict_search_cannot_resolve_yet_is_retried(fake: FakeHubSpot) -> None:
    deliver(fake, ticket_event())
    fake.hide_from_search(*fake.records["tickets"])  # the ticket exists but search does not show it
    outcome = deliver(fake, ticket_event())
    assert (outcome.kind, outcome.status_code) == ("retry", 409)
    assert counts(fake) == (1, 1, 0)


# -- status → stage ---------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "stage"), [("open", "1"), ("pending", "2"), ("solved", "3"), ("closed", "4")])
def test_default_stages_of_the_help_desk_pipeline(fake: FakeHubSpot, status: str, stage: str) -> None:
    deliver(fake, ticket_event(status=status))
    ((_, ticket),) = fake.records["tickets"].items()
    assert (ticket["hs_pipeline"], ticket["hs_pipeline_stage"]) == ("0", stage)


def test_a_custom_pipeline_and_stage_mapping(fake: FakeHubSpot) -> None:
    fake.pipelines["7741"] = {"s-new", "s-done"}
    stages = {"open": "s-new", "pending": "s-new", "solved": "s-done", "closed": "s-done"}
    deliver(fake, ticket_event(status="solved"), pipeline="7741", stage_by_status=stages)
    ((_, ticket),) = fake.records["tickets"].items()
    assert (ticket["hs_pipeline"], ticket["hs_pipeline_stage"]) == ("7741", "s-done")


def test_a_replayed_ticket_event_moves_the_existing_ticket_to_its_stage(fake: FakeHubSpot) -> None:
    ids = MemoryExternalIds()
    deliver(fake, ticket_event(status="open"), ids)
    assert deliver(fake, ticket_event(status="closed", subject="Refund (done)"), ids).kind == "delivered"
    ((_, ticket),) = fake.records["tickets"].items()
    assert (ticket["hs_pipeline_stage"], ticket["subject"]) == ("4", "Refund (done)")


def test_a_stage_hubspot_does_not_know_fails_with_its_answer(fake: FakeHubSpot) -> None:
    outcome = deliver(fake, ticket_event(status="pending"), stage_by_status={"pending": "99"})
    assert (outcome.kind, outcome.status_code) == ("failed", 400)
    assert "hs_pipeline_stage" in outcome.reason


# -- note bodies ------------------------------------------------------------------------------


def _message(**fields: Any) -> Message:
    base = {"id": "m", "tenant_id": "t", "ticket_id": "tkt_1", "customer_id": "c", "channel": "twilio",
            "provider_message_id": "p", "received_at": NOW}
    return Message.model_validate(base | fields)


def test_note_html_escapes_customer_text() -> None:
    body = note_html(_message(text='<script>alert("x")</script>\nbye', subject="<b>Hi</b>"))
    assert "<script>" not in body
    assert "&lt;script&gt;" in body
    assert "&lt;b&gt;Hi&lt;/b&gt;" in body
    assert "<br>bye" in body
    assert body.startswith("<p><strong>twilio</strong> · customer message</p>")


def test_note_html_names_attachments_and_outbound_senders() -> None:
    attachments = [{"url": "s3://b/k", "filename": "photo.jpg"}, {"url": "s3://b/k2"}]
    body = note_html(_message(direction="outbound", kind="voicemail", attachments=attachments))
    assert "agent voicemail" in body
    assert "Attachments: photo.jpg, attachment" in body


def test_a_long_message_is_cut_to_hubspots_limit_without_broken_markup() -> None:
    body = note_html(_message(text="&\n" * 50_000))
    assert len(body) <= NOTE_BODY_LIMIT
    assert body.endswith("…</p>")
    assert not body[:-5].rstrip("…").endswith(("&", "&amp", "<br", "<"))


def test_a_long_message_is_accepted_by_the_fake(fake: FakeHubSpot) -> None:
    assert deliver(fake, message_event(text="<>" * 50_000)).kind == "delivered"


# -- config -----------------------------------------------------------------------------------


def test_config_defaults() -> None:
    config = HubSpotConfig.model_validate({"access_token": TOKEN})
    assert (config.api_root, config.pipeline, config.timeout_seconds) == ("https://api.hubapi.com", "0", 10.0)
    assert config.stage_by_status == {"new": "1", "open": "1", "pending": "2", "on_hold": "3", "solved": "3",
                                      "closed": "4", "merged": "4"}
    assert config.priority_by_priority == {"urgent": "URGENT", "high": "HIGH", "normal": "MEDIUM", "low": "LOW"}
    assert (config.owner_by_agent, config.syncs_owners) == ({}, False)


def test_a_partial_stage_mapping_keeps_the_other_defaults() -> None:
    config = HubSpotConfig.model_validate({"access_token": TOKEN, "stage_by_status": {"solved": "4"}})
    assert config.stage_by_status == {"new": "1", "open": "1", "pending": "2", "on_hold": "3", "solved": "4",
                                      "closed": "4", "merged": "4"}


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"access_token": ""},
        {"access_token": TOKEN, "base_url": "ftp://api.hubapi.com"},
        {"access_token": TOKEN, "stage_by_status": {"resolved": "4"}},
        {"access_token": TOKEN, "stage_by_status": {"open": " "}},
        {"access_token": TOKEN, "pipeline": ""},
        {"access_token": TOKEN, "timeout_seconds": 0},
        {"access_token": TOKEN, "portal_id": "123"},
    ],
)
def test_config_validation_rejects(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HubSpotConfig.model_validate(raw)


def test_the_config_hides_its_token() -> None:
    config = make_config("https://api.hubapi.com")
    assert TOKEN not in repr(config) + str(config) + config.model_dump_json()
    with pytest.raises(ValidationError) as caught:
        HubSpotConfig.model_validate({"access_token": TOKEN, "timeout_seconds": "soon"})
    assert TOKEN not in str(caught.value)
