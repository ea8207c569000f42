"""``GET /v1/reports/...``: the KPIs of docs/metrics.md for a period in the tenant's time
zone — summary, timeseries, breakdown (per agent, group or channel), flow (the five
stages) and the week's top issues — as JSON, or as CSV with ``format=csv``.

Who: an agent whose role holds ``supervisor`` or ``tenant-admin``, or an API key with a
read scope. Each report reads the aggregates with a few Queries (:mod:`chalicelib.metrics.reports`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from switchboard_sdk import BadPayload, Forbidden

from ..agents.directory import AgentStore
from ..metrics.figures import SERIES
from ..metrics.reports import Filter, Period, Reports
from ..metrics.store import MetricsTable
from ..tenancy.tenants import TenantDirectory
from .access import READ_SCOPES, Access, Caller
from .calls import ApiCall

REPORT_SCOPES = READ_SCOPES | {"supervisor"}
AGENT_ROLES = frozenset({"supervisor", "tenant-admin"})  # agents: supervisors and admins only
MAX_DAYS = 366
DEFAULT_DAYS = 30
DEFAULT_SERIES = ("created", "solved", "first_response_median", "csat_average", "fcr_rate", "sla_attainment",
                  "backlog")
BREAKDOWNS = ("agent", "group", "channel")
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


class DurationKpi(BaseModel):
    count: int
    median_seconds: int | None
    p90_seconds: int | None
    average_seconds: int | None
    business_median_seconds: int | None
    target_seconds: int | None
    within_target: float | None


class ReportSummary(BaseModel):
    """The KPIs of a period: durations (first_response, next_reply, resolution, handle: DurationKpi),
    fcr, reopen_rate, csat, sla (per target), closure_rate, backlog, volume, automation_rate."""

    period: dict[str, str]
    filters: dict[str, str | None]
    kpis: dict[str, Any]


class ReportTimeseries(BaseModel):
    """One value per day and metric (``null`` where there is no data)."""

    dates: list[str]
    series: dict[str, list[float | None]]


class BreakdownRow(BaseModel):
    key: str
    name: str
    created: int
    solved: int
    first_response_median_seconds: int | None
    handle_median_seconds: int | None
    fcr_rate: float | None
    csat_average: float | None
    csat_responses: int
    sla_attainment: float | None


class ReportBreakdown(BaseModel):
    by: str
    rows: list[BreakdownRow]


class FlowStage(BaseModel):
    stage: str
    entered: int
    left: int
    current: int
    median_seconds: int | None
    p90_seconds: int | None


class FlowLink(BaseModel):
    source: str
    target: str
    value: int


class ReportFlow(BaseModel):
    """The five stages in order: tickets that entered and left each in the period, how many are in it
    now, time spent in it; the links between stages; the stage with the longest median."""

    period: dict[str, str]
    filters: dict[str, str | None]
    stages: list[FlowStage]
    links: list[FlowLink]
    slowest: str | None


class IssueCount(BaseModel):
    name: str
    count: int
    previous: int
    change: int


class ReportTopIssues(BaseModel):
    """The week's top categories, intents (none yet: the assistant fills them) and tags."""

    week: str
    previous_week: str
    categories: list[IssueCount]
    intents: list[IssueCount]
    tags: list[IssueCount]


@dataclass(frozen=True)
class ReportAnswer:
    """A report as JSON (``body``), or as CSV when asked (``csv``, saved as ``filename``)."""

    body: dict[str, Any]
    csv: str | None = None
    filename: str = "report.csv"


class ReportApi:
    def __init__(self, access: Access, tables: Callable[[str], MetricsTable], agents: AgentStore,
                 tenants: TenantDirectory, clock: Callable[[], datetime]) -> None:
        self._access = access
        self._tables = tables
        self._agents = agents
        self._tenants = tenants
        self._clock = clock

    def _open(self, call: ApiCall) -> tuple[Caller, Reports, ZoneInfo]:
        caller = self._access.tenant(call, REPORT_SCOPES)
        if caller.agent is not None and not caller.agent.scopes & AGENT_ROLES:
            raise Forbidden("reports are for supervisors and tenant admins")
        zone = ZoneInfo(self._tenants.get(caller.tenant_id).settings.time_zone)
        return caller, Reports(self._tables(caller.tenant_id), zone, self._clock()), zone

    def summary(self, call: ApiCall) -> ReportAnswer:
        _, reports, zone = self._open(call)
        body = reports.summary(period_of(call, reports.today(), zone), filter_of(call))
        return _answer(call, body, summary_csv, "summary.csv")

    def timeseries(self, call: ApiCall) -> ReportAnswer:
        _, reports, zone = self._open(call)
        metrics = metrics_of(call.param("metrics", 400))
        body = reports.timeseries(period_of(call, reports.today(), zone), filter_of(call), metrics)
        return _answer(call, body, timeseries_csv, "timeseries.csv")

    def breakdown(self, call: ApiCall) -> ReportAnswer:
        caller, reports, zone = self._open(call)
        by = call.param("by", 16) or "agent"
        if by not in BREAKDOWNS:
            raise BadPayload("by must be one of: agent, group, channel")
        rows = reports.breakdown(period_of(call, reports.today(), zone), by)
        names = self._names(caller.tenant_id, by)
        body = {"by": by, "rows": [{"key": r["key"], "name": names.get(r["key"], r["key"])} | r for r in rows]}
        return _answer(call, body, breakdown_csv, f"breakdown-{by}.csv")

    def flow(self, call: ApiCall) -> ReportAnswer:
        _, reports, zone = self._open(call)
        body = reports.flow(period_of(call, reports.today(), zone), filter_of(call))
        return _answer(call, body, flow_csv, "flow.csv")

    def top_issues(self, call: ApiCall) -> ReportAnswer:
        _, reports, _ = self._open(call)
        week = week_of(call.param("week", 10), reports.today())
        limit = _limit(call.param("limit", 4))
        return _answer(call, reports.top_issues(week, limit, filter_of(call)), top_issues_csv,
                       f"top-issues-{week}.csv")

    def _names(self, tenant_id: str, by: str) -> dict[str, str]:
        directory = self._agents.of(tenant_id)
        if by == "agent":
            return {agent.id: agent.name for agent in directory.agents()}
        if by == "group":
            return {group.id: group.name for group in directory.groups()}
        return {}


def period_of(call: ApiCall, today: date, zone: ZoneInfo) -> Period:
    """``from``/``to`` (inclusive dates in the tenant's zone; default the last 30 days)."""
    last = _date(call.param("to", 10), "to") or today
    first = _date(call.param("from", 10), "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise BadPayload("from must not be after to")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadPayload(f"a report covers at most {MAX_DAYS} days")
    return Period(first, last, zone)


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str) -> date:
    raise BadPayload(f"{name} must be a date, YYYY-MM-DD")


def filter_of(call: ApiCall) -> Filter:
    given = [(kind, call.param(kind, 128)) for kind in ("channel", "group", "agent")]
    named = [(kind, value) for kind, value in given if value]
    if len(named) > 1:
        raise BadPayload("give at most one of channel, group, agent")
    return (named[0][0], str(named[0][1])) if named else None


def metrics_of(value: str | None) -> list[str]:
    names = [name.strip() for name in (value or ",".join(DEFAULT_SERIES)).split(",") if name.strip()]
    unknown = [name for name in names if name not in SERIES]
    if unknown or not names:
        raise BadPayload(f"metrics are some of: {', '.join(SERIES)}")
    return list(dict.fromkeys(names))


def week_of(value: str | None, today: date) -> str:
    if value is None:
        iso = today.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    try:
        year, number = (int(part) for part in value.split("-W"))
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise BadPayload("week must be an ISO week, YYYY-Www") from None
    return f"{year}-W{number:02d}"


def _limit(value: str | None) -> int:
    if value is None:
        return 10
    if not value.isdigit() or not 1 <= int(value) <= 50:
        raise BadPayload("limit must be 1-50")
    return int(value)


def _answer(call: ApiCall, body: dict[str, Any], to_csv: Callable[[dict[str, Any]], list[list[Any]]],
            filename: str) -> ReportAnswer:
    wanted = call.param("format", 8) or "json"
    if wanted not in ("json", "csv"):
        raise BadPayload("format must be json or csv")
    return ReportAnswer(body, render_csv(to_csv(body)) if wanted == "csv" else None, filename)


def render_csv(rows: list[list[Any]]) -> str:
    """Rows as CSV with a byte-order mark (Excel reads UTF-8); text cells that a spreadsheet
    would run as a formula get a leading ``'`` (CSV injection, OWASP)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if cell is None else _guard(cell) for cell in row])
    return "\ufeff" + out.getvalue()


def _guard(cell: Any) -> Any:
    return "'" + cell if isinstance(cell, str) and cell.startswith(CSV_TRIGGERS) else cell


def _flatten(prefix: str, value: Any) -> list[list[Any]]:
    if isinstance(value, dict):
        return [row for key, inner in value.items() for row in _flatten(f"{prefix}.{key}" if prefix else key, inner)]
    if isinstance(value, list) and value and isinstance(value[0], dict) and "label" in value[0]:
        return [[f"{prefix}.{entry['label']}", entry["count"]] for entry in value]
    if isinstance(value, list):
        return [[f"{prefix}.{n}", v] for n, v in enumerate(value)]
    return [[prefix, value]]


def summary_csv(body: dict[str, Any]) -> list[list[Any]]:
    period = body["period"]
    return [["metric", "value"], ["period.from", period["from"]], ["period.to", period["to"]],
            ["period.time_zone", period["time_zone"]], *_flatten("", body["kpis"])]


def timeseries_csv(body: dict[str, Any]) -> list[list[Any]]:
    names = list(body["series"])
    return [["date", *names]] + [[day, *(body["series"][n][i] for n in names)] for i, day in enumerate(body["dates"])]


def breakdown_csv(body: dict[str, Any]) -> list[list[Any]]:
    columns = list(BreakdownRow.model_fields)
    return [columns] + [[row[c] for c in columns] for row in body["rows"]]


def flow_csv(body: dict[str, Any]) -> list[list[Any]]:
    columns = list(FlowStage.model_fields)
    rows: list[list[Any]] = [["kind", *columns, "target", "value"]]
    rows += [["stage", *(stage[c] for c in columns), None, None] for stage in body["stages"]]
    rows += [["link", link["source"], *([None] * (len(columns) - 1)), link["target"], link["value"]]
             for link in body["links"]]
    return rows


def top_issues_csv(body: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [["kind", "name", "count", "previous", "change"]]
    for kind in ("categories", "intents", "tags"):
        rows += [[kind, entry["name"], entry["count"], entry["previous"], entry["change"]] for entry in body[kind]]
    return rows
