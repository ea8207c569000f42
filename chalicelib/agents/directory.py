"""A tenant's agents and groups, in the table.

One partition each (``T#<t>#AGENTS``, ``T#<t>#GROUPS``; keys built in
:mod:`chalicelib.storage.keys`), so one Query lists a tenant's agents or groups
and one consistent GetItem finds the agent behind a token on every call. An
agent's id is its Cognito ``sub``. A removed agent's item stays (status
``removed``): replies and audit records keep naming their author.

Changes are conditional on ``updated_at`` (a lost race is :class:`Conflict`, never
a silent overwrite) and written in one transaction with their audit record.
Availability is written on its own: it changes often, is not audited, and never
races an admin's change (different attributes).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any, Literal

from pydantic import BaseModel, Field
from switchboard_sdk import Conflict

from ..storage.aws import write_together
from ..storage.items import from_item, to_item
from ..storage.keys import Key, TenantKeys
from ..storage.table import TenantTable

Role = Literal["admin", "supervisor", "agent"]
AgentStatus = Literal["active", "deactivated", "removed"]
Availability = Literal["online", "away", "offline"]
AssignmentMode = Literal["round_robin", "least_loaded", "manual"]
DEFAULT_CAPACITY = 10  # open tickets an agent holds before automatic assignment passes them by
MAX_CAPACITY = 200
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset({"tenant-admin", "agent", "reply"}),
    "supervisor": frozenset({"agent", "reply", "supervisor"}),
    "agent": frozenset({"agent", "reply"}),
}
MAX_GROUPS_PER_AGENT = 50
_RACED = "changed meanwhile; read it again and retry"


class AgentView(BaseModel):
    id: str = Field(description="The agent's id (its Cognito `sub`).")
    email: str
    name: str
    role: Role
    status: AgentStatus
    availability: Availability = "offline"
    availability_at: str | None = None
    group_ids: list[str] = Field(default_factory=list)
    capacity: int = Field(default=DEFAULT_CAPACITY, ge=0, le=MAX_CAPACITY,
                          description="Open tickets automatic assignment gives the agent at most (0: none).")
    created_at: str
    updated_at: str
    removed_at: str | None = None


class Agent(AgentView):
    """The stored record: the view, plus what only the hub uses."""

    tenant_id: str
    username: str = Field(description="Cognito's username, which the admin calls take.")

    @property
    def scopes(self) -> frozenset[str]:
        return ROLE_SCOPES[self.role]

    def view(self) -> AgentView:
        return AgentView.model_validate(self.model_dump(include=set(AgentView.model_fields)))


class Group(BaseModel):
    id: str
    name: str
    description: str = ""
    assignment: AssignmentMode = Field(
        default="round_robin", description="How the group's tickets reach its online agents: in turn, to the "
                                           "least loaded, or only by hand (manual).")
    created_at: str
    updated_at: str


def new_group_id() -> str:
    return f"grp_{base64.b32encode(secrets.token_bytes(10)).decode().lower()}"


class AgentStore:
    """Hands out each tenant's directory (tenant scoping lives in the keys)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def of(self, tenant_id: str) -> AgentDirectory:
        return AgentDirectory(self._db, self._table, TenantKeys(tenant_id))


class AgentDirectory(TenantTable):
    # -- agents ----------------------------------------------------------------

    def agent(self, agent_id: str) -> Agent | None:
        item = self._get(self.keys.agent(agent_id))
        return Agent.model_validate(_fields(item)) if item else None

    def agents(self) -> list[Agent]:
        return [Agent.model_validate(_fields(i)) for i in self._partition(self.keys.agents_partition())]

    def add_agent(self, agent: Agent, audit: dict[str, Any]) -> None:
        self._check_tenant(agent.tenant_id)
        self._add(self.keys.agent(agent.id), agent.model_dump(mode="json") | {"type": "agent"}, audit, "agent")

    def save_agent(self, before: Agent, after: Agent, audit: dict[str, Any] | None) -> None:
        self._save(self.keys.agent(before.id), before.model_dump(mode="json"), after.model_dump(mode="json"),
                   audit, "the agent")

    def set_availability(self, agent_id: str, availability: Availability, at: str) -> bool:
        """``False`` when the agent is not (or no longer) active."""
        return self._update_if(self.keys.agent(agent_id), "SET availability = :a, availability_at = :at",
                               "#s = :active", {":a": availability, ":at": at, ":active": "active"},
                               names={"#s": "status"})

    # -- groups ----------------------------------------------------------------

    def group(self, group_id: str) -> Group | None:
        item = self._get(self.keys.group(group_id))
        return Group.model_validate(_fields(item)) if item else None

    def groups(self) -> list[Group]:
        return [Group.model_validate(_fields(i)) for i in self._partition(self.keys.groups_partition())]

    def missing_groups(self, group_ids: list[str]) -> list[str]:
        """Those of ``group_ids`` that name no group of this tenant."""
        found = {str(i["id"]) for i in self._get_many([self.keys.group(g) for g in set(group_ids)])}
        return [g for g in group_ids if g not in found]

    def add_group(self, group: Group, audit: dict[str, Any]) -> None:
        self._add(self.keys.group(group.id), group.model_dump(mode="json") | {"type": "group"}, audit, "group")

    def save_group(self, before: Group, after: Group, audit: dict[str, Any]) -> None:
        self._save(self.keys.group(before.id), before.model_dump(mode="json"), after.model_dump(mode="json"),
                   audit, "the group")

    def delete_group(self, group: Group, audit: dict[str, Any]) -> None:
        delete = {"Delete": {"TableName": self._table, "Key": self.keys.group(group.id),
                             "ConditionExpression": "updated_at = :was",
                             "ExpressionAttributeValues": to_item({":was": group.updated_at})}}
        if not all(write_together(self._db, [delete, audit])):
            raise Conflict(f"the group {_RACED}")

    # -- plumbing --------------------------------------------------------------

    def _partition(self, pk: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": "pk = :p",
                                  "ExpressionAttributeValues": to_item({":p": pk}), "ConsistentRead": True}
        items: list[dict[str, Any]] = []
        while True:
            result = self._db.query(**kwargs)
            items += [from_item(i) for i in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                return items
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]

    def _add(self, key: Key, fields: dict[str, Any], audit: dict[str, Any], what: str) -> None:
        put = {"Put": {"TableName": self._table, "Item": key | to_item(fields),
                       "ConditionExpression": "attribute_not_exists(pk)"}}
        if not all(write_together(self._db, [put, audit])):
            raise Conflict(f"this {what} exists already")

    def _save(self, key: Key, before: dict[str, Any], after: dict[str, Any], audit: dict[str, Any] | None,
              what: str) -> None:
        """Write the fields that changed, if nobody else did since ``before`` was read."""
        changed = sorted(k for k in after if after[k] != before.get(k))
        if not changed:
            return
        names = {f"#f{n}": k for n, k in enumerate(changed)}
        sets = [f"#f{n} = :f{n}" for n, k in enumerate(changed) if after[k] is not None]
        removes = [f"#f{n}" for n, k in enumerate(changed) if after[k] is None]
        update = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
        values = {f":f{n}": after[k] for n, k in enumerate(changed) if after[k] is not None}
        write = {"Update": {"TableName": self._table, "Key": key, "UpdateExpression": update.strip(),
                            "ConditionExpression": "updated_at = :was", "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": to_item(values | {":was": before["updated_at"]})}}
        if not all(write_together(self._db, [write] + ([audit] if audit else []))):
            raise Conflict(f"{what} {_RACED}")


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in {"pk", "sk", "type"}}
