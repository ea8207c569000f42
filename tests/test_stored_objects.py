"""Objects an AWS service stores for a channel (SES raw MIME): an S3 put under
inbound/<tenant>/<channel>/ fires the handler, which ingests it like a webhook
through the channel's ``switchboard_channel_parse_object`` hook."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.hub import Hub
from chalicelib.storage.payloads import target_of
from chalicelib.tenancy.tenants import PluginSetting
from tests.conftest import Pipeline, bucket_keys, table_items
from tests.probe_plugin import ProbeChannel, spec
from tests.sealed_docs import doc_of, opened_items
from tools.local.demo import DemoTenant


@pytest.fixture
def probe(hub: Hub, demo: DemoTenant) -> None:
    hub.registry.add(ProbeChannel())
    tenant = hub.tenants.get("demo")
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"probe": PluginSetting()}}))


def put(hub: Hub, key: str, body: bytes) -> None:
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=key, Body=body)


@pytest.mark.usefixtures("probe")
def test_an_s3_put_is_ingested_threaded_and_delivered(hub: Hub, object_pump: Any, pipeline: Pipeline) -> None:
    key = "inbound/demo/probe/0001"
    put(hub, key, json.dumps([spec("mail-1", subject="Invoice")]).encode())
    assert object_pump.poll_once() == 1
    [inbound] = table_items(hub, "inbound")
    assert doc_of(hub, inbound)["raw_payload_ref"] == f"s3://{hub.settings.bucket}/{key}"
    assert "raw" not in inbound, "the object is the raw payload: not copied"
    pipeline.drain()
    [message] = opened_items(hub, table_items(hub, "message"))
    assert message["subject"] == "Invoice"


@pytest.mark.usefixtures("probe")
def test_the_same_object_twice_stores_once(hub: Hub, object_pump: Any) -> None:
    body = json.dumps([spec("mail-1")]).encode()
    put(hub, "inbound/demo/probe/a", body)
    put(hub, "inbound/demo/probe/b", body)  # SES retried: a second object, same message
    object_pump.poll_once()
    assert len(table_items(hub, "inbound")) == 1


@pytest.mark.usefixtures("probe")
def test_an_unparseable_object_is_quarantined(hub: Hub, object_pump: Any) -> None:
    put(hub, "inbound/demo/probe/bad", b"not json")
    object_pump.poll_once()
    assert table_items(hub, "inbound") == []
    assert len(bucket_keys(hub, "quarantine/demo/probe/")) == 1


@pytest.mark.usefixtures("probe")
@pytest.mark.parametrize("key", ["inbound/nobody/probe/x", "inbound/demo/nochannel/x", "inbound/demo/web/x"])
def test_objects_for_unknown_tenants_or_channels_are_left_alone(hub: Hub, object_pump: Any, key: str) -> None:
    put(hub, key, json.dumps([spec("m")]).encode())
    object_pump.poll_once()  # no exception: logged, object kept
    assert table_items(hub, "inbound") == []
    assert key in bucket_keys(hub, "inbound/")


@pytest.mark.parametrize(
    ("key", "target"),
    [("inbound/acme/email/abc", ("acme", "email")), ("inbound/acme/email/a/b/c", ("acme", "email")),
     ("inbound/Acme/email/x", None), ("inbound/acme/email/", None), ("raw/acme/email/x", None),
     ("inbound/acme", None)],
)
def test_object_keys_name_tenant_and_channel(key: str, target: tuple[str, str] | None) -> None:
    assert target_of(key) == target
