"""Tenant isolation over every route of the OpenAPI document.

Tenant A (``demo``) and tenant B (``other``) each have tickets, messages,
deliveries, keys, plugins and audit records. For each operation, A's
tenant-admin key is pointed at B's resources (B's ids in the path, B's id
wherever a tenant could be named). Operations that name a resource must answer
404 or 403; listings must not contain a single id of B's. Afterwards B's items
in the table, B's objects in the bucket and B's secrets are byte-for-byte what
they were. The parametrisation is derived from the document, so a new route is
covered (or the test fails for want of an id to try) without editing this file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.hub import Hub
from chalicelib.local.demo import DemoTenant, new_whsec
from chalicelib.openapi import OPERATIONS, Operation
from chalicelib.tenants import PluginSetting, TenantRecord
from tests.conftest import Pipeline, signed_web_headers, web_message

B = "other"
PUBLIC = {"/health", "/openapi.json"}
BODIES: dict[str, Any] = {
    "replay_deliveries": {"source": "log", "connector": "webhook"},
    "enable_plugin": {}, "disable_plugin": {},
    "configure_plugin": {"config": {"url": "https://attacker.example/hook", "secret": new_whsec()}},
    "create_key": {"scopes": ["tenant-admin"]}, "update_settings": {"name": "Taken over"},
    "create_tenant": {"id": B, "name": "Taken over"}, "update_tenant": {"status": "suspended"},
    "create_tenant_key": {"scopes": ["tenant-admin"]}, "create_platform_key": {"scopes": ["platform-admin"]},
}


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


def other_tenant(client: Client, hub: Hub, pipeline: Pipeline) -> dict[str, str]:
    """Tenant B with a ticket, messages, deliveries, a key and audit records; returns B's ids."""
    secret = new_whsec()
    hub.tenants.put(TenantRecord(id=B, name="Other Co", created_at="2026-11-25T00:00:00Z", plugins={
        "web": PluginSetting(config={"secrets": [secret]}),
        "webhook": PluginSetting(config={"url": "http://127.0.0.1:9/none", "secret": new_whsec()}),
    }))
    for n in range(2):
        body = web_message(f"B's private message {n}", client_id=f"b-{n}", email="bee@other.example")
        response = client.http.post(f"/hooks/{B}/web", body=body,
                                    headers=signed_web_headers(secret, body, msg_id=f"wh_b_{n}"))
        assert response.status_code == 202
    pipeline.drain()
    ticket = hub.store.tenant(B).list_tickets(status=None, limit=1, before=None)[0][0]
    info, key = hub.api_keys.create(B, ["tenant-admin"], name="b-admin")
    hub.audit.record(B, _actor(), "key.create", f"key/{info.key_id}")
    return {"ticket_id": ticket.id, "customer_id": ticket.customer_id, "key_id": info.key_id,
            "name": "webhook", "tenant_id": B, "key": key}


def _actor() -> Any:
    from chalicelib.audit import Actor

    return Actor(key_id="setup")


def snapshot(hub: Hub) -> dict[str, Any]:
    """Everything of B's: table items, bucket objects, secret parameters."""
    items = []
    for page in hub.aws.dynamodb.get_paginator("scan").paginate(TableName=hub.settings.table_name):
        items += [i for i in page["Items"] if _belongs_to_b(i)]
    objects = []
    for page in hub.aws.s3.get_paginator("list_objects_v2").paginate(Bucket=hub.settings.bucket):
        objects += [(o["Key"], o["ETag"]) for o in page.get("Contents", []) if f"/{B}/" in o["Key"]]
    params = []
    for page in hub.aws.ssm.get_paginator("describe_parameters").paginate():
        params += [(p["Name"], p.get("Version")) for p in page["Parameters"] if f"/{B}/" in p["Name"]]
    return {"items": sorted(json.dumps(i, sort_keys=True, default=repr) for i in items), "objects": sorted(objects),
            "secrets": sorted(params)}


def _belongs_to_b(item: dict[str, Any]) -> bool:
    pk = item["pk"]["S"]
    return pk.startswith((f"T#{B}#", f"TENANT#{B}")) or item.get("tenant_id", {}).get("S") == B


def request(client: Client, op: Operation, key: str, ids: dict[str, str]) -> tuple[int, str]:
    path = op.path
    for name in ("ticket_id", "customer_id", "key_id", "name", "tenant_id", "tenant", "channel"):
        path = path.replace(f"{{{name}}}", {"tenant": B, "channel": "web"}.get(name) or ids.get(name, ""))
    assert "{" not in path, f"no id of tenant B to try for {op.path}: add it to other_tenant()"
    query = "?ticket_id=" + ids["ticket_id"] if op.operation_id == "list_deliveries" else ""
    body = BODIES.get(op.operation_id)
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    response = client.http.request(op.method.upper(), path + query, headers=headers,
                                   body=json.dumps(body) if body is not None else None)
    return response.status_code, response.body.decode()


TENANT_ROUTES = [op for op in OPERATIONS if op.path not in PUBLIC and not op.provider]


@pytest.mark.parametrize("op", TENANT_ROUTES, ids=[f"{o.method.upper()} {o.path}" for o in TENANT_ROUTES])
def test_tenant_a_can_neither_read_nor_change_tenant_b(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, op: Operation
) -> None:
    ids = other_tenant(client, hub, pipeline)
    before = snapshot(hub)
    status, body = request(client, op, demo.api_key, ids)
    names_a_resource = any(f"{{{p}}}" in op.path for p in ("ticket_id", "customer_id", "key_id", "tenant_id"))
    if names_a_resource or op.path.startswith("/v1/admin/"):
        assert status in (403, 404), f"{op.method} {op.path} answered {status}: {body[:300]}"
    else:
        assert status < 500, body[:300]
    for value in (ids["ticket_id"], ids["customer_id"], ids["key_id"], "B's private message", "Other Co"):
        assert value not in body, f"{op.method} {op.path} leaked {value!r}"
    assert snapshot(hub) == before, f"{op.method} {op.path} changed tenant B's data"
