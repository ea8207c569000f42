"""``switchboard report``: the KPIs of docs/metrics.md through the reports API.

``summary``, ``timeseries``, ``breakdown``, ``flow`` and ``top-issues``, for a period
(``--from``/``--to``, dates in the tenant's time zone; default the last 30 days) and
optionally one ``--channel``, ``--group`` or ``--agent``; printed as a table, ``--json``
as the API answers, ``--csv`` as the API's CSV (the same renderer). Calls go as the
signed-in agent (``switchboard login``: a supervisor or tenant admin) or ``--api-key``.
Exit codes: 0 done, 1 refused, 2 usage, 3 hub unreachable or 5xx.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from chalicelib.api.reports import (
    breakdown_csv,
    flow_csv,
    render_csv,
    summary_csv,
    timeseries_csv,
    top_issues_csv,
)

from .admin_cli import show
from .agent_cli import agent_client, agent_options

Rows = Callable[[dict[str, Any]], list[list[Any]]]


@click.group()
def report() -> None:
    """KPI reports: summary, timeseries, breakdown, flow, top-issues (table, --json or --csv)."""


def period_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed((
            click.option("--from", "first", default=None, help="First day, YYYY-MM-DD (tenant's zone)."),
            click.option("--to", "last", default=None, help="Last day, inclusive (default today)."),
            click.option("--channel", default=None, help="Only this channel."),
            click.option("--group", default=None, help="Only this group."),
            click.option("--agent", default=None, help="Only this agent."),
            click.option("--csv", "as_csv", is_flag=True, help="CSV, as format=csv answers it."))):
        command = option(command)
    wrapped: Callable[..., Any] = agent_options(command)
    return wrapped


def _fetch(path: str, options: dict[str, Any], **extra: str | None) -> dict[str, Any]:
    query = {"from": options.pop("first", None), "to": options.pop("last", None)} | extra
    query |= {k: options.pop(k, None) for k in ("channel", "group", "agent")}
    client = agent_client(options["api_url"], options["api_key"], options["session_file"], options["state_dir"])
    answer: dict[str, Any] = client.call("GET", path, query={k: v for k, v in query.items() if v})
    return answer


def _print(body: dict[str, Any], options: dict[str, Any], to_rows: Rows) -> None:
    if options.get("as_csv"):
        click.echo(render_csv(to_rows(body)).removeprefix("\ufeff"), nl=False)
        return
    table = to_rows(body)
    columns = tuple(str(c) for c in table[0])
    show(body, options["as_json"], [dict(zip(columns, row, strict=True)) for row in table[1:]], columns)


@report.command("summary")
@period_options
def report_summary(**options: Any) -> None:
    """Every KPI of the period: response times, FCR, CSAT, SLA, closure, backlog, volume."""
    _print(_fetch("/v1/reports/summary", options), options, summary_csv)


@report.command("timeseries")
@click.option("--metrics", default=None, help="Comma-separated (default: created,solved,…,backlog).")
@period_options
def report_timeseries(metrics: str | None, **options: Any) -> None:
    """One row per day."""
    _print(_fetch("/v1/reports/timeseries", options, metrics=metrics), options, timeseries_csv)


@report.command("breakdown")
@click.option("--by", type=click.Choice(["agent", "group", "channel"]), default="agent", show_default=True)
@period_options
def report_breakdown(by: str, **options: Any) -> None:
    """One row per agent, group or channel."""
    _print(_fetch("/v1/reports/breakdown", options, by=by), options, breakdown_csv)


@report.command("flow")
@period_options
def report_flow(**options: Any) -> None:
    """The five stages: entered, left, now, time spent; and the links between them."""
    _print(_fetch("/v1/reports/flow", options), options, flow_csv)


@report.command("top-issues")
@click.option("--week", default=None, help="ISO week, YYYY-Www (default: this one).")
@click.option("--limit", default=None, help="Top N (default 10).")
@agent_options
@click.option("--csv", "as_csv", is_flag=True, help="CSV, as format=csv answers it.")
def report_top_issues(week: str | None, limit: str | None, **options: Any) -> None:
    """The week's top categories, intents and tags, with the week before's counts."""
    _print(_fetch("/v1/reports/top-issues", options, week=week, limit=limit), options, top_issues_csv)


COMMANDS = (report,)
