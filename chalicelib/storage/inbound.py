"""Inbound records: what the webhook path writes, one conditional write per message.

The de-duplication record of each provider message (``IN#``; a large message's
stub with its parts, :mod:`.documents`) and the one-time tokens some providers
sign (``RP#``). The stream handler reads the records back
(:mod:`.conversations`, :func:`inbound_document`); erasure deletes them with their
parts (:func:`inbound_part_keys`).

A record's ``doc`` (the whole message: identities, text, references), its inline
``raw`` body and its parts' ``blob`` are sealed for their own item
(:mod:`.sealing`, docs/encryption.md) under the container's cached data key, so
sealing adds no AWS call to the webhook path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard_sdk import InboundMessage, Unavailable

from .aws import error_code, is_condition_failure
from .documents import MAX_DOCUMENT_BYTES, inbound_stub, is_large, pack
from .items import to_item
from .keys import Key, TenantKeys, key_of, tenant_in
from .sealing import Sealer, open_document, seal_blob, seal_document
from .table import TenantTable


class InboundRecords(TenantTable):
    def __init__(self, client: Any, table_name: str, keys: TenantKeys, *,
                 max_document_bytes: int = MAX_DOCUMENT_BYTES, crypto: Sealer | None = None) -> None:
        super().__init__(client, table_name, keys)
        self._max_document_bytes = max_document_bytes
        self._crypto = crypto

    def record_inbound(
        self, message: InboundMessage, *, raw: bytes | None, expires_at: int, batch: list[str] | None = None
    ) -> bool:
        """Durably accept an inbound message; ``False`` if it was already held.

        ``batch``: provider ids of the other messages parsed from the same inline
        ``raw`` body (their records hold a copy of it, which erasure strips).
        """
        return self.put_inbound(self.inbound_write(message, raw=raw, expires_at=expires_at, batch=batch))

    def inbound_write(
        self, message: InboundMessage, *, raw: bytes | None, expires_at: int, batch: list[str] | None = None
    ) -> InboundWrite:
        """The items :meth:`put_inbound` writes for ``message``, built without a call, so
        a caller can refuse a whole request (:class:`PayloadTooLarge`: a message whose
        compressed document is over ``max_document_bytes``) before storing any of it."""
        self._check_tenant(message.tenant_id)
        key = self.keys.inbound(message.channel, message.provider_message_id)
        values = {"type": "inbound", "tenant_id": self.tenant_id, "expires_at": expires_at, "batch": batch or None,
                  "raw": None if raw is None else self._seal_blob(key, "raw", raw)}
        doc = message.model_dump_json()
        if not is_large(doc):
            return InboundWrite(key | to_item(values | {"doc": self._seal(key, doc)}), [])
        packed = pack(doc, self._max_document_bytes)
        stub = inbound_stub(message, packed)
        parts = []
        for number, chunk in enumerate(packed.parts):
            part_key = self.keys.inbound_part(message.channel, message.provider_message_id, number)
            parts.append(part_key | to_item({"type": "inbound_part", "tenant_id": self.tenant_id,
                                             "blob": self._seal_blob(part_key, "blob", chunk),
                                             "expires_at": expires_at}))
        stub_doc = self._seal(key, stub.model_dump_json())
        return InboundWrite(key | to_item(values | {"doc": stub_doc, "parts": len(parts)}), parts)

    def _seal(self, key: Key, doc: str) -> str:
        """The record's document sealed for its item (hub.crypto's cached data key: no call)."""
        return seal_document(self._crypto, self.tenant_id, key, "doc", doc)

    def _seal_blob(self, key: Key, field: str, data: bytes) -> bytes:
        return seal_blob(self._crypto, self.tenant_id, key, field, data)

    def put_inbound(self, write: InboundWrite) -> bool:
        """One conditional write (a transaction with the parts of a large message);
        ``False`` when the record was already there (nothing is written then)."""
        if not write.parts:
            return self._put_new(write.item)
        puts = [{"Put": {"TableName": self._table, "Item": write.item,
                         "ConditionExpression": "attribute_not_exists(pk)"}}]
        puts += [{"Put": {"TableName": self._table, "Item": part}} for part in write.parts]
        try:
            self._db.transact_write_items(TransactItems=puts)
        except Exception as err:
            if is_condition_failure(err, item=0):  # the record is there already
                return False
            if error_code(err) != "TransactionCanceledException":
                raise
            # a concurrent write of the same record (TransactionConflict): nothing was written
            raise Unavailable("the message was not stored this time; send it again") from err
        return True

    def claim_replay(self, channel: str, replay_key: str, fingerprint: str, *, expires_at: int) -> bool:
        """Claim a one-time token for the request ``fingerprint`` names, in one
        conditional ``PutItem``: ``True`` for the first claim and for a repeat of
        the same request (a provider retrying after a failure), ``False`` when
        another request already claimed the token (a replay)."""
        item = self.keys.replay(channel, replay_key) | to_item(
            {"type": "replay", "tenant_id": self.tenant_id, "fingerprint": fingerprint, "expires_at": expires_at}
        )
        return self._put_if(item, "attribute_not_exists(pk) OR fingerprint = :f", {":f": fingerprint})


@dataclass(frozen=True)
class InboundWrite:
    """An inbound record ready to write: its item and, for a large message, its parts."""

    item: dict[str, Any]
    parts: list[dict[str, Any]]


def inbound_document(crypto: Sealer | None, record: dict[str, Any]) -> str:
    """The JSON an inbound record (as read, deserialised: a stream image, a Query's item)
    holds in ``doc``: opened for the tenant and item its key names when it is sealed,
    as it is when it was written before encryption."""
    tenant_id = tenant_in(str(record["pk"]))
    if tenant_id is None:
        raise PermissionError("an inbound record outside any tenant's key space")
    return open_document(crypto, tenant_id, key_of(record), "doc", str(record["doc"]))


def inbound_part_keys(keys: TenantKeys, record: dict[str, Any], crypto: Sealer | None) -> list[Key]:
    """The keys of an inbound record's parts (a large message; none for others),
    from the record as read (deserialised): what erasure deletes with the record."""
    count = int(record.get("parts") or 0)
    if not count:
        return []
    stub = InboundMessage.model_validate_json(inbound_document(crypto, record))
    return [keys.inbound_part(stub.channel, stub.provider_message_id, n) for n in range(count)]

