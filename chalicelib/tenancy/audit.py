"""The audit log: one append-only record per admin action.

Records live in the tenant's own partition (``T#<t>#AUDIT``, sort key
``<time>#<random>``), so a tenant admin can read their tenant's log and nothing
else; platform actions that concern no tenant go to ``PLATFORM#AUDIT``. Every
write is conditional on the key being new and no code path updates or deletes a
record (customer erasure leaves the audit log alone: records name ids, not
personal data). Records expire by TTL after ``retention_days`` (3 years by default).

Callers pass *redacted* before/after views; as a second line of defence any
value under a key that names a secret is replaced here too.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from switchboard_sdk import BadPayload

from ..storage.conventions import iso
from ..storage.items import from_item, to_item
from ..storage.keys import PLATFORM_AUDIT, TenantKeys, audit_sort_key

DEFAULT_RETENTION_DAYS = 3 * 365 + 1
SECRET_WORDS = ("secret", "token", "password", "api_key", "aes_key", "signing_key")
REDACTED = "[redacted]"
MAX_PAGES_PER_CALL = 10


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

    def record(
        self, tenant_id: str | None, actor: Actor, action: str, target: str, *,
        before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """Append one record on its own (``tenant_id`` None: a platform-wide action)."""
        record, put = self.entry(tenant_id, actor, action, target, before=before, after=after)
        self._db.put_item(**put["Put"])
        return record

    def entry(
        self, tenant_id: str | None, actor: Actor, action: str, target: str, *,
        before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
    ) -> tuple[AuditRecord, dict[str, Any]]:
        """A record and its conditional Put, for a ``TransactWriteItems`` with the
        change it describes: both are written, or neither."""
        now = self._clock()
        record = AuditRecord(
            id=f"aud_{secrets.token_hex(10)}", at=iso(now), tenant_id=tenant_id, action=action,
            target=target, actor=actor, before=scrub(before), after=scrub(after),
        )
        item = {"pk": _partition(tenant_id), "sk": audit_sort_key(record.at, record.id), "type": "audit",
                "action": action, "doc": record.model_dump_json(),
                "expires_at": int((now + self._retention).timestamp())}
        return record, {"Put": {"TableName": self._table, "Item": to_item(item),
                                "ConditionExpression": "attribute_not_exists(pk)"}}

    def list(self, tenant_id: str | None, *, limit: int = 50, before: str | None = None,
             action: str | None = None) -> AuditPage:
        """Newest first; ``before`` is a cursor from the previous page."""
        if before is not None and (len(before) > 100 or "#aud_" not in before):
            raise BadPayload("cursor is not one this API returned")
        condition = "pk = :p" + (" AND sk < :before" if before else "")
        values = {":p": _partition(tenant_id)} | ({":before": before} if before else {})
        kwargs: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": condition,
                                  "ScanIndexForward": False, "Limit": limit + 1}
        if action:
            kwargs |= {"FilterExpression": "#a = :a", "ExpressionAttributeNames": {"#a": "action"}}
            values[":a"] = action
        kwargs["ExpressionAttributeValues"] = to_item(values)
        records: list[AuditRecord] = []
        for _ in range(MAX_PAGES_PER_CALL):  # a rare action must not scan years in one request
            result = self._db.query(**kwargs)
            records += [AuditRecord.model_validate_json(from_item(i)["doc"]) for i in result.get("Items", [])]
            last = result.get("LastEvaluatedKey")
            if last is None or len(records) > limit:
                break
            kwargs["ExclusiveStartKey"] = last
        page = records[:limit]
        if len(records) > limit:
            return AuditPage(records=page, next_cursor=audit_sort_key(page[-1].at, page[-1].id))
        # fewer than asked: either the end, or the scan budget ran out (carry on from there)
        return AuditPage(records=page, next_cursor=from_item(last)["sk"] if last else None)


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
