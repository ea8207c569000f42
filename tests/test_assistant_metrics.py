"""The assistant in the KPIs: the detected intent in the top-issues report (once per
ticket, its latest), and tickets the assistant solved counted as automated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.metrics.facts import Reply, TicketInputs, ledger_of
from chalicelib.metrics.figures import totals
from chalicelib.metrics.reports import Reports
from chalicelib.metrics.tally import Context, Ledger

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # a Monday
CONTEXT = Context(ZoneInfo("UTC"))


def decision(version: int, minutes: int, event: str, intent: str | None, status: str = "new") -> dict[str, Any]:
    return {"version": version, "at": (T0 + timedelta(minutes=minutes)).isoformat(), "cause": f"assistant:m{version}",
            "actor": {"kind": "assistant", "id": "faq"}, "reason": "", "event": event,
            "detail": {"intent": intent, "message_id": f"m{version}"},
            "ticket": {"status": status, "assignee_id": None, "channel": "web", "created_at": T0.isoformat()}}


def counts(ledger: Ledger) -> dict[str, int]:
    return totals([v for (p, sk), v in ledger.items() if p == "D:all" and sk.endswith("#-")])


def test_the_latest_detected_intent_counts_once_per_ticket() -> None:
    history = [decision(1, 0, "assistant.unsure", "card.arrival"), decision(2, 1, "assistant.answered", "card.lost"),
               decision(3, 2, "assistant.answered", "card.lost"), decision(4, 3, "assistant.feedback", None)]
    c = counts(ledger_of(TicketInputs(history), CONTEXT))
    assert {k: v for k, v in c.items() if k.startswith("int:")} == {"int:card.lost": 1}


def test_a_ticket_without_decisions_has_no_intent() -> None:
    entry = decision(1, 0, "sla_warning", "x")  # another event's detail is not an intent
    assert not [k for k in counts(ledger_of(TicketInputs([entry]), CONTEXT)) if k.startswith("int:")]


def test_a_ticket_the_assistant_solved_is_automated() -> None:
    history = [decision(1, 0, "assistant.answered", "card.lost"),
               decision(2, 5, "assistant.feedback", "card.lost", status="solved")]
    replies = (Reply(T0 + timedelta(seconds=2), "r1", automated=True),)
    c = counts(ledger_of(TicketInputs(history, replies=replies), CONTEXT))
    assert (c["solved"], c["auto"]) == (1, 1)


class Days:
    """The day items a report reads (one dimension), as MetricsTable gives them."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self._items = items

    def days(self, kind: str, first: str, last: str) -> list[dict[str, Any]]:
        return [i for i in self._items if first <= i["sk"].split("#")[0] <= last]


def test_top_issues_lists_intents_with_last_weeks_counts() -> None:
    items = [{"sk": "2026-11-03#-", "dim": "-", "int:card.lost": 3, "int:refund": 1, "cat:billing": 2},
             {"sk": "2026-10-27#-", "dim": "-", "int:card.lost": 1}]
    report = Reports(Days(items), ZoneInfo("UTC"), T0).top_issues("2026-W45", 10)  # type: ignore[arg-type]
    assert report["intents"] == [{"name": "card.lost", "count": 3, "previous": 1, "change": 2},
                                 {"name": "refund", "count": 1, "previous": 0, "change": 1}]
