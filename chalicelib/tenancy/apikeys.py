"""API keys: issued once, stored as a hash, scoped, expiring, revocable.

A key reads ``sbk_<key id>_<secret>``. The key id finds its record with one
GetItem (``APIKEY#<id>``); only a SHA-256 of the secret is kept, so a table dump
yields no usable key. Each key belongs to one tenant (its tenant is the caller's
tenant on every request — never the URL) or, for ``platform-admin`` keys, to the
platform, which owns no tenant data. Keys are listed per owner through GSI1.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from switchboard_sdk import Conflict, InvalidInput, NotFound, Unauthorized

from ..storage.aws import write_together
from ..storage.conventions import iso
from ..storage.ids import random_token
from ..storage.items import from_item, to_item
from ..storage.keys import KEY_ID, PLATFORM_KEY_INDEX, TenantKeys, api_key_record_key, api_key_sort_key

KEY_PREFIX = "sbk"
# reply: post replies and notes on tickets (an integration answering customers), nothing else
Scope = Literal["platform-admin", "tenant-admin", "agent", "read-only", "reply"]
TENANT_SCOPES: frozenset[str] = frozenset({"tenant-admin", "agent", "read-only", "reply"})
CLEANUP_AFTER_EXPIRY = timedelta(days=30)  # expired records linger, then TTL removes them
MAX_LIFETIME = timedelta(days=5 * 366)
_REFUSED = "a valid API key is required: Authorization: Bearer sbk_..."


class ApiKey(BaseModel):
    """An authenticated caller: which key, whose, allowed to do what."""

    model_config = ConfigDict(frozen=True)
    key_id: str
    tenant_id: str | None  # None: a platform key
    scopes: list[Scope]
    name: str = ""

    def allows(self, scopes: set[str] | frozenset[str]) -> bool:
        return bool(scopes & set(self.scopes))


class ApiKeyInfo(BaseModel):
    """What listing a key shows: never the secret, nor its hash."""

    key_id: str
    prefix: str
    name: str
    scopes: list[Scope]
    created_at: str
    created_by: str
    expires_at: str | None = None
    revoked_at: str | None = None


class ApiKeys:
    def __init__(self, client: Any, table_name: str, clock: Callable[[], datetime]) -> None:
        self._db = client
        self._table = table_name
        self._clock = clock

    def create(
        self, tenant_id: str | None, scopes: list[Scope], *, name: str = "", created_by: str = "",
        expires_at: datetime | None = None, audit: Callable[[ApiKeyInfo], dict[str, Any]] | None = None,
    ) -> tuple[ApiKeyInfo, str]:
        """Issue a key for a tenant (or the platform when ``tenant_id`` is None);
        returns its listing and the plain key, which is shown once and never stored.
        ``audit`` makes the record of it, written in the same transaction."""
        _check_scopes(tenant_id, scopes)
        now = self._clock()
        if expires_at is not None and not now < expires_at <= now + MAX_LIFETIME:
            message = f"must be in the future and within {MAX_LIFETIME.days} days"
            raise InvalidInput(f"expires_at {message}", [{"field": "expires_at", "message": message}])
        key_id, secret = secrets.token_hex(8), random_token(24)
        info = ApiKeyInfo(key_id=key_id, prefix=f"{KEY_PREFIX}_{key_id}", name=name, scopes=scopes,
                          created_at=iso(now), created_by=created_by,
                          expires_at=iso(expires_at) if expires_at else None)
        item = api_key_record_key(key_id) | to_item(info.model_dump(exclude={"expires_at"}) | {
            "type": "apikey", "tenant_id": tenant_id, "secret_sha256": _digest(secret), "valid_until": info.expires_at,
            "gsi1pk": _index(tenant_id), "gsi1sk": api_key_sort_key(info.created_at, key_id),
            "expires_at": int((expires_at + CLEANUP_AFTER_EXPIRY).timestamp()) if expires_at else None,
        })
        put = {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
        if not all(write_together(self._db, [put] + ([audit(info)] if audit else []))):
            raise Conflict("key id collision; try again")  # 64 random bits: never in practice
        return info, f"{KEY_PREFIX}_{key_id}_{secret}"

    def list(self, tenant_id: str | None) -> list[ApiKeyInfo]:
        """The owner's keys, oldest first (revoked and expired ones included, marked)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": to_item({":p": _index(tenant_id)}),
        }
        keys: list[ApiKeyInfo] = []
        while True:
            result = self._db.query(**kwargs)
            keys += [_info(from_item(i)) for i in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                return keys
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]

    def revoke(self, tenant_id: str | None, key_id: str,
               audit: Callable[[ApiKeyInfo], dict[str, Any]] | None = None) -> ApiKeyInfo:
        """Revoke one of the owner's keys at once; another owner's key, or one
        already revoked, is :class:`NotFound`. ``audit``: as for :meth:`create`."""
        record = self._owned(tenant_id, key_id)
        revoked = record.model_copy(update={"revoked_at": iso(self._clock())})
        update = {"Update": {
            "TableName": self._table, "Key": api_key_record_key(key_id),
            "UpdateExpression": "SET revoked_at = :now",
            "ConditionExpression": "#o = :owner AND attribute_not_exists(revoked_at)",
            "ExpressionAttributeNames": {"#o": "gsi1pk"},
            "ExpressionAttributeValues": to_item({":now": revoked.revoked_at, ":owner": _index(tenant_id)}),
        }}
        if not all(write_together(self._db, [update] + ([audit(revoked)] if audit else []))):
            raise NotFound("no such API key")
        return revoked

    def _owned(self, tenant_id: str | None, key_id: str) -> ApiKeyInfo:
        item = self._db.get_item(TableName=self._table, Key=api_key_record_key(key_id), ConsistentRead=True).get(
            "Item") if KEY_ID.fullmatch(key_id) else None
        record = from_item(item) if item else None
        if record is None or record.get("gsi1pk") != _index(tenant_id) or record.get("revoked_at"):
            raise NotFound("no such API key")
        return _info(record)

    def authenticate(self, authorization: str | None) -> ApiKey:
        """``Authorization: Bearer sbk_...`` → its key; :class:`Unauthorized` when
        malformed, unknown, wrong, revoked or expired (one message for all)."""
        scheme, _, token = (authorization or "").partition(" ")
        prefix, _, rest = token.strip().partition("_")
        key_id, _, secret = rest.partition("_")
        if scheme.lower() != "bearer" or prefix != KEY_PREFIX or not KEY_ID.fullmatch(key_id) or not secret:
            raise Unauthorized(_REFUSED)
        item = self._db.get_item(TableName=self._table, Key=api_key_record_key(key_id)).get("Item")
        record = from_item(item) if item else None
        if record is None or not hmac.compare_digest(record["secret_sha256"], _digest(secret)):
            raise Unauthorized(_REFUSED)
        if record.get("revoked_at") or (record.get("valid_until") and record["valid_until"] <= iso(self._clock())):
            raise Unauthorized(_REFUSED)
        return ApiKey(key_id=key_id, tenant_id=record.get("tenant_id"), scopes=record["scopes"],
                      name=record.get("name", ""))


def _check_scopes(tenant_id: str | None, scopes: list[Scope]) -> None:
    if not scopes:
        raise InvalidInput("a key needs at least one scope", [{"field": "scopes", "message": "empty"}])
    platform = tenant_id is None
    if platform != (set(scopes) == {"platform-admin"}):
        message = "platform keys have exactly the platform-admin scope; tenant keys never have it"
        raise InvalidInput(message, [{"field": "scopes", "message": message}])


def _index(tenant_id: str | None) -> str:
    return PLATFORM_KEY_INDEX if tenant_id is None else TenantKeys(tenant_id).api_key_index()


def _info(record: dict[str, Any]) -> ApiKeyInfo:
    fields = {k: v for k, v in record.items() if k in ApiKeyInfo.model_fields and k != "expires_at"}
    return ApiKeyInfo.model_validate(fields | {"expires_at": record.get("valid_until")})


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
