"""What the hub can never process: set aside per tenant, listed, replayed.

A stream shard is processed in order, so one record that fails every time would
hold back every tenant's changes behind it (Lambda retries it, then discards the
whole batch). The stream handler therefore tells two kinds of failure apart
(:func:`is_transient`):

* transient — throttling, an AWS service unavailable or erring on its side, a
  connection or timeout, a hub error marked ``retryable`` (jobs not queued):
  the same record may well succeed in a moment, so the batch is retried from it.
  AWS errors about the environment rather than the request (access denied, a
  missing table or queue) are retried too: they would fail every record alike,
  and setting them all aside would empty the stream onto the shelf.
* deterministic — everything else: a record that does not validate (a
  corrupted or future-format item), ``BadPayload``, a job SQS refuses for what it
  carries, an AWS error about the request itself (``ValidationException``, an
  over-size item), a bug in the hub. Retrying gives the same answer, so the
  record is set aside here and the handler moves on to the next one.

What still runs out of retries — a stream batch Lambda gave up on, a stored
object whose asynchronous invocation failed three times — is described to an
on-failure queue, and :mod:`chalicelib.pipeline.failures` sets it aside here too.

An entry lives in the tenant's own partition (``TenantKeys.set_aside``), under a
stable id derived from what it names (a stream record's item keys, or an
object's bucket and key), so setting the same thing aside again overwrites it.
Entries hold **no personal data**: the item's keys (ids and provider message
ids, never an identity's address: see :func:`_safe_keys`), the event name and
sequence number, the exception's type and a reason that names no input value
(:func:`describe`: a validation error keeps only its field locations and error
types), and when. No copy of the item or the object: :meth:`SetAside.replay`
reads the item as it is now and runs the stream handler on a record rebuilt from
it (so a corrupted item can be repaired first), or runs the stored-object
handler on the object again, and forgets the entry once the handler took it. A
set-aside message is delivered after later messages of its ticket; receivers
order by the event's time.

Entries expire with the item they name (``expires_at``), at most
:data:`KEEP_DAYS` after they were written.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from switchboard_sdk import SwitchboardError

from ..storage.aws import error_code, is_condition_failure
from ..storage.conventions import MAX_PAGE, iso
from ..storage.ids import object_entry_id, stream_entry_id
from ..storage.items import from_item, to_item
from ..storage.keys import TenantKeys, key_of, tenant_in, withhold_personal
from ..storage.payloads import target_of

log = logging.getLogger(__name__)

KEEP_DAYS = 90
REPLAY_LIMIT = 1000  # entries replayed in one call, at most
REASON_CHARS = 1000
LOCATION_CHARS = 64  # one part of a validation error's location (a field name, an index)
LOCATIONS = 10  # validation errors named in a reason, at most
ERROR_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,99}")
GONE_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404"})  # a stored object that is no longer there

# AWS error codes (SQS's without their "AWS.SimpleQueueService." prefix) that refuse
# the request for what it carries: the same request fails the same way every time.
REQUEST_REFUSED = frozenset({
    "ValidationException", "SerializationException", "ItemCollectionSizeLimitExceededException",
    "InvalidParameterValue", "InvalidParameterCombination", "MissingParameter", "InvalidMessageContents",
    "InvalidAttributeName", "InvalidAttributeValue", "BatchRequestTooLong", "BatchEntryIdsNotDistinct",
    "TooManyEntriesInBatchRequest", "EmptyBatchRequest", "InvalidBatchEntryId", "MessageTooLong",
})
# botocore's own errors for a request it would not even send
CLIENT_REFUSED = frozenset({"ParamValidationError", "MissingParametersError", "UnknownParameterError",
                            "ValidationError"})


def is_transient(err: BaseException) -> bool:
    """Whether ``err`` may pass by itself (retry), rather than recur on every try (set aside)."""
    if isinstance(err, SwitchboardError):
        return err.retryable
    code = error_code(err) if isinstance(err, Exception) else ""
    if code:
        return code.rsplit(".", 1)[-1] not in REQUEST_REFUSED
    if type(err).__module__.startswith("botocore"):  # connections, timeouts, credentials
        return type(err).__name__ not in CLIENT_REFUSED
    # a connection or a timeout; not every OSError: PermissionError is one (a record of another tenant)
    return isinstance(err, (ConnectionError, TimeoutError))


def describe(err: BaseException) -> str:
    """Why ``err`` happened, without the values it was about: exception messages
    may quote the input (pydantic's do: ``input_value='ada@example.com'``), so only
    what names no input is kept — a validation error's field locations and error
    types, a hub error's stable code, an AWS error's code and operation — else the
    exception's type alone."""
    name = type(err).__name__
    detail = _detail(err)
    return f"{name}: {detail}"[:REASON_CHARS] if detail else name


def _detail(err: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(err, ValidationError):
        errors = err.errors(include_url=False, include_context=False, include_input=False)
        named = "; ".join(f"{_location(e['loc'])}: {e['type']}" for e in errors[:LOCATIONS])
        more = f"; and {len(errors) - LOCATIONS} more" if len(errors) > LOCATIONS else ""
        return f"{len(errors)} validation error(s): {named}{more}"
    if isinstance(err, SwitchboardError):
        return err.code
    code = error_code(err) if isinstance(err, Exception) else ""
    if code:
        operation = getattr(err, "operation_name", "")
        return f"{code} in {operation}" if operation else code
    return ""


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part)[:LOCATION_CHARS] for part in loc) or "(document)"


def error_type(reason: str) -> str:
    """The exception type a :func:`describe` reason starts with (``""`` for other reasons)."""
    head = reason.partition(":")[0]
    return head if ERROR_TYPE.fullmatch(head) else ""


def tenant_of(record: dict[str, Any]) -> str | None:
    """The tenant whose key space a stream record's item lives in (its ``pk``), if any."""
    return tenant_in(str(record.get("dynamodb", {}).get("Keys", {}).get("pk", {}).get("S", "")))


@dataclass
class ReplayReport:
    replayed: list[str] = field(default_factory=list)  # entries the handler took (forgotten)
    still_failing: dict[str, str] = field(default_factory=dict)  # entry → reason
    gone: list[str] = field(default_factory=list)  # no such entry, or what it names is gone (forgotten)
    next_cursor: str | None = None  # more entries after this one: replay again from there

    def as_dict(self) -> dict[str, Any]:
        """Counts, the outcome of each entry, and where to go on (the API's answer)."""
        results = ([{"id": i, "outcome": "replayed", "reason": None} for i in self.replayed]
                   + [{"id": i, "outcome": "still_failing", "reason": r} for i, r in self.still_failing.items()]
                   + [{"id": i, "outcome": "gone", "reason": None} for i in self.gone])
        return {"replayed": len(self.replayed), "still_failing": len(self.still_failing), "gone": len(self.gone),
                "results": results, "next_cursor": self.next_cursor}


Process = Callable[[list[dict[str, Any]]], dict[str, list[dict[str, str]]]]
ObjectProcess = Callable[[dict[str, Any]], object]


class SetAside:
    def __init__(self, client: Any, table_name: str, clock: Callable[[], datetime]) -> None:
        self._db, self._table, self._clock = client, table_name, clock

    # -- setting aside -----------------------------------------------------------------

    def put(self, record: dict[str, Any], image: dict[str, Any], reason: str, *, error: str | None = None) -> bool:
        """Set stream ``record`` aside in its tenant's partition; ``False`` when no tenant
        owns its item (nothing of anyone's is held back by it: it is only logged).
        ``reason`` must name no input value (:func:`describe` makes one); ``error`` is
        the exception's type (default: the type ``reason`` starts with)."""
        tenant_id = tenant_of(record)
        change = record.get("dynamodb", {})
        if tenant_id is None:
            log.error("stream record %s (keys %s) belongs to no tenant and cannot be processed: %s",
                      change.get("SequenceNumber"), change.get("Keys"), reason)
            return False
        keys = {k: str(v.get("S", "")) for k, v in change["Keys"].items()}
        safe, sequence = _safe_keys(keys), str(change.get("SequenceNumber", ""))
        # an item whose keys were withheld is told apart by its change instead
        entry_id = stream_entry_id(keys) if safe == keys else stream_entry_id(safe, sequence)
        expires = image.get("expires_at")
        self._write(tenant_id, entry_id, {
            "kind": "stream", "record_keys": safe, "event_name": record.get("eventName", ""),
            "sequence": sequence, "source": record.get("eventSourceARN"),
        }, reason, error, expires if isinstance(expires, int) and expires > 0 else None)
        log.warning("stream record %s of tenant %s set aside: %s", change.get("SequenceNumber"), tenant_id, reason)
        return True

    def put_object(self, tenant_id: str, bucket: str, key: str, reason: str, *, error: str = "") -> None:
        """Set aside a stored object of ``tenant_id``'s (``inbound/<tenant>/...``) its handler gave up on."""
        self._write(tenant_id, object_entry_id(bucket, key), {"kind": "object", "bucket": bucket, "object_key": key},
                    reason, error, None)
        log.warning("object %s of tenant %s set aside: %s", key, tenant_id, reason)

    def _write(self, tenant_id: str, entry_id: str, names: dict[str, Any], reason: str, error: str | None,
               item_expires: int | None) -> None:
        now = self._clock()
        keep = int((now + timedelta(days=KEEP_DAYS)).timestamp())
        error = error_type(reason) if error is None else error
        item = TenantKeys(tenant_id).set_aside(entry_id) | to_item(names | {
            "type": "set_aside", "tenant_id": tenant_id, "id": entry_id, "reason": reason[:REASON_CHARS],
            "error": error if ERROR_TYPE.fullmatch(error) else "", "at": iso(now),
            "put_id": uuid.uuid4().hex,  # tells a replay whether the handler set it aside again
            "expires_at": min(keep, item_expires) if item_expires else keep,
        })
        self._db.put_item(TableName=self._table, Item=item)

    # -- reading -----------------------------------------------------------------------

    def entries(self, tenant_id: str, *, limit: int = MAX_PAGE) -> list[dict[str, Any]]:
        """The tenant's set-aside entries (up to ``limit``), in id order."""
        return [_public(entry) for entry in self._query(tenant_id, limit)]

    def page(self, tenant_id: str, *, limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of entries in id order, and the cursor of the next (``None``: the last page)."""
        found = self._query(tenant_id, limit + 1, after)
        page = found[:limit]
        return [_public(entry) for entry in page], page[-1]["sk"] if len(found) > limit else None

    # -- replay ------------------------------------------------------------------------

    def replay(self, tenant_id: str, process: Process, *, objects: ObjectProcess | None = None,
               only: Collection[str] = (), limit: int = REPLAY_LIMIT, after: str | None = None) -> ReplayReport:
        """Run ``process`` (the stream handler) on each set-aside stream record of the
        tenant, rebuilt from its item as it is now, and ``objects`` (the stored-object
        handler) on each set-aside object (left alone when ``objects`` is not given).
        ``only``: these entry ids (an id the tenant has no entry of is reported gone);
        else up to ``limit`` entries after ``after``, with ``next_cursor`` when more remain."""
        report = ReplayReport()
        entries: list[dict[str, Any]] = []
        if only:
            for entry_id in dict.fromkeys(only):
                found = self._get(tenant_id, entry_id)
                if found is None:
                    report.gone.append(entry_id)
                else:
                    entries.append(found)
        else:
            entries = self._query(tenant_id, limit + 1, after)
            if len(entries) > limit:
                entries = entries[:limit]
                report.next_cursor = entries[-1]["sk"]
        for entry in entries:
            self._replay_one(tenant_id, entry, process, objects, report)
        return report

    def _replay_one(self, tenant_id: str, entry: dict[str, Any], process: Process, objects: ObjectProcess | None,
                    report: ReplayReport) -> None:
        if entry.get("tenant_id") != tenant_id or not TenantKeys(tenant_id).owns(str(entry["pk"])):
            raise PermissionError("a set-aside entry of another tenant")  # _query and _get build only its own keys
        if entry.get("kind") == "object":
            if objects is not None:
                self._replay_object(tenant_id, entry, objects, report)
            return
        try:
            self._replay_record(tenant_id, entry, process, report)
        except Exception as err:  # the next entry still gets its turn; this one stays
            log.exception("set-aside entry %s of tenant %s could not be replayed", entry["sk"], tenant_id)
            report.still_failing[entry["sk"]] = describe(err)

    def _replay_record(self, tenant_id: str, entry: dict[str, Any], process: Process, report: ReplayReport) -> None:
        keys = to_item(entry["record_keys"])
        if not TenantKeys(tenant_id).owns(str(entry["record_keys"].get("pk", ""))):
            raise PermissionError("a set-aside entry names another tenant's item")  # put() never writes one
        found = self._db.get_item(TableName=self._table, Key=keys, ConsistentRead=True).get("Item")
        if found is None:
            self._forget(entry)
            report.gone.append(entry["sk"])
            return
        record = {"eventName": entry["event_name"], "eventSource": "aws:dynamodb",
                  "eventSourceARN": entry.get("source", ""),
                  "dynamodb": {"Keys": keys, "NewImage": found, "SequenceNumber": entry["sequence"]}}
        if process([record]).get("batchItemFailures"):
            report.still_failing[entry["sk"]] = "a transient failure; replay again later"
        elif self._forget(entry):
            report.replayed.append(entry["sk"])
        else:  # the handler set it aside again
            again = self._db.get_item(TableName=self._table, Key=key_of(entry), ConsistentRead=True)
            report.still_failing[entry["sk"]] = str(from_item(again.get("Item") or {}).get("reason", ""))

    def _replay_object(self, tenant_id: str, entry: dict[str, Any], objects: ObjectProcess,
                       report: ReplayReport) -> None:
        bucket, key = str(entry.get("bucket", "")), str(entry.get("object_key", ""))
        target = target_of(key)
        if target is None or target[0] != tenant_id:
            raise PermissionError("a set-aside entry names another tenant's object")  # put_object never writes one
        try:
            objects(object_created(bucket, key, self._clock()))
        except Exception as err:
            if error_code(err) in GONE_CODES:
                self._forget(entry)
                report.gone.append(entry["sk"])
                return
            log.warning("set-aside object %s of tenant %s still fails", key, tenant_id, exc_info=True)
            report.still_failing[entry["sk"]] = describe(err)
            return
        self._forget(entry)
        report.replayed.append(entry["sk"])

    def _forget(self, entry: dict[str, Any]) -> bool:
        """Delete the entry unless it was set aside again meanwhile."""
        try:
            self._db.delete_item(TableName=self._table, Key=key_of(entry), ConditionExpression="put_id = :id",
                                 ExpressionAttributeValues=to_item({":id": entry["put_id"]}))
        except Exception as err:
            if is_condition_failure(err):
                return False
            raise
        return True

    def _get(self, tenant_id: str, entry_id: str) -> dict[str, Any] | None:
        found = self._db.get_item(TableName=self._table, Key=TenantKeys(tenant_id).set_aside(entry_id),
                                  ConsistentRead=True).get("Item")
        return from_item(found) if found else None

    def _query(self, tenant_id: str, limit: int, after: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        values = {":p": TenantKeys(tenant_id).set_aside_partition()} | ({":after": after} if after else {})
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :p" + (" AND sk > :after" if after else ""),
            "ConsistentRead": True, "ExpressionAttributeValues": to_item(values),
        }
        while len(found) < limit:
            result = self._db.query(**kwargs, Limit=min(MAX_PAGE, limit - len(found)))
            found += [from_item(item) for item in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                break
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]
        return found


def object_created(bucket: str, key: str, at: datetime) -> dict[str, Any]:
    """An EventBridge "Object Created" event for ``key``, as the stored-object handler takes it."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Object Created", "source": "aws.s3",
        "time": iso(at), "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"version": "0", "bucket": {"name": bucket}, "object": {"key": key}, "reason": "Replay"},
    }


def _safe_keys(keys: dict[str, str]) -> dict[str, str]:
    """The item's keys as an entry keeps them. An identity's key embeds an address
    (``ID#email:ada@example.com``): it is withheld (``ID#(withheld)``), so such an
    entry names no item and replay finds it gone — the stream handler has nothing
    to do for an identity record anyway."""
    return {name: withhold_personal(value) for name, value in keys.items()}


_PUBLIC = ("kind", "at", "error", "reason", "event_name", "sequence", "record_keys", "object_key")


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    """What the API shows of an entry (entries written before kinds existed are stream records)."""
    return {"id": entry["sk"]} | {k: entry.get(k) for k in _PUBLIC} | {
        "kind": entry.get("kind", "stream"), "error": entry.get("error") or error_type(str(entry.get("reason", "")))}
