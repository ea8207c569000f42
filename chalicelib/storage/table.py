"""Plumbing shared by the tenant-scoped views of the table (the ticket store's
repositories, erasure's purge): one table, one tenant's keys, conditional writes
that report instead of raising when their condition does not hold. Tenant scoping
lives here: a view is bound to one :class:`~chalicelib.storage.keys.TenantKeys`."""

from __future__ import annotations

from typing import Any

from .aws import is_condition_failure
from .items import from_item, to_item
from .keys import Key, TenantKeys

BATCH_GET = 100  # BatchGetItem's limit


class TenantTable:
    def __init__(self, client: Any, table_name: str, keys: TenantKeys) -> None:
        self._db = client
        self._table = table_name
        self.keys = keys
        self.tenant_id = keys.tenant_id

    def _check_tenant(self, tenant_id: str) -> None:
        if tenant_id != self.tenant_id:
            raise PermissionError("record belongs to another tenant")

    def _get(self, key: Key) -> dict[str, Any] | None:
        result = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        return from_item(result["Item"]) if "Item" in result else None

    def _get_many(self, keys: list[Key]) -> list[dict[str, Any]]:
        """The items behind ``keys`` that exist (consistent ``BatchGetItem``, 100 keys a call)."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET):
            request = {self._table: {"Keys": keys[start : start + BATCH_GET], "ConsistentRead": True}}
            while request:
                result = self._db.batch_get_item(RequestItems=request)
                found += result.get("Responses", {}).get(self._table, [])
                request = result.get("UnprocessedKeys") or {}
        return [from_item(i) for i in found]

    def _put_new(self, item: dict[str, Any]) -> bool:
        """PutItem unless the key is taken; ``False`` when it was."""
        return self._put_if(item, "attribute_not_exists(pk)", {})

    def _put_if(self, item: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
        """A conditional PutItem; ``False`` when the condition did not hold."""
        extra = {"ExpressionAttributeValues": to_item(values)} if values else {}
        try:
            self._db.put_item(TableName=self._table, Item=item, ConditionExpression=condition, **extra)
        except Exception as err:
            if is_condition_failure(err):
                return False
            raise
        return True

    def _update_if(self, key: Key, update: str, condition: str, values: dict[str, Any],
                   names: dict[str, str] | None = None) -> bool:
        """A conditional UpdateItem; ``False`` when the condition did not hold."""
        extra: dict[str, Any] = {"ExpressionAttributeValues": to_item(values)} if values else {}
        extra |= {"ExpressionAttributeNames": names} if names else {}
        try:
            self._db.update_item(TableName=self._table, Key=key, UpdateExpression=update,
                                 ConditionExpression=condition, **extra)
        except Exception as err:
            if is_condition_failure(err):
                return False
            raise
        return True
