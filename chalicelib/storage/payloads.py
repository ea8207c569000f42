"""Raw payloads kept in S3: large bodies referenced by inbound records, attachments,
and quarantined bodies (verified but unparseable) kept with the reason.

Raw and quarantine keys derive from the tenant, channel and a SHA-256 of the
body, so a provider retry of the same body overwrites the same object instead of
adding one. Attachment keys also carry the message id: two customers sending the
same file get two objects, so erasing one never removes the other's.

Every object is tagged ``retention-days=<n>`` when it is put (objects SES puts
under ``inbound/`` are tagged when they are ingested); the bucket's lifecycle
rules expire each tag value after that many days. Every reference handed out is
an ``s3://`` URL; :meth:`PayloadArchive.forget` deletes referenced objects, but
only the calling tenant's.

With the stack's data key configured (``Settings.kms_key_id``), every object is
put with SSE-KMS under that key and the tenant in the encryption context
(:func:`sse_kms`); objects S3 takes in on its own (SES mail, the widget's
presigned uploads) get the bucket's default, the same key (docs/deploy.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .aws import error_code
from .conventions import object_tagging
from .keys import TenantKeys, valid_tenant_id

# top-level folders whose second path segment is the tenant id
TENANT_FOLDERS = ("raw", "attachments", "inbound", "quarantine")
DELETE_BATCH = 1000  # S3's DeleteObjects limit
INBOUND_PREFIX = "inbound/"  # where an AWS service stores objects for a channel (SES raw MIME)
_KEY = re.compile(r"inbound/(?P<tenant>[^/]+)/(?P<channel>[^/]+)/.+")


def target_of(key: str) -> tuple[str, str] | None:
    """``(tenant, channel)`` an object key under ``inbound/`` is addressed to, or ``None``."""
    match = _KEY.fullmatch(key)
    if match is None or not valid_tenant_id(match["tenant"]):
        return None
    return match["tenant"], match["channel"]


def sse_kms(kms_key_id: str, tenant_id: str) -> dict[str, Any]:
    """``put_object`` arguments that encrypt an object of ``tenant_id`` with ``kms_key_id``
    (SSE-KMS), the tenant in the encryption context; none without a key (the bucket's
    default encryption applies). S3 keeps the context with the object and hands it to KMS
    again on every read. The S3 Bucket Key is off for these objects, so KMS sees (and
    CloudTrail records) each object's tenant rather than the bucket's shared key."""
    if not kms_key_id:
        return {}
    context = json.dumps({"tenant": tenant_id}, separators=(",", ":")).encode()
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id,
            "SSEKMSEncryptionContext": base64.b64encode(context).decode(), "BucketKeyEnabled": False}


class PayloadArchive:
    def __init__(self, s3: Any, bucket: str, kms_key_id: str = "") -> None:
        self._s3 = s3
        self._bucket = bucket
        self._kms_key_id = kms_key_id

    def keep_raw(
        self, keys: TenantKeys, channel: str, body: bytes, received_at: datetime, *, retention_days: int
    ) -> str:
        """Store a body too large to inline; returns its ``s3://`` reference."""
        key = f"raw/{keys.tenant_id}/{channel}/{received_at:%Y/%m/%d}/{_digest(body)}"
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, Tagging=object_tagging(retention_days),
                            **sse_kms(self._kms_key_id, keys.tenant_id))
        return f"s3://{self._bucket}/{key}"

    def keep_attachment(
        self, keys: TenantKeys, channel: str, message_id: str, content: bytes, content_type: str | None,
        *, retention_days: int,
    ) -> str:
        """Store one message's attachment; returns its ``s3://`` reference."""
        key = f"attachments/{keys.tenant_id}/{channel}/{message_id}/{_digest(content)}"
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=content,
                            ContentType=(content_type or "application/octet-stream")[:200],
                            Tagging=object_tagging(retention_days), **sse_kms(self._kms_key_id, keys.tenant_id))
        return f"s3://{self._bucket}/{key}"

    def quarantine(
        self, keys: TenantKeys, channel: str, body: bytes, reason: str, received_at: datetime,
        content_type: str, *, retention_days: int,
    ) -> str:
        """Keep a verified-but-unparseable body with the reason; returns the quarantine id."""
        quarantine_id = f"q_{_digest(body)[:32]}"
        key = f"quarantine/{keys.tenant_id}/{channel}/{received_at:%Y/%m/%d}/{quarantine_id}"
        self._s3.put_object(
            Bucket=self._bucket, Key=key, Body=body, ContentType=content_type[:200],
            Metadata={"reason": _ascii(reason)[:1000], "channel": channel,
                      "received-at": received_at.isoformat()},
            Tagging=object_tagging(retention_days), **sse_kms(self._kms_key_id, keys.tenant_id),
        )
        return quarantine_id

    def set_retention(self, ref: str, retention_days: int) -> bool:
        """Tag an object someone else put (SES mail under ``inbound/``); ``False``
        when ``ref`` is not in this bucket or the object is gone."""
        key = self._key_of(ref)
        if key is None:
            return False
        tag_key, _, value = object_tagging(retention_days).partition("=")
        try:
            self._s3.put_object_tagging(Bucket=self._bucket, Key=key,
                                        Tagging={"TagSet": [{"Key": tag_key, "Value": value}]})
        except Exception as err:
            if error_code(err) != "NoSuchKey":  # deleted meanwhile: nothing left to expire
                raise
            return False
        return True

    def forget(self, keys: TenantKeys, refs: Iterable[str]) -> int:
        """Delete the referenced objects of this tenant; returns how many were asked
        for. References elsewhere (provider URLs, other buckets, other tenants'
        folders) are left alone."""
        owned = sorted({key for key in map(self._key_of, refs) if key and _belongs(key, keys.tenant_id)})
        for start in range(0, len(owned), DELETE_BATCH):
            chunk = owned[start : start + DELETE_BATCH]
            result = self._s3.delete_objects(
                Bucket=self._bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
            errors = result.get("Errors") or []
            if errors:  # raise: the caller's next run finds the references again
                raise RuntimeError(f"{len(errors)} objects were not deleted: {errors[0].get('Code')}")
        return len(owned)

    def _key_of(self, ref: str) -> str | None:
        prefix = f"s3://{self._bucket}/"
        return ref[len(prefix):] if ref.startswith(prefix) and len(ref) > len(prefix) else None


def _belongs(key: str, tenant_id: str) -> bool:
    folder, tenant, rest = [*key.split("/", 2), "", ""][:3]
    return folder in TENANT_FOLDERS and tenant == tenant_id and bool(rest)


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _ascii(text: str) -> str:
    # S3 user metadata must be ASCII
    return text.encode("ascii", "backslashreplace").decode()
