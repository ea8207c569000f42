"""A tenant's long-lived secrets: 32-byte KMS data keys made once per tenant and purpose,
kept wrapped in the main table (``T#<t>#KEYS`` / ``<name>``), unwrapped once per container.

Two purposes use one: the blind-index key (``INDEX``, :mod:`.blind_index`) and the key
that wraps customers' keys (``CUSTOMERS``, :mod:`.customer_keys`). Each is made by one
``GenerateDataKey`` with context ``{"tenant": t, "purpose": p}`` and stored with a
conditional put: of two containers making it at once, the loser reads the winner's.
Neither erases anyone, so both may live in the backed-up main table: what a backup
must not bring back — a customer's own key — lives in the key table (docs/encryption.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..storage.aws import is_condition_failure
from .datakeys import DataKeys
from .key_items import tenant_secret


class TenantSecrets:
    """One purpose's secret per tenant (``name``: the item's sort key)."""

    def __init__(self, data_keys: DataKeys, table_client: Any, table_name: str,
                 key_id_of: Callable[[str], str], *, purpose: str, name: str) -> None:
        self._data_keys = data_keys
        self._db = table_client
        self._table = table_name
        self._key_id_of = key_id_of
        self._purpose = purpose
        self._name = name
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def key(self, tenant_id: str) -> bytes:
        """The tenant's secret (made on first use; no AWS call once this container knows it)."""
        key = self._keys.get(tenant_id)
        if key is None:
            with self._lock:
                key = self._keys.get(tenant_id) or self._load(tenant_id)
                self._keys[tenant_id] = key
        return key

    def _load(self, tenant_id: str) -> bytes:
        context = {"tenant": tenant_id, "purpose": self._purpose}
        wrapped = self._stored(tenant_id)
        if wrapped is None:
            plaintext, wrapped = self._data_keys.generate(self._key_id_of(tenant_id), context)
            if self._store(tenant_id, wrapped):
                return plaintext
            wrapped = self._stored(tenant_id)  # another container made it first: theirs counts
            if wrapped is None:
                raise RuntimeError(f"the tenant's {self._purpose} key vanished while it was made")
        return self._data_keys.unwrap(wrapped, context)

    def _stored(self, tenant_id: str) -> bytes | None:
        key = tenant_secret(tenant_id, self._name)
        item = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return None if item is None else bytes(item["wrapped"]["B"])

    def _store(self, tenant_id: str, wrapped: bytes) -> bool:
        item = tenant_secret(tenant_id, self._name) | {
            "type": {"S": "tenant_secret"}, "purpose": {"S": self._purpose}, "tenant_id": {"S": tenant_id},
            "wrapped": {"B": wrapped}}
        try:
            self._db.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except Exception as err:
            if is_condition_failure(err):
                return False
            raise
        return True
