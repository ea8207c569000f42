"""Identifiers. Derived ids are stable: the same input always yields the same id,
which is what makes every stage safe to run twice."""

from __future__ import annotations

import base64
import hashlib
import secrets


def stable_id(prefix: str, *parts: str) -> str:
    """``prefix_<26 base32 chars>`` from a SHA-256 of ``parts`` (130 bits)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return f"{prefix}_{base64.b32encode(digest).decode()[:26].lower()}"


def customer_id_for(tenant_id: str, identity_key: str) -> str:
    """A new customer's id, from the first identity it was seen with."""
    return stable_id("cus", tenant_id, identity_key)


def random_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)
