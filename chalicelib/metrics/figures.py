"""Aggregate items → the figures the reports show (pure: no I/O).

Day items of one dimension are summed (:func:`totals`); durations become count, median,
90th percentile, average, business-hours median and the share within target
(:func:`duration_kpi`); rates are ``null`` where their denominator is zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .histogram import percentile
from .tally import TARGETS

STAGES = ("accept", "triage", "handle", "resolve", "follow_up")
SLA_METRICS = ("first_response", "next_response", "resolution")
AGE_BUCKETS = (("<1h", 3600), ("1-4h", 4 * 3600), ("4-24h", 86400), ("1-3d", 3 * 86400), (">3d", None))
TARGET_VALUES = {"fcr": 0.9, "csat": 4.6, "closure_rate": 0.98}


def totals(items: Iterable[dict[str, Any]]) -> dict[str, int]:
    """The numeric attributes of ``items``, summed."""
    summed: dict[str, int] = {}
    for item in items:
        for name, value in item.items():
            if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                summed[name] = summed.get(name, 0) + int(value)
    return summed


def ratio(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 4)


def buckets(counts: dict[str, int], prefix: str) -> dict[int, int]:
    size = len(prefix)
    return {int(name[size:]): n for name, n in counts.items() if name.startswith(prefix) and name[size:].isdigit()}


def duration_kpi(counts: dict[str, int], metric: str) -> dict[str, Any]:
    n = counts.get(f"{metric}_n", 0)
    calendar, business = buckets(counts, f"{metric}_b"), buckets(counts, f"{metric}_z")
    return {"count": n, "median_seconds": percentile(calendar, 0.5), "p90_seconds": percentile(calendar, 0.9),
            "average_seconds": None if n == 0 else round(counts.get(f"{metric}_s", 0) / n),
            "business_median_seconds": percentile(business, 0.5), "target_seconds": TARGETS.get(metric),
            "within_target": ratio(counts.get(f"{metric}_ok", 0), n)}


def sla_kpi(counts: dict[str, int], metric: str) -> dict[str, Any]:
    met, breached = counts.get(f"sla_{metric}_met", 0), counts.get(f"sla_{metric}_br", 0)
    return {"met": met, "breached": breached, "attainment": ratio(met, met + breached)}


def sla_attainment(counts: dict[str, int]) -> float | None:
    met = sum(counts.get(f"sla_{m}_met", 0) for m in SLA_METRICS)
    return ratio(met, met + sum(counts.get(f"sla_{m}_br", 0) for m in SLA_METRICS))


def csat_kpi(counts: dict[str, int]) -> dict[str, Any]:
    n, sent = counts.get("csat_n", 0), counts.get("csat_sent", 0)
    return {"average": None if n == 0 else round(counts.get("csat_s", 0) / n, 2), "responses": n, "sent": sent,
            "response_rate": ratio(n, sent), "distribution": {str(s): counts.get(f"csat_{s}", 0) for s in range(1, 6)},
            "target": TARGET_VALUES["csat"]}


def kpis(counts: dict[str, int], backlog: dict[str, Any], by_channel: dict[str, int]) -> dict[str, Any]:
    """The summary's ``kpis`` object."""
    get = counts.get
    return {
        "first_response": duration_kpi(counts, "frt"), "next_reply": duration_kpi(counts, "nrt"),
        "resolution": duration_kpi(counts, "res"), "handle": duration_kpi(counts, "hdl"),
        "fcr": {"rate": ratio(get("fcr_ok", 0), get("fcr_n", 0)), "count": get("fcr_ok", 0),
                "eligible": get("fcr_n", 0), "target": TARGET_VALUES["fcr"]},
        "reopen_rate": {"rate": ratio(get("reop", 0), get("rs1", 0)), "reopened": get("reop", 0),
                        "solved": get("rs1", 0)},
        "csat": csat_kpi(counts), "sla": {m: sla_kpi(counts, m) for m in SLA_METRICS},
        "closure_rate": {"rate": ratio(get("cl_closed", 0), get("cl_created", 0)), "closed": get("cl_closed", 0),
                         "created": get("cl_created", 0), "target": TARGET_VALUES["closure_rate"]},
        "backlog": backlog,
        "volume": {"created": get("created", 0), "by_channel": by_channel,
                   "by_hour": [get(f"hr{h:02d}", 0) for h in range(24)]},
        "automation_rate": {"rate": ratio(get("auto", 0), get("solved", 0)), "automated": get("auto", 0),
                            "solved": get("solved", 0)}}


def open_ages(items: Iterable[dict[str, Any]], zone: ZoneInfo, now: datetime) -> list[tuple[float, int]]:
    """(age in seconds, tickets) of the open tickets, from their creation-day items."""
    ages = []
    for item in items:
        day = str(item["sk"]).split("#", 1)[0]
        if day == "now":
            continue
        base = datetime.combine(date.fromisoformat(day), datetime.min.time(), zone)
        for name, count in item.items():
            if name.startswith("t") and name[1:].isdigit() and int(count) > 0:
                created = base + timedelta(hours=int(name[1:3]), minutes=int(name[3:5]))
                ages.append((max(0.0, (now - created).total_seconds()), int(count)))
    return ages


def backlog_kpi(ages: list[tuple[float, int]]) -> dict[str, Any]:
    counts = [0] * len(AGE_BUCKETS)
    for age, n in ages:
        index = next(i for i, (_, limit) in enumerate(AGE_BUCKETS) if limit is None or age < limit)
        counts[index] += n
    return {"open": sum(n for _, n in ages), "oldest_seconds": int(max(a for a, _ in ages)) if ages else None,
            "age_buckets": [{"label": label, "count": c} for (label, _), c in zip(AGE_BUCKETS, counts, strict=True)]}


def flow(counts: dict[str, int], current: dict[str, int]) -> dict[str, Any]:
    stages = [{"stage": s, "entered": counts.get(f"in:{s}", 0), "left": counts.get(f"out:{s}", 0),
               "current": current.get(f"stage:{s}", 0),
               "median_seconds": percentile(buckets(counts, f"stt:{s}_b"), 0.5),
               "p90_seconds": percentile(buckets(counts, f"stt:{s}_b"), 0.9)} for s in STAGES]
    links = [{"source": a, "target": b, "value": counts.get(f"ln:{a}>{b}", 0)}
             for a in STAGES for b in STAGES if counts.get(f"ln:{a}>{b}", 0) > 0]
    timed = [(s["median_seconds"], s["stage"]) for s in stages if s["median_seconds"] is not None]
    return {"stages": stages, "links": links, "slowest": max(timed)[1] if timed else None}


def row(key: str, counts: dict[str, int]) -> dict[str, Any]:
    """One breakdown row (without its name)."""
    return {"key": key, "created": counts.get("created", 0), "solved": counts.get("solved", 0),
            "first_response_median_seconds": percentile(buckets(counts, "frt_b"), 0.5),
            "handle_median_seconds": percentile(buckets(counts, "hdl_b"), 0.5),
            "fcr_rate": ratio(counts.get("fcr_ok", 0), counts.get("fcr_n", 0)),
            "csat_average": None if not counts.get("csat_n") else round(counts["csat_s"] / counts["csat_n"], 2),
            "csat_responses": counts.get("csat_n", 0), "sla_attainment": sla_attainment(counts)}


def day_values(counts: dict[str, int]) -> dict[str, Any]:
    """One day's value of each timeseries metric (``backlog`` is computed apart)."""
    return {
        "created": counts.get("created", 0), "solved": counts.get("solved", 0),
        "first_response_median": percentile(buckets(counts, "frt_b"), 0.5),
        "resolution_median": percentile(buckets(counts, "res_b"), 0.5),
        "handle_median": percentile(buckets(counts, "hdl_b"), 0.5),
        "csat_average": csat_kpi(counts)["average"],
        "fcr_rate": ratio(counts.get("fcr_ok", 0), counts.get("fcr_n", 0)),
        "sla_attainment": sla_attainment(counts),
        "automation_rate": ratio(counts.get("auto", 0), counts.get("solved", 0))}


SERIES = ("created", "solved", "first_response_median", "resolution_median", "handle_median", "csat_average",
          "fcr_rate", "sla_attainment", "automation_rate", "backlog")


def labels(counts: dict[str, int], previous: dict[str, int], prefix: str, limit: int) -> list[dict[str, Any]]:
    """The top ``limit`` names of ``prefix`` (``cat:``, ``tag:``, ``int:``) this week, with last week's count."""
    size = len(prefix)
    now = {name[size:]: n for name, n in counts.items() if name.startswith(prefix) and n > 0}
    top = sorted(now.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
    return [{"name": name, "count": n, "previous": max(0, previous.get(prefix + name, 0)),
             "change": n - max(0, previous.get(prefix + name, 0))} for name, n in top]
