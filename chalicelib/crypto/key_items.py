"""Where wrapped keys are kept: built on :class:`~chalicelib.storage.keys.TenantKeys`,
so no value reaches another tenant's keys.

- ``T#<t>#KEYS`` / ``INDEX`` and ``CUSTOMERS`` in the main table: the tenant's blind-index
  key and the key that wraps its customers' keys (KMS-wrapped), each made once.
- ``T#<t>#CKEY#<customer>`` / ``KEY`` in the key table (no backups): a customer's data
  key (wrapped under ``CUSTOMERS``); deleting it is the customer's crypto-shredding.
"""

from __future__ import annotations

from ..storage.keys import Key, TenantKeys, component


def tenant_secret(tenant_id: str, name: str) -> Key:
    return {"pk": {"S": f"{TenantKeys(tenant_id).prefix}KEYS"}, "sk": {"S": name}}


def customer_key(tenant_id: str, customer_id: str) -> Key:
    return {"pk": {"S": f"{TenantKeys(tenant_id).prefix}CKEY#{component(customer_id)}"}, "sk": {"S": "KEY"}}
