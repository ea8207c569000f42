"""AES-256-GCM over one field's value, and the text forms sealed values are stored in.

``sb1.<wrapped data key>.<nonce>.<ciphertext>`` (each part base64url without padding;
binary values: ``b"sb1."``, the wrapped key's length in two bytes, the wrapped key, nonce, ciphertext):
the data key wrapped by KMS travels with the value, the nonce is 96 random bits, the
ciphertext carries GCM's 128-bit tag. The associated data is :func:`associated_data` of
the format, the tenant, the item and the field, so a value copied into another item,
tenant or field does not open. ``cryptography`` is imported on first use: it costs
~9 ms at import and a webhook container's import of ``app`` stays without it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

from .errors import Undecryptable

TENANT_FORMAT = "sb1"  # under a tenant's data key (the wrapped key rides along)
BINARY_FORMAT = b"sb1."  # the same in binary (large documents' parts, raw bodies): no base64 on top
CUSTOMER_FORMAT = "sc1"  # under a customer's data key (named by its key id; the key lives in its own item)
NONCE_BYTES = 12
KEY_BYTES = 32  # AES-256


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as err:
        raise Undecryptable("a sealed value is not in a known format") from err


def associated_data(*fields: str) -> bytes:
    """Canonical bytes of ``fields`` (a JSON array: unambiguous whatever they hold)."""
    return json.dumps(list(fields), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """``(nonce, ciphertext with tag)`` under ``key`` with a fresh random nonce."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """The plaintext; :class:`Undecryptable` when the tag does not verify (tampered, moved,
    another key or context)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(nonce) != NONCE_BYTES:
        raise Undecryptable("a sealed value is not in a known format")
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag as err:
        raise Undecryptable("a sealed value does not open in this place") from err



def join(form: str, *parts: bytes) -> str:
    return ".".join([form, *map(b64u, parts)])


def split(form: str, sealed: str, count: int) -> list[bytes]:
    """The ``count`` binary parts of a sealed value in ``form``; :class:`Undecryptable` if it is not one."""
    head, *parts = sealed.split(".")
    if head != form or len(parts) != count:
        raise Undecryptable("a sealed value is not in a known format")
    return [unb64u(part) for part in parts]


def join_binary(wrapped: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    return BINARY_FORMAT + len(wrapped).to_bytes(2, "big") + wrapped + nonce + ciphertext


def split_binary(sealed: bytes) -> tuple[bytes, bytes, bytes]:
    """``(wrapped, nonce, ciphertext)`` of a binary sealed value; :class:`Undecryptable` if it is not one."""
    head = len(BINARY_FORMAT)
    if not sealed.startswith(BINARY_FORMAT) or len(sealed) < head + 2:
        raise Undecryptable("a sealed value is not in a known format")
    size = int.from_bytes(sealed[head : head + 2], "big")
    wrapped, rest = sealed[head + 2 : head + 2 + size], sealed[head + 2 + size :]
    if len(wrapped) != size or len(rest) <= NONCE_BYTES:
        raise Undecryptable("a sealed value is not in a known format")
    return wrapped, rest[:NONCE_BYTES], rest[NONCE_BYTES:]
