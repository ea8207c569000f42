"""Blind indexes: lookups by a personal value without storing it.

``blind_index(tenant, kind, value)`` is HMAC-SHA256 of ``[kind, value]`` (canonical
JSON) under the tenant's index key, base64url without padding (43 characters): the same
value gives the same index within a tenant and an unrelated one in another. The index
key is a KMS data key made once per tenant (``GenerateDataKey``, context
``{"tenant": t, "purpose": "blind-index"}``), kept wrapped in ``T#<t>#KEYS``/``INDEX``
(a conditional put: of two containers making it at once, the loser reads the winner's),
and unwrapped once per container: an index costs no AWS call once the key is known.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable
from typing import Any

from ..storage.aws import is_condition_failure
from .datakeys import DataKeys
from .envelope import associated_data, b64u
from .key_items import index_key


class IndexKeys:
    def __init__(self, data_keys: DataKeys, table_client: Any, table_name: str,
                 key_id_of: Callable[[str], str]) -> None:
        self._data_keys = data_keys
        self._db = table_client
        self._table = table_name
        self._key_id_of = key_id_of
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def blind_index(self, tenant_id: str, kind: str, value: str) -> str:
        mac = hmac.new(self._key(tenant_id), associated_data(kind, value), hashlib.sha256)
        return b64u(mac.digest())

    def _key(self, tenant_id: str) -> bytes:
        key = self._keys.get(tenant_id)
        if key is None:
            with self._lock:
                key = self._keys.get(tenant_id) or self._load(tenant_id)
                self._keys[tenant_id] = key
        return key

    def _load(self, tenant_id: str) -> bytes:
        context = {"tenant": tenant_id, "purpose": "blind-index"}
        wrapped = self._stored(tenant_id)
        if wrapped is None:
            plaintext, wrapped = self._data_keys.generate(self._key_id_of(tenant_id), context)
            if self._store(tenant_id, wrapped):
                return plaintext
            wrapped = self._stored(tenant_id)  # another container made it first: theirs counts
            if wrapped is None:
                raise RuntimeError("the tenant's index key vanished while it was made")
        return self._data_keys.unwrap(wrapped, context)

    def _stored(self, tenant_id: str) -> bytes | None:
        item = self._db.get_item(TableName=self._table, Key=index_key(tenant_id), ConsistentRead=True).get("Item")
        return None if item is None else bytes(item["wrapped"]["B"])

    def _store(self, tenant_id: str, wrapped: bytes) -> bool:
        item = index_key(tenant_id) | {"type": {"S": "index_key"}, "tenant_id": {"S": tenant_id},
                                       "wrapped": {"B": wrapped}}
        try:
            self._db.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except Exception as err:
            if is_condition_failure(err):
                return False
            raise
        return True
