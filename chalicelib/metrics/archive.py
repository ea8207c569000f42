"""Every event the stream handler builds for connectors, also kept in S3 for Athena.

Layout (Hive partitions; the Glue table in infra/template.json projects them, so no
crawler runs): ``archive/events/tenant_id=<tenant>/dt=<YYYY-MM-DD>/<digest>.json.gz``,
gzip'd newline-delimited JSON, one :class:`~switchboard_sdk.EventEnvelope` a line,
one object per stream batch, tenant and day (``dt``: the event's ``occurred_at`` in
UTC). The object's name is a digest of the batch's records and the events' ids, so a
batch handled again writes the same objects again; a batch Lambda splits differently
when it retries writes the repeated events under another name, so queries count
distinct ``id`` (docs/metrics.md). Objects carry the tenant's message retention as
their ``retention-days`` tag: they hold messages and customers, and expire with them.
With the stack's data key configured they are put with SSE-KMS under it, the tenant in
the encryption context (:func:`chalicelib.storage.payloads.sse_kms`).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

from switchboard_sdk import EventEnvelope

from ..storage.conventions import object_tagging
from ..storage.payloads import sse_kms

PREFIX = "archive/events"


def object_key(tenant_id: str, day: str, batch_id: str, event_ids: Iterable[str]) -> str:
    digest = hashlib.sha256("\n".join([batch_id, *sorted(event_ids)]).encode()).hexdigest()[:32]
    return f"{PREFIX}/tenant_id={tenant_id}/dt={day}/{digest}.json.gz"


def ndjson_gz(events: list[EventEnvelope]) -> bytes:
    """The events, one JSON object a line, gzip'd with no timestamp (same events, same bytes)."""
    text = "".join(event.model_dump_json() + "\n" for event in events)
    return gzip.compress(text.encode(), mtime=0)


class EventArchive:
    def __init__(self, s3: Any, bucket: str, retention_days: Callable[[str], int] | None = None,
                 kms_key_id: str = "") -> None:
        self._s3 = s3
        self._bucket = bucket
        self._retention_days = retention_days
        self._kms_key_id = kms_key_id

    def put(self, events: list[EventEnvelope], batch_id: str) -> list[str]:
        """Write ``events`` (a stream batch's) as one object per tenant and day; their keys."""
        groups: dict[tuple[str, str], list[EventEnvelope]] = {}
        for event in {e.id: e for e in events}.values():
            day = event.occurred_at.astimezone(UTC).date().isoformat()
            groups.setdefault((event.tenant_id, day), []).append(event)
        keys = []
        for (tenant_id, day), members in sorted(groups.items()):
            key = object_key(tenant_id, day, batch_id, (e.id for e in members))
            extra = {"Tagging": object_tagging(self._retention_days(tenant_id))} if self._retention_days else {}
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=ndjson_gz(members),
                                ContentType="application/x-ndjson", **extra, **sse_kms(self._kms_key_id, tenant_id))
            keys.append(key)
        return keys

