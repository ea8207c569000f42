"""The scheduled function (EventBridge, every minute): timers that have come due.

Timers are written with the ticket change that needs them
(:class:`~chalicelib.storage.tickets.TicketWrites`), one item per timer in the
partition of the minute it is due (``DUE#<minute>#<shard>``). A tick Queries the
partitions of the minutes since the last tick (never a scan: its cost follows
the timers due, not the tickets open) and hands each timer to its handler by
name prefix (``sla``, ``close``, ``survey``, ``rule``).

Exactly once: a handler's change is recorded under a cause named after the
timer and its due time, so a timer seen twice — the schedule ran twice, or a
tick was retried — changes nothing the second time; a timer whose ticket moved
on (the SLA was met, the ticket reopened) finds nothing to do. Late: the tick
catches up on every minute since the last one it finished (``SCHEDULER`` item),
at most :data:`MAX_MINUTES_PER_TICK` per run; the current minute is looked at
too, but only its timers already due, and it is not marked done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..logs import log_event
from ..storage.aws import is_condition_failure
from ..storage.items import from_item, to_item
from ..storage.keys import SCHEDULER_STATE, due_partition
from ..storage.tickets import DUE_SHARDS

log = logging.getLogger(__name__)
MAX_MINUTES_PER_TICK = 240
FIRST_LOOK_BACK = timedelta(minutes=5)  # the first tick ever looks this far back


@dataclass(frozen=True)
class DueTimer:
    tenant_id: str
    ticket_id: str
    name: str
    due_at: datetime


class NothingToDo(Exception):
    """A timer whose ticket moved on: no change, no event."""


# a timer → None (done or nothing to do); raises to have the minute looked at again next tick
Handler = Callable[[DueTimer, datetime], None]


@dataclass
class TickReport:
    minutes: int = 0
    timers: int = 0
    fired: int = 0
    failed: int = 0
    through: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"minutes": self.minutes, "timers": self.timers, "fired": self.fired, "failed": self.failed,
                "through": self.through, "errors": self.errors[:20]}


class Scheduler:
    def __init__(self, client: Any, table_name: str, handlers: dict[str, Handler],
                 clock: Callable[[], datetime]) -> None:
        self._db = client
        self._table = table_name
        self._handlers = handlers
        self._clock = clock

    def tick(self) -> TickReport:
        now = self._clock().astimezone(UTC)
        current = now.replace(second=0, microsecond=0)
        done = self._through() or current - FIRST_LOOK_BACK
        report = TickReport()
        minute = done + timedelta(minutes=1)
        while minute <= current and report.minutes < MAX_MINUTES_PER_TICK:
            if not self._minute(minute, now, report) or minute == current:
                break  # a failed minute is looked at again next tick; the current one is never done
            self._mark_done(minute)
            report.through = _minute(minute)
            minute += timedelta(minutes=1)
        log_event(log, "scheduler.tick", minutes=report.minutes, timers=report.timers, fired=report.fired,
                  failed=report.failed, through=report.through)
        return report

    def _minute(self, minute: datetime, now: datetime, report: TickReport) -> bool:
        """Fire the minute's due timers; ``False`` if one failed."""
        report.minutes += 1
        ok = True
        for shard in range(DUE_SHARDS):
            for timer in self._timers(due_partition(_minute(minute), shard)):
                if timer.due_at > now:
                    continue  # later in the current minute: the next tick
                report.timers += 1
                ok = self._fire(timer, now, report) and ok
        return ok

    def _fire(self, timer: DueTimer, now: datetime, report: TickReport) -> bool:
        handler = self._handlers.get(timer.name.split(":", 1)[0])
        if handler is None:
            log.warning("timer %s has no handler; dropped", timer.name)
            return True
        try:
            handler(timer, now)
        except NothingToDo:
            return True
        except Exception as err:  # one ticket's trouble must not hold back the others
            log.exception("timer %s of ticket %s failed", timer.name, timer.ticket_id)
            report.failed += 1
            report.errors.append(f"{timer.name}: {type(err).__name__}")
            return False
        report.fired += 1
        return True

    def _timers(self, partition: str) -> list[DueTimer]:
        timers, start = [], None
        while True:
            page = self._db.query(TableName=self._table, KeyConditionExpression="pk = :p",
                                  ExpressionAttributeValues=to_item({":p": partition}),
                                  **({"ExclusiveStartKey": start} if start else {}))
            timers += [_timer(from_item(item)) for item in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start:
                return timers

    def _through(self) -> datetime | None:
        item = self._db.get_item(TableName=self._table, Key=SCHEDULER_STATE, ConsistentRead=True).get("Item")
        through = from_item(item).get("through") if item else None
        return None if through is None else datetime.fromisoformat(str(through)).replace(tzinfo=UTC)

    def _mark_done(self, minute: datetime) -> None:
        """Move the mark forward only (a slower concurrent tick never moves it back)."""
        try:
            self._db.update_item(
                TableName=self._table, Key=SCHEDULER_STATE, UpdateExpression="SET through = :m",
                ConditionExpression="attribute_not_exists(through) OR through < :m",
                ExpressionAttributeValues=to_item({":m": _minute(minute)}))
        except Exception as err:
            if not is_condition_failure(err):
                raise


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def _timer(item: dict[str, Any]) -> DueTimer:
    return DueTimer(tenant_id=str(item["tenant_id"]), ticket_id=str(item["ticket_id"]), name=str(item["timer"]),
                    due_at=datetime.fromisoformat(str(item["due_at"]).replace("Z", "+00:00")))
