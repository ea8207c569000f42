"""Per-customer data keys: the customer's personal fields sealed under a key of their
own, so erasing the customer (deleting that key) makes every copy of those fields
unreadable at once — the customer items in the table and in its point-in-time backups,
stream images, scans and exports.

A customer's key is 32 random bytes, wrapped (AES-256-GCM, associated data the tenant,
customer and key id) under the tenant's ``customer-keys`` secret (:mod:`.tenant_secrets`:
one KMS data key per tenant, unwrapped once per container) and kept with a random key id
in ``T#<t>#CKEY#<c>``/``KEY`` of the **key table** (``Settings.key_table_name``, stack output ``KeyTableName``), not the
main table: the key table has no point-in-time recovery, so a restored backup of the main
table brings the customer's sealed fields back without their key (docs/encryption.md).
Without a key table every call raises :class:`~.errors.CryptoNotConfigured`.
A key is made on the first seal (a conditional put: the loser of a race reads the
winner's). Values: ``sc1.<key id>.<nonce>.<ciphertext>``, associated data the format,
tenant, customer, field and key id. :meth:`CustomerKeys.open` answers ``None`` when the
key is gone or is a newer one than the value's (the customer was shredded, maybe made
again since). Keys are cached per container for at most ``max_age`` seconds, so another
warm container may still open a shredded customer's values for that long. Opening a
customer's values therefore costs one ``GetItem`` on the key table per customer per
``max_age`` and no KMS call, however many customers a container meets; a page of many
customers' values (tickets' subjects) loads their keys first with :meth:`CustomerKeys.prefetch`:
one ``BatchGetItem`` per 100 uncached customers.
"""
from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..storage.aws import is_condition_failure
from .datakeys import MAX_AGE_SECONDS, UNWRAPPED_KEYS
from .envelope import CUSTOMER_FORMAT, KEY_BYTES, associated_data, b64u, decrypt, encrypt, join, split
from .errors import CryptoNotConfigured
from .key_items import customer_key
from .tenant_secrets import TenantSecrets

KEY_ID_BYTES = 8
BATCH_KEYS = 100  # BatchGetItem's limit
BATCH_ATTEMPTS = 8  # calls for one batch's unprocessed keys before giving up
WRAP_FORMAT = "ck1"  # a customer key wrapped under the tenant's customer-keys secret


@dataclass(frozen=True)
class _Known:
    key_id: bytes
    key: bytes
    born: datetime


class CustomerKeys:
    """Customers' keys in the key table ``key_table_name`` (``""``: none configured)."""

    def __init__(self, wrapping: TenantSecrets, table_client: Any, key_table_name: str,
                 clock: Callable[[], datetime], *, max_age_seconds: float = MAX_AGE_SECONDS,
                 cached: int = UNWRAPPED_KEYS) -> None:
        self._wrapping = wrapping
        self._db = table_client
        self._key_table = key_table_name
        self._clock = clock
        self._max_age = max_age_seconds
        self._bound = cached
        self._known: OrderedDict[tuple[str, str], _Known] = OrderedDict()
        self._lock = threading.Lock()

    def seal(self, tenant_id: str, customer_id: str, field: str, plaintext: str) -> str:
        known = self._cached(tenant_id, customer_id) or self._read(tenant_id, customer_id) \
            or self._make(tenant_id, customer_id)
        aad = associated_data(CUSTOMER_FORMAT, tenant_id, customer_id, field, b64u(known.key_id))
        nonce, ciphertext = encrypt(known.key, plaintext.encode("utf-8"), aad)
        return join(CUSTOMER_FORMAT, known.key_id, nonce, ciphertext)

    def open(self, tenant_id: str, customer_id: str, field: str, sealed: str) -> str | None:
        """The plaintext; ``None`` when the customer's key was shredded (or replaced since);
        :class:`~.errors.Undecryptable` when the value is tampered or belongs elsewhere."""
        key_id, nonce, ciphertext = split(CUSTOMER_FORMAT, sealed, 3)
        known = self._cached(tenant_id, customer_id)
        if known is None or known.key_id != key_id:
            known = self._read(tenant_id, customer_id)
        if known is None or known.key_id != key_id:
            return None
        aad = associated_data(CUSTOMER_FORMAT, tenant_id, customer_id, field, b64u(key_id))
        return decrypt(known.key, nonce, ciphertext, aad).decode("utf-8")

    def prefetch(self, tenant_id: str, customer_ids: Iterable[str]) -> None:
        """Load the keys of those of ``customer_ids`` not cached, with one consistent
        ``BatchGetItem`` on the key table per :data:`BATCH_KEYS` (their unprocessed keys
        asked again), so a page of N customers' values opens without a ``GetItem`` per customer.
        Customers without a key (never sealed, or shredded) are left out: :meth:`open`
        answers ``None`` for them as before."""
        wanted = [c for c in dict.fromkeys(customer_ids) if c and self._cached(tenant_id, c) is None]
        for start in range(0, len(wanted), BATCH_KEYS):
            keys = [customer_key(tenant_id, c) for c in wanted[start:start + BATCH_KEYS]]
            request: dict[str, Any] = {self._table(): {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(BATCH_ATTEMPTS):
                if attempt:
                    time.sleep(min(1.0, 0.05 * 2 ** attempt))
                result = self._db.batch_get_item(RequestItems=request)
                for item in result.get("Responses", {}).get(self._table(), []):
                    self._unwrap(tenant_id, item["customer_id"]["S"], item)
                request = result.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise RuntimeError("the key table left customers' keys unprocessed; try again")

    def shred(self, tenant_id: str, customer_id: str) -> None:
        """Delete the customer's key (every value sealed under it is unreadable from now on)."""
        self._db.delete_item(TableName=self._table(), Key=customer_key(tenant_id, customer_id))
        with self._lock:
            self._known.pop((tenant_id, customer_id), None)

    def _table(self) -> str:
        if not self._key_table:
            raise CryptoNotConfigured("no key table is configured for customers' keys (SWITCHBOARD_KEY_TABLE)")
        return self._key_table

    def _cached(self, tenant_id: str, customer_id: str) -> _Known | None:
        with self._lock:
            known = self._known.get((tenant_id, customer_id))
            if known is None or (self._clock() - known.born).total_seconds() >= self._max_age:
                return None
            self._known.move_to_end((tenant_id, customer_id))
            return known

    def _remember(self, tenant_id: str, customer_id: str, known: _Known) -> _Known:
        with self._lock:
            self._known[(tenant_id, customer_id)] = known
            self._known.move_to_end((tenant_id, customer_id))
            while len(self._known) > self._bound:
                self._known.popitem(last=False)
        return known

    def _read(self, tenant_id: str, customer_id: str) -> _Known | None:
        item = self._db.get_item(TableName=self._table(), Key=customer_key(tenant_id, customer_id),
                                 ConsistentRead=True).get("Item")
        if item is None:
            return None
        return self._unwrap(tenant_id, customer_id, item)

    def _unwrap(self, tenant_id: str, customer_id: str, item: dict[str, Any]) -> _Known:
        key_id = bytes(item["key_id"]["B"])
        key = decrypt(self._wrapping.key(tenant_id), bytes(item["nonce"]["B"]), bytes(item["wrapped"]["B"]),
                      _wrap_aad(tenant_id, customer_id, key_id))
        return self._remember(tenant_id, customer_id, _Known(key_id, key, self._clock()))

    def _make(self, tenant_id: str, customer_id: str) -> _Known:
        known = _Known(os.urandom(KEY_ID_BYTES), os.urandom(KEY_BYTES), self._clock())
        nonce, wrapped = encrypt(self._wrapping.key(tenant_id), known.key,
                                 _wrap_aad(tenant_id, customer_id, known.key_id))
        item = customer_key(tenant_id, customer_id) | {
            "type": {"S": "customer_key"}, "tenant_id": {"S": tenant_id}, "customer_id": {"S": customer_id},
            "key_id": {"B": known.key_id}, "nonce": {"B": nonce}, "wrapped": {"B": wrapped}}
        try:
            self._db.put_item(TableName=self._table(), Item=item, ConditionExpression="attribute_not_exists(pk)")
        except Exception as err:
            if not is_condition_failure(err):
                raise
            theirs = self._read(tenant_id, customer_id)  # another container made it first
            if theirs is None:
                raise RuntimeError("the customer's key vanished while it was made") from err
            return theirs
        return self._remember(tenant_id, customer_id, known)


def _wrap_aad(tenant_id: str, customer_id: str, key_id: bytes) -> bytes:
    return associated_data(WRAP_FORMAT, tenant_id, customer_id, b64u(key_id))
