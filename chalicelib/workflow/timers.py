"""What each kind of timer does when the scheduler finds it due.

- ``close``: a ticket solved for the tenant's ``auto_close_hours`` closes itself;
- ``sla:<metric>:warn|due``: the target warns or breaches — a change of the
  ticket's SLA state with the event ``sla_warning``/``sla_breached`` in its history
  (connectors and ``ticket.updated`` rules learn of it from there);
- ``survey``: the ticket's satisfaction survey goes out (:mod:`.survey_flow`).

Each change's cause names the timer's subject and the state it moves to, so it
happens once however often the timer is seen; a timer whose ticket moved on
raises :class:`~.scheduler.NothingToDo`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from switchboard_sdk import SlaTarget, Ticket

from ..storage.conventions import iso
from ..storage.store import TicketStore
from ..tenancy.workflow_settings import WorkflowSettings
from .changes import ChangeActor, TicketPatch
from .scheduler import DueTimer, Handler, NothingToDo
from .service import Cause, WorkflowService
from .sla import advance

SLA_EVENTS = {"warning": "sla_warning", "breached": "sla_breached"}


class TimerHandlers:
    def __init__(self, store: TicketStore, service: WorkflowService,
                 settings_of: Callable[[str], WorkflowSettings], extra: dict[str, Handler] | None = None) -> None:
        self._store = store
        self._service = service
        self._settings_of = settings_of
        self._extra = extra or {}

    def handlers(self) -> dict[str, Handler]:
        return {"close": self.close, "sla": self.sla} | self._extra

    def close(self, timer: DueTimer, now: datetime) -> None:
        hours = self._settings_of(timer.tenant_id).auto_close_hours

        def solved_long_enough(ticket: Ticket) -> None:
            if ticket.status != "solved" or ticket.solved_at is None or \
                    ticket.solved_at + timedelta(hours=hours) > now:
                raise NothingToDo

        cause = Cause(id=f"timer:close:{iso(timer.due_at)}", actor=ChangeActor.system("auto-close"), at=now,
                      reason=f"solved for {hours} hours")
        self._service.change(timer.tenant_id, timer.ticket_id, TicketPatch(status="closed"), cause,
                             check=solved_long_enough)

    def sla(self, timer: DueTimer, now: datetime) -> None:
        metric = timer.name.split(":")[1]
        ticket = self._store.tickets(timer.tenant_id).load(timer.ticket_id)
        current = next((t for t in ticket.sla if t.metric == metric and t.done_at is None), None)
        moved = None if current is None else advance(current, now)
        if current is None or moved is None or moved.state == current.state or moved.state not in SLA_EVENTS:
            raise NothingToDo
        cause = Cause(id=f"timer:sla:{metric}:{moved.state}:{iso(current.started_at)}",
                      actor=ChangeActor.system("sla"), at=now, event=SLA_EVENTS[moved.state],
                      reason=f"{metric.replace('_', ' ')} {'due soon' if moved.state == 'warning' else 'overdue'}",
                      detail={"metric": metric, "due_at": iso(current.due_at) if current.due_at else None})
        self._service.change(timer.tenant_id, timer.ticket_id, TicketPatch(), cause, known=ticket,
                             facts=lambda t: {"sla": _advanced(t.sla, metric, now)})


def _advanced(targets: list[SlaTarget], metric: str, now: datetime) -> list[SlaTarget]:
    return [advance(t, now) if t.metric == metric else t for t in targets]
