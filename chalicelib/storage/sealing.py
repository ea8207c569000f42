"""Sealed fields as the storage layer sees them: what it needs of ``hub.crypto``
(:class:`Sealer`, structural, so storage imports nothing above it), the item string a
sealed value is bound to (:func:`item_ref`), and reading a document that may be sealed
or, written before encryption, plain JSON (:func:`open_document`). docs/encryption.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Protocol

from .keys import Key

SEALED_PREFIXES = ("sb1.", "sc1.")  # chalicelib.crypto's formats (a tenant's data key / a customer's)
CUSTOMER_PREFIX = "sc1."  # under a customer's key
SEALED_BINARY = b"sb1."  # its binary format (zlib's output, what parts held before, starts with 0x78)


class CustomerSealer(Protocol):
    def seal(self, tenant_id: str, customer_id: str, field: str, plaintext: str) -> str: ...
    def open(self, tenant_id: str, customer_id: str, field: str, sealed: str) -> str | None: ...
    def shred(self, tenant_id: str, customer_id: str) -> None: ...
    def prefetch(self, tenant_id: str, customer_ids: Iterable[str]) -> None: ...


class Sealer(Protocol):
    """``chalicelib.crypto.service.Crypto`` as storage uses it."""

    def seal(self, tenant_id: str, item: str, field: str, plaintext: str) -> str: ...
    def open(self, tenant_id: str, item: str, field: str, sealed: str) -> str: ...
    def seal_bytes(self, tenant_id: str, item: str, field: str, data: bytes) -> bytes: ...
    def open_bytes(self, tenant_id: str, item: str, field: str, sealed: bytes) -> bytes: ...
    def blind_index(self, tenant_id: str, kind: str, value: str) -> str: ...
    @property
    def customers(self) -> CustomerSealer: ...


class SealedWithoutCrypto(RuntimeError):
    """A store built without a crypto (``crypto=None``) met a sealed value."""


def item_ref(key: Key) -> str:
    """The item a sealed value belongs to, as associated data: ``["<pk>","<sk>"]``."""
    return json.dumps([key["pk"]["S"], key["sk"]["S"]], ensure_ascii=False, separators=(",", ":"))


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED_PREFIXES)


def seal_document(crypto: Sealer | None, tenant_id: str, key: Key, field: str, doc: str) -> str:
    """``doc`` sealed for ``field`` of the item at ``key`` (as it is without a crypto)."""
    return doc if crypto is None else crypto.seal(tenant_id, item_ref(key), field, doc)


def open_document(crypto: Sealer | None, tenant_id: str, key: Key, field: str, stored: str) -> str:
    """The document a ``field`` of the item at ``key`` holds: opened when sealed, as it is
    when written before encryption (plain JSON)."""
    if not is_sealed(stored):
        return stored
    if crypto is None:
        raise SealedWithoutCrypto("a sealed value was read by a store built without a crypto")
    return crypto.open(tenant_id, item_ref(key), field, stored)


def seal_blob(crypto: Sealer | None, tenant_id: str, key: Key, field: str, data: bytes) -> bytes:
    """:func:`seal_document` for binary values."""
    return data if crypto is None else crypto.seal_bytes(tenant_id, item_ref(key), field, data)


def open_blob(crypto: Sealer | None, tenant_id: str, key: Key, field: str, stored: bytes) -> bytes:
    """:func:`open_document` for binary values (plain ones, written before encryption, as they are)."""
    if not stored.startswith(SEALED_BINARY):
        return stored
    if crypto is None:
        raise SealedWithoutCrypto("a sealed value was read by a store built without a crypto")
    return crypto.open_bytes(tenant_id, item_ref(key), field, stored)
