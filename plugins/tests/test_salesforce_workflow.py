"""The ``salesforce`` connector and the workflow's events: Case Status, Priority and Owner
changes, assignments, SLA and CSAT comments, against the fake org."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes import loopback_allowed
from fakes.salesforce_server import CLIENT_ID, CLIENT_SECRET, FakeSalesforce
from fakes.workflow_events import WorkflowEvents
from pydantic import ValidationError
from switchboard_plugins.salesforce import auth
from switchboard_plugins.salesforce.config import SalesforceConfig
from switchboard_sdk.models import EventEnvelope
from switchboard_sdk.transport import MemoryExternalIds
from test_salesforce import COMPOSITE, NOW, deliver, make_config, message_event, ticket_event

__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback fakes (see fakes/__init__.py)
ADA, BOB, QUEUE = "005000000000001AAA", "005000000000002AAA", "00G000000000001AAA"
OWNERS = {"agent-ada": ADA, "agent-bob": BOB}


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    auth.clear()
    yield
    auth.clear()


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as server:
        yield server


EVENTS = WorkflowEvents(NOW, channel="web", subject="Order #1001 never arrived")
ticket, updated, event = EVENTS.ticket, EVENTS.updated, EVENTS.event


def sla_target(**fields: Any) -> dict[str, Any]:
    return {"metric": "resolution", "policy_id": "pol_std", "state": "breached", "started_at": NOW.isoformat(),
            "due_at": "2026-01-03T03:04:05+00:00", "target_minutes": 1440} | fields


def run(fake: FakeSalesforce, event: EventEnvelope, ids: MemoryExternalIds, **overrides: Any) -> Any:
    return deliver(fake, event, ids, config=make_config(fake.url, **overrides))


def filed(fake: FakeSalesforce, ids: MemoryExternalIds) -> None:
    assert deliver(fake, ticket_event(status="open"), ids).kind == "delivered"
    fake.requests.clear()


def case(fake: FakeSalesforce) -> dict[str, Any]:
    (record,) = fake.all("Case")
    return record


def case_bodies(fake: FakeSalesforce) -> list[dict[str, Any]]:
    return [sub["body"] for request in fake.api_requests if request.path == COMPOSITE
            for sub in json.loads(request.body)["compositeRequest"] if sub["referenceId"] == "case"]


# -- ticket.updated --------------------------------------------------------------------------


def test_a_status_change_updates_only_the_case_status(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    outcome = deliver(fake, updated({"status": ("open", "pending")}, status="pending", priority="low"), ids)
    assert outcome.kind == "delivered"
    assert case_bodies(fake) == [{"Status": "Working", "Contact": {"Switchboard_Customer_Id__c": "cus_1"}}]
    assert (case(fake)["Status"], case(fake)["Priority"]) == ("Working", "Medium")


@pytest.mark.parametrize(("status", "value"), [("new", "New"), ("on_hold", "Working"), ("merged", "Closed"),
                                               ("solved", "Closed")])
def test_the_new_statuses_have_default_case_statuses(fake: FakeSalesforce, status: str, value: str) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    assert deliver(fake, updated({"status": ("open", status)}, status=status), ids).kind == "delivered"
    assert case(fake)["Status"] == value


@pytest.mark.parametrize(("priority", "value"), [("urgent", "High"), ("high", "High"), ("normal", "Medium"),
                                                 ("low", "Low")])
def test_a_priority_change_sets_the_case_priority(fake: FakeSalesforce, priority: str, value: str) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    assert deliver(fake, updated({"priority": ("normal", priority)}, priority=priority), ids).kind == "delivered"
    assert case(fake)["Priority"] == value


def test_an_assignee_change_sets_the_mapped_owner_and_an_unmapped_one_leaves_it(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    assert run(fake, updated({"assignee_id": (None, "agent-bob")}, 1, assignee_id="agent-bob"), ids,
               owner_by_agent=OWNERS).kind == "delivered"
    assert case(fake)["OwnerId"] == BOB
    fake.requests.clear()
    for version, agent in ((2, "agent-eve"), (3, None)):
        change = updated({"assignee_id": ("agent-bob", agent)}, version, assignee_id=agent)
        assert run(fake, change, ids, owner_by_agent=OWNERS).kind == "delivered"
    assert (case(fake)["OwnerId"], fake.api_requests) == (BOB, [])  # OwnerId cannot be blank: nothing sent


def test_a_queue_may_own_cases(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    change = updated({"assignee_id": (None, "agent-q")}, assignee_id="agent-q")
    run(fake, change, ids, owner_by_agent={"agent-q": QUEUE})
    assert case(fake)["OwnerId"] == QUEUE


def test_an_owner_the_org_lacks_fails_naming_the_field(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    outcome = run(fake, updated({"assignee_id": (None, "agent-x")}, assignee_id="agent-x"), ids,
                  owner_by_agent={"agent-x": "005999999999999AAA"})
    assert (outcome.kind, outcome.status_code) == ("failed", 400)
    assert "INVALID_CROSS_REFERENCE_KEY" in outcome.reason


def test_changes_the_org_does_not_keep_make_no_call(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    change = updated({"tags": ([], ["vip"]), "group_id": (None, "grp_1"), "assignee_id": (None, "agent-ada")},
                     tags=["vip"], group_id="grp_1", assignee_id="agent-ada")
    assert deliver(fake, change, ids).kind == "delivered"
    assert fake.requests == []


def test_an_update_of_a_case_never_filed_files_the_whole_ticket(fake: FakeSalesforce) -> None:
    change = updated({"priority": ("normal", "urgent")}, status="on_hold", priority="urgent", assignee_id="agent-ada")
    assert run(fake, change, MemoryExternalIds(), owner_by_agent=OWNERS).kind == "delivered"
    record = case(fake)
    assert (record["Subject"], record["Status"], record["Priority"], record["OwnerId"]) == (
        "Order #1001 never arrived", "Working", "High", ADA)
    assert len(fake.all("Contact")) == 1


def test_the_same_update_twice_is_harmless_and_an_older_one_is_skipped(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    older = updated({"status": ("open", "pending")}, 2, status="pending")
    newer = updated({"status": ("pending", "solved")}, 3, status="solved")
    assert [deliver(fake, e, ids).kind for e in (older, older, newer)] == ["delivered"] * 3
    fake.requests.clear()
    assert deliver(fake, older, ids).kind == "delivered"
    assert (case(fake)["Status"], fake.requests, len(fake.all("Case"))) == ("Closed", [], 1)
    assert ids.get("version", "tkt_1") == "3"


def test_a_failed_update_remembers_no_version(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    fake.fail_subrequest("case", 400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")
    assert deliver(fake, updated({"status": ("open", "pending")}, 5, status="pending"), ids).kind == "retry"
    assert ids.get("version", "tkt_1") is None


def test_malformed_changes_fail_for_good(fake: FakeSalesforce) -> None:
    broken = updated({}).model_copy(update={"data": {"ticket": ticket(), "changes": "status"}})
    outcome = deliver(fake, broken, MemoryExternalIds())
    assert (outcome.kind, fake.requests) == ("failed", [])


def test_a_ticket_created_carries_its_priority(fake: FakeSalesforce) -> None:
    deliver(fake, ticket_event(priority="high"), MemoryExternalIds())
    assert (case(fake)["Status"], case(fake)["Priority"]) == ("New", "High")


# -- config ---------------------------------------------------------------------------------


def test_a_config_of_the_four_old_statuses_still_validates() -> None:
    old = {"instance_url": "https://acme.my.salesforce.com", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
           "case_status_by_status": {"open": "New", "pending": "Working", "solved": "Closed", "closed": "Closed"}}
    conf = SalesforceConfig.model_validate(old)
    assert (conf.case_status_by_status["new"], conf.case_status_by_status["on_hold"],
            conf.case_status_by_status["merged"]) == ("New", "Working", "Closed")
    assert conf.case_priority_by_priority == {"urgent": "High", "high": "High", "normal": "Medium", "low": "Low"}
    assert conf.owner_by_agent == {}


@pytest.mark.parametrize("owners", [{"agent": "not-an-id"}, {"agent": "001000000000001AAA"}, {"": ADA}])
def test_owner_ids_must_be_users_or_queues(owners: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        SalesforceConfig.model_validate({"instance_url": "https://acme.my.salesforce.com", "client_id": CLIENT_ID,
                                         "client_secret": CLIENT_SECRET, "owner_by_agent": owners})


# -- ticket.assigned --------------------------------------------------------------------------


def test_an_assignment_sets_the_mapped_owner_or_is_delivered_without_a_call(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    assignment = event("ticket.assigned", {"ticket": ticket(2, assignee_id="agent-ada"), "assignee_id": "agent-ada",
                                           "group_id": None, "actor": {"kind": "system"}}, "evt_a_1")
    assert deliver(fake, assignment, ids).kind == "delivered"
    assert fake.requests == []
    assert run(fake, assignment, ids, owner_by_agent=OWNERS).kind == "delivered"
    assert case(fake)["OwnerId"] == ADA


def test_an_assignment_announced_by_both_events_is_written_once(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    change = updated({"assignee_id": (None, "agent-bob")}, 2, assignee_id="agent-bob")
    echo = event("ticket.assigned", {"ticket": ticket(2, assignee_id="agent-bob"), "assignee_id": "agent-bob"}, "e2")
    assert [run(fake, e, ids, owner_by_agent=OWNERS).kind for e in (change, echo)] == ["delivered"] * 2
    assert (len(fake.api_requests), case(fake)["OwnerId"]) == (1, BOB)


# -- comments: SLA and CSAT ---------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "head"), [("ticket.sla_warning", "SLA warning"),
                                            ("ticket.sla_breached", "SLA breached")])
def test_an_sla_event_adds_a_case_comment(fake: FakeSalesforce, kind: str, head: str) -> None:
    ids = MemoryExternalIds()
    filed(fake, ids)
    assert deliver(fake, event(kind, {"target": sla_target()}), ids).kind == "delivered"
    (comment,) = fake.all("CaseComment")
    assert comment["ParentId"] == case(fake)["Id"]
    assert comment["CommentBody"] == (f"{head}: resolution due 2026-01-03 03:04 UTC\n"
                                      "Target 1440 min (calendar time), policy pol_std")
    assert case(fake)["Subject"] == "Order #1001 never arrived"  # linked only: nothing overwritten


def test_a_csat_score_files_the_case_first_and_comments_once(fake: FakeSalesforce) -> None:
    ids = MemoryExternalIds()
    csat = event("csat.received", {"csat": {"score": 5, "comment": "五星", "channel": "wechat", "agent_id": "agent-ada",
                                            "at": NOW.isoformat()}})
    assert deliver(fake, csat, ids).kind == "delivered"
    assert deliver(fake, csat, ids).kind == "delivered"
    (comment,) = fake.all("CaseComment")
    assert comment["CommentBody"] == "Customer satisfaction: 5/5 via wechat\nComment: 五星"
    assert len(fake.all("Case")) == 1


def test_note_events_upsert_by_event_id_on_a_custom_comment_object(fake: FakeSalesforce) -> None:
    custom = {"comment_object": "Switchboard_Comment__c", "comment_parent_field": "Case__c",
              "comment_body_field": "Body__c", "comment_external_id_field": "Switchboard_Message_Id__c"}
    sla = event("ticket.sla_warning", {"target": sla_target(state="warning")})
    for _ in range(2):  # the mapping lost each time: the upsert still keeps one comment
        assert run(fake, sla, MemoryExternalIds(), **custom).kind == "delivered"
    (comment,) = fake.all("Switchboard_Comment__c")
    assert comment["Switchboard_Message_Id__c"] == "evt_w_1"


# -- replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["message.sent", "message.failed"])
def test_a_reply_is_commented_on_message_created_only(fake: FakeSalesforce, kind: str) -> None:
    ids = MemoryExternalIds()
    reply = message_event("msg_r", direction="outbound", author_id="agent-ada", text="Refund sent")
    assert deliver(fake, reply, ids).kind == "delivered"
    fake.requests.clear()
    assert deliver(fake, reply.model_copy(update={"type": kind, "id": "evt_later"}), ids).kind == "delivered"
    assert (fake.requests, len(fake.all("CaseComment"))) == ([], 1)
