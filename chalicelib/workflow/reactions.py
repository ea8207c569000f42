"""What a ticket's change leads to, behind the stream (its history entry was inserted).

- closed: the customer's next message opens a new ticket, a follow-up of this one
  (the customer's open-ticket pointer is released, if it still names this ticket);
- merged: the customer's next message lands in the ticket it was merged into;
- further reactions (``ticket.updated`` rules, surveys when solved, assignment when
  an agent's load frees) are registered by the engine's owner as ``listeners``.

Every reaction is idempotent: a redelivered history record repeats them harmlessly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from switchboard_sdk import Ticket

from ..storage.store import TicketStore
from .changes import ChangeActor, FieldChange, Transition

# (ticket after, the transition) → None; raises to have the record retried
Listener = Callable[[Ticket, Transition], None]


class Reactions:
    def __init__(self, store: TicketStore, listeners: Sequence[Listener] = ()) -> None:
        self._store = store
        self._listeners = list(listeners)

    def on_history(self, image: dict[str, Any]) -> None:
        ticket = Ticket.model_validate(image["ticket"])
        transition = transition_of(image)
        conversations = self._store.conversations(ticket.tenant_id)
        if _status_became(transition, frozenset({"closed"})):
            conversations.release_open_ticket(ticket.customer_id, ticket.id)
        if _status_became(transition, frozenset({"merged"})) and ticket.merged_into:
            conversations.follow_up_instead(ticket.customer_id, ticket.id, ticket.merged_into)
        for listener in self._listeners:
            listener(ticket, transition)


def transition_of(image: dict[str, Any]) -> Transition:
    return Transition(
        ticket_id=image["ticket_id"], at=image["at"], cause=image["cause"], version=image["version"],
        actor=ChangeActor.model_validate(image["actor"]), reason=image.get("reason", ""),
        changes=[FieldChange.model_validate(c) for c in image.get("changes") or []],
        event=image.get("event"), detail=image.get("detail") or {})


def _status_became(transition: Transition, statuses: frozenset[str]) -> bool:
    return any(c.field == "status" and c.after in statuses for c in transition.changes)
