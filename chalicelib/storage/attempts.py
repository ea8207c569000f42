"""Delivery attempts: what the delivery worker keeps per tenant.

Failed-attempt counters per (connector, event) — a replayed job starts with a
fresh budget — and the ids a connector's receiver gave our records (a CRM's
contact and ticket ids), so a later event updates instead of creating.
"""

from __future__ import annotations

from .items import from_item, to_item
from .table import TenantTable


class DeliveryAttempts(TenantTable):
    def reset_failed_attempts(self, connector: str, event_id: str) -> None:
        """A replayed job starts with a fresh attempt budget."""
        self._db.delete_item(TableName=self._table, Key=self.keys.delivery(connector, event_id))

    def failed_attempts(self, connector: str, event_id: str) -> int:
        item = self._get(self.keys.delivery(connector, event_id))
        return 0 if item is None else int(item["failures"])

    def count_failed_attempt(self, connector: str, event_id: str, *, expires_at: int) -> int:
        """Add one failed attempt; returns the new total."""
        result = self._db.update_item(
            TableName=self._table, Key=self.keys.delivery(connector, event_id),
            UpdateExpression="SET #t = :t, tenant_id = :tenant, expires_at = :exp ADD failures :one",
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues=to_item(
                {":t": "delivery", ":tenant": self.tenant_id, ":exp": expires_at, ":one": 1}
            ),
            ReturnValues="UPDATED_NEW",
        )
        return int(from_item(result["Attributes"])["failures"])

    def external_id(self, connector: str, kind: str, local_id: str) -> str | None:
        item = self._get(self.keys.external_id(connector, kind, local_id))
        return None if item is None else str(item["external_id"])

    def remember_external_id(self, connector: str, kind: str, local_id: str, external_id: str) -> None:
        item = self.keys.external_id(connector, kind, local_id) | to_item(
            {"type": "external_id", "tenant_id": self.tenant_id, "external_id": external_id}
        )
        self._db.put_item(TableName=self._table, Item=item)

