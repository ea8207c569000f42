"""Work finds agents behind the stream (Chatwoot #10376, #10685, #5672: unassigned
tickets must not wait for someone to look):

- a ticket's change that frees its agent (solved, closed, merged, handed to someone
  else) lets that agent take the next tickets of their groups' backlogs;
- a ticket moved to a group while nobody holds it is assigned in that group;
- an agent who comes online takes work from their groups' backlogs — shared fairly
  among everyone online (:class:`~.assignment.Assigner`), up to each one's capacity.

Each is idempotent: assignment is conditional on the ticket still being nobody's.
"""

from __future__ import annotations

import logging
from typing import Any

from switchboard_sdk import Ticket

from .assignment import Assigner
from .changes import Transition
from .loads import holder

log = logging.getLogger(__name__)


class Routing:
    def __init__(self, assigner: Assigner) -> None:
        self._assigner = assigner

    def on_change(self, ticket: Ticket, transition: Transition) -> None:
        """A reaction to a ticket's change (its history entry)."""
        before = _before(ticket, transition)
        freed = holder(before)
        if freed is not None and freed != holder(ticket):
            self._assigner.agent_available(ticket.tenant_id, freed)
        regrouped = any(c.field == "group_id" for c in transition.changes)
        # a customer's message that routed the ticket was followed by its assignment already (the engine)
        triaged = transition.cause.startswith("msg:")
        if regrouped and not triaged and ticket.status == "open" and ticket.assignee_id is None:
            self._assigner.assign(ticket.tenant_id, ticket.id, known=ticket)

    def on_agent(self, image: dict[str, Any], old: dict[str, Any] | None) -> None:
        """An agent's record changed: coming online (or getting more room) pulls work."""
        online = image.get("availability") == "online" and image.get("status", "active") == "active"
        became = (old or {}).get("availability") != "online" or \
            int(image.get("capacity", 0) or 0) > int((old or {}).get("capacity", 0) or 0) or \
            set(image.get("group_ids") or []) - set((old or {}).get("group_ids") or [])
        if online and became and image.get("tenant_id") and image.get("id"):
            taken = self._assigner.agent_available(str(image["tenant_id"]), str(image["id"]))
            log.info("agent came online or got room; %d tickets assigned from the backlog", len(taken))


def _before(ticket: Ticket, transition: Transition) -> Ticket:
    """The ticket before the change, as far as holding it goes (status and assignee)."""
    was = {c.field: c.before for c in transition.changes if c.field in ("status", "assignee_id")}
    return ticket.model_copy(update=was) if was else ticket
