"""Small helpers for the worker, registry and API tests: queue records built from
real SQS receives, tenants with their own webhook receivers, and sample events."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from switchboard_sdk import EventEnvelope
from switchboard_sdk.testing import sample_event

from chalicelib.hub import Hub, set_hub
from chalicelib.pipeline.dispatch import Dispatcher
from chalicelib.tenancy.tenants import PluginSetting, TenantRecord
from tests.sealed_jobs import opened_body
from tools.local.demo import DemoTenant, new_whsec


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def event(tenant_id: str, number: int, ticket_id: str = "tkt_1") -> EventEnvelope:
    """A distinct ``message.created`` event (own id, so its own de-duplication id)."""
    event_id = f"evt_{tenant_id}_{ticket_id}_{number}"
    return sample_event(tenant_id).model_copy(update={"id": event_id, "ticket_id": ticket_id})


def enqueue(hub: Hub, *events: EventEnvelope) -> int:
    """Queue delivery jobs the way the stream handler does (one per enabled connector, the
    event sealed)."""
    return Dispatcher(hub.tenants, hub.aws.sqs, hub.settings.queue_url, crypto=hub.crypto).enqueue(events)


def receive_records(hub: Hub) -> list[dict[str, Any]]:
    """Visible delivery jobs as Lambda-shaped SQS records.

    Received with ``VisibilityTimeout=0``: only the worker's own
    ChangeMessageVisibility can hide a job afterwards, so a later empty receive
    shows the worker extended it.
    """
    messages = hub.aws.sqs.receive_message(
        QueueUrl=hub.settings.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0,
        AttributeNames=["All"], MessageSystemAttributeNames=["All"],
    ).get("Messages", [])
    return [
        {
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": {},
            "eventSource": "aws:sqs", "awsRegion": "us-east-1",
        }
        for m in messages
    ]


# moto keeps visibility in whole milliseconds and shows a message only once its
# time is strictly past: step over that tick before the next receive.
_MOTO_TICK_SECONDS = 0.005


def make_visible(hub: Hub, record: dict[str, Any]) -> None:
    """Let a backed-off job's delay run out now (what waiting would do)."""
    hub.aws.sqs.change_message_visibility(
        QueueUrl=hub.settings.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
    )
    time.sleep(_MOTO_TICK_SECONDS)


def nothing_receivable(hub: Hub) -> bool:
    """No job can be received now. Jobs were received with ``VisibilityTimeout=0``,
    so one is hidden only if the worker pushed its visibility out."""
    time.sleep(_MOTO_TICK_SECONDS)
    return receive_records(hub) == []


def dead_letters(hub: Hub) -> list[dict[str, Any]]:
    """The dead letters, their sealed events opened under ``"event"`` (tests/sealed_jobs.py:
    one carrying its event in clear fails)."""
    messages = hub.aws.sqs.receive_message(
        QueueUrl=hub.settings.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    return [opened_body(hub, m["Body"]) for m in messages]


def failed_ids(result: dict[str, list[dict[str, str]]]) -> list[str]:
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def put_webhook_tenant(hub: Hub, tenant_id: str, url: str) -> TenantRecord:
    """A tenant with only the ``webhook`` connector, pointing at ``url``."""
    tenant = TenantRecord(
        id=tenant_id, name=f"Tenant {tenant_id}", created_at=hub.clock().isoformat(),
        plugins={"webhook": PluginSetting(config={"url": url, "secret": new_whsec()})},
    )
    hub.tenants.put(tenant)
    return tenant


def change_webhook(hub: Hub, tenant_id: str, *, enabled: bool = True, **config: Any) -> None:
    """Save a copy of the tenant with its webhook setting changed (the cached record is left alone)."""
    tenant = hub.tenants.get(tenant_id)
    current = tenant.plugins["webhook"]
    setting = PluginSetting(enabled=enabled, config=current.config | config)
    hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"webhook": setting}}))


def wait_for(probe: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """``probe()``'s first truthy answer, polled every 0.2 s; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return found


@contextmanager
def local_runtime(state: Path, *, started: list[Any] | None = None,
                  **options: Any) -> Iterator[tuple[Hub, DemoTenant]]:
    """The whole local runtime (emulator, pumps, HTTP) in the background, on free ports,
    on its own embedded AWS whatever the environment says. ``started`` gets the
    LocalRuntime (tests that reach its provider sandbox)."""
    import os

    from tools.local.runtime import LocalRuntime, free_port

    endpoint = os.environ.pop("SWITCHBOARD_AWS_ENDPOINT", None)
    local = LocalRuntime(port=free_port(), receiver_port=free_port(), state_dir=state, **options)
    if started is not None:
        started.append(local)
    try:
        yield local.serve_in_background()
    finally:
        local.stop()
        set_hub(None)
        if endpoint is not None:
            os.environ["SWITCHBOARD_AWS_ENDPOINT"] = endpoint


def limit_webhook_rate(hub: Hub, rate: int) -> None:
    """Give the hub a webhook rate of ``rate``/s in one frozen rate window (rate-limit tests)."""
    from dataclasses import replace

    from chalicelib.tenancy.ratelimit import RateLimiter

    frozen = hub.clock()  # one rate window for the whole test
    hub.settings = replace(hub.settings, webhook_rate=rate)
    hub.__dict__["rate_limiter"] = RateLimiter(hub.aws.dynamodb, hub.settings.table_name, lambda: frozen)
    hub.__dict__.pop("ingestor", None)  # rebuilt with the new limiter on next use
