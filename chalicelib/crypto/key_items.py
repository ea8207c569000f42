"""Where wrapped keys are kept: built on :class:`~chalicelib.storage.keys.TenantKeys`,
so no value reaches another tenant's keys.

- ``T#<t>#KEYS`` / ``INDEX`` in the main table: the tenant's blind-index key (wrapped),
  made once.
- ``T#<t>#CKEY#<customer>`` / ``KEY`` in the key table (no backups): a customer's data
  key (wrapped); deleting it is the customer's crypto-shredding.
"""

from __future__ import annotations

from ..storage.keys import Key, TenantKeys, component


def index_key(tenant_id: str) -> Key:
    return {"pk": {"S": f"{TenantKeys(tenant_id).prefix}KEYS"}, "sk": {"S": "INDEX"}}


def customer_key(tenant_id: str, customer_id: str) -> Key:
    return {"pk": {"S": f"{TenantKeys(tenant_id).prefix}CKEY#{component(customer_id)}"}, "sk": {"S": "KEY"}}
