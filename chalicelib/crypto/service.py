"""``hub.crypto``: seal and open personal fields, blind indexes, customer keys.

:meth:`Crypto.seal` encrypts one field of one item with AES-256-GCM under the tenant's
current data key (:mod:`.datakeys`: one ``GenerateDataKey`` per ``max_age``/``max_uses``
per container, context ``{"tenant": t}``) and returns
``sb1.<wrapped key>.<nonce>.<ciphertext>``; the associated data binds tenant, item and
field (:func:`.envelope.associated_data`). The KMS key is the tenant's own
(``kms_key_id`` in its settings, bring-your-own-key) or else the stack's
(``Settings.kms_key_id``). Customers' keys are kept in the key table
(``key_table_name``, ``Settings.key_table_name``), everything else in the main table.
Layout, formats and the call budget: docs/encryption.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .blind_index import IndexKeys
from .customer_keys import CustomerKeys
from .datakeys import MAX_AGE_SECONDS, MAX_USES, DataKeys
from .envelope import (
    BINARY_FORMAT,
    TENANT_FORMAT,
    associated_data,
    decrypt,
    encrypt,
    join,
    join_binary,
    split,
    split_binary,
)
from .errors import CryptoNotConfigured
from .tenant_secrets import TenantSecrets


class Crypto:
    def __init__(self, kms_client: Any, table_client: Any, table_name: str, stack_key_id: str,
                 tenant_key_of: Callable[[str], str | None], clock: Callable[[], datetime], *,
                 key_table_name: str = "", max_age_seconds: float = MAX_AGE_SECONDS,
                 max_uses: int = MAX_USES) -> None:
        self._stack_key_id = stack_key_id
        self._tenant_key_of = tenant_key_of
        self.data_keys = DataKeys(kms_client, clock, max_age_seconds=max_age_seconds, max_uses=max_uses)
        self._index = IndexKeys(self.data_keys, table_client, table_name, self.key_id_of)
        # customers' keys live in a table of their own, without backups (customer_keys.py), wrapped
        # under a tenant secret kept (like the index key) in ``table_name``: no KMS call per customer
        wrapping = TenantSecrets(self.data_keys, table_client, table_name, self.key_id_of,
                                 purpose="customer-keys", name="CUSTOMERS")
        self._customers = CustomerKeys(wrapping, table_client, key_table_name, clock, max_age_seconds=max_age_seconds)

    def key_id_of(self, tenant_id: str) -> str:
        """The KMS key new data keys of ``tenant_id`` are made under: its own, else the stack's."""
        key_id = self._tenant_key_of(tenant_id) or self._stack_key_id
        if not key_id:
            raise CryptoNotConfigured("no KMS key is configured (SWITCHBOARD_KMS_KEY_ID)")
        return key_id

    def seal(self, tenant_id: str, item: str, field: str, plaintext: str) -> str:
        """``plaintext`` sealed for one field of one item of ``tenant_id``."""
        key, wrapped = self.data_keys.for_sealing(self.key_id_of(tenant_id), {"tenant": tenant_id})
        nonce, ciphertext = encrypt(key, plaintext.encode("utf-8"), _aad(tenant_id, item, field))
        return join(TENANT_FORMAT, wrapped, nonce, ciphertext)

    def open(self, tenant_id: str, item: str, field: str, sealed: str) -> str:
        """What :meth:`seal` sealed for exactly this tenant, item and field; else
        :class:`~.errors.Undecryptable` (:class:`~.errors.KeyServiceUnavailable` when KMS fails)."""
        wrapped, nonce, ciphertext = split(TENANT_FORMAT, sealed, 3)
        key = self.data_keys.unwrap(wrapped, {"tenant": tenant_id})
        return decrypt(key, nonce, ciphertext, _aad(tenant_id, item, field)).decode("utf-8")

    def seal_bytes(self, tenant_id: str, item: str, field: str, data: bytes) -> bytes:
        """:meth:`seal` for binary values (a large document's parts, a raw body), in binary."""
        key, wrapped = self.data_keys.for_sealing(self.key_id_of(tenant_id), {"tenant": tenant_id})
        nonce, ciphertext = encrypt(key, data, _aad(tenant_id, item, field, binary=True))
        return join_binary(wrapped, nonce, ciphertext)

    def open_bytes(self, tenant_id: str, item: str, field: str, sealed: bytes) -> bytes:
        wrapped, nonce, ciphertext = split_binary(sealed)
        key = self.data_keys.unwrap(wrapped, {"tenant": tenant_id})
        return decrypt(key, nonce, ciphertext, _aad(tenant_id, item, field, binary=True))

    def blind_index(self, tenant_id: str, kind: str, value: str) -> str:
        """HMAC-SHA256 of ``(kind, value)`` under the tenant's index key (:mod:`.blind_index`)."""
        return self._index.blind_index(tenant_id, kind, value)

    @property
    def customers(self) -> CustomerKeys:
        return self._customers


class LazyClient:
    """A client made on first use (``hub.crypto`` is built with the ticket store; a webhook
    container that seals nothing never builds a KMS client)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


def _aad(tenant_id: str, item: str, field: str, *, binary: bool = False) -> bytes:
    form = BINARY_FORMAT.decode("ascii") if binary else TENANT_FORMAT  # a text value never opens as binary
    return associated_data(form, tenant_id, item, field)
