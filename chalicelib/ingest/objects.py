"""Objects an AWS service stores for a channel: S3 "Object Created" → ingest.

SES receipt rules write raw MIME to ``inbound/<tenant>/<channel>/<anything>`` in
the payload bucket; EventBridge announces each new object (``chalice package``
cannot wire ``on_s3_event`` to a bucket in the same stack, so the bucket sends
events to EventBridge and a rule invokes the handler). Processing is
idempotent: messages are de-duplicated by their ids, so a repeated event or a
re-put object stores nothing new.

SES puts objects without tags, so the bucket's retention rules (by tag) would
not expire them: the ingestor tags each with the tenant's retention for raw
payloads (never longer than its message retention) before parsing it, and
objects that cannot be routed (unknown tenant or channel, a key outside
``inbound/<tenant>/<channel>/``) with the deployment's default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from switchboard_sdk import IngestReport, NotFound, StoredObject

from ..logs import log_event
from ..storage.payloads import target_of
from .ingestor import Ingestor

log = logging.getLogger(__name__)


class StoredObjectHandler:
    def __init__(self, ingestor: Ingestor, s3: Any, clock: Callable[[], datetime]) -> None:
        self._ingestor = ingestor
        self._s3 = s3
        self._clock = clock

    def process(self, event: dict[str, Any]) -> IngestReport | None:
        """Handle one EventBridge "Object Created" event; ``None`` when it is not ours."""
        detail = event.get("detail") or {}
        bucket, key = (detail.get("bucket") or {}).get("name", ""), (detail.get("object") or {}).get("key", "")
        target = target_of(key)
        if target is None:
            log_event(log, "object.ignored", level=logging.WARNING, bucket=bucket, key=key)
            self._ingestor.expire_unrouted(f"s3://{bucket}/{key}")
            return None
        stored = self._s3.get_object(Bucket=bucket, Key=key)
        obj = StoredObject(
            tenant_id=target[0], channel=target[1], bucket=bucket, key=key, body=stored["Body"].read(),
            received_at=self._clock(), metadata=dict(stored.get("Metadata") or {}),
        )
        try:
            return self._ingestor.handle_object(obj)
        except NotFound as err:  # unknown tenant or channel: keep the object, say so once
            log_event(log, "object.unroutable", level=logging.WARNING, key=key, reason=err.message)
            return None
