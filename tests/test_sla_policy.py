"""SLA planning (chalicelib/workflow/sla.py): first response, next response and
resolution targets; pause and resume; warnings and breaches by advance(); business
vs calendar time; policy changes; which policy applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from switchboard_sdk import Customer, SlaTarget, Ticket

from chalicelib.workflow.calendar import WEEKDAYS, BusinessCalendar, Interval
from chalicelib.workflow.sla import SlaPolicy, SlaPolicyFields, advance, match_policy, plan_targets

T0 = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)


def policy(**extra: Any) -> SlaPolicy:
    fields: dict[str, Any] = {
        "id": "sla_std", "name": "standard",
        "targets": {"urgent": {"first_response_minutes": 30, "next_response_minutes": 20, "resolution_minutes": 240},
                    "normal": {"first_response_minutes": 60, "next_response_minutes": 60,
                               "resolution_minutes": 480}},
    }
    return SlaPolicy.model_validate(fields | extra)


def ticket(**fields: Any) -> Ticket:
    base: dict[str, Any] = {"id": "tkt_1", "tenant_id": "demo", "customer_id": "cus_1", "channel": "web",
                            "status": "open", "created_at": T0, "last_activity_at": T0}
    return Ticket.model_validate(base | fields)


def step(before: Ticket, now: datetime, chosen: SlaPolicy | None = None, calendar: BusinessCalendar | None = None,
         **changes: Any) -> Ticket:
    """The ticket after ``changes`` at ``now``, with its targets planned (as the workflow does)."""
    after = before.model_copy(update=changes)
    return after.model_copy(update={"sla": plan_targets(after, chosen or policy(), calendar, now)})


def target(t: Ticket, metric: str) -> SlaTarget:
    found = [s for s in t.sla if s.metric == metric]
    assert found, f"no {metric} target in {t.sla}"
    return found[-1]


# -- first response -----------------------------------------------------------------------

def test_a_new_ticket_gets_first_response_and_resolution_targets_only() -> None:
    t = step(ticket(), T0)
    assert [s.metric for s in t.sla] == ["first_response", "resolution"]
    first = target(t, "first_response")
    assert (first.state, first.started_at, first.due_at, first.warn_at) == (
        "active", T0, T0 + 60 * MIN, T0 + 45 * MIN)
    assert target(t, "resolution").due_at == T0 + 480 * MIN


def test_first_response_met_in_time_and_late() -> None:
    t = step(ticket(), T0)
    met = step(t, T0 + 50 * MIN, first_response_at=T0 + 50 * MIN)
    assert (target(met, "first_response").state, target(met, "first_response").done_at) == ("met", T0 + 50 * MIN)
    late = step(t, T0 + 61 * MIN, first_response_at=T0 + 61 * MIN)
    assert target(late, "first_response").state == "breached"
    assert target(step(met, T0 + 5 * 60 * MIN), "first_response").state == "met"  # met stays met


def test_warning_then_breach_by_advance_and_by_planning() -> None:
    first = target(step(ticket(), T0), "first_response")
    assert advance(first, T0 + 44 * MIN).state == "active"
    warned = advance(first, T0 + 45 * MIN)
    assert warned.state == "warning"
    assert advance(warned, T0 + 60 * MIN).state == "breached"
    assert advance(first, T0 + 90 * MIN).state == "breached"  # a late scheduler skips the warning
    assert advance(advance(first, T0 + 90 * MIN), T0 + 30 * MIN).state == "breached"  # never back
    t = step(step(ticket(), T0), T0 + 70 * MIN, priority="normal")
    assert target(t, "first_response").state == "breached"


def test_solving_without_an_answer_finishes_the_first_response() -> None:
    t = step(ticket(), T0)
    solved = step(t, T0 + 20 * MIN, status="solved", solved_at=T0 + 20 * MIN)
    assert {s.metric: (s.state, s.done_at) for s in solved.sla} == {
        "first_response": ("met", T0 + 20 * MIN), "resolution": ("met", T0 + 20 * MIN)}


def test_the_warning_never_comes_before_the_start() -> None:
    short = policy(targets={"normal": {"first_response_minutes": 10}})
    first = target(step(ticket(), T0, short), "first_response")
    assert (first.warn_at, first.due_at) == (T0, T0 + 10 * MIN)


# -- next response ------------------------------------------------------------------------

def test_each_customer_wait_gets_a_next_response_and_only_the_last_met_is_kept() -> None:
    t = step(ticket(), T0)
    t = step(t, T0 + 10 * MIN, first_response_at=T0 + 10 * MIN)
    assert [s.metric for s in t.sla] == ["first_response", "resolution"]
    for n in range(3):
        wait = T0 + (60 + 100 * n) * MIN
        t = step(t, wait, awaiting_since=wait)
        running = target(t, "next_response")
        assert (running.state, running.started_at, running.due_at) == ("active", wait, wait + 60 * MIN)
        t = step(t, wait + (30 + 40 * n) * MIN, awaiting_since=None)
    nexts = [s for s in t.sla if s.metric == "next_response"]
    assert len(nexts) == 1
    assert (nexts[0].state, nexts[0].done_at) == ("breached", T0 + (260 + 110) * MIN)


def test_a_wait_before_the_first_response_is_the_first_responses() -> None:
    t = step(ticket(), T0 + MIN, awaiting_since=T0)
    assert "next_response" not in [s.metric for s in t.sla]


def test_a_newer_wait_finishes_the_older_one() -> None:
    t = step(ticket(first_response_at=T0 + 5 * MIN), T0 + 10 * MIN, awaiting_since=T0 + 10 * MIN)
    t = step(t, T0 + 30 * MIN, awaiting_since=T0 + 30 * MIN)
    nexts = [s for s in t.sla if s.metric == "next_response"]
    assert [(s.started_at, s.done_at) for s in nexts] == [(T0 + 10 * MIN, T0 + 30 * MIN), (T0 + 30 * MIN, None)]


# -- resolution: pause and resume --------------------------------------------------------

def test_pending_and_on_hold_pause_the_resolution_clock() -> None:
    t = step(ticket(), T0)
    t = step(t, T0 + 100 * MIN, status="pending")
    paused = target(t, "resolution")
    assert (paused.state, paused.due_at, paused.warn_at, paused.remaining_seconds) == ("paused", None, None,
                                                                                       380 * 60)
    assert advance(paused, T0 + 1000 * MIN) == paused
    t = step(t, T0 + 200 * MIN, status="on_hold")  # still paused, nothing used
    assert target(t, "resolution").remaining_seconds == 380 * 60
    t = step(t, T0 + 300 * MIN, status="open")
    resumed = target(t, "resolution")
    assert (resumed.state, resumed.started_at, resumed.due_at) == ("active", T0 + 300 * MIN, T0 + 680 * MIN)
    assert resumed.warn_at == T0 + 665 * MIN
    assert target(t, "first_response").due_at == T0 + 60 * MIN  # pausing is for resolution only


def test_a_breached_resolution_does_not_pause() -> None:
    t = step(step(ticket(), T0), T0 + 500 * MIN, status="pending")
    assert target(t, "resolution").state == "breached"
    assert target(t, "resolution").due_at == T0 + 480 * MIN


def test_solved_then_reopened_resumes_with_the_time_that_was_left() -> None:
    t = step(ticket(first_response_at=T0 + 5 * MIN), T0)
    t = step(t, T0 + 80 * MIN, status="solved", solved_at=T0 + 80 * MIN)
    done = target(t, "resolution")
    assert (done.state, done.done_at, done.remaining_seconds) == ("met", T0 + 80 * MIN, 400 * 60)
    t = step(t, T0 + 2000 * MIN, status="open", solved_at=None)
    again = target(t, "resolution")
    assert (again.state, again.done_at, again.due_at) == ("active", None, T0 + 2400 * MIN)
    t = step(t, T0 + 2500 * MIN, status="solved", solved_at=T0 + 2500 * MIN)
    assert target(t, "resolution").state == "breached"
    reopened = step(t, T0 + 2600 * MIN, status="open", solved_at=None)
    assert (target(reopened, "resolution").state, target(reopened, "resolution").done_at) == ("breached", None)


def test_reopened_into_pending_stays_paused() -> None:
    t = step(step(ticket(), T0), T0 + 80 * MIN, status="solved", solved_at=T0 + 80 * MIN)
    t = step(t, T0 + 500 * MIN, status="pending", solved_at=None)
    assert (target(t, "resolution").state, target(t, "resolution").remaining_seconds) == ("paused", 400 * 60)


# -- policy changes ---------------------------------------------------------------------

def test_a_priority_change_reschedules_from_the_start() -> None:
    t = step(ticket(), T0)
    t = step(t, T0 + 10 * MIN, priority="urgent")
    first = target(t, "first_response")
    assert (first.target_minutes, first.due_at, first.state) == (30, T0 + 30 * MIN, "active")
    late = step(step(ticket(), T0), T0 + 40 * MIN, priority="urgent")
    assert target(late, "first_response").state == "breached"
    relaxed = step(late, T0 + 41 * MIN, priority="normal")
    assert target(relaxed, "first_response").state == "active"


def test_a_policy_change_on_a_resumed_target_carries_the_time_used_over() -> None:
    t = step(step(ticket(), T0), T0 + 100 * MIN, status="pending")  # 380 of 480 left
    t = step(t, T0 + 300 * MIN, status="open")
    t = step(t, T0 + 310 * MIN, priority="urgent")  # 240: 100 used before the pause → 140 from the resume
    resolution = target(t, "resolution")
    assert (resolution.policy_id, resolution.target_minutes, resolution.due_at) == (
        "sla_std", 240, T0 + 440 * MIN)
    other = policy(id="sla_other", targets={"urgent": {"resolution_minutes": 60}})
    t = step(t, T0 + 320 * MIN, other)
    assert [(s.metric, s.policy_id, s.state) for s in t.sla] == [("resolution", "sla_other", "breached")]


def test_no_policy_drops_running_targets_and_keeps_finished_ones() -> None:
    t = step(ticket(), T0)
    t = step(t, T0 + 5 * MIN, first_response_at=T0 + 5 * MIN)
    after = t.model_copy(update={"priority": "low"})
    chosen = match_policy([policy()], after, None)
    assert chosen is None
    planned = plan_targets(after, chosen, None, T0 + 6 * MIN)
    assert [(s.metric, s.state) for s in planned] == [("first_response", "met")]


def test_a_merged_ticket_keeps_only_finished_targets() -> None:
    t = step(ticket(), T0)
    t = step(t, T0 + 5 * MIN, first_response_at=T0 + 5 * MIN)
    merged = step(t, T0 + 6 * MIN, status="merged", merged_into="tkt_2")
    assert [s.metric for s in merged.sla] == ["first_response"]


# -- business hours -----------------------------------------------------------------------

def office() -> BusinessCalendar:
    return BusinessCalendar(id="cal_1", name="office", time_zone="Europe/Berlin",
                            week={d: [Interval(start="09:00", end="17:00")] for d in WEEKDAYS[:5]})


def test_business_hours_count_only_open_time() -> None:
    chosen = policy(business_hours=True, calendar_id="cal_1")
    friday_evening = datetime(2024, 6, 7, 14, 30, tzinfo=UTC)  # 16:30 in Berlin
    t = step(ticket(created_at=friday_evening, last_activity_at=friday_evening), friday_evening, chosen, office())
    first = target(t, "first_response")
    assert first.business_hours
    assert first.due_at == datetime(2024, 6, 10, 7, 30, tzinfo=UTC)  # 30 min Friday, 30 min Monday
    assert first.warn_at == datetime(2024, 6, 10, 7, 15, tzinfo=UTC)  # 15 open minutes before, on Monday
    plain = step(ticket(created_at=friday_evening, last_activity_at=friday_evening), friday_evening)
    assert target(plain, "first_response").due_at == friday_evening + 60 * MIN


def test_business_hours_pause_keeps_business_seconds() -> None:
    chosen = policy(business_hours=True, calendar_id="cal_1")
    monday_9 = datetime(2024, 6, 3, 7, 0, tzinfo=UTC)
    t = step(ticket(created_at=monday_9, last_activity_at=monday_9), monday_9, chosen, office())
    t = step(t, monday_9 + 60 * MIN, chosen, office(), status="pending")
    assert target(t, "resolution").remaining_seconds == 420 * 60
    tuesday_evening = datetime(2024, 6, 4, 18, 0, tzinfo=UTC)
    t = step(t, tuesday_evening, chosen, office(), status="open")
    assert target(t, "resolution").due_at == datetime(2024, 6, 5, 14, 0, tzinfo=UTC)  # Wed 9:00 + 7h


def test_business_hours_without_a_calendar_count_plain_time() -> None:
    chosen = policy(business_hours=True, calendar_id="cal_gone")
    assert target(step(ticket(), T0, chosen, None), "first_response").due_at == T0 + 60 * MIN


# -- which policy -------------------------------------------------------------------------

def customer(*tags: str) -> Customer:
    return Customer(id="cus_1", tenant_id="demo", identities=[], created_at=T0, tags=list(tags))


def test_the_first_matching_policy_by_position_wins() -> None:
    vip = policy(id="sla_vip", position=1, conditions={"customer_tags": ["VIP"], "channels": ["wechat", "web"]})
    billing = policy(id="sla_billing", position=2, conditions={"categories": ["billing"], "group_ids": ["grp_b"]})
    fallback = policy(id="sla_all", position=9)
    policies = [fallback, billing, vip]

    def chosen(t: Ticket, c: Customer | None) -> str | None:
        found = match_policy(policies, t, c)
        return found.id if found else None

    assert chosen(ticket(), customer("vip")) == "sla_vip"  # tags compare without case
    assert chosen(ticket(channel="sms"), customer("vip")) == "sla_all"
    assert chosen(ticket(category="billing", group_id="grp_b"), None) == "sla_billing"
    assert chosen(ticket(category="billing"), None) == "sla_all"
    urgent_only = policy(id="sla_u", position=0, conditions={"priorities": ["urgent"]})
    assert match_policy([urgent_only], ticket(), None) is None
    assert match_policy([urgent_only], ticket(priority="urgent"), None) is urgent_only
    assert match_policy([policy()], ticket(priority="low"), None) is None  # no targets for "low"


@pytest.mark.parametrize(("fields", "message"), [
    ({"targets": {}}, "at least 1"),
    ({"targets": {"normal": {"first_response_minutes": 0}}}, "greater than or equal to 1"),
    ({"targets": {"asap": {"first_response_minutes": 5}}}, "asap"),
    ({"business_hours": True}, "calendar_id"),
    ({"conditions": {"moods": ["angry"]}}, "moods"),
])
def test_invalid_policies_are_refused(fields: dict[str, Any], message: str) -> None:
    body = {"name": "p", "targets": {"normal": {"first_response_minutes": 5}}} | fields
    with pytest.raises(ValidationError, match=message):
        SlaPolicyFields.model_validate(body)
