"""Shared by the customer tests: customers made by real messages (the probe channel
through the webhook route and the stream), the customer API called directly, and a
client wrapper that fails or meddles with one chosen call."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Identity

import app as app_module
from chalicelib.api.calls import ApiCall
from chalicelib.api.customers import CustomerApi
from chalicelib.hub import Hub
from chalicelib.storage.items import from_item
from chalicelib.tenancy.tenants import PluginSetting
from tests.conftest import Pipeline
from tests.probe_plugin import PROBE_TOKEN, ProbeChannel, spec
from tools.local.demo import DemoTenant


@pytest.fixture
def probe(hub: Hub, demo: DemoTenant) -> Iterator[Client]:
    hub.registry.add(ProbeChannel())
    tenant = hub.tenants.get("demo")
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"probe": PluginSetting()}}))
    with Client(app_module.app) as client:
        yield client


@pytest.fixture
def customers(hub: Hub) -> CustomerApi:
    return CustomerApi(hub.access, hub.store, hub.audit, hub.clock)


def send(client: Client, *specs: dict[str, Any]) -> None:
    response = client.http.post("/hooks/demo/probe", body=json.dumps(list(specs)),
                                headers={"content-type": "application/json", "x-probe-token": PROBE_TOKEN})
    assert response.status_code == 202, response.body


def message(pid: str, *identities: str, **fields: Any) -> dict[str, Any]:
    """A probe message from a customer with these identities (``kind:value``)."""
    listed = [{"kind": k, "value": v} for k, _, v in (i.partition(":") for i in identities)]
    built = spec(pid, **fields)
    return built | ({"customer": {"identities": listed}} if listed else {})


def customer_id(hub: Hub, identity: str, tenant_id: str = "demo") -> str:
    kind, _, value = identity.partition(":")
    found = hub.store.reads(tenant_id).find_customer(Identity(kind=kind, value=value))
    assert found is not None, identity
    return found.id


def make_customer(client: Client, hub: Hub, pipeline: Pipeline, name: str, *identities: str,
                  tickets: int = 1, open_ticket: bool = True) -> str:
    """A customer with ``identities`` and ``tickets`` tickets: the first its open ticket
    (unless ``open_ticket`` is false), the others from messages the provider could not
    authenticate (each gets a ticket of its own)."""
    specs = [message(f"{name}-{n}", *identities, **({} if n == 0 and open_ticket else
                                                     {"sender_authenticated": False}))
             for n in range(tickets)]
    send(client, *specs)
    pipeline.drain()
    return customer_id(hub, identities[0])


def call(key: str, body: dict[str, Any] | None = None) -> ApiCall:
    return ApiCall(authorization=f"Bearer {key}", body=b"" if body is None else json.dumps(body).encode())


def item(hub: Hub, pk: str, sk: str) -> dict[str, Any] | None:
    found = hub.aws.dynamodb.get_item(TableName=hub.settings.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}},
                                      ConsistentRead=True)
    return from_item(found["Item"]) if "Item" in found else None


class Meddling:
    """A DynamoDB client that runs ``hook`` before the ``nth`` call of ``operation``
    (counting from 1); the hook may raise (a crash) or write (a racing writer)."""

    def __init__(self, client: Any, operation: str, nth: int, hook: Callable[[], None]) -> None:
        self._client = client
        self._operation = operation
        self._left = nth
        self._hook = hook
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name == self._operation:
                self._left -= 1
                if self._left == 0:
                    self._hook()
            return attribute(*args, **kwargs)

        return wrapped


class Crash(RuntimeError):
    """The Lambda died here."""


def crash() -> None:
    raise Crash("simulated crash")
