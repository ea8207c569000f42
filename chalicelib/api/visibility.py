"""Who sees which tickets (the seeds: an agent sees only the customers they serve).

A tenant setting per role (``PATCH /v1/settings`` → ``workflow.visibility``): ``all``
tickets, the agent's ``groups`` (and their own), or only those ``assigned`` to them.
API keys see everything of their tenant. The scope is applied by the store itself
(:class:`~chalicelib.storage.reads.ReadScope`): every read and list an agent makes
goes through a reader bound to it, and a ticket outside it is absent (404).
"""

from __future__ import annotations

from collections.abc import Callable

from switchboard_sdk import NotFound, Ticket

from ..storage.reads import EVERYTHING, ReadScope
from ..tenancy.workflow_settings import WorkflowSettings
from .access import Caller


class Visibility:
    def __init__(self, settings_of: Callable[[str], WorkflowSettings]) -> None:
        self._settings_of = settings_of

    def scope(self, caller: Caller) -> ReadScope:
        agent = caller.agent
        if agent is None:
            return EVERYTHING
        kind = self._settings_of(caller.tenant_id).visibility.get(agent.role, "all")
        return ReadScope(kind, agent.id, frozenset(agent.group_ids))

    def check(self, caller: Caller, ticket: Ticket) -> None:
        """:class:`NotFound` for a ticket the caller may not see (as if it were not there)."""
        if not self.scope(caller).sees(ticket):
            raise NotFound("no such ticket")


EVERYONE = Visibility(lambda _tenant_id: WorkflowSettings())  # tests and tools: every role sees all
