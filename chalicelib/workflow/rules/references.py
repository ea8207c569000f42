"""What a rule names must exist when it is saved: the group or agent it assigns to, the
SLA policy it applies, the template it sends. A rule naming a group that never existed
would otherwise fail silently on every ticket it fires on. Something deleted after the
rule was saved is the run's business: a template reply becomes an internal note saying
why, a ticket routed to a deleted group waits unassigned in the backlog.

A condition may not look at an attribute the tenant marks personal
(``workflow.personal_attributes``): those are sealed on the customer and left out of the
snapshot rules match on, so such a condition could never hold."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from switchboard_sdk import InvalidInput

from .models import Rule

Exists = Callable[[str, str], bool]  # (tenant id, the id or code) → whether the tenant has it


@dataclass(frozen=True)
class RuleReferences:
    """One lookup per kind of thing a rule can name (each a single read)."""

    group: Exists
    agent: Exists
    policy: Exists
    template: Exists
    personal_attributes: Callable[[str], Collection[str]] | None = None  # the tenant's workflow.personal_attributes

    def check(self, tenant_id: str, rule: Rule) -> None:
        """:class:`InvalidInput` (422) listing every action naming what the tenant has not got,
        and every condition on a personal attribute."""
        problems: list[dict[str, str]] = []
        personal = set(self.personal_attributes(tenant_id)) if self.personal_attributes else set()
        for group in ("all", "any"):
            for n, condition in enumerate(getattr(rule.conditions, group)):
                if condition.type == "customer_attribute" and condition.key in personal:
                    problems.append({"field": f"conditions.{group}.{n}.key",
                                     "message": f"{condition.key!r} is a personal attribute (sealed): rules "
                                                "cannot match on it"})
        for n, action in enumerate(rule.actions):
            found = self._named(action.model_dump())
            if found is None:
                continue
            field, exists, value, what = found
            if not exists(tenant_id, value):
                problems.append({"field": f"actions.{n}.{field}", "message": f"no such {what} in this tenant"})
        if problems:
            raise InvalidInput("the rule names what this tenant does not have", problems)

    def _named(self, action: dict[str, Any]) -> tuple[str, Exists, str, str] | None:
        kind = action["type"]
        if kind == "assign_group":
            return "group_id", self.group, action["group_id"], "group"
        if kind == "assign_agent":
            return "agent_id", self.agent, action["agent_id"], "agent"
        if kind == "apply_sla_policy":
            return "policy_id", self.policy, action["policy_id"], "SLA policy"
        if kind == "send_template":
            return "code", self.template, action["code"], "template"
        return None
