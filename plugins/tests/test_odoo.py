"""The ``odoo`` connector against a fake Odoo speaking JSON-2 and JSON-RPC over loopback HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fakes import loopback_allowed, loopback_transport
from fakes.odoo_server import API_KEY, DATABASE, LOGIN, FakeOdoo
from pydantic import BaseModel
from switchboard_plugins import odoo
from switchboard_plugins.odoo import client
from switchboard_plugins.odoo.config import OdooConfig
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.testing import ConnectorConformance, sample_event
from switchboard_sdk.transport import DeliveryContext, MemoryExternalIds

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback fakes (see fakes/__init__.py)
TRANSPORT = loopback_transport()  # the fakes are loopback servers, refused by default


def make_config(url: str, **overrides: Any) -> OdooConfig:
    raw = {"base_url": url, "database": DATABASE, "api_key": API_KEY, "login": LOGIN} | overrides
    return OdooConfig.model_validate(raw)


def customer(**identities: str) -> dict[str, Any]:
    return {"id": "cus_1", "tenant_id": "t-acme", "display_name": "Ada Lovelace", "created_at": NOW.isoformat(),
            "identities": [{"kind": kind, "value": value} for kind, value in identities.items()]}


def ticket_event(ticket_id: str = "tkt_1", subject: str = "Printer on fire", **data: Any) -> EventEnvelope:
    ticket = {"id": ticket_id, "tenant_id": "t-acme", "customer_id": "cus_1", "channel": "email",
              "subject": subject, "created_at": NOW.isoformat(), "last_activity_at": NOW.isoformat()}
    return EventEnvelope(id=f"evt_{ticket_id}", type="ticket.created", tenant_id="t-acme", ticket_id=ticket_id,
                         occurred_at=NOW, data={"ticket": ticket, **data})


def message_event(message_id: str = "msg_1", ticket_id: str = "tkt_1", text: str = "It smokes.") -> EventEnvelope:
    message = {"id": message_id, "tenant_id": "t-acme", "ticket_id": ticket_id, "customer_id": "cus_1",
               "channel": "web", "provider_message_id": f"p-{message_id}", "text": text,
               "received_at": NOW.isoformat()}
    return EventEnvelope(id=f"evt_{message_id}", type="message.created", tenant_id="t-acme", ticket_id=ticket_id,
                         occurred_at=NOW, data={"message": message})


def deliver(
    config: OdooConfig, event: EventEnvelope, ids: MemoryExternalIds | None = None, *, timeout: float = 2.0
) -> DeliveryOutcome:
    context = DeliveryContext(http=TRANSPORT, clock=lambda: NOW, timeout_seconds=timeout,
                              external_ids=ids if ids is not None else MemoryExternalIds())
    outcome = odoo.plugin.switchboard_connector_deliver(event=event, config=config, context=context)
    assert isinstance(outcome, DeliveryOutcome)
    return outcome


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    # a freed port may serve the next test's fake: no decision may leak between tests
    client.clear_caches()
    yield
    client.clear_caches()


@pytest.fixture
def fake() -> Iterator[FakeOdoo]:
    with FakeOdoo() as server:
        yield server


class TestOdooConformance(ConnectorConformance):
    plugin = odoo.plugin

    @pytest.fixture
    def healthy_server(self) -> Iterator[FakeOdoo]:
        with FakeOdoo() as server:
            yield server

    def make_config(self, base_url: str) -> BaseModel:
        return make_config(base_url)


# -- wiring ------------------------------------------------------------------------------


def test_the_hub_wrapper_validates_and_delivers(fake: FakeOdoo) -> None:
    registry = build_plugin_manager(extra_plugins=[odoo.plugin], load_entry_points=False)
    config = registry.validate_config("odoo", {"base_url": fake.url, "api_key": API_KEY})
    outcome = registry.deliver("odoo", sample_event(), config, DeliveryContext(http=TRANSPORT))
    assert outcome == DeliveryOutcome.delivered(200)


def test_importing_the_package_leaves_the_client_unloaded() -> None:
    code = ("import sys, switchboard_plugins.odoo as o; "
            "print(o.plugin, 'switchboard_plugins.odoo.client' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip().endswith("False")


# -- the full flow ---------------------------------------------------------------------------


def assert_full_flow(fake: FakeOdoo, ids: MemoryExternalIds) -> None:
    (partner,) = fake.rows("res.partner")
    assert (partner["name"], partner["ref"]) == ("Switchboard customer", "[switchboard:cus_1]")
    (ticket,) = fake.rows("helpdesk.ticket")
    assert (ticket["name"], ticket["partner_id"]) == ("Printer on fire", partner["id"])
    assert "[switchboard:tkt_1]" in ticket["description"]
    (note,) = fake.rows("mail.message")
    assert (note["model"], note["res_id"]) == ("helpdesk.ticket", ticket["id"])
    assert (note["message_type"], note["subtype_xmlid"]) == ("comment", "mail.mt_note")
    assert note["body"] == "Customer via web:\nIt smokes.\n[switchboard:msg_1]"
    assert ids.ids == {
        ("partner", "cus_1"): str(partner["id"]),
        ("record", "tkt_1"): f"helpdesk.ticket:{ticket['id']}",
        ("message", "msg_1"): str(note["id"]),
    }


def test_full_flow_over_json2(fake: FakeOdoo) -> None:
    ids = MemoryExternalIds()
    assert deliver(make_config(fake.url), ticket_event(), ids).kind == "delivered"
    assert deliver(make_config(fake.url), message_event(), ids).kind == "delivered"
    assert_full_flow(fake, ids)
    assert {endpoint for endpoint, _, _ in fake.calls} == {"json2"}
    assert all(h["authorization"] == f"bearer {API_KEY}" and h["x-odoo-database"] == DATABASE for h in fake.headers)
    assert fake.headers[0]["user-agent"] == "Switchboard-Odoo/0.1"


def test_full_flow_falls_back_to_jsonrpc_on_an_old_server(fake: FakeOdoo) -> None:
    fake.json2_enabled = False
    ids = MemoryExternalIds()
    assert deliver(make_config(fake.url), ticket_event(), ids).kind == "delivered"
    assert deliver(make_config(fake.url), message_event(), ids).kind == "delivered"
    assert_full_flow(fake, ids)
    assert [c for c in fake.calls if c[0] == "json2"] == [("json2", "res.partner", "search_read")]
    assert fake.calls.count(("jsonrpc", "common", "authenticate")) == 1  # uid cached
    assert client.PROTOCOLS[fake.url] == "jsonrpc"


def test_explicit_jsonrpc_never_tries_json2(fake: FakeOdoo) -> None:
    assert deliver(make_config(fake.url, protocol="jsonrpc"), sample_event()).kind == "delivered"
    assert {endpoint for endpoint, _, _ in fake.calls} == {"jsonrpc"}


def test_explicit_json2_does_not_fall_back(fake: FakeOdoo) -> None:
    fake.json2_enabled = False
    outcome = deliver(make_config(fake.url, protocol="json2"), sample_event())
    assert (outcome.kind, outcome.status_code) == ("failed", 404)
    assert not fake.rows("res.partner")


def test_auto_without_login_explains_what_an_old_server_needs(fake: FakeOdoo) -> None:
    fake.json2_enabled = False
    outcome = deliver(make_config(fake.url, login=None), sample_event())
    assert outcome.kind == "failed"
    assert "set login and database" in outcome.reason


def test_without_a_database_no_header_is_sent(fake: FakeOdoo) -> None:
    assert deliver(make_config(fake.url, database=None), sample_event()).kind == "delivered"
    assert all("x-odoo-database" not in h for h in fake.headers)


# -- target model ------------------------------------------------------------------------------


def test_without_helpdesk_a_crm_opportunity_is_created(fake: FakeOdoo) -> None:
    fake.helpdesk_installed = False
    ids = MemoryExternalIds()
    assert deliver(make_config(fake.url), ticket_event(), ids).kind == "delivered"
    assert deliver(make_config(fake.url), message_event(), ids).kind == "delivered"
    (lead,) = fake.rows("crm.lead")
    assert (lead["name"], lead["type"]) == ("Printer on fire", "opportunity")
    (note,) = fake.rows("mail.message")
    assert (note["model"], note["res_id"]) == ("crm.lead", lead["id"])
    assert ids.get("record", "tkt_1") == f"crm.lead:{lead['id']}"


def test_crm_leads_can_be_plain_leads(fake: FakeOdoo) -> None:
    deliver(make_config(fake.url, target_model="crm.lead", crm_lead_type="lead"), ticket_event())
    assert [lead["type"] for lead in fake.rows("crm.lead")] == ["lead"]
    assert "ir.model.search_read" not in fake.methods()


def test_the_model_probe_is_cached(fake: FakeOdoo) -> None:
    deliver(make_config(fake.url), ticket_event("tkt_1"))
    deliver(make_config(fake.url), ticket_event("tkt_2"))
    assert fake.methods().count("ir.model.search_read") == 1
    assert len(fake.rows("helpdesk.ticket")) == 2


def test_neither_app_installed_fails(fake: FakeOdoo) -> None:
    fake.helpdesk_installed = False
    fake.db.pop("crm.lead")
    outcome = deliver(make_config(fake.url), ticket_event())
    assert outcome.kind == "failed"
    assert "neither Helpdesk" in outcome.reason


# -- idempotency -------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["json2", "jsonrpc"])
def test_a_replay_creates_nothing(fake: FakeOdoo, protocol: str) -> None:
    ids, config = MemoryExternalIds(), make_config(fake.url, protocol=protocol)
    for event in (ticket_event(), message_event(), ticket_event(), message_event()):
        assert deliver(config, event, ids).kind == "delivered"
    calls = len(fake.calls)
    assert deliver(config, message_event(), ids) == DeliveryOutcome.delivered(200)
    assert len(fake.calls) == calls  # a replay makes no call at all
    assert [len(fake.rows(m)) for m in ("res.partner", "helpdesk.ticket", "mail.message")] == [1, 1, 1]


def test_a_lost_mapping_finds_what_was_created(fake: FakeOdoo) -> None:
    config = make_config(fake.url)
    deliver(config, ticket_event(), MemoryExternalIds())
    deliver(config, message_event(), MemoryExternalIds())
    lost = MemoryExternalIds()
    assert deliver(config, ticket_event(), lost).kind == "delivered"
    assert deliver(config, message_event(), lost).kind == "delivered"
    assert [len(fake.rows(m)) for m in ("res.partner", "helpdesk.ticket", "mail.message")] == [1, 1, 1]
    assert lost.get("record", "tkt_1") == f"helpdesk.ticket:{fake.rows('helpdesk.ticket')[0]['id']}"
    assert "helpdesk.ticket.message_post" in fake.methods()
    assert fake.methods().count("helpdesk.ticket.message_post") == 1


def test_a_lost_mapping_finds_an_archived_lead(fake: FakeOdoo) -> None:
    config = make_config(fake.url, target_model="crm.lead")
    deliver(config, ticket_event(), MemoryExternalIds())
    fake.rows("crm.lead")[0]["active"] = False  # marked lost in Odoo
    assert deliver(config, message_event(), MemoryExternalIds()).kind == "delivered"
    assert len(fake.rows("crm.lead")) == 1


def test_a_message_without_its_ticket_event_creates_the_ticket(fake: FakeOdoo) -> None:
    assert deliver(make_config(fake.url), message_event(text="Refund please\nOrder 42")).kind == "delivered"
    (ticket,) = fake.rows("helpdesk.ticket")
    assert ticket["name"] == "Refund please"
    assert fake.rows("mail.message")[0]["res_id"] == ticket["id"]


def test_a_custom_reference_field_is_written_and_searched(fake: FakeOdoo) -> None:
    config = make_config(fake.url, reference_field="x_switchboard_ticket_id")
    deliver(config, ticket_event(), MemoryExternalIds())
    deliver(config, ticket_event(), MemoryExternalIds())
    (ticket,) = fake.rows("helpdesk.ticket")
    assert ticket["x_switchboard_ticket_id"] == "tkt_1"


# -- partners --------------------------------------------------------------------------------------------


def test_an_existing_partner_is_matched_by_email(fake: FakeOdoo) -> None:
    known = fake.seed("res.partner", name="Ada", email="ada@example.com")
    event = ticket_event(customer=customer(email="Ada@Example.com", phone="+14155550100"))
    assert deliver(make_config(fake.url), event).kind == "delivered"
    assert [p["id"] for p in fake.rows("res.partner")] == [known]
    assert fake.rows("helpdesk.ticket")[0]["partner_id"] == known


def test_an_existing_partner_is_matched_by_phone(fake: FakeOdoo) -> None:
    known = fake.seed("res.partner", name="Ada", phone="+14155550100")
    deliver(make_config(fake.url), ticket_event(customer=customer(phone="+14155550100")))
    assert [p["id"] for p in fake.rows("res.partner")] == [known]


def test_a_new_partner_gets_the_customers_name_and_identities(fake: FakeOdoo) -> None:
    deliver(make_config(fake.url), ticket_event(customer=customer(email="ada@example.com")))
    (partner,) = fake.rows("res.partner")
    assert (partner["name"], partner["email"], partner["ref"]) == ("Ada Lovelace", "ada@example.com",
                                                                   "[switchboard:cus_1]")


def test_a_malformed_customer_is_ignored(fake: FakeOdoo) -> None:
    assert deliver(make_config(fake.url), ticket_event(customer={"id": 1})).kind == "delivered"
    assert fake.rows("res.partner")[0]["name"] == "Switchboard customer"
