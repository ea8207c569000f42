"""Stream records the handler can never process: set aside per tenant, listed, replayed.

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

A set-aside entry lives in the tenant's own partition (``T#<t>#ASIDE``, one per
stream record's item keys, so setting the same item aside again overwrites it):
the record's keys, event name and sequence number, the reason and when. It holds
no copy of the item: :meth:`SetAside.replay` reads the item as it is now and runs
the stream handler on a record rebuilt from it (so a corrupted item can be
repaired first), and forgets the entry once the handler took it. A set-aside
message is delivered after later messages of its ticket; receivers order by the
event's time.

Entries expire with the item they name (``expires_at``), at most
:data:`KEEP_DAYS` after they were written.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from switchboard_sdk import SwitchboardError

from .aws import error_code, is_condition_failure
from .items import from_item, to_item
from .keys import TenantKeys, valid_tenant_id
from .store import MAX_PAGE, iso

log = logging.getLogger(__name__)

KEEP_DAYS = 90
REPLAY_LIMIT = 1000  # entries replayed in one call, at most
REASON_CHARS = 1000  # error texts may quote the record: keep them short

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
    return f"{type(err).__name__}: {err}"[:REASON_CHARS]


def tenant_of(record: dict[str, Any]) -> str | None:
    """The tenant whose key space a stream record's item lives in (its ``pk``), if any."""
    pk = str(record.get("dynamodb", {}).get("Keys", {}).get("pk", {}).get("S", ""))
    prefix, _, rest = pk.partition("#")
    tenant_id = rest.partition("#")[0]
    return tenant_id if prefix == "T" and valid_tenant_id(tenant_id) else None


@dataclass
class ReplayReport:
    replayed: list[str] = field(default_factory=list)  # entries the handler took (forgotten)
    still_failing: dict[str, str] = field(default_factory=dict)  # entry → reason
    gone: list[str] = field(default_factory=list)  # their item no longer exists (forgotten)

    def as_dict(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "still_failing": self.still_failing, "gone": self.gone}


Process = Callable[[list[dict[str, Any]]], dict[str, list[dict[str, str]]]]


class SetAside:
    def __init__(self, client: Any, table_name: str, clock: Callable[[], datetime]) -> None:
        self._db, self._table, self._clock = client, table_name, clock

    def put(self, record: dict[str, Any], image: dict[str, Any], reason: str) -> bool:
        """Set ``record`` aside in its tenant's partition; ``False`` when no tenant
        owns its item (nothing of anyone's is held back by it: it is only logged)."""
        tenant_id = tenant_of(record)
        change = record.get("dynamodb", {})
        if tenant_id is None:
            log.error("stream record %s (keys %s) belongs to no tenant and cannot be processed: %s",
                      change.get("SequenceNumber"), change.get("Keys"), reason)
            return False
        now = self._clock()
        keep = int((now + timedelta(days=KEEP_DAYS)).timestamp())
        expires = image.get("expires_at")
        keys = change["Keys"]
        item = _entry_key(tenant_id, keys) | to_item({
            "type": "set_aside", "tenant_id": tenant_id, "record_keys": {k: v["S"] for k, v in keys.items()},
            "event_name": record.get("eventName", ""), "sequence": change.get("SequenceNumber", ""),
            "source": record.get("eventSourceARN"), "reason": reason[:REASON_CHARS], "at": iso(now),
            "put_id": uuid.uuid4().hex,  # tells a replay whether the handler set it aside again
            "expires_at": min(keep, expires) if isinstance(expires, int) and expires > 0 else keep,
        })
        self._db.put_item(TableName=self._table, Item=item)
        log.warning("stream record %s of tenant %s set aside: %s", change.get("SequenceNumber"), tenant_id, reason)
        return True

    def entries(self, tenant_id: str, *, limit: int = MAX_PAGE) -> list[dict[str, Any]]:
        """The tenant's set-aside records (up to ``limit``), in key order."""
        return [_public(entry) for entry in self._query(tenant_id, limit)]

    def replay(self, tenant_id: str, process: Process, *, only: Collection[str] = ()) -> ReplayReport:
        """Run ``process`` (the stream handler) on each set-aside record of the tenant
        (``only``: these entry ids), rebuilt from its item as it is now."""
        report = ReplayReport()
        for entry in self._query(tenant_id, REPLAY_LIMIT):
            if only and entry["sk"] not in only:
                continue
            self._replay_one(entry, process, report)
        return report

    def _replay_one(self, entry: dict[str, Any], process: Process, report: ReplayReport) -> None:
        keys = to_item(entry["record_keys"])
        if not str(entry["record_keys"].get("pk", "")).startswith(TenantKeys(entry["tenant_id"]).prefix):
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
            again = self._db.get_item(TableName=self._table, Key=_key_of(entry), ConsistentRead=True)
            report.still_failing[entry["sk"]] = str(from_item(again.get("Item") or {}).get("reason", ""))

    def _forget(self, entry: dict[str, Any]) -> bool:
        """Delete the entry unless the handler set it aside again meanwhile."""
        try:
            self._db.delete_item(TableName=self._table, Key=_key_of(entry), ConditionExpression="put_id = :id",
                                 ExpressionAttributeValues=to_item({":id": entry["put_id"]}))
        except Exception as err:
            if is_condition_failure(err):
                return False
            raise
        return True

    def _query(self, tenant_id: str, limit: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :p", "ConsistentRead": True,
            "ExpressionAttributeValues": to_item({":p": _partition(tenant_id)}),
        }
        while len(found) < limit:
            result = self._db.query(**kwargs, Limit=min(MAX_PAGE, limit - len(found)))
            found += [from_item(item) for item in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                break
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]
        return found


def _partition(tenant_id: str) -> str:
    # keys.py (owned elsewhere) has no builder for this yet; TenantKeys validates
    # the tenant id and gives the prefix, so the key stays inside the tenant's space
    return f"{TenantKeys(tenant_id).prefix}ASIDE"


def _entry_key(tenant_id: str, record_keys: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    sort_key = f"{record_keys['pk']['S']}|{record_keys.get('sk', {}).get('S', '')}"
    return {"pk": {"S": _partition(tenant_id)}, "sk": {"S": sort_key}}


def _key_of(entry: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {"pk": {"S": str(entry["pk"])}, "sk": {"S": str(entry["sk"])}}


_PUBLIC = ("event_name", "sequence", "reason", "at", "record_keys")


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {"id": entry["sk"]} | {k: entry.get(k) for k in _PUBLIC}
