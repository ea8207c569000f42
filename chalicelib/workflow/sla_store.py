"""A tenant's SLA policies and business-hours calendars, in the table.

Both live in the tenant's workflow-config partition (``T#<t>#WORKFLOW``, keys from
:mod:`chalicelib.storage.keys`), so one Query reads everything the SLA planner
needs (:meth:`WorkflowConfig.load`), and :class:`WorkflowConfigCache` keeps that
for 30 seconds per container so the stream does not read it per message.

Every item carries a ``version``: a create is conditional on the key being new, an
update or delete on the version the caller read (a lost race is :class:`Conflict`,
never a silent overwrite), each written in one transaction with its audit record.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from switchboard_sdk import Conflict, Customer, Ticket

from ..storage.aws import write_together
from ..storage.items import from_item, to_item
from ..storage.keys import Key, TenantKeys
from ..storage.table import TenantTable
from .calendar import BusinessCalendar
from .sla import SlaPolicy, match_policy

POLICY_TYPE = "sla_policy"
CALENDAR_TYPE = "calendar"
CACHE_SECONDS = 30.0
CACHE_TENANTS = 1000
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class WorkflowSnapshot:
    """A tenant's policies (first match first) and calendars by id, as read at once."""

    policies: list[SlaPolicy] = field(default_factory=list)
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)

    def policy_for(self, ticket: Ticket, customer: Customer | None) -> SlaPolicy | None:
        return match_policy(self.policies, ticket, customer)

    def calendar_of(self, policy: SlaPolicy | None) -> BusinessCalendar | None:
        """The calendar a business-hours policy counts in (``None``: plain time)."""
        if policy is None or not policy.business_hours or policy.calendar_id is None:
            return None
        return self.calendars.get(policy.calendar_id)


class WorkflowConfigStore:
    """Hands out each tenant's workflow config (tenant scoping lives in the keys)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def of(self, tenant_id: str) -> WorkflowConfig:
        return WorkflowConfig(self._db, self._table, TenantKeys(tenant_id))


class WorkflowConfig(TenantTable):
    def load(self) -> WorkflowSnapshot:
        """Every policy and calendar: one (paged) Query."""
        policies, calendars = [], {}
        for item in self._partition():
            if item.get("type") == POLICY_TYPE:
                policies.append(SlaPolicy.model_validate_json(item["doc"]))
            elif item.get("type") == CALENDAR_TYPE:
                calendar = BusinessCalendar.model_validate_json(item["doc"])
                calendars[calendar.id] = calendar
        policies.sort(key=lambda p: (p.position, p.id))
        return WorkflowSnapshot(policies, calendars)

    # -- policies -------------------------------------------------------------------

    def policy(self, policy_id: str) -> SlaPolicy | None:
        return self._read(self.keys.sla_policy(policy_id), SlaPolicy)

    def put_policy(self, policy: SlaPolicy, audit: dict[str, Any], *, expected_version: int | None) -> None:
        """Create (``expected_version`` None) or replace the version the caller read."""
        self._put(self.keys.sla_policy(policy.id), POLICY_TYPE, policy.id, policy, audit, expected_version)

    def delete_policy(self, policy: SlaPolicy, audit: dict[str, Any]) -> None:
        self._delete(self.keys.sla_policy(policy.id), policy.version, audit)

    # -- calendars ------------------------------------------------------------------

    def calendar(self, calendar_id: str) -> BusinessCalendar | None:
        return self._read(self.keys.calendar(calendar_id), BusinessCalendar)

    def put_calendar(self, calendar: BusinessCalendar, audit: dict[str, Any], *,
                     expected_version: int | None) -> None:
        self._put(self.keys.calendar(calendar.id), CALENDAR_TYPE, calendar.id, calendar, audit, expected_version)

    def delete_calendar(self, calendar: BusinessCalendar, audit: dict[str, Any]) -> None:
        self._delete(self.keys.calendar(calendar.id), calendar.version, audit)

    # -- plumbing -------------------------------------------------------------------

    def _read(self, key: Key, model: type[M]) -> M | None:
        item = self._get(key)
        return model.model_validate_json(item["doc"]) if item else None

    def _put(self, key: Key, kind: str, record_id: str, record: SlaPolicy | BusinessCalendar,
             audit: dict[str, Any], expected_version: int | None) -> None:
        fields = {"type": kind, "id": record_id, "version": record.version, "doc": record.model_dump_json()}
        put: dict[str, Any] = {"TableName": self._table, "Item": key | to_item(fields)}
        if expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put |= {"ConditionExpression": "version = :was",
                    "ExpressionAttributeValues": to_item({":was": expected_version})}
        if not all(write_together(self._db, [{"Put": put}, audit])):
            raise Conflict(f"this {kind.replace('_', ' ')} exists already" if expected_version is None
                           else f"this {kind.replace('_', ' ')} changed meanwhile; read it again and retry")

    def _delete(self, key: Key, version: int, audit: dict[str, Any]) -> None:
        delete = {"Delete": {"TableName": self._table, "Key": key, "ConditionExpression": "version = :was",
                             "ExpressionAttributeValues": to_item({":was": version})}}
        if not all(write_together(self._db, [delete, audit])):
            raise Conflict("it changed meanwhile; read it again and retry")

    def _partition(self) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": "pk = :p",
                                  "ExpressionAttributeValues": to_item({":p": self.keys.workflow_config_partition()}),
                                  "ConsistentRead": True}
        items: list[dict[str, Any]] = []
        while True:
            result = self._db.query(**kwargs)
            items += [from_item(i) for i in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                return items
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]


class WorkflowConfigCache:
    """Each tenant's :class:`WorkflowSnapshot`, read at most once per ``seconds`` per
    container (an admin's change reaches the stream within that time). Keeps the
    ``max_tenants`` most recently used tenants."""

    def __init__(self, load: Callable[[str], WorkflowSnapshot], *, seconds: float = CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic, max_tenants: int = CACHE_TENANTS) -> None:
        self._load = load
        self._seconds = seconds
        self._monotonic = monotonic
        self._max = max_tenants
        self._entries: OrderedDict[str, tuple[float, WorkflowSnapshot]] = OrderedDict()

    def get(self, tenant_id: str) -> WorkflowSnapshot:
        now = self._monotonic()
        entry = self._entries.get(tenant_id)
        if entry is None or now - entry[0] >= self._seconds:
            entry = (now, self._load(tenant_id))
            self._entries[tenant_id] = entry
        self._entries.move_to_end(tenant_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return entry[1]

    def forget(self, tenant_id: str) -> None:
        """Read the tenant's config again next time (after this container changed it)."""
        self._entries.pop(tenant_id, None)
