"""The stream handler's side of the KPIs: keeps a tenant's aggregates in step with
every ticket change, reply and SLA outcome.

What a ticket contributes (:func:`.facts.ledger_of`) is recomputed from everything
known about it whenever something about it arrives — a history entry, a reply, an SLA
target ending — and only the difference to the ledger applied before is added, in one
transaction with the new ledger, conditional on the ticket's metric state not having
moved (:meth:`.store.MetricsTable.apply`). So a record delivered twice adds nothing
the second time, records may arrive in any order, and a later fact (a reopen, a merge,
a reassignment) corrects what was counted before instead of adding to it.

Within a stream batch (:meth:`begin` … :meth:`flush`) each ticket the batch touched is
refreshed once, after the batch's records: a consistent ``GetItem`` (the ticket's metric
state), a consistent ``Query`` (its history) and one ``TransactWriteItems`` when a figure
changed — at most that per history record, less when a batch holds several of a ticket's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from switchboard_sdk import Unavailable

from ..storage.store import TicketStore
from .facts import Reply, SlaEnd, TicketInputs, ledger_of
from .store import MetricsTable, TicketState
from .tally import Context, difference

log = logging.getLogger(__name__)
ATTEMPTS = 8
# replies the hub sent by itself: rules', the system's, the assistant's (the workflow engine's rule)
AUTOMATIC_AUTHORS = ("rule:", "system:", "assistant:")
ENDED = frozenset({"met", "breached"})


class MetricsAggregator:
    def __init__(self, store: TicketStore, context_of: Callable[[str], Context]) -> None:
        self._store = store
        self._context_of = context_of
        self._pending: dict[tuple[str, str], None] | None = None  # a batch's tickets to refresh

    def begin(self) -> None:
        """A stream batch starts: tickets are refreshed once each, at :meth:`flush`."""
        self._pending = {}

    def flush(self) -> int:
        """Refresh every ticket the batch touched (once each); how many."""
        pending, self._pending = self._pending or {}, None
        for tenant_id, ticket_id in pending:
            self.refresh(tenant_id, ticket_id)
        return len(pending)

    def _touched(self, tenant_id: str, ticket_id: str) -> None:
        if self._pending is None:
            self.refresh(tenant_id, ticket_id)
        else:
            self._pending[(tenant_id, ticket_id)] = None

    def table(self, tenant_id: str) -> MetricsTable:
        return MetricsTable(self._store.client, self._store.table_name, self._store.tickets(tenant_id).keys)

    def on_history(self, image: dict[str, Any]) -> None:
        """A ticket changed (its history entry was inserted)."""
        self._touched(str(image["tenant_id"]), str(image["ticket_id"]))

    def on_message(self, image: dict[str, Any]) -> None:
        """A message was inserted: a reply (an agent's, or an automatic one) is remembered."""
        if image.get("direction") != "outbound" or image.get("internal") or image.get("moved_from"):
            return
        automated = str(image.get("author_id") or "").startswith(AUTOMATIC_AUTHORS)
        element = f"{image['received_at']}|{image['id']}|{'auto' if automated else 'agent'}"
        tenant_id, ticket_id = str(image["tenant_id"]), str(image["ticket_id"])
        self.table(tenant_id).remember(ticket_id, "replies", [element])
        self._touched(tenant_id, ticket_id)

    def on_ticket(self, image: dict[str, Any], old: dict[str, Any] | None) -> None:
        """A ticket item changed: SLA targets that ended (met or breached) are remembered."""
        ended = sla_ended(image.get("sla") or [], (old or {}).get("sla") or [])
        if not ended:
            return
        tenant_id, ticket_id = str(image["tenant_id"]), str(image["ticket_id"])
        self.table(tenant_id).remember(ticket_id, "sla", ended)
        self._touched(tenant_id, ticket_id)

    def refresh(self, tenant_id: str, ticket_id: str) -> bool:
        """Bring the aggregates in step with what is known about the ticket; ``True`` if
        anything was added."""
        table, context = self.table(tenant_id), self._context_of(tenant_id)
        for _ in range(ATTEMPTS):
            state = table.state(ticket_id)  # first: whatever applied it read an older history
            history = self._store.tickets(tenant_id).history(ticket_id)
            ledger = ledger_of(inputs_of(history, state), context)
            diff = difference(ledger, state.applied)
            if not diff:
                return False
            if table.apply(ticket_id, diff, ledger, state.rev):
                return True
        raise Unavailable(f"the metrics of ticket {ticket_id} kept changing; try again")


def inputs_of(history: list[dict[str, Any]], state: TicketState) -> TicketInputs:
    replies = tuple(Reply(at=_time(at), message_id=mid, automated=kind == "auto")
                    for at, mid, kind in (element.split("|", 2) for element in state.replies))
    ends = tuple(SlaEnd(metric=metric, state=outcome, at=_time(at))
                 for metric, _started, outcome, at in (element.split("|", 3) for element in state.sla))
    return TicketInputs(history=history, replies=replies, sla=ends)


def sla_ended(now: list[dict[str, Any]], before: list[dict[str, Any]]) -> list[str]:
    """``metric|started|state|at`` of each target that is met or breached in ``now`` and was
    not in ``before`` (a breach: at its due time; met: when it was done)."""
    known = {(t.get("metric"), t.get("started_at"), t.get("state")) for t in before}
    found = []
    for target in now:
        state = target.get("state")
        if state not in ENDED or (target.get("metric"), target.get("started_at"), state) in known:
            continue
        at = target.get("done_at") if state == "met" else (target.get("due_at") or target.get("done_at"))
        if at:
            found.append(f"{target['metric']}|{target['started_at']}|{state}|{at}")
    return found


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
