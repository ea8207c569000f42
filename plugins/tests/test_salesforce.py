"""The ``salesforce`` connector against a fake Salesforce org on loopback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fakes import loopback_allowed, loopback_transport
from fakes.salesforce_server import CLIENT_ID, CLIENT_SECRET, FakeSalesforce
from pydantic import BaseModel
from switchboard_plugins import salesforce
from switchboard_plugins.salesforce import auth
from switchboard_plugins.salesforce.config import SalesforceConfig
from switchboard_plugins.salesforce.deliver import deliver as sf_deliver
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.testing import ConnectorConformance
from switchboard_sdk.transport import DeliveryContext, MemoryExternalIds

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback fakes (see fakes/__init__.py)
TRANSPORT = loopback_transport()  # the fakes are loopback servers, refused by default
COMPOSITE = "/services/data/v60.0/composite"
WRONG_SECRET = "someone-elses-guess"  # noqa: S105 -- a made-up wrong secret


def make_config(url: str, **overrides: Any) -> SalesforceConfig:
    raw = {"instance_url": url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **overrides}
    return SalesforceConfig.model_validate(raw)


def ticket_event(ticket_id: str = "tkt_1", customer_id: str = "cus_1", **ticket: Any) -> EventEnvelope:
    data = {
        "id": ticket_id, "tenant_id": "t-acme", "customer_id": customer_id, "channel": "web",
        "subject": "Order #1001 never arrived", "created_at": NOW.isoformat(), "last_activity_at": NOW.isoformat(),
        **ticket,
    }
    return EventEnvelope(id=f"evt_{ticket_id}", type="ticket.created", tenant_id="t-acme", ticket_id=ticket_id,
                         occurred_at=NOW, data={"ticket": data})


def message_event(message_id: str = "msg_1", ticket_id: str = "tkt_1", **message: Any) -> EventEnvelope:
    data = {
        "id": message_id, "tenant_id": "t-acme", "ticket_id": ticket_id, "customer_id": "cus_1", "channel": "web",
        "provider_message_id": f"p-{message_id}", "text": "Where is my parcel?", "received_at": NOW.isoformat(),
        **message,
    }
    return EventEnvelope(id=f"evt_{message_id}", type="message.created", tenant_id="t-acme", ticket_id=ticket_id,
                         occurred_at=NOW, data={"message": data})


def deliver(
    fake: FakeSalesforce,
    event: EventEnvelope,
    ids: MemoryExternalIds | None = None,
    *,
    config: SalesforceConfig | None = None,
    timeout: float = 2.0,
) -> DeliveryOutcome:
    context = DeliveryContext(http=TRANSPORT, clock=lambda: NOW, timeout_seconds=timeout,
                              external_ids=ids if ids is not None else MemoryExternalIds())
    return sf_deliver(event, config or make_config(fake.url), context)


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    """Tokens are cached per container (module dict); every test starts cold."""
    auth.clear()
    yield
    auth.clear()


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as server:
        yield server


class TestSalesforceConformance(ConnectorConformance):
    plugin = salesforce.plugin

    def make_config(self, base_url: str) -> BaseModel:
        return make_config(base_url)

    @pytest.fixture
    def healthy_server(self) -> Iterator[Any]:
        with FakeSalesforce() as server:
            yield server


# -- wiring ---------------------------------------------------------------------


def test_the_hub_wrapper_validates_and_delivers(fake: FakeSalesforce) -> None:
    registry = build_plugin_manager(extra_plugins=[salesforce.plugin], load_entry_points=False)
    raw = {"instance_url": fake.url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    config = registry.validate_config("salesforce", raw)
    outcome = registry.deliver("salesforce", ticket_event(), config, DeliveryContext(http=TRANSPORT))
    assert outcome == DeliveryOutcome.delivered(200)


def test_importing_the_package_leaves_the_delivery_code_unloaded() -> None:
    code = "import sys, switchboard_plugins.salesforce as s; s.plugin.switchboard_plugin_info(); " \
           "print(sorted(m for m in sys.modules if m.startswith('switchboard_plugins.salesforce.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout  # noqa: S603 -- a constant script
    assert out.strip() == "['switchboard_plugins.salesforce.config', 'switchboard_plugins.salesforce.hooks']"


# -- what Salesforce gets ------------------------------------------------------------


def test_a_ticket_and_a_message_make_one_contact_one_case_and_one_comment(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    assert deliver(fake, ticket_event(), ids).kind == "delivered"
    assert deliver(fake, message_event(), ids).kind == "delivered"
    (contact,) = fake.all("Contact")
    (case,) = fake.all("Case")
    (comment,) = fake.all("CaseComment")
    assert contact["Switchboard_Customer_Id__c"] == "cus_1"
    assert contact["LastName"] == "Switchboard customer"
    assert case["ContactId"] == contact["Id"]
    assert case["Switchboard_Ticket_Id__c"] == "tkt_1"
    assert (case["Subject"], case["Status"], case["Origin"]) == ("Order #1001 never arrived", "New", "web")
    assert comment["ParentId"] == case["Id"]
    assert comment["CommentBody"] == "Customer via web:\nWhere is my parcel?"
    assert ids.ids == {("contact", "cus_1"): contact["Id"], ("case", "tkt_1"): case["Id"],
                       ("comment", "msg_1"): comment["Id"]}


def test_ticket_created_is_one_composite_call(fake: FakeSalesforce) -> None:
    deliver(fake, ticket_event())
    (call,) = fake.api_requests
    assert (call.method, call.path) == ("POST", COMPOSITE)
    assert call.headers["authorization"].startswith("Bearer ")
    body = call.json()
    assert body["allOrNone"] is True
    contact, case = body["compositeRequest"]
    assert (contact["method"], contact["url"]) == (
        "PATCH", "/services/data/v60.0/sobjects/Contact/Switchboard_Customer_Id__c/cus_1")
    assert (case["method"], case["url"]) == (
        "PATCH", "/services/data/v60.0/sobjects/Case/Switchboard_Ticket_Id__c/tkt_1")
    assert case["body"]["Contact"] == {"Switchboard_Customer_Id__c": "cus_1"}


def test_message_created_chains_the_comment_to_the_case(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    deliver(fake, ticket_event(), ids)
    deliver(fake, message_event(), ids)
    steps = fake.api_requests[-1].json()["compositeRequest"]
    case, comment = steps  # the Contact is known: left alone
    assert case["body"] == {"Contact": {"Switchboard_Customer_Id__c": "cus_1"}}  # no Subject overwritten
    assert (comment["method"], comment["url"]) == ("POST", "/services/data/v60.0/sobjects/CaseComment")
    assert comment["body"]["ParentId"] == "@{case.id}"


def test_a_message_before_its_ticket_still_makes_a_named_case(fake: FakeSalesforce) -> None:
    assert deliver(fake, message_event(subject="Lost parcel", channel="email")).kind == "delivered"
    (case,) = fake.all("Case")
    assert (case["Subject"], case["Origin"]) == ("Lost parcel", "email")
    (comment,) = fake.all("CaseComment")
    assert comment["CommentBody"].startswith("Customer via email — Lost parcel:\n")


def test_status_and_origin_maps_apply(fake: FakeSalesforce) -> None:
    config = make_config(fake.url, case_status_by_status={"pending": "Escalated"},
                         case_origin_by_channel={"web": "Web"})
    deliver(fake, ticket_event(status="pending"), config=config)
    deliver(fake, ticket_event("tkt_2", status="solved"), config=config)
    assert [(case["Status"], case["Origin"]) for case in fake.all("Case")] == [("Escalated", "Web"), ("Closed", "Web")]


# -- idempotency -------------------------------------------------------------------------


def test_a_replay_creates_nothing_new(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    for _ in range(3):
        assert deliver(fake, ticket_event(), ids).kind == "delivered"
        assert deliver(fake, message_event(), ids).kind == "delivered"
    assert [len(fake.all(name)) for name in ("Contact", "Case", "CaseComment")] == [1, 1, 1]
    # replays of message.created are answered from the id map, without a call
    assert len(fake.api_requests) == 4


def test_a_lost_id_map_keeps_contact_and_case_single(fake: FakeSalesforce) -> None:
    deliver(fake, ticket_event(), MemoryExternalIds())
    outcome = deliver(fake, ticket_event(), MemoryExternalIds())
    assert outcome.kind == "delivered"
    assert [len(fake.all(name)) for name in ("Contact", "Case")] == [1, 1]
    results = [sub["url"] for sub in fake.api_requests[-1].json()["compositeRequest"]]
    assert len(results) == 2  # upserted again, by external id


def test_a_lost_id_map_duplicates_a_case_comment(fake: FakeSalesforce) -> None:
    """The documented limit of CaseComment (no external id field): use upsert mode to avoid it."""
    deliver(fake, message_event(), MemoryExternalIds())
    deliver(fake, message_event(), MemoryExternalIds())
    assert len(fake.all("CaseComment")) == 2


def test_a_custom_comment_object_is_upserted_by_message_id(fake: FakeSalesforce) -> None:
    config = make_config(fake.url, comment_object="Switchboard_Comment__c", comment_parent_field="Case__c",
                         comment_body_field="Body__c", comment_external_id_field="Switchboard_Message_Id__c")
    for _ in range(2):  # even without the id map
        assert deliver(fake, message_event(), MemoryExternalIds(), config=config).kind == "delivered"
    (comment,) = fake.all("Switchboard_Comment__c")
    assert comment["Switchboard_Message_Id__c"] == "msg_1"
    assert comment["Case__c"] == fake.all("Case")[0]["Id"]
    assert fake.all("CaseComment") == []


# -- tokens ------------------------------------------------------------------------------------


def test_the_token_is_fetched_once_and_cached(fake: FakeSalesforce) -> None:
    deliver(fake, ticket_event())
    deliver(fake, ticket_event("tkt_2"))
    (grant,) = fake.token_requests
    assert grant.headers["content-type"] == "application/x-www-form-urlencoded"
    assert grant.body.decode().startswith("grant_type=client_credentials&client_id=")


def test_an_expired_token_is_refreshed_once(fake: FakeSalesforce) -> None:
    deliver(fake, ticket_event())
    fake.expire_tokens()
    assert deliver(fake, ticket_event("tkt_2")).kind == "delivered"
    assert len(fake.token_requests) == 2
    assert len(fake.api_requests) == 3  # first, the 401, the retry
    assert len(fake.all("Case")) == 2


def test_a_token_rejected_after_refresh_fails(fake: FakeSalesforce) -> None:
    fake.reject_tokens = True
    outcome = deliver(fake, ticket_event())
    assert (outcome.kind, outcome.status_code) == ("failed", 401)
    assert outcome.reason.startswith("credentials rejected: Salesforce answered 401 INVALID_SESSION_ID")
    assert (len(fake.token_requests), len(fake.api_requests)) == (2, 2)


def test_invalid_client_fails_without_calling_the_api(fake: FakeSalesforce) -> None:
    outcome = deliver(fake, ticket_event(), config=make_config(fake.url, client_secret=WRONG_SECRET))
    assert (outcome.kind, outcome.status_code) == ("failed", 400)
    assert "invalid_client: invalid client credentials" in outcome.reason
    assert fake.api_requests == []


def test_a_wrong_secret_does_not_borrow_a_cached_token(fake: FakeSalesforce) -> None:
    assert deliver(fake, ticket_event()).kind == "delivered"
    outcome = deliver(fake, ticket_event(), config=make_config(fake.url, client_secret=WRONG_SECRET))
    assert outcome.kind == "failed"


@pytest.mark.parametrize(("status", "kind"), [(503, "retry"), (429, "retry"), (400, "failed"), (404, "failed")])
def test_token_endpoint_statuses(fake: FakeSalesforce, status: int, kind: str) -> None:
    fake.token_failure = (status, {"error": "temporarily_unavailable" if kind == "retry" else "invalid_grant"})
    assert deliver(fake, ticket_event()).kind == kind


def test_a_token_answer_without_access_token_fails(fake: FakeSalesforce) -> None:
    fake.token_failure = (200, {"instance_url": fake.url})
    outcome = deliver(fake, ticket_event())
    assert outcome.kind == "failed"
    assert "without an access_token" in outcome.reason


# -- outcomes ------------------------------------------------------------------------------------


def test_503_is_retried(fake: FakeSalesforce) -> None:
    fake.fail(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
    outcome = deliver(fake, ticket_event())
    assert (outcome.kind, outcome.status_code) == ("retry", 503)
    assert outcome.reason == (
        "composite request: Salesforce answered 503 SERVER_UNAVAILABLE: Server temporarily unavailable")


def test_the_request_limit_is_retried_much_later(fake: FakeSalesforce) -> None:
    fake.fail(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    outcome = deliver(fake, ticket_event())
    assert (outcome.kind, outcome.status_code, outcome.retry_after_seconds) == ("retry", 403, 900.0)


def test_a_retry_after_header_wins(fake: FakeSalesforce) -> None:
    fake.fail(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", headers={"Retry-After": "60"})
    assert deliver(fake, ticket_event()).retry_after_seconds == 60


def test_a_locked_row_rolls_back_and_is_retried(fake: FakeSalesforce) -> None:
    fake.fail_subrequest("case", 400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")
    ids = MemoryExternalIds()
    outcome = deliver(fake, ticket_event(), ids)
    assert outcome.kind == "retry"
    assert outcome.reason.startswith("Case upsert: Salesforce answered 400 UNABLE_TO_LOCK_ROW")
    assert (fake.all("Contact"), ids.ids) == ([], {})  # allOrNone: the Contact was rolled back too


def test_a_bad_picklist_value_fails_naming_the_cause(fake: FakeSalesforce) -> None:
    outcome = deliver(fake, ticket_event(status="open"),
                      config=make_config(fake.url, case_status_by_status={"open": "Nieuw"}))
    assert (outcome.kind, outcome.status_code) == ("failed", 400)
    assert outcome.reason == ("Case upsert: Salesforce answered 400 INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: "
                              "Status: bad value for restricted picklist field: Nieuw (fields: Status)")


def test_a_missing_external_id_field_fails(fake: FakeSalesforce) -> None:
    outcome = deliver(fake, ticket_event(), config=make_config(fake.url, case_external_id_field="Ticket_Id__c"))
    assert (outcome.kind, outcome.status_code) == ("failed", 404)
    assert "NOT_FOUND: Provided external ID field does not exist or is not accessible: Ticket_Id__c" in outcome.reason


def test_a_malformed_event_fails() -> None:
    event = EventEnvelope(id="evt_x", type="ticket.created", tenant_id="t", ticket_id="tkt_1", occurred_at=NOW,
                          data={"message": {}})
    outcome = sf_deliver(event, make_config("https://acme.my.salesforce.com"), DeliveryContext(http=TRANSPORT))
    assert outcome == DeliveryOutcome.failed("event evt_x has no valid ticket.created data")


def test_a_slow_org_times_out_and_is_retried(fake: FakeSalesforce) -> None:
    deliver(fake, ticket_event())  # token cached: the API call is the one that hangs
    fake.delay = 1.0
    outcome = deliver(fake, ticket_event("tkt_2"), timeout=0.3)
    assert outcome.kind == "retry"
    assert "0.3s" in outcome.reason


# -- secrets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 500, 503])
def test_an_echoed_token_or_secret_never_reaches_a_reason(fake: FakeSalesforce, status: int) -> None:
    fake.fail(status, "INVALID_FIELD", f"bad header {{authorization}} and {CLIENT_SECRET}", times=2)
    outcome = deliver(fake, ticket_event())
    issued = sorted(fake.tokens)
    dumped = outcome.model_dump_json()
    assert CLIENT_SECRET not in dumped
    assert issued
    assert all(token not in dumped for token in issued)
    assert "[redacted]" in outcome.reason


def test_a_secret_echoed_by_the_token_endpoint_is_redacted(fake: FakeSalesforce) -> None:
    fake.token_failure = (400, {"error": "invalid_client", "error_description": f"bad secret {CLIENT_SECRET}"})
    outcome = deliver(fake, ticket_event())
    assert CLIENT_SECRET not in outcome.model_dump_json()
    assert "[redacted]" in outcome.reason
