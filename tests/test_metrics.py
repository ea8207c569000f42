"""The KPI building blocks without AWS: histogram buckets and percentiles, and what one
ticket's history contributes — reopens, merges and reassignments corrected, never added twice."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.metrics.facts import Reply, SlaEnd, TicketInputs, ledger_of
from chalicelib.metrics.figures import kpis, totals
from chalicelib.metrics.histogram import bucket_of, exact_percentile, middle_of, percentile
from chalicelib.metrics.store import decode, encode
from chalicelib.metrics.tally import Context, Ledger, difference

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai
CONTEXT = Context(ZoneInfo("Asia/Shanghai"))


def test_buckets_are_log_spaced_and_percentiles_stay_within_ten_percent() -> None:
    assert bucket_of(0) == bucket_of(0.5) == 0
    assert bucket_of(1) == 1
    assert [bucket_of(2 ** n) for n in range(4)] == [1, 5, 9, 13]
    rng = random.Random(7)
    for _ in range(50):
        values = [rng.lognormvariate(7, 2) for _ in range(rng.randint(1, 300))]
        counts = Counter(bucket_of(v) for v in values)
        for q in (0.5, 0.9):
            exact, estimate = exact_percentile(values, q), percentile(counts, q)
            assert exact is not None
            assert estimate is not None
            assert abs(estimate - exact) <= 0.1 * exact + 1
    assert percentile({}, 0.5) is None
    assert middle_of(0) == 0


def entry(version: int, minutes: float, status: str, *, actor: str = "agent", agent_id: str | None = "ag1",
          assignee: str | None = "ag1", cause: str | None = None, reason: str = "", event: str | None = None,
          **ticket: Any) -> dict[str, Any]:
    return {"version": version, "at": (T0 + timedelta(minutes=minutes)).isoformat(),
            "cause": cause or f"c{version}", "actor": {"kind": actor, "id": agent_id}, "reason": reason,
            "event": event, "ticket": {"status": status, "assignee_id": assignee, "channel": "wechat",
                                       "created_at": T0.isoformat(), **ticket}}


def counts(ledger: Ledger, partition: str = "D:all", value: str = "-") -> dict[str, int]:
    return totals([v for (p, sk), v in ledger.items() if p == partition and sk.endswith(f"#{value}")])


def solved_once(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry(1, 0, "open", actor="customer", assignee=None, reason="triaged", cause="msg:m1",
                  awaiting_since=T0.isoformat()),
            entry(2, 10, "open"),
            entry(3, 30, "open", cause="msg:r1", reason="an agent replied",
                  first_response_at=(T0 + timedelta(minutes=30)).isoformat()),
            entry(4, 60, "solved"), *extra]


def test_a_ticket_solved_at_first_contact() -> None:
    ledger = ledger_of(TicketInputs(solved_once(), replies=(Reply(T0 + timedelta(minutes=30), "r1", False),)),
                       CONTEXT)
    c = counts(ledger)
    assert (c["created"], c["solved"], c["fcr_n"], c["fcr_ok"], c["rs1"], c["reop"]) == (1, 1, 1, 1, 1, 0)
    assert (c["frt_n"], c["frt_s"], c["res_s"], c["hdl_s"]) == (1, 1800, 3600, 3000)
    assert counts(ledger, "D:agent", "ag1")["hdl_s"] == 3000


def test_a_reopen_within_seven_days_moves_the_solve_and_takes_first_contact_back() -> None:
    replies = (Reply(T0 + timedelta(minutes=30), "r1", False),)
    before = ledger_of(TicketInputs(solved_once(), replies=replies), CONTEXT)
    reopened = solved_once(entry(5, 60 * 24 * 2, "open", actor="customer", cause="msg:m2",
                                 reason="the customer wrote"))
    now = ledger_of(TicketInputs(reopened, replies=replies), CONTEXT)
    change = difference(now, before)
    assert counts(change)["solved"] == -1
    assert counts(change)["fcr_ok"] == -1
    resolved = [*reopened, entry(6, 60 * 24 * 3, "solved")]
    final = counts(ledger_of(TicketInputs(resolved, replies=replies), CONTEXT))
    assert (final["solved"], final["fcr_n"], final["fcr_ok"], final["reop"], final["rs1"]) == (1, 1, 0, 1, 1)


def test_a_reopen_after_seven_days_keeps_first_contact() -> None:
    history = solved_once(entry(5, 60 * 24 * 8, "open", actor="customer"), entry(6, 60 * 24 * 8 + 5, "solved"))
    c = counts(ledger_of(TicketInputs(history, replies=(Reply(T0 + timedelta(minutes=30), "r1", False),)), CONTEXT))
    assert (c["solved"], c["fcr_ok"], c["reop"]) == (1, 1, 1)


def test_a_merged_ticket_is_never_solved() -> None:
    history = [*solved_once()[:3], entry(4, 50, "merged", assignee=None, event="merged")]
    c = Counter(counts(ledger_of(TicketInputs(history), CONTEXT)))
    assert (c["created"], c["solved"], c["fcr_n"], c["cl_created"], c["res_n"]) == (1, 0, 0, 0, 0)
    assert c["out:handle"] == 1
    assert not any(name.startswith("ln:handle>") for name in c)


def test_reassignment_credits_each_agent_with_their_own_handle_time_and_pending_does_not_count() -> None:
    history = [entry(1, 0, "open", actor="customer", assignee=None),
               entry(2, 10, "open", assignee="ag1"),
               entry(3, 70, "pending", assignee="ag1"),
               entry(4, 130, "open", actor="customer", assignee="ag1"),
               entry(5, 140, "open", assignee="ag2"),
               entry(6, 200, "solved", assignee="ag2")]
    ledger = ledger_of(TicketInputs(history), CONTEXT)
    assert counts(ledger)["hdl_s"] == 60 * 60 + 10 * 60 + 60 * 60
    assert counts(ledger, "D:agent", "ag1")["hdl_s"] == 70 * 60
    assert counts(ledger, "D:agent", "ag2")["hdl_s"] == 60 * 60
    assert counts(ledger, "D:agent", "ag2")["solved"] == 1
    assert counts(ledger, "D:agent", "ag1").get("solved", 0) == 0


def test_automated_solves_and_sla_ends_and_csat() -> None:
    history = [entry(1, 0, "open", actor="customer", assignee=None),
               entry(2, 5, "solved", actor="rule", assignee=None),
               entry(3, 70, "solved", actor="system", assignee=None, event="survey_sent"),
               entry(4, 80, "solved", actor="system", assignee=None, event="csat_received", reason="score 4")]
    ends = (SlaEnd("first_response", "breached", T0 + timedelta(hours=4)),)
    c = counts(ledger_of(TicketInputs(history, replies=(Reply(T0, "a1", True),), sla=ends), CONTEXT))
    assert (c["auto"], c["solved"], c["csat_n"], c["csat_s"], c["csat_4"], c["csat_sent"]) == (1, 1, 1, 4, 1, 1)
    assert c["sla_first_response_br"] == 1
    figures = kpis(c, {"open": 0}, {})
    assert figures["automation_rate"]["rate"] == 1.0
    assert figures["csat"]["response_rate"] == 1.0
    assert figures["sla"]["first_response"]["attainment"] == 0.0


def test_a_ledger_survives_its_round_trip_and_the_same_facts_add_nothing() -> None:
    ledger = ledger_of(TicketInputs(solved_once()), CONTEXT)
    assert decode(encode(ledger)) == ledger
    assert difference(ledger, decode(encode(ledger))) == {}
    assert ledger_of(TicketInputs(list(reversed(solved_once()))), CONTEXT) == ledger  # order of arrival


def test_days_are_the_tenants_days() -> None:
    late = [entry(1, 60 * 15 + 30, "open", actor="customer", assignee=None)]  # 00:30 the next day in Shanghai
    late[0]["ticket"]["created_at"] = late[0]["at"]
    ledger = ledger_of(TicketInputs(late), CONTEXT)
    assert any(sk.startswith("2026-11-03#") for _, sk in ledger)
    assert counts(ledger)["hr00"] == 1
