"""Shared pieces of the widget's tests (no tests here): a tenant with the widget enabled, requests as the
widget's routes see them, and a visitor that opens a session and writes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard_sdk import WebhookRequest, WebhookResponse, visitor_tokens

from chalicelib.hub import Hub
from chalicelib.tenancy.tenants import PluginSetting, TenantRecord

SITE = "https://shop.example.com"
TOKEN_SECRET = "widget-token-secret-for-the-tests-0123456789"
IDENTITY_SECRET = "widget-identity-secret-for-the-tests-98765"


def enable_widget(hub: Hub, tenant_id: str, **config: Any) -> None:
    """The tenant (made when missing) with the widget enabled for :data:`SITE`."""
    try:
        tenant = hub.tenants.load(tenant_id)
    except Exception:
        tenant = TenantRecord(id=tenant_id, name=f"Tenant {tenant_id}", created_at=hub.clock().isoformat())
    setting = PluginSetting(config={"allowed_origins": [SITE], "token_secret": TOKEN_SECRET,
                                    "identity_secret": IDENTITY_SECRET} | config)
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"widget": setting}}))
    hub.tenants.forget(tenant_id)


def unlimited(hub: Hub) -> None:
    """Rates no test reaches (a test of the limits sets its own): set before ``hub.widget`` is built."""
    from dataclasses import replace

    hub.settings = replace(hub.settings, widget_visitor_rate=10_000, widget_ip_rate=10_000)
    hub.__dict__.pop("widget", None)


def call(hub: Hub, route: str, tenant_id: str, *, method: str = "POST", body: Any = None, token: str | None = None,
         origin: str | None = SITE, ip: str = "203.0.113.7", query: dict[str, str] | None = None,
         headers: dict[str, str] | None = None) -> tuple[WebhookResponse, Any]:
    """One request to ``hub.widget`` as app.py hands it over; ``(response, decoded body)``."""
    sent = {"content-type": "application/json"} | ({"origin": origin} if origin else {}) \
        | ({"authorization": f"Bearer {token}"} if token else {}) | (headers or {})
    raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    request = WebhookRequest(tenant_id=tenant_id, channel="widget", method=method,
                             public_url=f"https://hub.example.com/widget/{tenant_id}/{route}", headers=sent,
                             query=query or {}, body=raw, received_at=hub.clock(), source_ip=ip)
    response = hub.widget.handle(route, request)
    return response, json.loads(response.body) if response.body else None


@dataclass
class Visitor:
    hub: Hub
    tenant_id: str
    token: str
    ip: str = "203.0.113.7"
    cursor: str | None = None

    @classmethod
    def start(cls, hub: Hub, tenant_id: str, ip: str = "203.0.113.7", **identity: Any) -> Visitor:
        response, body = call(hub, "session", tenant_id, body=identity or None, ip=ip)
        assert response.status_code == 200, body
        return cls(hub, tenant_id, body["token"], ip)

    @property
    def claims(self) -> visitor_tokens.VisitorClaims:
        return visitor_tokens.verify(self.token, TOKEN_SECRET, self.tenant_id, self.hub.clock())

    def say(self, text: str, client_message_id: str = "c-1", **extra: Any) -> tuple[WebhookResponse, Any]:
        return call(self.hub, "messages", self.tenant_id, token=self.token, ip=self.ip,
                    body={"client_message_id": client_message_id, "text": text} | extra)

    def poll(self, *, etag: str | None = None, pending: bool = False, shown: bool = False
             ) -> tuple[WebhookResponse, Any]:
        query = {k: v for k, v in {"after": self.cursor, "pending": "1" if pending else None,
                                   "open": "1" if shown else None}.items() if v}
        response, body = call(self.hub, "messages", self.tenant_id, method="GET", token=self.token, ip=self.ip,
                              query=query, headers={"if-none-match": etag} if etag else None)
        if body and "cursor" in body:
            self.cursor = body["cursor"]
        return response, body


def expired_token(tenant_id: str, at: datetime) -> str:
    stamp = int(at.timestamp())
    claims = visitor_tokens.VisitorClaims(tenant=tenant_id, visitor="v_old", issued_at=stamp - 7200,
                                          expires_at=stamp - 3600)
    return visitor_tokens.issue(claims, TOKEN_SECRET)
