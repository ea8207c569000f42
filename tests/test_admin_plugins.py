"""Plugins through the admin API: enable, configure, disable; validation with
field-level errors; secrets stored in SSM and never returned, logged in the
audit log or kept in the table in clear; webhook URLs and setup steps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.hub import Hub
from tests.conftest import signed_web_headers, web_message
from tests.test_admin import call, new_tenant
from tools.local.demo import DemoTenant, new_whsec


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


@pytest.fixture
def admin(client: Client, hub: Hub) -> str:
    platform = hub.api_keys.create(None, ["platform-admin"])[1]
    return new_tenant(client, platform, "acme")


def table_text(hub: Hub) -> str:
    items = []
    for page in hub.aws.dynamodb.get_paginator("scan").paginate(TableName=hub.settings.table_name):
        items += page["Items"]
    return json.dumps(items, default=repr)


def test_enabling_a_channel_validates_seals_the_secret_and_says_how_to_connect(
    client: Client, hub: Hub, admin: str
) -> None:
    secret = new_whsec()
    status, plugin = call(client, "POST", "/v1/plugins/web/enable", admin, {"config": {"secrets": [secret]}})
    assert status == 200, plugin
    assert plugin["enabled"] is True
    assert plugin["webhook_urls"][0].endswith("/hooks/acme/web")
    assert any(plugin["webhook_urls"][0] in step for step in plugin["setup_steps"])
    assert secret not in json.dumps(plugin), "the secret never comes back"
    assert plugin["config"]["secrets"][0]["secret"].startswith("***")
    assert secret not in table_text(hub), "the table holds a reference, not the secret"
    names = [p["Name"] for p in hub.aws.ssm.describe_parameters()["Parameters"]]
    assert any(name.startswith("/switchboard/tenants/acme/web/") for name in names)
    body = web_message("signed with the new secret", client_id="n-1")
    response = client.http.post("/hooks/acme/web", body=body, headers=signed_web_headers(secret, body))
    assert response.status_code == 202, "the hub verifies with the secret from SSM"


def test_an_invalid_config_is_refused_by_field_without_echoing_values(client: Client, admin: str) -> None:
    status, answer = call(client, "PUT", "/v1/plugins/webhook/config", admin,
                          {"config": {"url": "not a url", "secret": "whsec_tooshort-and-secret"}})
    assert status == 422
    fields = {f["field"] for f in answer["error"]["fields"]}
    assert {"config.url", "config.secret"} <= fields
    assert "tooshort-and-secret" not in json.dumps(answer)
    assert call(client, "GET", "/v1/plugins/webhook", admin)[1]["configured"] is False, "nothing half written"


def test_resending_the_redacted_config_keeps_the_secret_and_a_change_is_audited_redacted(
    client: Client, hub: Hub, admin: str
) -> None:
    secret = new_whsec()
    config = {"url": "https://crm.example.com/hook", "secret": secret}
    assert call(client, "POST", "/v1/plugins/webhook/enable", admin, {"config": config})[0] == 200
    shown = call(client, "GET", "/v1/plugins/webhook", admin)[1]["config"]
    status, plugin = call(client, "PUT", "/v1/plugins/webhook/config", admin,
                          {"config": shown | {"url": "https://crm.example.com/v2"}})
    assert status == 200, plugin
    tenant = hub.tenants.get("acme")
    live = hub.tenants.plugin_config(tenant, "webhook")
    assert live.secret.get_secret_value() == secret  # type: ignore[attr-defined]
    assert str(live.url) == "https://crm.example.com/v2"  # type: ignore[attr-defined]
    records = call(client, "GET", "/v1/audit?action=plugin.configure", admin)[1]["records"]
    assert records[0]["before"]["config"]["url"] == "https://crm.example.com/hook"
    assert records[0]["after"]["config"]["url"] == "https://crm.example.com/v2"
    assert secret not in json.dumps(call(client, "GET", "/v1/audit", admin)[1])


def test_disable_keeps_the_config_and_stops_the_channel(client: Client, admin: str) -> None:
    secret = new_whsec()
    call(client, "POST", "/v1/plugins/web/enable", admin, {"config": {"secrets": [secret]}})
    status, plugin = call(client, "POST", "/v1/plugins/web/disable", admin)
    assert (status, plugin["enabled"], plugin["configured"]) == (200, False, True)
    body = web_message("after disable", client_id="d-1")
    assert client.http.post("/hooks/acme/web", body=body,
                            headers=signed_web_headers(secret, body)).status_code == 404
    assert call(client, "POST", "/v1/plugins/web/enable", admin)[1]["enabled"] is True


def test_listing_shows_every_installed_plugin_with_its_schema(client: Client, hub: Hub, demo: DemoTenant) -> None:
    listing = call(client, "GET", "/v1/plugins", demo.api_key)[1]["plugins"]
    assert {p["name"] for p in listing} == set(hub.registry.infos)
    web = next(p for p in listing if p["name"] == "web")
    assert web["config_schema"]["properties"]["secrets"]["items"]["writeOnly"] is True
    assert demo.web_secret not in json.dumps(listing)


def test_unknown_plugins_and_reader_keys_are_refused(client: Client, hub: Hub, admin: str) -> None:
    assert call(client, "POST", "/v1/plugins/nope/enable", admin, {})[0] == 404
    reader = call(client, "POST", "/v1/keys", admin, {"scopes": ["read-only"]})[1]["key"]
    assert call(client, "GET", "/v1/plugins", reader)[0] == 403, "configs (URLs, logins) are for admins"
    assert call(client, "POST", "/v1/plugins/web/disable", reader)[0] == 403


def test_a_connector_attempt_limit_is_set_per_tenant(client: Client, admin: str) -> None:
    config: dict[str, Any] = {"url": "https://crm.example.com/hook", "secret": new_whsec()}
    status, plugin = call(client, "POST", "/v1/plugins/webhook/enable", admin,
                          {"config": config, "max_delivery_attempts": 3})
    assert (status, plugin["max_delivery_attempts"]) == (200, 3)
    assert call(client, "POST", "/v1/plugins/webhook/enable", admin, {"max_delivery_attempts": 0})[0] == 422
