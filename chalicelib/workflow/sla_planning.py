"""SLA targets planned with every change of a ticket (never by scanning later).

The tenant's policies and calendars come from a per-container cache
(:class:`~.sla_store.WorkflowConfigCache`, 30 s), so a change costs no read for
them; the customer is read only when some policy's conditions look at customer
tags. The policy is the one the ticket names (``sla_policy_id``: chosen by a rule
or an agent) while it exists, else the first that matches.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from switchboard_sdk import Customer, SlaTarget, Ticket

from ..tenancy.workflow_settings import WorkflowSettings
from .sla import METRICS, SlaPolicy, advance, plan_targets
from .sla_store import WorkflowConfigCache, WorkflowSnapshot


class SlaPlanner:
    def __init__(self, cache: WorkflowConfigCache, settings_of: Callable[[str], WorkflowSettings],
                 customer_of: Callable[[str, str], Customer | None]) -> None:
        self._cache = cache
        self._settings_of = settings_of
        self._customer_of = customer_of

    def __call__(self, tenant_id: str, after: Ticket, before: Ticket, now: datetime) -> list[SlaTarget]:
        snapshot = self._cache.get(tenant_id)
        if not snapshot.policies and not after.sla:
            return []
        policy = self._policy(snapshot, tenant_id, after)
        warning = self._settings_of(tenant_id).sla_warning_minutes
        planned = plan_targets(after, policy, snapshot.calendar_of(policy), now, warning) \
            if snapshot.policies or any(t.metric in METRICS for t in after.sla) else []
        # targets no policy plans (a low score's follow-up) stay as they are, moved on by time
        return planned + [advance(t, now) for t in after.sla if t.metric not in METRICS]

    def _policy(self, snapshot: WorkflowSnapshot, tenant_id: str, ticket: Ticket) -> SlaPolicy | None:
        chosen = next((p for p in snapshot.policies if p.id == ticket.sla_policy_id), None)
        if chosen is not None and ticket.priority in chosen.targets:
            return chosen
        needs_customer = any(p.conditions.customer_tags for p in snapshot.policies)
        customer = self._customer_of(tenant_id, ticket.customer_id) if needs_customer else None
        return snapshot.policy_for(ticket, customer)
