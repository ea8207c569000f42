"""Identifiers. Derived ids are stable: the same input always yields the same id,
which is what makes every stage safe to run twice.

Every derived id the hub gives a record is made here — messages, tickets and
customers (from the inbound message's de-duplication key), events (from the
record that announced them) and set-aside entries (from what they name) — so the
webhook path, the stream handler and the worker agree without importing one another.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchboard_sdk import InboundMessage


def stable_id(prefix: str, *parts: str) -> str:
    """``prefix_<26 base32 chars>`` from a SHA-256 of ``parts`` (130 bits)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return f"{prefix}_{base64.b32encode(digest).decode()[:26].lower()}"


def message_id_for(message: InboundMessage) -> str:
    """The stored message's id, derived from its de-duplication key."""
    return stable_id("msg", message.tenant_id, message.channel, message.provider_message_id)


def ticket_id_for(message: InboundMessage) -> str:
    """The id of the ticket ``message`` opens (when it opens one), derived from its de-duplication key."""
    return stable_id("tkt", message.tenant_id, message.channel, message.provider_message_id)


def event_id_for(kind: str, tenant_id: str, object_id: str) -> str:
    """An event's id: its type and the record that announced it (the message, else the ticket)."""
    return stable_id("evt", kind, tenant_id, object_id)


def stream_entry_id(record_keys: dict[str, str], *change: str) -> str:
    """The set-aside entry of a stream record's item (the same item set aside twice: one entry)."""
    return stable_id("asd", "stream", record_keys.get("pk", ""), record_keys.get("sk", ""), *change)


def object_entry_id(bucket: str, key: str) -> str:
    """The set-aside entry of a stored object."""
    return stable_id("asd", "object", bucket, key)


def customer_id_for(tenant_id: str, identity_key: str) -> str:
    """A new customer's id, from the first identity it was seen with."""
    return stable_id("cus", tenant_id, identity_key)


def reply_id() -> str:
    """A new reply's id (replies come from agents, not providers: nothing to derive it from)."""
    return f"msg_{base64.b32encode(secrets.token_bytes(20)).decode()[:26].lower()}"


def unsent_provider_id(message_id: str) -> str:
    """A reply's ``provider_message_id`` until a provider gives it one."""
    return f"out:{message_id}"


def random_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)
