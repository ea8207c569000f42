"""A ticket's contribution to the aggregates, as additive counters (a :data:`Ledger`).

Every figure the reports show is a sum of counters kept per tenant, per day in the
tenant's time zone and per dimension (the whole tenant, a channel, a group, an agent):
counts, sums of seconds and histogram buckets (:mod:`.histogram`). :class:`Tally`
collects what one ticket contributes; :mod:`.facts` decides what that is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from .histogram import bucket_of

# (partition, sort key) → attribute → amount. Partitions: ``D:<kind>`` (day items, sort key
# ``<YYYY-MM-DD>#<value>``) and ``O:<kind>`` (what is open now: ``<creation day>#<value>``
# with the hours tickets were created at, and ``now#<value>`` with the stages tickets are in)
Ledger = dict[tuple[str, str], dict[str, int]]
Dim = tuple[str, str]  # (kind, value): ("all", "-"), ("channel", "wechat"), ("group", id), ("agent", id)
KINDS = ("all", "channel", "group", "agent")
# the targets `within_target` counts against (seconds); only first response's is the seeds'
TARGETS = {"frt": 1800, "nrt": 3600, "res": 86400, "hdl": 14400}
Business = Callable[[datetime, datetime], int]  # business seconds between two instants


@dataclass(frozen=True)
class Context:
    """What a ticket's facts are measured in: the tenant's time zone and business hours."""

    zone: ZoneInfo
    business: Business | None = None

    def day(self, at: datetime) -> str:
        return at.astimezone(self.zone).date().isoformat()

    def hour(self, at: datetime) -> int:
        return at.astimezone(self.zone).hour

    def business_seconds(self, start: datetime, end: datetime) -> int:
        if self.business is None:
            return max(0, int((end - start).total_seconds()))
        return max(0, self.business(start, end))


def dims(channel: str, group: str | None, agent: str | None) -> list[Dim]:
    """The aggregates a fact counts in: the tenant's, its channel's, its group's, its agent's."""
    found = [("all", "-"), ("channel", channel or "-")]
    return found + ([("group", group)] if group else []) + ([("agent", agent)] if agent else [])


@dataclass
class Tally:
    context: Context
    ledger: Ledger = field(default_factory=dict)

    def add(self, at: datetime, where: Iterable[Dim], counts: dict[str, int]) -> None:
        """Counters on the day of ``at`` in each dimension of ``where``."""
        day = self.context.day(at)
        for kind, value in where:
            self.put(f"D:{kind}", f"{day}#{value}", counts)

    def put(self, partition: str, sort_key: str, counts: dict[str, int]) -> None:
        item = self.ledger.setdefault((partition, sort_key), {})
        for name, amount in counts.items():
            item[name] = item.get(name, 0) + amount

    def duration(self, at: datetime, where: Iterable[Dim], metric: str, start: datetime, end: datetime,
                 business: bool = False) -> None:
        """One sample of ``metric`` (``end - start``): count, sum, histogram bucket, within
        target; with ``business``, its business-hours histogram and sum too."""
        self.add(at, where, duration_counts(metric, (end - start).total_seconds(),
                                            self.context.business_seconds(start, end) if business else None))


def duration_counts(metric: str, seconds: float, business: int | None = None) -> dict[str, int]:
    """The counters of one sample of ``metric``."""
    whole = max(0, int(seconds))
    counts = {f"{metric}_n": 1, f"{metric}_s": whole, f"{metric}_b{bucket_of(whole)}": 1}
    if metric in TARGETS:
        counts[f"{metric}_ok"] = 1 if whole <= TARGETS[metric] else 0
    if business is not None:
        counts |= {f"{metric}_bs": business, f"{metric}_z{bucket_of(business)}": 1}
    return counts


def difference(new: Ledger, old: Ledger) -> Ledger:
    """What to add to the aggregates to go from ``old`` to ``new`` (zeros left out)."""
    diff: Ledger = {}
    for key in new.keys() | old.keys():
        now, was = new.get(key, {}), old.get(key, {})
        delta = {name: now.get(name, 0) - was.get(name, 0) for name in now.keys() | was.keys()}
        delta = {name: amount for name, amount in delta.items() if amount}
        if delta:
            diff[key] = delta
    return diff
