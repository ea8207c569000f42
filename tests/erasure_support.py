"""Shared by the erasure and retention tests: a settable clock, the probe channel
enabled for the demo tenant with retention choices, and the retention wiring
hub.py is to adopt (the stream and the delivery log read the tenant's retention)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from chalice.test import Client

import app as app_module
from chalicelib.hub import Hub
from chalicelib.tenancy.tenants import PluginSetting, TenantSettings
from tests.probe_plugin import PROBE_TOKEN, ProbeChannel


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def set_retention(hub: Hub, *, message_days: int, raw_days: int) -> None:
    tenant = hub.tenants.get("demo")
    settings = TenantSettings.model_validate({"message_retention_days": message_days,
                                              "raw_retention_days": raw_days})
    hub.tenants.put(tenant.model_copy(update={"settings": settings}))


@contextmanager
def probe_client(hub: Hub) -> Iterator[tuple[Client, Clock]]:
    """The demo tenant (seeded) with the probe channel, retention 90 days for
    messages and 30 for raw payloads, a settable clock, and a Chalice test client."""
    clock = Clock()
    hub.clock = clock
    hub.registry.add(ProbeChannel())
    tenant = hub.tenants.get("demo")
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"probe": PluginSetting()}}))
    set_retention(hub, message_days=90, raw_days=30)
    with Client(app_module.app) as client:
        yield client, clock


def send(client: Client, *specs: dict[str, Any]) -> None:
    response = client.http.post("/hooks/demo/probe", body=json.dumps(list(specs)),
                                headers={"content-type": "application/json", "x-probe-token": PROBE_TOKEN})
    assert response.status_code == 202, response.body
