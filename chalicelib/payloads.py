"""Raw payloads kept in S3: large bodies referenced by inbound records, and
quarantined ones (verified but unparseable) kept with the reason.

Object keys derive from the tenant, channel and a SHA-256 of the body, so a
provider retry of the same body overwrites the same object instead of adding one.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from .keys import TenantKeys


class PayloadArchive:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def keep_raw(self, keys: TenantKeys, channel: str, body: bytes, received_at: datetime) -> str:
        """Store a body too large to inline; returns its ``s3://`` reference."""
        key = f"raw/{keys.tenant_id}/{channel}/{received_at:%Y/%m/%d}/{_digest(body)}"
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body)
        return f"s3://{self._bucket}/{key}"

    def keep_attachment(self, keys: TenantKeys, channel: str, content: bytes, content_type: str | None) -> str:
        """Store an attachment's bytes; returns its ``s3://`` reference."""
        key = f"attachments/{keys.tenant_id}/{channel}/{_digest(content)}"
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=content,
                            ContentType=(content_type or "application/octet-stream")[:200])
        return f"s3://{self._bucket}/{key}"

    def quarantine(
        self, keys: TenantKeys, channel: str, body: bytes, reason: str, received_at: datetime,
        content_type: str,
    ) -> str:
        """Keep a verified-but-unparseable body with the reason; returns the quarantine id."""
        quarantine_id = f"q_{_digest(body)[:32]}"
        key = f"quarantine/{keys.tenant_id}/{channel}/{received_at:%Y/%m/%d}/{quarantine_id}"
        self._s3.put_object(
            Bucket=self._bucket, Key=key, Body=body, ContentType=content_type[:200],
            Metadata={"reason": _ascii(reason)[:1000], "channel": channel,
                      "received-at": received_at.isoformat()},
        )
        return quarantine_id


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _ascii(text: str) -> str:
    # S3 user metadata must be ASCII
    return text.encode("ascii", "backslashreplace").decode()
