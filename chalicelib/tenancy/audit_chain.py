"""The audit partition as a hash chain: tamper-evident, and never forked by concurrent writers.

Every record of a partition (a tenant's ``T#<t>#AUDIT`` or ``PLATFORM#AUDIT``) has a
sequence number — its sort key is ``SEQ#<12 digits>`` — and carries the SHA-256 of the
record before it (``prev_hash``) and its own ``hash`` over a canonical serialisation:
sorted-key, compact JSON of every field but the hash itself (the record's document, the
partition, the sequence number, the link and both expiry times). A writer reads the
newest record (one consistent ``Query``, ``Limit 1``), then puts record ``n + 1``
conditional on that key being new: two writers that read the same head cannot both
succeed, so the loser re-reads the head and tries again (:class:`ChainedPut`). Records
are never updated or deleted; each expires by TTL no earlier than the one before it
(``expires_at`` never decreases along a chain), so expiry trims a chain from its start.

Verification walks a partition oldest first. A record whose content does not match its
hash, whose link does not match the record before, or that follows a gap of records that
had not yet expired (each record names its predecessor's expiry, inside its hash) is a
break. A gap whose missing records had all expired is a *trimmed* start: verification
starts again from the first record after it. Deleting the newest records cannot be seen
from inside the chain; compare ``last``/``last_hash`` with an earlier report for that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from ..storage.items import from_item, to_item

SEQ_PREFIX = "SEQ#"
GENESIS_HASH = "0" * 64


def chain_sort_key(seq: int) -> str:
    """Record ``seq``'s sort key in its partition: newest last, one key per position."""
    return f"{SEQ_PREFIX}{seq:012d}"


@dataclass(frozen=True)
class ChainHead:
    """The newest record of a partition (``seq`` 0: none yet)."""

    seq: int = 0
    hash: str = GENESIS_HASH
    expires_at: int = 0


def canonical(fields: dict[str, Any]) -> bytes:
    """The bytes a record's hash covers: sorted keys, no whitespace, UTF-8."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chained_fields(partition: str, doc: str, seq: int, head: ChainHead, expires_at: int) -> dict[str, Any]:
    """Every hashed field of record ``seq`` that follows ``head``."""
    return {"partition": partition, "record": json.loads(doc), "seq": seq, "prev_hash": head.hash,
            "expires_at": expires_at, "prev_expires_at": head.expires_at}


def record_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def chained_item(partition: str, action: str, doc: str, head: ChainHead, expires_at: int) -> dict[str, Any]:
    """The item of the record after ``head``: its expiry is never before its predecessor's."""
    seq = head.seq + 1
    expires_at = max(expires_at, head.expires_at)
    fields = chained_fields(partition, doc, seq, head, expires_at)
    return {"pk": partition, "sk": chain_sort_key(seq), "type": "audit", "action": action, "doc": doc,
            "seq": seq, "prev_hash": head.hash, "hash": record_hash(fields), "expires_at": expires_at,
            "prev_expires_at": head.expires_at}


class ChainedPut(dict[str, Any]):
    """A ``{"Put": …}`` for ``TransactWriteItems`` that can place itself again after the
    head it followed moved on (``storage.aws.write_together`` calls :meth:`rechained`
    when only such writes lost their condition)."""

    def __init__(self, put: dict[str, Any], rebuild: Callable[[], ChainedPut]) -> None:
        super().__init__(put)
        self._rebuild = rebuild

    def rechained(self) -> ChainedPut:
        return self._rebuild()


class ChainReader:
    """Reads a partition's head and its records in chain order."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def head(self, partition: str) -> ChainHead:
        """The newest record, read consistently (a stale head only costs a lost race)."""
        result = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues=to_item({":p": partition, ":s": SEQ_PREFIX}),
            ScanIndexForward=False, Limit=1, ConsistentRead=True,
            ProjectionExpression="seq, #h, expires_at", ExpressionAttributeNames={"#h": "hash"})
        items = result.get("Items") or []
        if not items:
            return ChainHead()
        item = from_item(items[0])
        return ChainHead(int(item["seq"]), str(item["hash"]), int(item["expires_at"]))

    def records(self, partition: str) -> Iterator[dict[str, Any]]:
        """Every chained record, oldest first, a page at a time."""
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
            "ExpressionAttributeValues": to_item({":p": partition, ":s": SEQ_PREFIX})}
        while True:
            result = self._db.query(**kwargs)
            yield from (from_item(item) for item in result.get("Items", []))
            if "LastEvaluatedKey" not in result:
                return
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]


class VerificationReport(BaseModel):
    """What a walk through one audit partition found."""

    partition: str
    records: int = Field(description="Records checked (from `first` to `last`).")
    first: int | None = Field(default=None, description="Sequence number verification started from.")
    last: int | None = Field(default=None, description="The newest record's sequence number.")
    last_hash: str | None = Field(default=None, description="Its hash: keep it to notice a cut-off end later.")
    trimmed: bool = Field(default=False, description="Older records expired (TTL): the chain starts later.")
    broken_at: int | None = Field(default=None, description="The first record that failed, if any.")
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


@dataclass
class _Walk:
    partition: str
    now: int
    count: int = 0
    first: int | None = None
    prev: dict[str, Any] | None = None
    trimmed: bool = False

    def step(self, item: dict[str, Any]) -> str | None:
        """Check one record against its own hash and the record before; the reason if broken."""
        seq = int(item["seq"])
        if item["sk"] != chain_sort_key(seq) or item["pk"] != self.partition:
            return f"record {item['sk']} is stored out of its place (its content says #{seq})"
        fields = chained_fields(self.partition, str(item["doc"]), seq,
                                ChainHead(seq - 1, str(item["prev_hash"]), int(item["prev_expires_at"])),
                                int(item["expires_at"]))
        if record_hash(fields) != item["hash"]:
            return f"record #{seq} was changed: its content does not match its hash"
        expected = self.prev["seq"] + 1 if self.prev else 1
        if seq == expected:
            if item["prev_hash"] != (self.prev["hash"] if self.prev else GENESIS_HASH):
                return f"record #{seq} does not follow record #{seq - 1}: one of them was rewritten or replaced"
        elif int(item["prev_expires_at"]) <= self.now:  # the records before had expired: a trimmed start
            self.trimmed, self.first, self.count = True, seq, 0
        else:
            return f"record(s) #{expected}..#{seq - 1} are missing although they had not expired"
        self.first = seq if self.first is None else self.first
        self.count += 1
        self.prev = item
        return None


def verify(reader: ChainReader, partition: str, now: int) -> VerificationReport:
    """Walk ``partition`` oldest first; stop at the first break (``now``: epoch seconds, for expiry)."""
    walk = _Walk(partition, now)
    for item in reader.records(partition):
        try:
            reason = walk.step(item)
        except (KeyError, ValueError, TypeError):
            reason = f"record {item.get('sk')} is malformed"
        if reason is not None:
            return _report(walk, broken_at=_position(item), reason=reason)
    return _report(walk)


def _position(item: dict[str, Any]) -> int:
    """Where a record sits, by its key (what its content claims may be a lie)."""
    digits = str(item.get("sk", ""))[len(SEQ_PREFIX):]
    return int(digits) if digits.isdigit() else -1


def _report(walk: _Walk, *, broken_at: int | None = None, reason: str | None = None) -> VerificationReport:
    last = walk.prev
    return VerificationReport(partition=walk.partition, records=walk.count, first=walk.first,
                              last=int(last["seq"]) if last else None, last_hash=str(last["hash"]) if last else None,
                              trimmed=walk.trimmed, broken_at=broken_at, reason=reason)
