"""The objects the hub puts in the payload bucket are encrypted with the stack's data key
(SSE-KMS) under the tenant's encryption context (issue 15; docs/deploy.md#the-data-key-and-s3),
and read back as before. moto's S3 and KMS, with the key the stack deploys."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from typing import Any

from switchboard_sdk import EventEnvelope

from chalicelib.hub import Hub
from chalicelib.metrics.archive import EventArchive
from chalicelib.storage.keys import TenantKeys
from chalicelib.storage.payloads import PayloadArchive, sse_kms

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


class Recorder:
    """An S3 client that notes the arguments of each ``put_object`` and passes every call on."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3
        self.puts: list[dict[str, Any]] = []

    def put_object(self, **kwargs: Any) -> Any:
        self.puts.append(kwargs)
        return self._s3.put_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


def context_of(put: dict[str, Any]) -> dict[str, str]:
    return dict(json.loads(base64.b64decode(put["SSEKMSEncryptionContext"])))


def key_of(ref: str, bucket: str) -> str:
    assert ref.startswith(f"s3://{bucket}/")
    return ref[len(f"s3://{bucket}/"):]


def test_the_hub_puts_raw_payloads_under_the_stack_key(hub: Hub, outputs: dict[str, str]) -> None:
    s3, bucket = hub.aws.s3, hub.settings.bucket
    assert hub.settings.kms_key_id == outputs["DataKeyArn"] != ""
    ref = hub.ingestor.archive.keep_raw(TenantKeys("acme"), "web", b"x" * 40_000, AT, retention_days=30)
    head = s3.head_object(Bucket=bucket, Key=key_of(ref, bucket))
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == hub.settings.kms_key_id
    assert s3.get_object(Bucket=bucket, Key=key_of(ref, bucket))["Body"].read() == b"x" * 40_000


def test_each_object_names_its_tenant_in_the_encryption_context(hub: Hub) -> None:
    s3 = Recorder(hub.aws.s3)
    bucket, key_id = hub.settings.bucket, hub.settings.kms_key_id
    archive = PayloadArchive(s3, bucket, key_id)
    attachment = archive.keep_attachment(TenantKeys("acme"), "web", "m_1", b"%PDF-1.7", "application/pdf",
                                         retention_days=30)
    archive.quarantine(TenantKeys("globex"), "sms", b"<not xml", "unparseable", AT, "text/xml", retention_days=7)
    assert [context_of(put) for put in s3.puts] == [{"tenant": "acme"}, {"tenant": "globex"}]
    assert all(put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == key_id for put in s3.puts)
    # the Bucket Key is off for these objects: KMS sees (and CloudTrail records) each object's tenant
    assert all(put["BucketKeyEnabled"] is False for put in s3.puts)
    body = hub.aws.s3.get_object(Bucket=bucket, Key=key_of(attachment, bucket))
    assert body["Body"].read() == b"%PDF-1.7"
    assert body["ServerSideEncryption"] == "aws:kms"


def test_without_a_key_the_puts_name_none_and_the_bucket_default_applies(hub: Hub) -> None:
    """A hub built by hand (no kms_key_id) puts plain objects; the deployed bucket still
    encrypts them with the stack key, as it does SES mail and the widget's presigned uploads."""
    assert sse_kms("", "acme") == {}
    s3, bucket = Recorder(hub.aws.s3), hub.settings.bucket
    ref = PayloadArchive(s3, bucket).keep_raw(TenantKeys("acme"), "web", b"plain", AT, retention_days=30)
    assert not any(name.startswith("SSE") or name == "ServerSideEncryption" for name in s3.puts[0])
    head = hub.aws.s3.head_object(Bucket=bucket, Key=key_of(ref, bucket))
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", hub.settings.kms_key_id)


def test_the_event_archive_puts_each_tenants_events_under_its_context(hub: Hub) -> None:
    s3, bucket, key_id = Recorder(hub.aws.s3), hub.settings.bucket, hub.settings.kms_key_id
    events = [EventEnvelope(id=f"e_{tenant}", type="ticket.created", tenant_id=tenant, ticket_id="t_1",
                            occurred_at=AT, data={}) for tenant in ("acme", "globex")]
    keys = EventArchive(s3, bucket, kms_key_id=key_id).put(events, "batch-1")
    assert sorted(context_of(put)["tenant"] for put in s3.puts) == ["acme", "globex"]
    for key in keys:
        got = hub.aws.s3.get_object(Bucket=bucket, Key=key)
        assert (got["ServerSideEncryption"], got["SSEKMSKeyId"]) == ("aws:kms", key_id)
        [line] = gzip.decompress(got["Body"].read()).splitlines()
        assert json.loads(line)["tenant_id"] in key


def test_the_hubs_event_archive_has_the_stack_key(hub: Hub) -> None:
    """The stream's archive is wired with Settings.kms_key_id (chalicelib/hub.py)."""
    s3 = Recorder(hub.aws.s3)
    archive = hub.event_archive
    archive._s3 = s3  # the hub's own instance, its client observed
    archive._retention_days = None  # no tenant record here to read the retention from
    archive.put([EventEnvelope(id="e_1", type="ticket.created", tenant_id="acme", ticket_id="t_1",
                               occurred_at=AT, data={})], "batch-2")
    [put] = s3.puts
    assert (put["SSEKMSKeyId"], context_of(put)) == (hub.settings.kms_key_id, {"tenant": "acme"})
