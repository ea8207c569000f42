"""The reports (docs/metrics.md): a tenant's aggregates for a period, read with a few
Queries whatever the number of tickets — the day items of one kind for the period (one
Query, a page per ~1 MB), and for what is open now the kind's open partition (one more).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import figures
from .store import MetricsTable

Filter = tuple[str, str] | None  # (kind, value): ("channel", "wechat"), ("group", id), ("agent", id)


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    zone: ZoneInfo

    def dates(self) -> list[str]:
        return [(self.first + timedelta(days=n)).isoformat() for n in range((self.last - self.first).days + 1)]

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "time_zone": self.zone.key}


def _day(item: dict[str, Any]) -> str:
    return str(item["sk"]).split("#", 1)[0]


class Reports:
    def __init__(self, table: MetricsTable, zone: ZoneInfo, now: datetime) -> None:
        self._table = table
        self._zone = zone
        self._now = now

    def today(self) -> date:
        return self._now.astimezone(self._zone).date()

    def _days(self, period: Period, where: Filter, through: date | None = None) -> list[dict[str, Any]]:
        kind, value = where or ("all", "-")
        last = max(period.last, through) if through else period.last
        items = self._table.days(kind, period.first.isoformat(), last.isoformat())
        return [item for item in items if str(item.get("dim")) == value]

    def _open(self, where: Filter) -> list[dict[str, Any]]:
        kind, value = where or ("all", "-")
        return [item for item in self._table.open_now(kind) if str(item.get("dim")) == value]

    def summary(self, period: Period, where: Filter) -> dict[str, Any]:
        counts = figures.totals(self._days(period, where))
        backlog = figures.backlog_kpi(figures.open_ages(self._open(where), self._zone, self._now))
        return {"period": period.as_dict(), "filters": _filters(where),
                "kpis": figures.kpis(counts, backlog, self._by_channel(period, where, counts))}

    def _by_channel(self, period: Period, where: Filter, counts: dict[str, int]) -> dict[str, int]:
        if where is not None:  # one channel's own; a group's or agent's split by channel is not kept
            return {where[1]: counts.get("created", 0)} if where[0] == "channel" else {}
        rows: dict[str, int] = {}
        for item in self._table.days("channel", period.first.isoformat(), period.last.isoformat()):
            rows[str(item["dim"])] = rows.get(str(item["dim"]), 0) + int(item.get("created", 0))
        return {name: n for name, n in sorted(rows.items()) if n}

    def timeseries(self, period: Period, where: Filter, metrics: list[str]) -> dict[str, Any]:
        today = self.today()
        items = self._days(period, where, through=today if "backlog" in metrics else None)
        by_day: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            by_day.setdefault(_day(item), []).append(item)
        daily = {day: figures.day_values(figures.totals(by_day.get(day, []))) for day in period.dates()}
        series = {m: [daily[day][m] for day in period.dates()] for m in metrics if m != "backlog"}
        if "backlog" in metrics:
            series["backlog"] = self._backlog_series(period, where, by_day, today)
        return {"dates": period.dates(), "series": {m: series[m] for m in metrics}}

    def _backlog_series(self, period: Period, where: Filter, by_day: dict[str, list[dict[str, Any]]],
                        today: date) -> list[int | None]:
        """Open at the end of each day: open now, less what entered since, plus what left since
        (kept per tenant and channel: ``null`` for a group or an agent, or days to come)."""
        if where is not None and where[0] not in ("channel",):
            return [None] * len(period.dates())
        level = sum(int(item.get("open", 0)) for item in self._open(where) if not str(item["sk"]).startswith("now#"))
        ends: dict[str, int] = {}
        day = today
        while day >= period.first:
            ends[day.isoformat()] = level
            counts = figures.totals(by_day.get(day.isoformat(), []))
            level -= counts.get("bl_in", 0) - counts.get("bl_out", 0)
            day -= timedelta(days=1)
        return [ends.get(d) for d in period.dates()]

    def breakdown(self, period: Period, by: str) -> list[dict[str, Any]]:
        per: dict[str, list[dict[str, Any]]] = {}
        for item in self._table.days(by, period.first.isoformat(), period.last.isoformat()):
            per.setdefault(str(item["dim"]), []).append(item)
        rows = [figures.row(key, figures.totals(items)) for key, items in per.items()]
        return sorted(rows, key=lambda r: (-int(r["created"]), -int(r["solved"]), str(r["key"])))

    def flow(self, period: Period, where: Filter) -> dict[str, Any]:
        counts = figures.totals(self._days(period, where))
        current = figures.totals(item for item in self._open(where) if str(item["sk"]).startswith("now#"))
        return {"period": period.as_dict(), "filters": _filters(where)} | figures.flow(counts, current)

    def top_issues(self, week: str, limit: int, where: Filter = None) -> dict[str, Any]:
        year, number = (int(part) for part in week.split("-W"))
        monday = date.fromisocalendar(year, number, 1)
        before = monday - timedelta(days=7)
        items = self._days(Period(before, monday + timedelta(days=6), self._zone), where)
        now = figures.totals(i for i in items if _day(i) >= monday.isoformat())
        then = figures.totals(i for i in items if _day(i) < monday.isoformat())
        previous = before.isocalendar()
        return {"week": week, "previous_week": f"{previous.year}-W{previous.week:02d}",
                "categories": figures.labels(now, then, "cat:", limit),
                "intents": figures.labels(now, then, "int:", limit),
                "tags": figures.labels(now, then, "tag:", limit)}


def _filters(where: Filter) -> dict[str, str | None]:
    found = {"channel": None, "group": None, "agent": None}
    return found | ({where[0]: where[1]} if where else {})
