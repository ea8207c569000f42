"""Large documents: how a message too large for one item is kept in parts.

An item never grows past :data:`INLINE_DOCUMENT_BYTES` plus small fixed fields,
far below DynamoDB's 400 KB. A message whose JSON is larger (100,000 characters
of text JSON-escape to 600 KB) is compressed and kept in parts of at most
:data:`PART_BYTES` beside a small item: an inbound record keeps a *stub*
(``metadata[SPILLED] = "<parts>:<sha256>"``) written in one transaction with its
parts (one call on the webhook path, :mod:`.inbound`), and a message item keeps
its fields without ``text`` and ``metadata`` plus ``parts`` (its parts sort right
after it in the ticket partition, :mod:`.conversations`). Reads put them back
together: :meth:`.conversations.Conversations.complete_inbound`,
:meth:`.reads.TicketReads.get_ticket`, :meth:`.reads.TicketReads.get_message`.

Pure functions over documents and read items; no AWS calls here.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from typing import Any

from switchboard_sdk import AttachmentRef, CustomerProfile, InboundMessage, NotFound, PayloadTooLarge, ThreadHints

from .keys import split_part

INLINE_DOCUMENT_BYTES = 64 * 1024  # a message whose JSON is larger is kept in parts
PART_BYTES = 128 * 1024  # at most this much of the compressed document per part item
# a message item's part is sealed as text (base64 inside, base64 around: 16/9 of the bytes): smaller parts
# keep the item as far below DynamoDB's 400 KB as an inbound part (about 170 KB)
SEALED_PART_BYTES = 96 * 1024
MAX_DOCUMENT_BYTES = 3 * 1024 * 1024  # compressed; one TransactWriteItems carries at most 4 MB
RESERVED_METADATA = "switchboard:"  # metadata keys with this prefix are the hub's, never a plugin's
SPILLED = RESERVED_METADATA + "parts"  # an inbound stub's marker: "<parts>:<sha256 of the compressed document>"


class PartsMissing(NotFound):
    """A large message's parts are gone (expired with its record) or do not match."""


@dataclass(frozen=True)
class Packed:
    parts: list[bytes]
    digest: str  # SHA-256 (hex) of the compressed document

    @property
    def marker(self) -> str:
        return f"{len(self.parts)}:{self.digest}"


def is_large(doc: str) -> bool:
    """Whether a document is kept in parts (UTF-8 bytes over :data:`INLINE_DOCUMENT_BYTES`)."""
    return len(doc) > INLINE_DOCUMENT_BYTES // 4 and len(doc.encode("utf-8")) > INLINE_DOCUMENT_BYTES


def pack(doc: str, limit: int, part_bytes: int = PART_BYTES) -> Packed:
    blob = zlib.compress(doc.encode("utf-8"))
    if len(blob) > limit:
        raise PayloadTooLarge(f"the message is too large to store ({len(blob)} bytes compressed, "
                              f"at most {limit})")
    parts = [blob[start : start + part_bytes] for start in range(0, len(blob), part_bytes)]
    return Packed(parts, hashlib.sha256(blob).hexdigest())


def unpack(chunks: list[Any], digest: str) -> str:
    """The document the parts hold; :class:`PartsMissing` if one is gone or they do not match."""
    if any(chunk is None for chunk in chunks):
        raise PartsMissing("a part of the message is gone")
    blob = b"".join(bytes(getattr(chunk, "value", chunk)) for chunk in chunks)
    if hashlib.sha256(blob).hexdigest() != digest:
        raise PartsMissing("the message's parts do not match it")
    return zlib.decompress(blob).decode("utf-8")


def ours(attachments: list[AttachmentRef]) -> list[AttachmentRef]:
    """Attachments in the hub's bucket, by reference only (what erasure must find)."""
    return [AttachmentRef(url=a.url) for a in attachments if a.url and a.url.startswith("s3://")]


def inbound_stub(message: InboundMessage, packed: Packed) -> InboundMessage:
    """What the inbound record of a large message holds: its keys and references
    (erasure reads ``raw_payload_ref`` and the attachments), the marker naming its
    parts, and just enough to stay a valid message; all else is in the parts."""
    customer = message.customer
    return message.model_copy(update={
        "customer": None if customer is None else CustomerProfile(identities=customer.identities[:1]),
        "thread": ThreadHints(provider_ids=message.thread.provider_ids[:1] if customer is None else []),
        "subject": None, "text": "", "metadata": {SPILLED: packed.marker},
        "attachments": ours(message.attachments),
    })


def parts_by_owner(items: list[dict[str, Any]]) -> dict[str, dict[int, Any]]:
    """Message parts of a Query's items: owner sort key -> part number -> bytes."""
    parts: dict[str, dict[int, Any]] = {}
    for item in items:
        if item.get("type") == "message_part":
            owner, number = split_part(str(item["sk"]))
            parts.setdefault(owner, {})[number] = item["blob"]
    return parts


def is_spilled(image: dict[str, Any]) -> bool:
    """Whether a stored message item (a stream image, deserialised) holds its fields
    without ``text`` and ``metadata``, which are in parts: read it whole with
    :meth:`.reads.TicketReads.get_message`."""
    return image.get("type") == "message" and bool(image.get("parts"))

