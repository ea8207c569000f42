"""Through the local runtime (moto's server, the real pumps, the HTTP app): one
tenant's unprocessable stream record is set aside with its reason, and another
tenant's messages sent right after it are delivered to the demo receiver."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from chalicelib.hub import Hub
from chalicelib.storage.items import to_item
from chalicelib.storage.keys import TenantKeys
from tests.helpers import local_runtime, wait_for
from tools.local import samples
from tools.local.demo import DemoTenant

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, DemoTenant]]:
    with local_runtime(tmp_path_factory.mktemp("state")) as (hub, demo):
        yield hub, demo



def delivered_texts(demo: DemoTenant) -> set[str]:
    with urllib.request.urlopen(f"{demo.receiver_url}/events", timeout=10) as response:
        events = json.loads(response.read())["events"]
    return {e["event"]["data"]["message"]["text"] for e in events if e["type"] == "message.created"}


def test_one_tenants_poison_record_is_set_aside_and_holds_back_no_one_else(
    runtime: tuple[Hub, DemoTenant],
) -> None:
    hub, demo = runtime
    poison = TenantKeys("tenant-a").inbound("web", "poison-1") | to_item(
        {"type": "inbound", "tenant_id": "tenant-a", "doc": '{"schema": "from the future"}'})
    hub.aws.dynamodb.put_item(TableName=hub.settings.table_name, Item=poison)
    texts = {f"after the poison {n}" for n in range(3)}
    for text in sorted(texts):
        sample = samples.web_message(demo.web_hook_url, demo.web_secret, text, email="b@example.com")
        request = urllib.request.Request(sample.url, data=sample.body, headers=sample.headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202

    wait_for(lambda: texts <= delivered_texts(demo), "tenant B's deliveries")
    [entry] = hub.set_aside.entries("tenant-a")
    assert entry["reason"].startswith("ValidationError")
    assert entry["record_keys"]["pk"] == poison["pk"]["S"]
    assert hub.set_aside.entries(demo.tenant_id) == []
