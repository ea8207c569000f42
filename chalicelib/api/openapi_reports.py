"""The OpenAPI operations of the reports (issue 13, docs/metrics.md). Kept beside
:mod:`.openapi`, which lists them."""

from __future__ import annotations

from .openapi_types import Operation, Query
from .reports import BREAKDOWNS, ReportBreakdown, ReportFlow, ReportSummary, ReportTimeseries, ReportTopIssues

SCOPES = ("tenant-admin", "supervisor", "agent", "read-only")  # agents: only supervisors and admins (403)
DAY = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
PERIOD = (Query("from", DAY, "First day (YYYY-MM-DD, tenant's time zone; default 29 days before `to`)."),
          Query("to", DAY, "Last day, inclusive (default today). At most 366 days."))
FILTERS = tuple(Query(kind, {"type": "string", "maxLength": 128}, f"Only this {kind} (at most one filter).")
                for kind in ("channel", "group", "agent"))
FORMAT = Query("format", {"type": "string", "enum": ["json", "csv"]}, "`csv`: the report as text/csv.")
METRICS = Query("metrics", {"type": "string", "maxLength": 400},
                "Comma-separated: created, solved, first_response_median, resolution_median, handle_median, "
                "csat_average, fcr_rate, sla_attainment, automation_rate, backlog.")
ERRORS = (400, 401, 403, 429)

REPORT_OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/v1/reports/summary", "report_summary", "The KPIs of a period", "reports", ReportSummary,
              query=(*PERIOD, *FILTERS, FORMAT), scopes=SCOPES, errors=ERRORS, csv=True),
    Operation("get", "/v1/reports/timeseries", "report_timeseries", "KPIs per day", "reports", ReportTimeseries,
              query=(*PERIOD, *FILTERS, METRICS, FORMAT), scopes=SCOPES, errors=ERRORS, csv=True),
    Operation("get", "/v1/reports/breakdown", "report_breakdown", "KPIs per agent, group or channel", "reports",
              ReportBreakdown, query=(*PERIOD, Query("by", {"type": "string", "enum": list(BREAKDOWNS)}), FORMAT),
              scopes=SCOPES, errors=ERRORS, csv=True),
    Operation("get", "/v1/reports/flow", "report_flow", "The five stages: in, out, now, time spent", "reports",
              ReportFlow, query=(*PERIOD, *FILTERS, FORMAT), scopes=SCOPES, errors=ERRORS, csv=True),
    Operation("get", "/v1/reports/top-issues", "report_top_issues", "The week's top categories, intents and tags",
              "reports", ReportTopIssues,
              query=(Query("week", {"type": "string", "pattern": r"^\d{4}-W\d{2}$"}, "ISO week (default: this one)."),
                     Query("limit", {"type": "integer", "minimum": 1, "maximum": 50}, "Top N (default 10)."),
                     *FILTERS, FORMAT), scopes=SCOPES, errors=ERRORS, csv=True),
)
