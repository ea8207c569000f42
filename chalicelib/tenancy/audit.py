"""The audit log: one append-only record per admin action and per read of personal data.

Records live in the tenant's own partition (``T#<t>#AUDIT``), so a tenant admin can
read their tenant's log and nothing else; platform actions that concern no tenant go
to ``PLATFORM#AUDIT``. Each partition is a hash chain (:mod:`.audit_chain`): record
``n`` sits at ``SEQ#<n>`` and carries the hash of record ``n - 1``, so an edited,
deleted or reordered record shows up in :meth:`AuditLog.verify`. Every write is
conditional on the key being new and no code path updates or deletes a record
(customer erasure leaves the audit log alone: records name ids, not personal data).
Records expire by TTL after ``retention_days`` (3 years by default), never before the
record they follow. Records written before the chain existed (sort key
``<time>#<id>``) are listed as before and are outside the chain.

Callers pass *redacted* before/after views; as a second line of defence any
value under a key that names a secret is replaced here too.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from switchboard_sdk import BadPayload, Unavailable

from ..storage.aws import write_together
from ..storage.conventions import iso
from ..storage.items import from_item, to_item
from ..storage.keys import PLATFORM_AUDIT, TenantKeys
from .audit_chain import ChainedPut, ChainReader, VerificationReport, chained_item, verify

DEFAULT_RETENTION_DAYS = 3 * 365 + 1
CURSOR = re.compile(r"(SEQ#[0-9]{12}|[0-9T:.+Z-]{10,40}#aud_[0-9a-f]{20})")
SECRET_WORDS = ("secret", "token", "password", "api_key", "aes_key", "signing_key")
REDACTED = "[redacted]"
MAX_PAGES_PER_CALL = 10
ROUNDS = 4  # a record on its own waits for a place longer than one inside another change


class Actor(BaseModel):
    """Who acted: an API key (``key_id``, with its name and scopes as they were, so
    the record still says who after the key is gone), a signed-in agent
    (``agent_id`` and its name and role's scopes as they were; ``key_id`` empty) or
    the operator's own AWS credentials (``"aws"``)."""

    key_id: str = ""
    key_name: str = ""
    agent_id: str | None = None
    agent_name: str | None = None
    scopes: list[str] = Field(default_factory=list)
    source_ip: str = ""
    user_agent: str = Field(default="", max_length=200)
    via: str = "api"


class AuditRecord(BaseModel):
    id: str
    at: str
    tenant_id: str | None
    action: str
    target: str
    actor: Actor
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class AuditPage(BaseModel):
    records: list[AuditRecord]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for older records.")


class AuditLog:
    def __init__(
        self, client: Any, table_name: str, clock: Callable[[], datetime], *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        self._db = client
        self._table = table_name
        self._clock = clock
        self._retention = timedelta(days=retention_days)
        self._chain = ChainReader(client, table_name)

    def record(
        self, tenant_id: str | None, actor: Actor, action: str, target: str, *,
        before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one record on its own (``tenant_id`` None: a platform-wide action): one
        ``Query`` for the head and one conditional ``PutItem`` (again on a lost race)."""
        record, put = self.entry(tenant_id, actor, action, target, before=before, after=after)
        for _ in range(ROUNDS):  # each round places it again up to storage.aws.REPLACEMENTS times
            if all(write_together(self._db, [put])):
                return record
            put = put.rechained() if isinstance(put, ChainedPut) else put
        raise Unavailable("the audit log is busy; try again")

    def entry(
        self, tenant_id: str | None, actor: Actor, action: str, target: str, *,
        before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
    ) -> tuple[AuditRecord, dict[str, Any]]:
        """A record and its conditional Put, for a ``TransactWriteItems`` with the
        change it describes: both are written, or neither. The Put follows the chain's
        head as read now; ``write_together`` places it again if another writer got there first."""
        now = self._clock()
        record = AuditRecord(
            id=f"aud_{secrets.token_hex(10)}", at=iso(now), tenant_id=tenant_id, action=action,
            target=target, actor=actor, before=scrub(before), after=scrub(after),
        )
        partition, doc = _partition(tenant_id), record.model_dump_json()
        expires_at = int((now + self._retention).timestamp())

        def place() -> ChainedPut:
            item = chained_item(partition, action, doc, self._chain.head(partition), expires_at)
            return ChainedPut({"Put": {"TableName": self._table, "Item": to_item(item),
                                       "ConditionExpression": "attribute_not_exists(pk)"}}, place)

        return record, place()

    def verify(self, tenant_id: str | None) -> VerificationReport:
        """Walk the tenant's (or the platform's) chain oldest first: the first break, if any."""
        return verify(self._chain, _partition(tenant_id), int(self._clock().timestamp()))

    def list(self, tenant_id: str | None, *, limit: int = 50, before: str | None = None,
             action: str | None = None) -> AuditPage:
        """Newest first; ``before`` is a cursor from the previous page."""
        if before is not None and not CURSOR.fullmatch(before):
            raise BadPayload("cursor is not one this API returned")
        condition = "pk = :p" + (" AND sk < :before" if before else "")
        values = {":p": _partition(tenant_id)} | ({":before": before} if before else {})
        kwargs: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": condition,
                                  "ScanIndexForward": False, "Limit": limit + 1}
        if action:
            kwargs |= {"FilterExpression": "#a = :a", "ExpressionAttributeNames": {"#a": "action"}}
            values[":a"] = action
        kwargs["ExpressionAttributeValues"] = to_item(values)
        found: list[tuple[str, AuditRecord]] = []
        for _ in range(MAX_PAGES_PER_CALL):  # a rare action must not scan years in one request
            result = self._db.query(**kwargs)
            found += [(str(item["sk"]), AuditRecord.model_validate_json(item["doc"]))
                      for item in map(from_item, result.get("Items", []))]
            last = result.get("LastEvaluatedKey")
            if last is None or len(found) > limit:
                break
            kwargs["ExclusiveStartKey"] = last
        page = found[:limit]
        if len(found) > limit:
            return AuditPage(records=[r for _, r in page], next_cursor=page[-1][0])
        # fewer than asked: either the end, or the scan budget ran out (carry on from there)
        return AuditPage(records=[r for _, r in page], next_cursor=from_item(last)["sk"] if last else None)


def _partition(tenant_id: str | None) -> str:
    return PLATFORM_AUDIT if tenant_id is None else TenantKeys(tenant_id).audit_partition()


def scrub(view: dict[str, Any] | None) -> dict[str, Any] | None:
    """``view`` with any plain value under a secret-sounding key replaced."""
    if view is None:
        return None
    return {k: _scrub_value(k, v) for k, v in view.items()}


def _scrub_value(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_value(key, v) for v in value]
    if isinstance(value, str) and any(word in key.lower() for word in SECRET_WORDS):
        return REDACTED
    return value
