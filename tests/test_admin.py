"""Tenant administration through the HTTP API (Chalice's test client): the
platform operator's tenant routes, API keys (scopes, expiry, revocation),
settings and the audit log. Plugins and secrets: tests/test_admin_plugins.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.hub import Hub
from tests.conftest import signed_web_headers, web_message
from tools.local.demo import DemoTenant


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


@pytest.fixture
def platform_key(hub: Hub) -> str:
    return hub.api_keys.create(None, ["platform-admin"], name="ops")[1]


def call(client: Client, method: str, path: str, key: str | None, body: Any = None) -> tuple[int, Any]:
    headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {key}"} if key else {})
    data = json.dumps(body) if body is not None else None
    response = client.http.request(method, path, headers=headers, body=data)
    return response.status_code, json.loads(response.body)


def new_tenant(client: Client, platform_key: str, tenant_id: str = "acme") -> str:
    """Create a tenant and return a tenant-admin key of it."""
    status, _ = call(client, "POST", "/v1/admin/tenants", platform_key, {"id": tenant_id, "name": "Acme"})
    assert status == 201
    status, created = call(client, "POST", f"/v1/admin/tenants/{tenant_id}/keys", platform_key,
                           {"scopes": ["tenant-admin"], "name": "admin"})
    assert status == 201
    return str(created["key"])


# -- the platform operator ----------------------------------------------------------------


def test_an_operator_creates_lists_and_reads_tenants(client: Client, demo: DemoTenant, platform_key: str) -> None:
    status, tenant = call(client, "POST", "/v1/admin/tenants", platform_key,
                          {"id": "acme", "name": "Acme", "settings": {"time_zone": "Asia/Shanghai"}})
    assert status == 201
    assert (tenant["status"], tenant["settings"]["time_zone"]) == ("active", "Asia/Shanghai")
    assert call(client, "POST", "/v1/admin/tenants", platform_key, {"id": "acme", "name": "Again"})[0] == 409
    listed = call(client, "GET", "/v1/admin/tenants", platform_key)[1]
    assert {"acme", "demo"} <= {t["id"] for t in listed["tenants"]}
    assert call(client, "GET", "/v1/admin/tenants/acme", platform_key)[1]["name"] == "Acme"
    assert call(client, "GET", "/v1/admin/tenants/nobody", platform_key)[0] == 404


def test_tenant_listing_pages_by_id(client: Client, demo: DemoTenant, platform_key: str) -> None:
    for n in range(5):
        assert call(client, "POST", "/v1/admin/tenants", platform_key, {"id": f"t-{n}", "name": "T"})[0] == 201
    seen, cursor = [], ""
    for _ in range(10):
        page = call(client, "GET", f"/v1/admin/tenants?limit=2{cursor}", platform_key)[1]
        seen += [t["id"] for t in page["tenants"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == sorted(seen)
    assert set(seen) == {"demo"} | {f"t-{n}" for n in range(5)}


@pytest.mark.parametrize(("body", "field"), [
    ({"id": "Bad_Id", "name": "x"}, "id"), ({"id": "ok-id", "name": ""}, "name"),
    ({"id": "ok-id", "name": "x", "settings": {"time_zone": "Mars/Olympus"}}, "settings.time_zone"),
    ({"id": "ok-id", "name": "x", "settings": {"message_retention_days": 12}}, "settings.message_retention_days"),
    ({"id": "ok-id", "name": "x", "owner": "me"}, "owner"),
])
def test_an_invalid_tenant_is_refused_field_by_field(client: Client, platform_key: str, body: Any,
                                                     field: str) -> None:
    status, answer = call(client, "POST", "/v1/admin/tenants", platform_key, body)
    assert status == 422
    assert answer["error"]["code"] == "invalid_input"
    assert field in [f["field"] for f in answer["error"]["fields"]]


def test_platform_routes_refuse_tenant_keys_and_tenant_routes_refuse_platform_keys(
    client: Client, demo: DemoTenant, platform_key: str
) -> None:
    assert call(client, "GET", "/v1/admin/tenants", demo.api_key)[0] == 403
    assert call(client, "POST", "/v1/admin/tenants", demo.api_key, {"id": "x-y", "name": "X"})[0] == 403
    assert call(client, "GET", "/v1/plugins", platform_key)[0] == 403
    assert call(client, "GET", "/v1/admin/tenants", None)[0] == 401


def test_a_suspended_tenant_stores_nothing_and_its_keys_stop_working(
    client: Client, hub: Hub, demo: DemoTenant, platform_key: str
) -> None:
    status, tenant = call(client, "PATCH", "/v1/admin/tenants/demo", platform_key, {"status": "suspended"})
    assert (status, tenant["status"]) == (200, "suspended")
    body = web_message("hello while suspended", client_id="s-1")
    response = client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body))
    assert response.status_code == 403
    assert call(client, "GET", "/v1/tickets", demo.api_key)[0] == 403
    assert call(client, "PATCH", "/v1/admin/tenants/demo", platform_key, {"status": "active"})[0] == 200
    assert call(client, "GET", "/v1/tickets", demo.api_key)[0] == 200
    actions = [r["action"] for r in call(client, "GET", "/v1/audit", demo.api_key)[1]["records"]]
    assert actions[:2] == ["tenant.resume", "tenant.suspend"]


# -- API keys ---------------------------------------------------------------------------


def test_a_key_is_shown_once_listed_without_secret_and_revoked_at_once(
    client: Client, hub: Hub, platform_key: str
) -> None:
    admin = new_tenant(client, platform_key)
    status, created = call(client, "POST", "/v1/keys", admin, {"scopes": ["agent"], "name": "desk"})
    assert status == 201
    agent = created["key"]
    assert call(client, "GET", "/v1/tickets", agent)[0] == 200
    listing = call(client, "GET", "/v1/keys", admin)[1]["keys"]
    assert {k["name"] for k in listing} == {"admin", "desk"}
    assert agent.split("_", 2)[2] not in json.dumps(listing), "the secret is never listed"
    assert all("secret_sha256" not in k for k in listing)
    assert call(client, "GET", "/v1/keys", agent)[0] == 403, "an agent may not manage keys"
    status, revoked = call(client, "DELETE", f"/v1/keys/{created['key_id']}", admin)
    assert status == 200
    assert revoked["revoked_at"]
    assert call(client, "GET", "/v1/tickets", agent)[0] == 401


def test_an_expired_key_is_refused(client: Client, hub: Hub, platform_key: str) -> None:
    admin = new_tenant(client, platform_key)
    soon = (hub.clock() + timedelta(hours=1)).isoformat()
    created = call(client, "POST", "/v1/keys", admin, {"scopes": ["read-only"], "expires_at": soon})[1]
    assert call(client, "GET", "/v1/tickets", created["key"])[0] == 200
    later = hub.clock() + timedelta(hours=2)
    hub.api_keys._clock = lambda: later
    assert call(client, "GET", "/v1/tickets", created["key"])[0] == 401
    past = call(client, "POST", "/v1/keys", admin, {"scopes": ["read-only"], "expires_at": soon})
    assert past[0] == 422


def test_a_tenant_cannot_grant_platform_scope_or_revoke_another_tenants_key(
    client: Client, demo: DemoTenant, platform_key: str
) -> None:
    admin = new_tenant(client, platform_key)
    assert call(client, "POST", "/v1/keys", admin, {"scopes": ["platform-admin"]})[0] == 422
    demo_keys = call(client, "GET", "/v1/keys", demo.api_key)[1]["keys"]
    assert call(client, "DELETE", f"/v1/keys/{demo_keys[0]['key_id']}", admin)[0] == 404
    assert call(client, "GET", "/v1/tickets", demo.api_key)[0] == 200, "demo's key still works"


# -- settings and audit ---------------------------------------------------------------------


def test_settings_change_field_by_field_and_are_audited(client: Client, demo: DemoTenant) -> None:
    status, tenant = call(client, "PATCH", "/v1/settings", demo.api_key,
                          {"time_zone": "Europe/Berlin", "message_retention_days": 90})
    assert status == 200
    assert tenant["settings"]["time_zone"] == "Europe/Berlin"
    assert tenant["settings"]["language"] == "en", "fields not sent are kept"
    status, answer = call(client, "PATCH", "/v1/settings", demo.api_key, {"raw_retention_days": 3})
    assert status == 422
    assert answer["error"]["fields"][0]["field"] == "raw_retention_days"
    [record] = call(client, "GET", "/v1/audit?action=settings.update", demo.api_key)[1]["records"]
    assert record["before"]["settings"]["time_zone"] == "UTC"
    assert record["after"]["settings"]["time_zone"] == "Europe/Berlin"
    assert record["actor"]["key_id"] == demo.api_key.split("_")[1]


def test_the_audit_log_pages_newest_first_and_only_shows_the_callers_tenant(
    client: Client, demo: DemoTenant, platform_key: str
) -> None:
    admin = new_tenant(client, platform_key)
    for n in range(5):
        call(client, "POST", "/v1/keys", demo.api_key, {"scopes": ["read-only"], "name": f"k{n}"})
    pages, cursor = [], ""
    for _ in range(10):
        page = call(client, "GET", f"/v1/audit?limit=2{cursor}", demo.api_key)[1]
        pages.append(page["records"])
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={quote(page['next_cursor'])}"
    records = [r for page in pages for r in page]
    assert [r["after"]["name"] for r in records] == [f"k{n}" for n in range(4, -1, -1)]
    acme = call(client, "GET", "/v1/audit", admin)[1]["records"]
    assert {r["tenant_id"] for r in acme} == {"acme"}
    assert {r["action"] for r in acme} == {"tenant.create", "key.create"}
    assert call(client, "GET", "/v1/audit?cursor=not-a-cursor", demo.api_key)[0] == 400


def test_a_tenant_over_its_api_rate_gets_429_with_retry_after(client: Client, hub: Hub, demo: DemoTenant) -> None:
    from dataclasses import replace

    from chalicelib.tenancy.ratelimit import RateLimiter

    frozen = hub.clock()  # one rate window for the whole test
    hub.settings = replace(hub.settings, api_rate=3)
    hub.__dict__["rate_limiter"] = RateLimiter(hub.aws.dynamodb, hub.settings.table_name, lambda: frozen)
    hub.__dict__.pop("access", None)
    statuses = [client.http.get("/v1/tickets", headers={"authorization": f"Bearer {demo.api_key}"})
                for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert json.loads(statuses[-1].body)["error"]["code"] == "rate_limited"
    assert int(statuses[-1].headers["Retry-After"]) >= 1


def test_erasing_a_customer_through_the_api_leaves_an_audit_record_naming_only_the_id(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Any
) -> None:
    body = web_message("my address is 1 Secret Lane", client_id="e-1", email="erase.me@example.com")
    assert client.http.post("/hooks/demo/web", body=body,
                            headers=signed_web_headers(demo.web_secret, body)).status_code == 202
    pipeline.drain()
    [ticket] = call(client, "GET", "/v1/tickets", demo.api_key)[1]["tickets"]
    reader = hub.api_keys.create("demo", ["agent"])[1]
    assert call(client, "DELETE", f"/v1/customers/{ticket['customer_id']}", reader)[0] == 403
    status, report = call(client, "DELETE", f"/v1/customers/{ticket['customer_id']}", demo.api_key)
    assert status == 200
    assert report["erased"]["messages"] == 1
    detail = call(client, "GET", f"/v1/tickets/{ticket['id']}", demo.api_key)[1]
    assert "Secret Lane" not in json.dumps(detail)
    assert call(client, "DELETE", f"/v1/customers/{ticket['customer_id']}", demo.api_key)[0] == 404
    [record] = call(client, "GET", "/v1/audit?action=customer.erase", demo.api_key)[1]["records"]
    assert record["target"] == f"customer/{ticket['customer_id']}"
    assert "erase.me" not in json.dumps(record)


def test_a_suspension_during_a_plugin_change_is_not_undone(client: Client, hub: Hub, demo: DemoTenant) -> None:
    """Two writers read the same record; the second write must not silently win."""
    from chalicelib.tenancy.audit import Actor
    from chalicelib.tenancy.tenants import TenantRecord

    seen: list[int] = []

    def slow_change(tenant: TenantRecord) -> TenantRecord:
        seen.append(tenant.version)
        if len(seen) == 1:  # the operator suspends while this change is being prepared
            hub.tenants.update("demo", lambda t: t.model_copy(update={"status": "suspended"}))
        return tenant.model_copy(update={"name": "Renamed"})

    hub.tenants.update("demo", slow_change, audit=lambda b, a: hub.audit.entry(
        "demo", Actor(key_id="test"), "tenant.update", "tenant/demo")[1])
    stored = hub.tenants.load("demo")
    assert (stored.status, stored.name) == ("suspended", "Renamed"), "the retry applied the change on top"
    assert seen[1] == seen[0] + 1, "the change was re-applied to the record the suspension wrote"
    assert [r.action for r in hub.audit.list("demo").records] == ["tenant.update"], "one record: one write"


def test_a_change_that_changes_nothing_writes_and_audits_nothing(client: Client, demo: DemoTenant) -> None:
    before = call(client, "GET", "/v1/settings", demo.api_key)[1]
    assert call(client, "PATCH", "/v1/settings", demo.api_key, {"language": before["settings"]["language"]})[0] == 200
    assert call(client, "GET", "/v1/audit", demo.api_key)[1]["records"] == []


def test_an_audit_write_that_fails_takes_the_key_with_it(client: Client, hub: Hub, demo: DemoTenant) -> None:
    """Key and audit record are one transaction: no unaudited key survives."""
    from chalicelib.tenancy.audit import AuditLog

    class BrokenAudit(AuditLog):
        def entry(self, *args: Any, **kwargs: Any) -> Any:
            record, put = super().entry(*args, **kwargs)
            # can never hold for a new record; a plain dict, so it cannot be placed again either
            return record, {"Put": put["Put"] | {"ConditionExpression": "attribute_exists(pk)"}}

    hub.tenant_admin_api._desk = type(hub.tenant_admin_api._desk)(hub.api_keys, BrokenAudit(
        hub.aws.dynamodb, hub.settings.table_name, hub.clock))
    keys_before = call(client, "GET", "/v1/keys", demo.api_key)[1]["keys"]
    status, _ = call(client, "POST", "/v1/keys", demo.api_key, {"scopes": ["agent"], "name": "ghost"})
    assert status == 409
    assert call(client, "GET", "/v1/keys", demo.api_key)[1]["keys"] == keys_before


def test_far_future_expiry_is_refused_not_a_500(client: Client, demo: DemoTenant) -> None:
    status, answer = call(client, "POST", "/v1/keys", demo.api_key,
                          {"scopes": ["agent"], "expires_at": "9999-12-31T00:00:00Z"})
    assert status == 422
    assert answer["error"]["fields"][0]["field"] == "expires_at"
