"""Where a tenant's rules live: the current version of each in one partition
(``T#<t>#RULES``, one Query lists them all), every saved version in the rule's own
partition (``T#<t>#RULEV#<id>``, kept after a delete), and a count item that holds the
tenant to :data:`MAX_RULES`.

Create, update and delete are each one ``TransactWriteItems`` with the audit record,
conditional on the version read (a lost race is :class:`Conflict`, never a silent
overwrite); a delete keeps the rule's last state as a version marked ``deleted``.
:class:`RuleCache` keeps each tenant's rules for :data:`CACHE_SECONDS` in a container,
for the stream (the API reads the table).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from switchboard_sdk import Conflict

from ...storage.aws import write_together
from ...storage.items import from_item, to_item
from ...storage.keys import Key, TenantKeys
from ...storage.table import TenantTable
from .models import Rule, RuleVersion

MAX_RULES = 200
CACHE_SECONDS = 30.0
CACHE_TENANTS = 2_000  # tenants a container keeps rules for at once
_COUNT_SK = "COUNT"
_RACED = "the rule changed meanwhile; read it again and retry"


class RuleStore(TenantTable):
    def rules(self) -> list[Rule]:
        """The tenant's rules, in evaluation order (position, then id)."""
        items = self._query(self.keys.rules_partition(), "RULE#")
        return sorted((Rule.model_validate_json(i["doc"]) for i in items), key=lambda r: (r.position, r.id))

    def rule(self, rule_id: str) -> Rule | None:
        item = self._get(self.keys.rule(rule_id))
        return Rule.model_validate_json(item["doc"]) if item else None

    def versions(self, rule_id: str) -> list[RuleVersion]:
        """Every saved version of the rule, newest first (empty: no such rule, ever)."""
        items = self._query(self.keys.rule_version(rule_id, 0)["pk"]["S"], "", newest_first=True)
        return [RuleVersion(rule=Rule.model_validate_json(i["doc"]), deleted=bool(i.get("deleted"))) for i in items]

    def create(self, rule: Rule, audit: dict[str, Any]) -> None:
        """Store a new rule (version 1); :class:`Conflict` at :data:`MAX_RULES`."""
        count = {"Update": {"TableName": self._table, "Key": self._count_key(),
                            "UpdateExpression": "SET n = if_not_exists(n, :zero) + :one",
                            "ConditionExpression": "attribute_not_exists(n) OR n < :max",
                            "ExpressionAttributeValues": to_item({":zero": 0, ":one": 1, ":max": MAX_RULES})}}
        current = self._put(self.keys.rule(rule.id), rule, "attribute_not_exists(pk)", {})
        written = write_together(self._db, [count, current, self._version(rule, False), audit])
        if not written[0]:
            raise Conflict(f"a tenant has at most {MAX_RULES} rules; delete one first")
        if not all(written):
            raise Conflict("a rule with this id exists already")

    def update(self, before: Rule, after: Rule, audit: dict[str, Any]) -> None:
        """Replace ``before`` (as read) with ``after`` (its version one higher)."""
        assert (after.version, after.id) == (before.version + 1, before.id)
        current = self._put(self.keys.rule(after.id), after, "version = :was", {":was": before.version})
        if not all(write_together(self._db, [current, self._version(after, False), audit])):
            raise Conflict(_RACED)

    def delete(self, before: Rule, last: Rule, audit: dict[str, Any]) -> None:
        """Remove ``before`` (as read); ``last``, one version higher, is kept marked deleted."""
        assert (last.version, last.id) == (before.version + 1, before.id)
        delete = {"Delete": {"TableName": self._table, "Key": self.keys.rule(before.id),
                             "ConditionExpression": "version = :was",
                             "ExpressionAttributeValues": to_item({":was": before.version})}}
        count = {"Update": {"TableName": self._table, "Key": self._count_key(), "UpdateExpression": "ADD n :less",
                            "ExpressionAttributeValues": to_item({":less": -1})}}
        if not all(write_together(self._db, [delete, count, self._version(last, True), audit])):
            raise Conflict(_RACED)

    # -- plumbing ------------------------------------------------------------------------

    def _count_key(self) -> Key:
        return {"pk": {"S": self.keys.rules_partition()}, "sk": {"S": _COUNT_SK}}

    def _put(self, key: Key, rule: Rule, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        item = key | to_item({"type": "rule", "id": rule.id, "version": rule.version, "position": rule.position,
                              "trigger": rule.trigger, "doc": rule.model_dump_json()})
        put: dict[str, Any] = {"TableName": self._table, "Item": item, "ConditionExpression": condition}
        if values:
            put["ExpressionAttributeValues"] = to_item(values)
        return {"Put": put}

    def _version(self, rule: Rule, deleted: bool) -> dict[str, Any]:
        item = self.keys.rule_version(rule.id, rule.version) | to_item(
            {"type": "rule_version", "id": rule.id, "version": rule.version, "deleted": deleted,
             "doc": rule.model_dump_json()})
        return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def _query(self, pk: str, prefix: str, *, newest_first: bool = False) -> list[dict[str, Any]]:
        condition = "pk = :p" + (" AND begins_with(sk, :s)" if prefix else "")
        values = {":p": pk} | ({":s": prefix} if prefix else {})
        kwargs: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": condition,
                                  "ExpressionAttributeValues": to_item(values), "ConsistentRead": True,
                                  "ScanIndexForward": not newest_first}
        items: list[dict[str, Any]] = []
        while True:
            result = self._db.query(**kwargs)
            items += [from_item(i) for i in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                return items
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]


def rule_stores(client: Any, table_name: str) -> Callable[[str], RuleStore]:
    """Tenant id → that tenant's :class:`RuleStore` (what :class:`~chalicelib.api.rules.RuleApi` takes)."""
    return lambda tenant_id: RuleStore(client, table_name, TenantKeys(tenant_id))


class RuleCache:
    """Each tenant's rules as read at most ``seconds`` ago (``monotonic``: the clock, injected).
    ``forget`` drops a tenant's entry (after this container changed its rules)."""

    def __init__(self, load: Callable[[str], list[Rule]], *, seconds: float = CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._seconds = seconds
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, list[Rule]]] = {}

    def rules(self, tenant_id: str) -> list[Rule]:
        now = self._monotonic()
        entry = self._entries.get(tenant_id)
        if entry is not None and now - entry[0] < self._seconds:
            return entry[1]
        rules = self._load(tenant_id)
        if len(self._entries) >= CACHE_TENANTS:
            self._entries.pop(next(iter(self._entries)))  # the oldest read
        self._entries.pop(tenant_id, None)
        self._entries[tenant_id] = (now, rules)
        return rules

    def forget(self, tenant_id: str) -> None:
        self._entries.pop(tenant_id, None)
