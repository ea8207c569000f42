"""Blind indexes: lookups by a personal value without storing it.

``blind_index(tenant, kind, value)`` is HMAC-SHA256 of ``[kind, value]`` (canonical
JSON) under the tenant's index key, base64url without padding (43 characters): the same
value gives the same index within a tenant and an unrelated one in another. The index
key is the tenant's ``blind-index`` secret (:mod:`.tenant_secrets`: a KMS data key made
once, kept wrapped in ``T#<t>#KEYS``/``INDEX``, unwrapped once per container): an index
costs no AWS call once the key is known.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from .datakeys import DataKeys
from .envelope import associated_data, b64u
from .tenant_secrets import TenantSecrets


class IndexKeys:
    def __init__(self, data_keys: DataKeys, table_client: Any, table_name: str,
                 key_id_of: Callable[[str], str]) -> None:
        self._secrets = TenantSecrets(data_keys, table_client, table_name, key_id_of,
                                      purpose="blind-index", name="INDEX")

    def blind_index(self, tenant_id: str, kind: str, value: str) -> str:
        mac = hmac.new(self._secrets.key(tenant_id), associated_data(kind, value), hashlib.sha256)
        return b64u(mac.digest())
