"""Per-tenant retention: TTLs on what the webhook, the stream and the worker write,
retention tags on what goes to S3, and one bucket lifecycle rule per choice."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.hub import Hub
from chalicelib.pipeline.conversations import ConversationBuilder
from chalicelib.storage.conventions import RETENTION_DAYS, TAG_KEY
from chalicelib.storage.conversations import CUSTOMER_GRACE, IDENTITY_GRACE, LINK_GRACE
from tests.conftest import Pipeline, table_items
from tests.erasure_support import probe_client, send, set_retention
from tests.probe_plugin import spec
from tools.local.demo import DemoTenant
from tools.provision import TEMPLATE

DAY = timedelta(days=1)
SCAN = {"filename": "scan.png", "type": "image/png", "b64": base64.b64encode(b"PNG bytes").decode()}


@pytest.fixture
def probe(hub: Hub, demo: DemoTenant) -> Iterator[Client]:
    with probe_client(hub) as (client, _clock):
        yield client


def epoch(moment: datetime, days: int = 0, seconds: int = 0) -> int:
    return int((moment + timedelta(days=days, seconds=seconds)).timestamp())


def one(hub: Hub, kind: str, **match: Any) -> dict[str, Any]:
    [item] = [i for i in table_items(hub, kind) if all(i.get(k) == v for k, v in match.items())]
    return item


def tag_of(hub: Hub, key: str) -> str | None:
    tags = hub.aws.s3.get_object_tagging(Bucket=hub.settings.bucket, Key=key)["TagSet"]
    return next((t["Value"] for t in tags if t["Key"] == TAG_KEY), None)


def keys_under(hub: Hub, prefix: str) -> list[str]:
    listing = hub.aws.s3.list_objects_v2(Bucket=hub.settings.bucket, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


def test_items_expire_a_message_retention_after_their_newest_message(
    hub: Hub, probe: Client, pipeline: Pipeline
) -> None:
    t0 = hub.clock()  # message retention 90 days, raw 30
    send(probe, spec("m1", email="ada@example.com"))
    pipeline.drain()
    ticket = one(hub, "ticket")
    link = one(hub, "customer_ticket")
    assert one(hub, "inbound")["expires_at"] == epoch(t0, 30)
    assert one(hub, "message")["expires_at"] == epoch(t0, 90)
    assert one(hub, "provider_message")["expires_at"] == epoch(t0, 90)
    assert ticket["expires_at"] == epoch(t0, 90)
    assert link["expires_at"] == ticket["link_expires_at"] == epoch(t0, 90, LINK_GRACE)
    assert one(hub, "customer")["expires_at"] == epoch(t0, 90, CUSTOMER_GRACE)
    assert one(hub, "identity")["expires_at"] == epoch(t0, 90, IDENTITY_GRACE)
    for attempt in table_items(hub, "delivery_log"):  # the log's own 30 days are the shorter
        assert attempt["expires_at"] == epoch(datetime.fromisoformat(attempt["at"]), 30)

    hub.clock.now += 3 * DAY  # type: ignore[attr-defined]
    send(probe, spec("m2", email="ada@example.com"))
    pipeline.drain()
    assert one(hub, "ticket")["expires_at"] == epoch(t0, 93), "activity pushes the ticket out"
    assert one(hub, "customer")["expires_at"] == epoch(t0, 93, CUSTOMER_GRACE)
    assert one(hub, "identity")["expires_at"] == epoch(t0, 93, IDENTITY_GRACE), "refreshed: it fell behind"
    assert one(hub, "customer_ticket") == link, "the link still outlives the ticket: not rewritten"
    assert one(hub, "message", provider_message_id="m1")["expires_at"] == epoch(t0, 90), "messages keep theirs"

    hub.clock.now += 10 * DAY  # type: ignore[attr-defined]
    send(probe, spec("m3", email="ada@example.com"))
    pipeline.drain()
    assert one(hub, "customer_ticket")["expires_at"] == epoch(t0, 103, LINK_GRACE), "pushed out with the ticket"


def test_a_short_message_retention_caps_raw_bodies_and_the_delivery_log(
    hub: Hub, probe: Client, pipeline: Pipeline
) -> None:
    set_retention(hub, message_days=7, raw_days=90)
    t0 = hub.clock()
    send(probe, spec("m1", text="x" * 40_000, attachments_b64=[SCAN]))  # raw body over 32 KB: to S3
    send(probe, {"not": "a spec"})  # quarantined
    pipeline.drain()
    assert one(hub, "inbound")["expires_at"] == epoch(t0, 7), "raw never outlives its message"
    [raw] = keys_under(hub, "raw/demo/")
    [attachment] = keys_under(hub, "attachments/demo/")
    [quarantined] = keys_under(hub, "quarantine/demo/")
    assert (tag_of(hub, raw), tag_of(hub, attachment), tag_of(hub, quarantined)) == ("7", "7", "90")
    attempts = table_items(hub, "delivery_log")
    assert attempts
    assert all(a["expires_at"] == epoch(datetime.fromisoformat(a["at"]), 7) for a in attempts)


def test_objects_are_tagged_with_the_tenants_choices(
    hub: Hub, probe: Client, pipeline: Pipeline, object_pump: Any
) -> None:
    send(probe, spec("m1", text="y" * 40_000, attachments_b64=[SCAN]))
    for key, body in [("inbound/demo/probe/ses-1", json.dumps([spec("m2")])), ("inbound/demo/probe/bad", "{"),
                      ("inbound/nobody/probe/x", "[]"), ("inbound/demo/nochannel/x", "[]"),
                      ("inbound/Not_A_Tenant/x", "[]")]:
        hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=key, Body=body.encode())
    object_pump.poll_once()
    tags = {key: tag_of(hub, key) for prefix in ("raw/", "attachments/", "quarantine/", "inbound/")
            for key in keys_under(hub, prefix)}
    [attachment] = keys_under(hub, "attachments/")
    assert len(tags) == 8  # raw body, attachment, quarantined copy of "bad", five under inbound/
    assert {key: days for key, days in tags.items() if days != "30"} == {attachment: "90"}, (
        "attachments keep the message retention; raw bodies, quarantine and SES objects the raw one; "
        "objects nobody could route the deployment's default (30)")


def test_without_retention_nothing_expires_but_tickets_are_still_linked(hub: Hub) -> None:
    from tests.test_store import EMAIL, inbound

    message = ConversationBuilder(hub.store).absorb(inbound("p1", EMAIL))
    assert message is not None
    assert all("expires_at" not in i for kind in ("message", "ticket", "customer", "identity", "customer_ticket")
               for i in table_items(hub, kind))
    assert one(hub, "customer_ticket")["ticket_id"] == message.ticket_id
    assert one(hub, "ticket")["link_expires_at"] == 0


def lifecycle_rules() -> list[dict[str, Any]]:
    bucket = json.loads(TEMPLATE.read_text())["Resources"]["PayloadBucket"]["Properties"]
    return list(bucket["LifecycleConfiguration"]["Rules"])


def test_the_bucket_expires_each_retention_tag_after_its_days() -> None:
    rules = lifecycle_rules()
    tagged = {rule["TagFilters"][0]["Value"]: rule["ExpirationInDays"] for rule in rules if "TagFilters" in rule}
    assert tagged == {str(days): days for days in RETENTION_DAYS}
    assert all(rule["TagFilters"] == [{"Key": TAG_KEY, "Value": str(rule["ExpirationInDays"])}]
               for rule in rules if "TagFilters" in rule)
    assert any(rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation") for rule in rules)
    # S3 honours the shortest of overlapping expirations: a rule without a tag
    # must never cut a tenant's choice short
    untagged = [rule["ExpirationInDays"] for rule in rules if "TagFilters" not in rule and "ExpirationInDays" in rule]
    assert all(days >= max(RETENTION_DAYS) for days in untagged)


def test_s3_accepts_the_lifecycle_rules(hub: Hub) -> None:
    """moto's CloudFormation creates the bucket without them; the S3 API checks their shape."""
    converted = [_s3_rule(rule) for rule in lifecycle_rules()]
    hub.aws.s3.put_bucket_lifecycle_configuration(Bucket=hub.settings.bucket,
                                                  LifecycleConfiguration={"Rules": converted})
    stored = hub.aws.s3.get_bucket_lifecycle_configuration(Bucket=hub.settings.bucket)["Rules"]
    assert {r["ID"] for r in stored} == {r["Id"] for r in lifecycle_rules()}


def _s3_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape."""
    tags = rule.get("TagFilters") or []
    converted: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"],
                                 "Filter": {"Tag": tags[0]} if tags else {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return converted
