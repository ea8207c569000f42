"""The delivery worker hands connectors the hub's clock (``DeliveryContext.clock``):
a receiver's ``Retry-After`` date and a signature's timestamp are read against the
injected clock, not the machine's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from switchboard_sdk import OutboundPolicy
from switchboard_sdk.netguard import LOOPBACK
from switchboard_sdk.testing import Reply, StatusServer

from chalicelib.hub import Hub, build_hub, set_hub
from chalicelib.settings import Settings
from chalicelib.storage.aws import AwsClients
from tests.helpers import enqueue, event, failed_ids, receive_records
from tools.local.demo import DemoTenant
from tools.provision import settings_for

NOW = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)  # years from the machine's clock, either way


class VisibilityCalls:
    """The SQS client, noting each visibility change the worker asks for."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.timeouts: list[int] = []

    def change_message_visibility_batch(self, **kwargs: Any) -> Any:
        self.timeouts += [entry["VisibilityTimeout"] for entry in kwargs["Entries"]]
        return self._client.change_message_visibility_batch(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def hub(aws: AwsClients, outputs: dict[str, str]) -> Iterator[Hub]:
    """The suite's hub (conftest's ``hub``), on a fixed clock."""
    settings = settings_for(outputs, Settings(max_delivery_attempts=3, delivery_timeout_seconds=2.0,
                                              outbound_policy=OutboundPolicy.parse(LOOPBACK)))
    built = build_hub(settings, clock=lambda: NOW)
    built.aws = aws
    set_hub(built)
    yield built
    set_hub(None)


def test_retry_after_dates_and_signatures_follow_the_injected_clock(
    hub: Hub, demo: DemoTenant, receiver: StatusServer
) -> None:
    sqs = VisibilityCalls(hub.aws.sqs)
    hub.aws.use("sqs", sqs)
    retry_at = format_datetime(NOW + timedelta(seconds=600), usegmt=True)
    receiver.script(Reply(503, b"busy", {"Retry-After": retry_at}))
    enqueue(hub, event(demo.tenant_id, 1))
    (record,) = receive_records(hub)

    assert failed_ids(hub.worker.process([record])) == [record["messageId"]]
    (request,) = receiver.requests
    assert request.headers["webhook-timestamp"] == str(int(NOW.timestamp())), "signed at the hub's now"
    # against the machine's clock the date is years past (retry at once) or, were the
    # clock fixed ahead, years away (the hub's ceiling): ten minutes only by the hub's clock
    assert sqs.timeouts == [600]
