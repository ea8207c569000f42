"""The reports API over aggregates the stream keeps: shapes, CSV, filters, access."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.metrics_support import Desk, stage


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    with stage() as s:
        yield Desk(s)


def test_a_solved_ticket_shows_in_the_summary(desk: Desk) -> None:
    ticket = desk.customer_writes("ann")
    desk.advance(minutes=10)
    desk.change(ticket, "ag1", assignee_id="ag1")
    desk.advance(minutes=5)
    desk.reply(ticket, "ag1")
    desk.advance(minutes=30)
    desk.change(ticket, "ag1", status="solved")
    summary = desk.get("/v1/reports/summary")
    kpis = summary["kpis"]
    assert kpis["volume"]["created"] == 1
    assert kpis["first_response"]["count"] == 1
    assert kpis["resolution"]["count"] == 1
    assert kpis["fcr"] == {"rate": 1.0, "count": 1, "eligible": 1, "target": 0.9}
    print(summary)
