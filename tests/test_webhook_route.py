"""``/hooks/{tenant}/{channel}``: every way a provider request can be wrong, and
what the hub answers and keeps for each."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from chalice.test import Client
from pydantic import BaseModel, ConfigDict
from switchboard_sdk import (
    CONTRACT_VERSION,
    InboundMessage,
    IngestReport,
    PluginInfo,
    StoredObject,
    Unavailable,
    VerificationFailed,
    WebhookRequest,
    WebhookResponse,
    hookimpl,
)

import app as app_module
from chalicelib.hub import Hub
from chalicelib.ingest.ingestor import PARSE_CRASHED
from chalicelib.tenancy.tenants import PluginSetting
from tests.conftest import bucket_keys, signed_web_headers, table_items, web_message
from tests.helpers import limit_webhook_rate
from tests.sealed_docs import doc_of, raw_of
from tools.local.demo import DemoTenant, new_whsec


@pytest.fixture
def client(demo: DemoTenant) -> Any:
    with Client(app_module.app) as test_client:
        yield test_client


def post(client: Any, tenant: str, body: bytes, headers: dict[str, str], channel: str = "web") -> Any:
    return client.http.post(f"/hooks/{tenant}/{channel}", body=body, headers=headers)


def error_code(response: Any) -> str:
    body = json.loads(response.body)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert "Traceback" not in response.body.decode()
    return str(body["error"]["code"])


def test_accepts_a_signed_message_with_one_inbound_record(client: Any, demo: DemoTenant, hub: Hub) -> None:
    body = web_message()
    response = post(client, "demo", body, signed_web_headers(demo.web_secret, body))
    assert response.status_code == 202
    assert json.loads(response.body)["status"] == "accepted"
    [inbound] = table_items(hub, "inbound")
    assert doc_of(hub, inbound)["provider_message_id"] == "c-1"
    assert raw_of(hub, inbound) == body  # small bodies ride inline (sealed): still one write


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda h: h | {"webhook-signature": "v1,AAAA"}, id="wrong-signature"),
        pytest.param(lambda h: {k: v for k, v in h.items() if k != "webhook-signature"}, id="missing-signature"),
        pytest.param(lambda h: {k: v for k, v in h.items() if k != "webhook-timestamp"}, id="missing-timestamp"),
        pytest.param(lambda h: h | {"webhook-id": "other"}, id="signature-for-another-id"),
    ],
)
def test_unverifiable_requests_get_401_and_store_nothing(
    client: Any, demo: DemoTenant, hub: Hub, mangle: Any
) -> None:
    body = web_message()
    response = post(client, "demo", body, mangle(signed_web_headers(demo.web_secret, body)))
    assert response.status_code == 401
    assert error_code(response) == "verification_failed"
    assert table_items(hub, "inbound") == []
    assert bucket_keys(hub) == []


@pytest.mark.parametrize("age", [-301, 301, 3600])
def test_expired_or_future_timestamps_get_401(client: Any, demo: DemoTenant, hub: Hub, age: int) -> None:
    body = web_message()
    headers = signed_web_headers(demo.web_secret, body, at=int(time.time()) - age)
    assert post(client, "demo", body, headers).status_code == 401
    assert table_items(hub, "inbound") == []


def test_a_secret_of_another_tenant_does_not_verify(client: Any, demo: DemoTenant, hub: Hub) -> None:
    body = web_message()
    assert post(client, "demo", body, signed_web_headers(new_whsec(), body)).status_code == 401


def test_a_replay_is_stored_once_and_answered_the_same(client: Any, demo: DemoTenant, hub: Hub) -> None:
    body = web_message()
    first = post(client, "demo", body, signed_web_headers(demo.web_secret, body, "wh_1"))
    # a provider retry re-signs with a fresh timestamp; a resend may carry a new webhook-id
    again = post(client, "demo", body, signed_web_headers(demo.web_secret, body, "wh_1"))
    resend = post(client, "demo", body, signed_web_headers(demo.web_secret, body, "wh_2"))
    assert first.status_code == again.status_code == resend.status_code == 202
    assert first.body == again.body == resend.body
    assert len(table_items(hub, "inbound")) == 1


@pytest.mark.usefixtures("atomic_dynamodb")
def test_concurrent_duplicates_store_one_message(demo: DemoTenant, hub: Hub) -> None:
    body = web_message()
    raw = WebhookRequest("demo", "web", "POST", "http://testserver/hooks/demo/web",
                         signed_web_headers(demo.web_secret, body), {}, body, hub.clock())
    answers: list[int] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        barrier.wait()
        answers.append(hub.ingestor.handle(raw).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == [202] * 8
    assert len(table_items(hub, "inbound")) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"{not json", "JSON", id="invalid-json"),
        pytest.param(b"[1, 2]", "object", id="not-an-object"),
        pytest.param(json.dumps({"visitor_id": "v"}).encode(), "text", id="missing-fields"),
        pytest.param(json.dumps({"visitor_id": 7, "text": ["x"], "client_message_id": "c"}).encode(),
                     "visitor_id", id="wrong-types"),
        pytest.param(json.dumps({"visitor_id": "v", "text": "t", "client_message_id": "c",
                                 "phone": "call me"}).encode(), "phone", id="bad-phone"),
    ],
)
def test_verified_but_unparseable_bodies_are_quarantined_not_lost(
    client: Any, demo: DemoTenant, hub: Hub, body: bytes, reason: str
) -> None:
    response = post(client, "demo", body, signed_web_headers(demo.web_secret, body))
    assert response.status_code == 202
    answer = json.loads(response.body)
    assert answer["status"] == "quarantined"
    assert reason in answer["error"]["message"]
    [key] = bucket_keys(hub, "quarantine/demo/web/")
    kept = hub.aws.s3.get_object(Bucket=hub.settings.bucket, Key=key)
    assert kept["Body"].read() == body
    assert reason in kept["Metadata"]["reason"]
    assert table_items(hub, "inbound") == []


def test_oversized_bodies_get_413(client: Any, demo: DemoTenant, hub: Hub) -> None:
    body = web_message("x" * (hub.settings.max_body_bytes + 1))
    response = post(client, "demo", body, signed_web_headers(demo.web_secret, body))
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert table_items(hub, "inbound") == []


def test_bodies_over_the_inline_limit_are_kept_in_s3(client: Any, demo: DemoTenant, hub: Hub) -> None:
    body = web_message("y" * (hub.settings.inline_raw_bytes + 10))
    assert post(client, "demo", body, signed_web_headers(demo.web_secret, body)).status_code == 202
    [inbound] = table_items(hub, "inbound")
    ref = doc_of(hub, inbound)["raw_payload_ref"]
    assert ref.startswith(f"s3://{hub.settings.bucket}/raw/demo/web/")
    assert "raw" not in inbound


@pytest.mark.parametrize(
    ("tenant", "channel"),
    [("nobody", "web"), ("demo", "nochannel"), ("demo", "webhook"), ("Bad_Tenant", "web")],
    ids=["unknown-tenant", "unknown-channel", "connector-is-not-a-channel", "invalid-tenant-id"],
)
def test_unknown_targets_get_404(client: Any, demo: DemoTenant, tenant: str, channel: str) -> None:
    body = web_message()
    response = post(client, tenant, body, signed_web_headers(demo.web_secret, body), channel)
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def _reconfigure(hub: Hub, demo: DemoTenant, **changes: Any) -> None:
    tenant = hub.tenants.get(demo.tenant_id)
    hub.tenants.put(tenant.model_copy(update=changes))


def test_a_disabled_channel_gets_404(client: Any, demo: DemoTenant, hub: Hub) -> None:
    disabled = PluginSetting(enabled=False, config={"secrets": [demo.web_secret]})
    plugins = hub.tenants.get("demo").plugins | {"web": disabled}
    _reconfigure(hub, demo, plugins=plugins)
    body = web_message()
    assert post(client, "demo", body, signed_web_headers(demo.web_secret, body)).status_code == 404
    assert table_items(hub, "inbound") == []


def test_a_suspended_tenant_gets_403(client: Any, demo: DemoTenant, hub: Hub) -> None:
    _reconfigure(hub, demo, status="suspended")
    body = web_message()
    response = post(client, "demo", body, signed_web_headers(demo.web_secret, body))
    assert response.status_code == 403
    assert table_items(hub, "inbound") == []


def test_rotated_secrets_both_verify(client: Any, demo: DemoTenant, hub: Hub) -> None:
    new_secret = new_whsec()
    plugins = hub.tenants.get("demo").plugins | {
        "web": PluginSetting(config={"secrets": [new_secret, demo.web_secret]})
    }
    _reconfigure(hub, demo, plugins=plugins)
    for secret, client_id in ((new_secret, "c-new"), (demo.web_secret, "c-old")):
        body = web_message(client_id=client_id)
        assert post(client, "demo", body, signed_web_headers(secret, body)).status_code == 202
    assert len(table_items(hub, "inbound")) == 2


def test_get_on_a_channel_without_handshake_gets_405(client: Any, demo: DemoTenant) -> None:
    response = client.http.get("/hooks/demo/web")
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"


def test_form_and_xml_bodies_reach_the_plugin_not_a_415(client: Any, demo: DemoTenant, hub: Hub) -> None:
    body = b"a=1&b=2"
    headers = signed_web_headers(demo.web_secret, body) | {"content-type": "application/x-www-form-urlencoded"}
    response = post(client, "demo", body, headers)
    assert response.status_code == 202  # verified, then quarantined: the web channel speaks JSON
    assert json.loads(response.body)["status"] == "quarantined"


def test_unexpected_errors_are_a_generic_500_without_trace(client: Any, demo: DemoTenant, hub: Hub) -> None:
    # a tenant record whose stored plugin config no longer validates (written around the checks)
    from chalicelib.storage.items import to_item
    from chalicelib.storage.keys import tenant_record_key

    tenant = hub.tenants.get("demo")
    broken = tenant.model_copy(update={"plugins": tenant.plugins | {"web": PluginSetting(config={"secrets": []})}})
    item = tenant_record_key("demo") | to_item({"type": "tenant", "doc": broken.model_dump_json()})
    hub.aws.dynamodb.put_item(TableName=hub.settings.table_name, Item=item)
    hub.tenants.forget("demo")
    body = web_message()
    response = post(client, "demo", body, signed_web_headers(demo.web_secret, body))
    assert response.status_code == 500
    assert error_code(response) == "plugin_config_error"
    assert demo.web_secret not in response.body.decode()


def test_a_tenant_over_its_webhook_rate_gets_429_and_nothing_is_stored(
    client: Any, demo: DemoTenant, hub: Hub
) -> None:
    limit_webhook_rate(hub, 2)
    answers = []
    for n in range(3):
        body = web_message(f"burst {n}", client_id=f"burst-{n}")
        answers.append(post(client, "demo", body, signed_web_headers(demo.web_secret, body, msg_id=f"wh_b{n}")))
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert error_code(answers[2]) == "rate_limited"
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert len(table_items(hub, "inbound")) == 2, "the refused one was not stored: the provider retries it"
    forged = web_message("forged", client_id="forged")
    # the budget is spent, so a 429 here would mean the limiter ran first
    forged_answer = post(client, "demo", forged, signed_web_headers(new_whsec(), forged))
    assert forged_answer.status_code == 401, "signatures are checked before the limiter: forgeries spend nothing"


# -- a plugin whose parse crashes: the verified body is quarantined, never a 500 ---------------


class CrashingChannel:
    """A channel that verifies requests, then fails to read them with ``error``
    (``None``: it hands back something that is not a list of messages)."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="crashy", kind="channel", config_model=CrashyConfig, contract_version=CONTRACT_VERSION)

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> bool:
        if request.header("x-crashy") != "genuine":
            raise VerificationFailed("not from the provider")
        return True

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> list[InboundMessage]:
        return self._read()

    @hookimpl
    def switchboard_channel_parse_object(self, obj: StoredObject, config: BaseModel) -> list[InboundMessage]:
        return self._read()

    def _read(self) -> Any:
        if self.error is None:
            return "not a list of messages"
        raise self.error

    @hookimpl
    def switchboard_channel_respond(
        self, request: WebhookRequest, config: BaseModel, report: IngestReport
    ) -> WebhookResponse:
        return WebhookResponse(200, "OK", {"Content-Type": "text/plain"})  # what this provider expects


class CrashyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


def crashy(hub: Hub, error: BaseException | None) -> None:
    hub.registry.add(CrashingChannel(error))
    tenant = hub.tenants.get("demo")
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"crashy": PluginSetting()}}))


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(AttributeError("'NoneType' object has no attribute 'text' (ada@example.com)"), id="bug"),
        pytest.param(ZeroDivisionError("division by zero"), id="arithmetic"),
        pytest.param(RecursionError("maximum recursion depth exceeded"), id="recursion"),
        pytest.param(None, id="not-a-list"),
    ],
)
def test_a_parse_that_crashes_quarantines_the_body_and_answers_as_usual(
    client: Any, demo: DemoTenant, hub: Hub, error: BaseException | None, caplog: pytest.LogCaptureFixture
) -> None:
    crashy(hub, error)
    body = b'{"what": "the provider sent"}'
    response = client.http.post("/hooks/demo/crashy", body=body,
                                headers={"x-crashy": "genuine", "content-type": "application/json"})
    assert (response.status_code, response.body) == (200, b"OK"), "the provider's normal answer: no retry storm"
    assert table_items(hub, "inbound") == []
    [key] = bucket_keys(hub, "quarantine/demo/crashy/")
    kept = hub.aws.s3.get_object(Bucket=hub.settings.bucket, Key=key)
    assert kept["Body"].read() == body
    assert kept["Metadata"]["reason"] == PARSE_CRASHED, "a generic reason: the error may quote the payload"
    [logged] = [json.loads(r.getMessage()) for r in caplog.records if "ingest.parse_crashed" in r.getMessage()]
    assert logged["error_type"] == ("PluginConfigError" if error is None else type(error).__name__)
    assert "ada@example.com" not in caplog.text


def test_a_deliberate_error_from_parse_keeps_its_answer(client: Any, demo: DemoTenant, hub: Hub) -> None:
    crashy(hub, Unavailable("the provider's media API is down"))
    response = client.http.post("/hooks/demo/crashy", body=b"{}", headers={"x-crashy": "genuine"})
    assert response.status_code == 503
    assert error_code(response) == "unavailable"
    assert bucket_keys(hub, "quarantine/") == []


def test_a_parse_of_a_stored_object_that_crashes_quarantines_it(demo: DemoTenant, hub: Hub) -> None:
    crashy(hub, KeyError("Content-Type"))
    obj = StoredObject(tenant_id="demo", channel="crashy", bucket=hub.settings.bucket, key="inbound/demo/crashy/1",
                       body=b"raw mime", received_at=hub.clock(), metadata={})
    hub.aws.s3.put_object(Bucket=hub.settings.bucket, Key=obj.key, Body=obj.body)
    report = hub.ingestor.handle_object(obj)
    assert report.quarantined
    [key] = bucket_keys(hub, "quarantine/demo/crashy/")
    assert hub.aws.s3.get_object(Bucket=hub.settings.bucket, Key=key)["Body"].read() == b"raw mime"
