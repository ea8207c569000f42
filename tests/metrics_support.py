"""Shared by the metrics and reports tests: a hub on moto for a whole module (the KPI
test drives hundreds of tickets through it), a desk that works tickets at set times
through the real paths (probe webhooks, the workflow service, posted replies, the API),
and the stream drained after each step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalice.test import Client
from moto import mock_aws
from switchboard_sdk.netguard import LOOPBACK, OutboundPolicy
from switchboard_sdk.testing import StatusServer

import app as app_module
from chalicelib.hub import Hub, build_hub, set_hub
from chalicelib.settings import Settings
from chalicelib.storage.aws import AwsClients
from chalicelib.workflow.changes import ChangeActor, TicketPatch
from chalicelib.workflow.service import Cause
from tests.agents_support import FakeJwks
from tests.conftest import BOTO_SESSION, Pipeline
from tests.erasure_support import Clock, probe_client
from tests.probe_plugin import PROBE_TOKEN
from tools.local.demo import seed_demo_tenant
from tools.local.pumps import QueuePump, StreamPump, drain
from tools.provision import deploy_stateful, settings_for

TENANT = "demo"


@dataclass
class Stage:
    """What a module's tests share: the hub, its pumps, the API client, the clock."""

    hub: Hub
    pipeline: Pipeline
    client: Client
    clock: Clock
    api_key: str
    aws: AwsClients
    outputs: dict[str, str]
    counter: list[int] = field(default_factory=lambda: [0])


@contextmanager
def stage() -> Iterator[Stage]:
    with mock_aws(), StatusServer(200) as receiver:
        aws = AwsClients(region="us-east-1", session=BOTO_SESSION)
        outputs = deploy_stateful(aws.client("cloudformation"))
        settings = settings_for(outputs, Settings(max_delivery_attempts=3, delivery_timeout_seconds=2.0,
                                                  api_rate=1000.0, outbound_policy=OutboundPolicy.parse(LOOPBACK)))
        hub = build_hub(settings, jwks_fetch=FakeJwks())
        hub.aws = aws
        set_hub(hub)
        demo = seed_demo_tenant(hub, hub_url="http://testserver", receiver_url=receiver.url)
        tenant = hub.tenants.get(TENANT)  # no connectors: the figures need no deliveries (and they cost time)
        hub.tenants.put(tenant.model_copy(update={"plugins": {name: setting for name, setting in tenant.plugins.items()
                                                              if name in ("web", "probe")}}))
        queue_arn = aws.sqs.get_queue_attributes(QueueUrl=outputs["DeliveryQueueUrl"],
                                                 AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pipeline = Pipeline(StreamPump(aws.client("dynamodbstreams"), outputs["TableStreamArn"],
                                       app_module.store_changes),
                            QueuePump(aws.sqs, outputs["DeliveryQueueUrl"], queue_arn, app_module.deliveries),
                            outputs["DeliveryDeadLetterQueueUrl"], aws.sqs)
        try:
            with probe_client(hub) as (client, clock):
                yield Stage(hub, pipeline, client, clock, demo.api_key, aws, outputs)
        finally:
            set_hub(None)


class Desk:
    """Works tickets at the clock's time, draining the stream after each step."""

    def __init__(self, stage: Stage) -> None:
        self.s = stage

    @property
    def hub(self) -> Hub:
        return self.s.hub

    def _next(self) -> int:
        self.s.counter[0] += 1
        return self.s.counter[0]

    def drain(self) -> None:
        drain([self.s.pipeline.stream], timeout=900)

    def advance(self, **delta: float) -> datetime:
        self.s.clock.now += timedelta(**delta)
        return self.s.clock.now

    def post(self, path: str, body: Any) -> Any:
        answer = self.s.client.http.post(path, body=json.dumps(body), headers=self.auth())
        assert answer.status_code in (200, 201), answer.body
        return json.loads(answer.body)

    def customer_writes(self, customer: str, text: str = "hello") -> str:
        """A customer's message (probe channel) at the clock's time; the ticket it landed on."""
        pid = self.write(customer, text)
        self.drain()
        return self.ticket_of(pid)

    def ticket_of(self, pid: str) -> str:
        found = self.hub.store.conversations(TENANT).find_provider_message("probe", pid)
        assert found is not None
        return found[0]

    def write(self, customer: str, text: str = "hello") -> str:
        """A customer's message, not yet taken in by the stream: its provider id."""
        pid = f"p{self._next()}"
        spec = {"provider_message_id": pid, "text": text, "received_at": self.s.clock.now.isoformat(),
                "customer": {"identities": [{"kind": "email", "value": f"{customer}@example.com"}]}}
        answer = self.s.client.http.post(f"/hooks/{TENANT}/probe", body=json.dumps([spec]),
                                         headers={"content-type": "application/json", "x-probe-token": PROBE_TOKEN})
        assert answer.status_code == 202, answer.body
        return pid

    def reply(self, ticket_id: str, author: str, *, drain: bool = True) -> None:
        """A reply posted at the clock's time: an agent's, or ``rule:…`` (automated)."""
        ticket = self.hub.store.tickets(TENANT).load(ticket_id)
        self.hub.poster.post(ticket, "thanks", author_id=author, author_name=author,
                             client_message_id=f"c{self._next()}")
        if drain:
            self.drain()

    def change(self, ticket_id: str, agent: str | None = None, *, event: str | None = None, reason: str = "",
               actor: ChangeActor | None = None, drain: bool = True, **patch: Any) -> None:
        who = actor or (ChangeActor(kind="agent", id=agent, name=agent) if agent else ChangeActor.system("test"))
        cause = Cause(id=f"test:{self._next()}", actor=who, at=self.s.clock.now, event=event, reason=reason)
        self.hub.workflow.change(TENANT, ticket_id, TicketPatch(**patch), cause)
        if drain:
            self.drain()

    def csat(self, ticket_id: str, score: int, *, drain: bool = True) -> None:
        """The survey goes out and is answered (the survey flow's own steps after an answer)."""
        system = ChangeActor.system("survey")
        self.change(ticket_id, event="survey_sent", actor=system, drain=False)
        ticket = self.hub.store.tickets(TENANT).load(ticket_id)
        self.hub.survey_flow.after_answer(ticket, score, None, self.s.clock.now)
        if drain:
            self.drain()

    def merge(self, source: str, into: str, *, drain: bool = True) -> None:
        answer = self.s.client.http.post(f"/v1/tickets/{source}/merge", body=json.dumps({"into": into}),
                                         headers=self.auth())
        assert answer.status_code == 200, answer.body
        if drain:
            self.drain()

    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.s.api_key}", "content-type": "application/json"}

    def get(self, path: str) -> Any:
        self.s.clock.now += timedelta(milliseconds=100)  # time moves between calls, as between clicks
        answer = self.s.client.http.get(path, headers=self.auth())
        assert answer.status_code == 200, answer.body
        return answer.body.decode() if "format=csv" in path else json.loads(answer.body)

    def history(self, ticket_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/v1/tickets/{ticket_id}/history")["history"])
