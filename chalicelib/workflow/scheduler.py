"""The scheduled function (EventBridge, every minute): timers that have come due.

Timers are written with the ticket change that needs them
(:class:`~chalicelib.storage.tickets.TicketWrites`), one item per timer in the
partition of the hour it is due (``DUE#<hour>#<shard>``), sorted by due time. A
tick reads the time range since the last tick — one Query per shard of each hour
it spans: four calls a minute when nothing is due, never a scan, whatever the
number of open tickets — and hands each timer to its handler by name prefix
(``sla``, ``close``, ``survey``, ``rule``).

Exactly once: a handler's change is recorded under a cause named after the
timer's subject and due time, so a timer seen twice — the schedule ran twice, a
tick was retried, two ticks overlapped — changes nothing the second time; a
timer whose ticket moved on (the SLA was met, the ticket reopened) finds nothing
to do. A handled timer is deleted, so the :data:`OVERLAP` each tick reads again
(for timers placed at their writer's clock, written just after a tick read that
moment) costs nothing but the Query. Late: the tick catches up on everything
since the last one it finished (the ``SCHEDULER`` item), at most
:data:`MAX_HOURS_PER_TICK` hours per run; when a timer fails, it is kept and the
next tick starts again from it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard_sdk import NotFound

from ..logs import log_event
from ..storage.aws import is_condition_failure
from ..storage.conventions import iso
from ..storage.items import from_item, to_item
from ..storage.keys import SCHEDULER_STATE, due_partition
from ..storage.tickets import DUE_SHARDS

log = logging.getLogger(__name__)
MAX_HOURS_PER_TICK = 48
FIRST_LOOK_BACK = timedelta(minutes=5)  # the first tick ever looks this far back
# each tick looks again this far behind where the last one finished: a timer is placed
# at its writer's clock, and the write may land a little after a tick read that moment
OVERLAP = timedelta(minutes=15)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class DueTimer:
    tenant_id: str
    ticket_id: str
    name: str
    due_at: datetime
    fire_at: datetime  # its place in the index (a timer written after it was due: when it was written)
    key: dict[str, Any] = field(default_factory=dict, compare=False)


class NothingToDo(Exception):
    """A timer whose ticket moved on: no change, no event."""


# a timer → None (done or nothing to do); raises to have it looked at again next tick
Handler = Callable[[DueTimer, datetime], None]


@dataclass
class TickReport:
    queries: int = 0
    timers: int = 0
    fired: int = 0
    failed: int = 0
    through: str | None = None
    caught_up: bool = True
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"queries": self.queries, "timers": self.timers, "fired": self.fired, "failed": self.failed,
                "through": self.through, "caught_up": self.caught_up, "errors": self.errors[:20]}


class Scheduler:
    def __init__(self, client: Any, table_name: str, handlers: dict[str, Handler],
                 clock: Callable[[], datetime]) -> None:
        self._db = client
        self._table = table_name
        self._handlers = handlers
        self._clock = clock

    def tick(self) -> TickReport:
        now = self._clock().astimezone(UTC)
        through = self._through()
        previous = now - FIRST_LOOK_BACK if through is None else through
        start = previous if through is None else previous - OVERLAP
        end = min(now, _hour(previous) + MAX_HOURS_PER_TICK * HOUR)
        report = TickReport(caught_up=end == now)
        failed_at: datetime | None = None
        for timer in self._due(start, end, report):
            if self._fire(timer, now, report):
                self._db.delete_item(TableName=self._table, Key=timer.key)  # done: the overlap skips it
            elif failed_at is None:
                failed_at = timer.fire_at
        # a failure: the next tick starts again from it (what came before is done)
        done = end if failed_at is None else max(previous, failed_at - timedelta(microseconds=1))
        self._mark_done(done)
        report.through = iso(done)
        log_event(log, "scheduler.tick", queries=report.queries, timers=report.timers, fired=report.fired,
                  failed=report.failed, through=report.through, caught_up=report.caught_up)
        return report

    def _due(self, start: datetime, end: datetime, report: TickReport) -> Iterator[DueTimer]:
        """Timers due after ``start`` and at most ``end``, hour by hour, each hour's shards
        merged in due order."""
        hour = _hour(start)
        while hour <= end:
            found: list[DueTimer] = []
            for shard in range(DUE_SHARDS):
                found += self._range(due_partition(hour.strftime("%Y-%m-%dT%H"), shard), start, end, report)
            yield from sorted(found, key=lambda timer: timer.fire_at)
            hour += HOUR

    def _range(self, partition: str, start: datetime, end: datetime, report: TickReport) -> list[DueTimer]:
        timers: list[DueTimer] = []
        page: dict[str, Any] = {}
        while True:
            report.queries += 1
            answer = self._db.query(
                TableName=self._table, KeyConditionExpression="pk = :p AND sk BETWEEN :from AND :to",
                ExpressionAttributeValues=to_item({":p": partition, ":from": iso(start), ":to": iso(end) + "~"}),
                **page)
            timers += [t for t in map(_timer, answer.get("Items", [])) if start < t.fire_at <= end]
            if "LastEvaluatedKey" not in answer:
                return timers
            page = {"ExclusiveStartKey": answer["LastEvaluatedKey"]}

    def _fire(self, timer: DueTimer, now: datetime, report: TickReport) -> bool:
        report.timers += 1
        handler = self._handlers.get(timer.name.split(":", 1)[0])
        if handler is None:
            log.warning("timer %s has no handler; dropped", timer.name)
            return True
        try:
            handler(timer, now)
        except NothingToDo:
            return True
        except NotFound:  # the ticket (or its tenant) is gone — erased: nothing to do, never a retry
            log_event(log, "scheduler.timer_without_ticket", tenant=timer.tenant_id, ticket=timer.ticket_id,
                      timer=timer.name)
            return True
        except Exception as err:  # one ticket's trouble must not hold back the others
            log.exception("timer %s of ticket %s failed", timer.name, timer.ticket_id)
            report.failed += 1
            report.errors.append(f"{timer.name}: {type(err).__name__}")
            return False
        report.fired += 1
        return True

    def _through(self) -> datetime | None:
        item = self._db.get_item(TableName=self._table, Key=SCHEDULER_STATE, ConsistentRead=True).get("Item")
        through = from_item(item).get("through") if item else None
        return None if through is None else _parse(str(through))

    def _mark_done(self, through: datetime) -> None:
        """Move the mark forward only (a slower concurrent tick never moves it back)."""
        try:
            self._db.update_item(
                TableName=self._table, Key=SCHEDULER_STATE, UpdateExpression="SET through = :t",
                ConditionExpression="attribute_not_exists(through) OR through < :t",
                ExpressionAttributeValues=to_item({":t": iso(through)}))
        except Exception as err:
            if not is_condition_failure(err):
                raise


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _timer(raw: dict[str, Any]) -> DueTimer:
    item = from_item(raw)
    due = _parse(str(item["due_at"]))
    return DueTimer(tenant_id=str(item["tenant_id"]), ticket_id=str(item["ticket_id"]), name=str(item["timer"]),
                    due_at=due, fire_at=_parse(str(item.get("fire_at") or item["due_at"])),
                    key={"pk": raw["pk"], "sk": raw["sk"]})
