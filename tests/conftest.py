"""Shared fixtures: moto's in-process AWS, a hub deployed on it from infra/,
and the pumps that play Lambda's event sources."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from _pytest.nodeid import NodeId

# Set before boto3 builds any client: fake credentials, and the endpoint mode
# that lets moto's in-process DynamoDB Streams answer (docs/architecture.md, "Platform facts").
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    # the receivers and fakes here are loopback servers: the operator's allowance for local
    # development, read when connector configs are validated (the hub fixture's transport gets
    # the same; tests/test_ssrf.py builds hubs with the production policy)
    SWITCHBOARD_OUTBOUND_ALLOW="loopback",
)
for _var in ("AWS_PROFILE", "SWITCHBOARD_AWS_ENDPOINT", "SWITCHBOARD_PLUGINS"):
    os.environ.pop(_var, None)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from switchboard_sdk import standard_webhooks  # noqa: E402
from switchboard_sdk.netguard import LOOPBACK, OutboundPolicy  # noqa: E402
from switchboard_sdk.testing import StatusServer  # noqa: E402

import app as app_module  # noqa: E402
from chalicelib.hub import Hub, build_hub, set_hub  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from chalicelib.storage.aws import AwsClients  # noqa: E402
from tests import saved_state  # noqa: E402
from tests.agents_support import FakeJwks, ensure_user_pool  # noqa: E402
from tools.local import moto_transactions  # noqa: E402
from tools.local.demo import DemoTenant, seed_demo_tenant  # noqa: E402
from tools.local.emulator import memoise_possible_keys  # noqa: E402
from tools.local.pumps import QueuePump, StreamPump, drain  # noqa: E402
from tools.provision import deploy_stateful, settings_for  # noqa: E402

moto_transactions.install()  # item backups instead of whole-table copies per transaction (see the module)
memoise_possible_keys()  # moto's serializer works out where each member's value is once per shape (see it)


# one boto3 session per test process: clients built from it share the service models and
# endpoint rules it loaded once (a fresh session reads them again, ~0.4 s a test); moto's
# hook is in every session made after moto is imported, so these clients are mocked too
BOTO_SESSION = boto3.session.Session()


# Modules kept on one xdist worker (`make test` runs `--dist loadgroup`; every other test is
# handed out on its own): a wheel or a Lambda zip built by a module fixture is built once
# instead of once per worker, and the browser tests' runtime and page (one of each for the
# module, its tests in order) stay together. Add a module here when its module-scoped fixture
# costs more than a worker left idle, or its tests share state.
WORKER_GROUPS = {
    "tests.test_packaging": "packaging",
    "tests.test_aside_packaging": "packaging",
    "tests.test_console_browser": "console-browser",
    "tests.test_widget_browser": "widget-browser",
    # one module-scoped world each (minutes of moto work): built once, on one worker
    "tests.test_metrics_kpis": "metrics-kpis",
    "tests.test_reports_api": "reports-api",
    # a module-scoped local runtime, install or subprocess runs (seconds to a minute each) that a
    # module's tests spread over both workers would start twice
    "tests.test_scaffold": "scaffold",
    "tests.test_e2e": "e2e",
    "tests.test_e2e_replies": "e2e-replies",
    "tests.test_agent_cli": "agent-cli",
    "tests.test_admin_cli": "admin-cli",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark :data:`WORKER_GROUPS`' tests ``xdist_group`` and, on an xdist worker under
    ``--dist loadgroup``, give their ids the "@group" suffix the scheduler groups by.

    pytest-xdist 3.8 adds that suffix itself by setting ``item._nodeid``, which pytest 9 no
    longer reads (a node's id is its ``_id``, a ``NodeId``): the marks had no effect (ids
    without "@group", a module's tests spread over both workers). So the suffix is put where
    pytest 9 reads it, as ``str(item._id)``; the id keeps its path and test name in front."""
    loadgroup = bool(getattr(config.option, "loadgroup", False))  # only xdist's workers set it
    for item in items:
        _name_in_id(item)
    shared = sorted(node for node, count in Counter(item.nodeid for item in items).items() if count > 1)
    if shared:  # xdist's scheduler keys work by id: all but one of them would not run, silently
        raise pytest.UsageError(f"tests share a node id: {shared[:5]}")
    for item in items:
        module = getattr(item, "module", None)
        group = WORKER_GROUPS.get(module.__name__) if module is not None else None
        if group is None:
            continue
        item.add_marker(pytest.mark.xdist_group(group))
        if loadgroup and not item.nodeid.endswith(f"@{group}"):
            item._id = NodeId.parse(f"{item.nodeid}@{group}")


def _name_in_id(item: pytest.Item) -> None:
    """Schemathesis 4 names its items ``test[GET /path]`` but leaves them the test function's
    id under pytest 9, so its 128 operations share one id and xdist's scheduler, which keys
    work by id, ran one of them and dropped the rest without a word. Each gets its name back."""
    last = item.nodeid.rsplit("::", 1)[-1]
    if item.parent is not None and last != item.name and item.name.startswith(f"{last}["):
        item._id = NodeId.parse(f"{item.parent.nodeid}::{item.name}")


@pytest.fixture
def aws() -> Iterator[AwsClients]:
    with mock_aws():
        yield AwsClients(region="us-east-1", session=BOTO_SESSION)


# the stack as deploy_stateful left it on a fresh moto, saved once per test process (tests/saved_state.py)
_DEPLOYED: list[tuple[saved_state.Saved, dict[str, str]]] = []


@pytest.fixture
def outputs(aws: AwsClients) -> dict[str, str]:
    """The stack of infra/template.json deployed on ``aws``'s fresh moto. The first test of a
    process deploys it and saves moto's state; the next ones get a fresh copy of that state,
    which is what deploying again would leave (the same resources and outputs), in ~2 ms
    instead of ~150 ms. When something was made in moto before, it is deployed beside that."""
    if not saved_state.untouched():
        return deploy_stateful(aws.client("cloudformation"))
    if _DEPLOYED:
        saved, deployed = _DEPLOYED[0]
        saved_state.restore(saved)
        return dict(deployed)
    deployed = deploy_stateful(aws.client("cloudformation"))
    resources = aws.client("cloudformation").list_stack_resources(StackName="switchboard")["StackResourceSummaries"]
    if not any(r["ResourceType"].startswith("AWS::IAM::") for r in resources):  # IAM is not saved
        _DEPLOYED.append((saved_state.save(), dict(deployed)))
    return deployed


HUB_SETTINGS = Settings(max_delivery_attempts=3, delivery_timeout_seconds=2.0,
                        outbound_policy=OutboundPolicy.parse(LOOPBACK))


@pytest.fixture
def hub(aws: AwsClients, outputs: dict[str, str]) -> Iterator[Hub]:
    # no user pool: tests that sign agents in get one (the user_pool fixture, agents_support.signed_in)
    settings = settings_for(outputs, HUB_SETTINGS)
    built = build_hub(settings, jwks_fetch=FakeJwks())
    built.aws = aws
    set_hub(built)
    yield built
    set_hub(None)


class AtomicCalls:
    """A client proxy that runs one API call at a time.

    DynamoDB applies each single-item call atomically; moto's in-process backend
    does not lock, so concurrent conditional writes could interleave inside it.
    Serialising whole calls restores the guarantee the code relies on while the
    callers still race between calls.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


@pytest.fixture
def user_pool(hub: Hub) -> None:
    """The agents' user pool, made through the API as infra/template.json declares it
    (moto's CloudFormation does not emulate Cognito)."""
    ensure_user_pool(hub)


@pytest.fixture
def atomic_dynamodb(hub: Hub) -> None:
    """Install :class:`AtomicCalls` before the hub builds its store (concurrency tests)."""
    hub.aws.use("dynamodb", AtomicCalls(hub.aws.dynamodb))


@pytest.fixture
def receiver() -> Iterator[StatusServer]:
    with StatusServer(200) as server:
        yield server


@pytest.fixture
def demo(hub: Hub, receiver: StatusServer) -> DemoTenant:
    return seed_demo_tenant(hub, hub_url="http://testserver", receiver_url=receiver.url)


@dataclass
class Pipeline:
    """The stream and queue pumps, calling app.py's handlers like Lambda would."""

    stream: StreamPump
    queue: QueuePump
    dlq_url: str
    sqs: Any

    def drain(self) -> None:
        drain([self.stream, self.queue])

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]


@pytest.fixture
def pipeline(hub: Hub, outputs: dict[str, str], aws: AwsClients) -> Pipeline:
    queue_arn = aws.sqs.get_queue_attributes(
        QueueUrl=outputs["DeliveryQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    stream = StreamPump(aws.client("dynamodbstreams"), outputs["TableStreamArn"], app_module.store_changes)
    queue = QueuePump(aws.sqs, outputs["DeliveryQueueUrl"], queue_arn, app_module.deliveries)
    return Pipeline(stream, queue, outputs["DeliveryDeadLetterQueueUrl"], aws.sqs)


def signed_web_headers(secret: str, body: bytes, msg_id: str = "wh_1", at: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if at is None else at
    return {"content-type": "application/json"} | standard_webhooks.signed_headers(secret, msg_id, timestamp, body)


def web_message(text: str = "Hello, my order is late", *, client_id: str = "c-1", **extra: Any) -> bytes:
    body = {"visitor_id": "v-42", "name": "Ada", "email": "Ada@Example.com", "text": text,
            "client_message_id": client_id, "page_url": "https://shop.example.com/orders"} | extra
    return json.dumps(body).encode()


def table_items(hub: Hub, kind: str | None = None) -> list[dict[str, Any]]:
    """Every item in the table (tests only: the hub itself never scans)."""
    from chalicelib.storage.items import from_item

    pages = hub.aws.dynamodb.get_paginator("scan").paginate(TableName=hub.settings.table_name)
    items = [from_item(i) for page in pages for i in page["Items"]]
    return [i for i in items if kind is None or i.get("type") == kind]


def bucket_keys(hub: Hub, prefix: str = "") -> list[str]:
    listing = hub.aws.s3.list_objects_v2(Bucket=hub.settings.bucket, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


# -- one deployed stack per module, each test from a saved state ---------------------------
#
# The fixtures above build everything per test. The long matrices (tests/test_scopes.py,
# tests/test_isolation.py, tests/test_agents_isolation.py) run hundreds of cases over the
# same starting state, so they take it from ``world`` instead: moto, the stack and tenant
# demo made once per module, and before each test a fresh copy of a saved state
# (tests/saved_state.py). A test gets a new Hub (no cache carried over) and new pumps.


@dataclass
class Stage:
    """What a test of ``World.stage`` gets: the hub, demo, pumps, and what ``build`` returned."""

    hub: Hub
    demo: DemoTenant
    pipeline: Pipeline
    extra: Any = None


@dataclass
class _SavedStage:
    backends: saved_state.Saved
    settings: Settings  # the hub's (a user pool made while building is in them)
    positions: dict[str, Any]  # how far the stream pump had read
    extra: Any


class World:
    """moto with the stack deployed and tenant demo seeded, for one module's tests.

    ``stage()`` is the state the ``hub``, ``demo`` and ``pipeline`` fixtures give a test.
    ``stage(key, build)`` is that state after ``build(stage)``: built by the first test
    asking for ``key`` and saved, then restored for the next ones. ``build`` must depend
    on nothing but ``key`` (its result, ``Stage.extra``, is handed to every test of ``key``)."""

    SAVED_MOST = 256  # saved states kept besides the base one (the oldest dropped first)

    def __init__(self, aws: AwsClients, outputs: dict[str, str], receiver: StatusServer) -> None:
        self.aws, self.outputs = aws, outputs
        self._saved: dict[str, _SavedStage] = {}
        hub = self._hub(settings_for(outputs, HUB_SETTINGS))
        self.demo = seed_demo_tenant(hub, hub_url="http://testserver", receiver_url=receiver.url)
        self._save("", Stage(hub, self.demo, self._pipeline({})))

    def stage(self, key: str = "", build: Callable[[Stage], Any] | None = None) -> Stage:
        saved = self._saved.get(key)
        if saved is not None:
            self._saved[key] = self._saved.pop(key)  # most recently used last
            return self._restore(saved)
        assert build is not None, f"no saved state {key!r} and nothing to build it with"
        stage = self._restore(self._saved[""])
        stage.extra = build(stage)
        self._save(key, stage)
        return stage

    def _save(self, key: str, stage: Stage) -> None:
        positions = dict(stage.pipeline.stream._positions)
        self._saved[key] = _SavedStage(saved_state.save(), stage.hub.settings, positions, stage.extra)
        while len(self._saved) > self.SAVED_MOST + 1:
            del self._saved[next(k for k in self._saved if k)]

    def _restore(self, saved: _SavedStage) -> Stage:
        saved_state.restore(saved.backends)
        return Stage(self._hub(saved.settings), self.demo, self._pipeline(saved.positions), saved.extra)

    def _hub(self, settings: Settings) -> Hub:
        built = build_hub(settings, jwks_fetch=FakeJwks())
        built.aws = self.aws
        set_hub(built)
        return built

    def _pipeline(self, positions: dict[str, Any]) -> Pipeline:
        outputs, sqs = self.outputs, self.aws.sqs
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=outputs["DeliveryQueueUrl"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        stream = StreamPump(self.aws.client("dynamodbstreams"), outputs["TableStreamArn"], app_module.store_changes)
        stream._positions.update(positions)  # the shards it had read, from where it stopped
        queue = QueuePump(sqs, outputs["DeliveryQueueUrl"], queue_arn, app_module.deliveries)
        return Pipeline(stream, queue, outputs["DeliveryDeadLetterQueueUrl"], sqs)


@pytest.fixture(scope="module")
def module_world() -> Iterator[World]:
    """Its own moto for the module: a module using it uses none of ``aws``, ``hub``, ``demo``
    and ``pipeline`` above (it overrides them with ``stage``'s, see tests/test_scopes.py)."""
    with mock_aws(), StatusServer(200) as receiver:
        aws = AwsClients(region="us-east-1", session=BOTO_SESSION)
        yield World(aws, deploy_stateful(aws.client("cloudformation")), receiver)
    set_hub(None)


@pytest.fixture
def world(module_world: World) -> Iterator[World]:
    """The module's world, for a test that calls ``world.stage(...)``; no hub is left installed after it."""
    yield module_world
    set_hub(None)


@pytest.fixture
def stage(world: World) -> Stage:
    """The state ``hub``, ``demo`` and ``pipeline`` give, from ``world``'s saved copy."""
    return world.stage()


@pytest.fixture
def object_pump(hub: Hub) -> Any:
    """S3 puts under inbound/ reach app.py's stored_objects handler, as EventBridge would."""
    from tools.local.pumps import ObjectPump

    return ObjectPump(hub.aws.s3, hub.settings.bucket, app_module.stored_objects)
