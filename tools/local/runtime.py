"""``switchboard dev``: the whole hub on one machine.

moto's server plays AWS (or ``SWITCHBOARD_AWS_ENDPOINT`` names another
emulator), the resources come from the same ``infra/template.json`` through its
CloudFormation, the Chalice app serves HTTP on loopback, and two pump threads
play Lambda's stream and queue event sources.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayException,
    ThreadedHTTPServer,
)
from switchboard_sdk.errors import NotFound
from switchboard_sdk.netguard import LOOPBACK, OUTBOUND_ALLOW_ENV

from chalicelib.hub import Hub, build_hub, set_hub
from chalicelib.settings import Settings
from chalicelib.storage.aws import AwsClients

from ..provision import deploy_stateful, settings_for
from . import console_static
from .agents import create_user_pool, seed_demo_agent
from .banner import banner
from .demo import DemoTenant, demo_channel_configs, seed_demo_tenant
from .provider_sandbox import ProviderSandbox
from .pumps import ObjectPump, OnFailureQueue, QueuePump, SchedulePump, StreamPump, idle_wait
from .receiver import DemoReceiver

log = logging.getLogger("switchboard.dev")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
STREAM_POLL_SECONDS = 0.25  # Lambda polls each stream shard four times a second
FAILURE_POLL_SECONDS = 1.0  # the on-failure queues
SCHEDULE_SECONDS = 5.0  # the workflow timers (EventBridge: every minute)
DEMO_TENANT = "demo"


def import_app() -> Any:
    """The project's ``app`` module (a console script does not have it on sys.path)."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    import app

    return app


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto's server exited with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"moto's server did not listen on port {port} within {timeout:g}s")


def _end(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalRuntime:
    port: int = 8000
    receiver_port: int = 8001
    state_dir: Path = Path(".switchboard")
    aws_endpoint: str | None = None
    host: str = "127.0.0.1"
    queue_workers: int = 3  # concurrent delivery-worker invocations, as Lambda would run
    # the demo tenant's assistant (the faq plugin on a bilingual FAQ): off for tests of
    # something else that count messages or events, which its answers would add to
    demo_assistant: bool = True
    sandbox: ProviderSandbox | None = None  # the fake provider APIs, once started (tests reach them here)
    _stop: threading.Event = field(default_factory=threading.Event)
    _cleanups: list[Any] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start_aws(self) -> str:
        """The emulator's endpoint; starts moto's server unless one was given."""
        if self.aws_endpoint:
            return self.aws_endpoint
        for name, value in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
            os.environ.setdefault(name, value)  # moto accepts any credentials
        port = free_port()
        # its own process: the emulator gets a core of its own instead of
        # competing with the hub for this one's interpreter lock; one call at a
        # time, as AWS applies each atomically (tools/local/emulator.py)
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [sys.executable, "-m", "tools.local.emulator", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._cleanups.append(lambda: _end(server))
        endpoint = f"http://127.0.0.1:{port}"
        _wait_for_port(port, server)
        return endpoint

    def build(self) -> tuple[Hub, DemoTenant, DemoReceiver, dict[str, str]]:
        endpoint = self.start_aws()
        # everything here is on loopback (the demo receiver, fakes): let connectors call it unless
        # the developer chose otherwise. In the environment, not only in Settings, because the
        # connector configs' URL check reads the same setting (sdk/switchboard_sdk/netguard.py)
        os.environ.setdefault(OUTBOUND_ALLOW_ENV, LOOPBACK)
        hub_url = f"http://{self.host}:{self.port}"
        base = replace(Settings.from_env(), aws_endpoint=endpoint)
        aws = AwsClients(region=base.region, endpoint=endpoint)
        outputs = deploy_stateful(aws.client("cloudformation"))
        pool = create_user_pool(aws.client("cognito-idp"))  # Cognito is not in moto's CloudFormation
        hub = build_hub(replace(settings_for(outputs, base), cognito_pool_id=pool.pool_id,
                                cognito_client_id=pool.client_id,
                                public_url=base.public_url or hub_url))  # providers' status callbacks come here
        set_hub(hub)
        receiver = DemoReceiver("", host=self.host, port=self.receiver_port)
        demo = self._seed(hub, hub_url, receiver)
        demo.write(self.state_dir / "demo.json")
        return hub, demo, receiver, outputs

    def _seed(self, hub: Hub, hub_url: str, receiver: DemoReceiver) -> DemoTenant:
        """The demo tenant, its channels pointing at the provider sandbox, and its agent."""
        channels = {name: config for name, config in demo_channel_configs(hub_url).items()
                    if name in hub.registry.infos}
        sandbox = ProviderSandbox(channels, hub_url=hub_url, tenant_id=DEMO_TENANT, host=self.host)
        self.sandbox = sandbox
        self._cleanups.append(sandbox.stop)
        for name, settings in sandbox.start().items():
            channels[name] = channels[name] | settings
        demo = seed_demo_tenant(hub, hub_url=hub_url, receiver_url=receiver.url, tenant_id=DEMO_TENANT,
                                channels=channels, web_reply_url=f"{receiver.url}/replies")
        agent = seed_demo_agent(hub, demo.tenant_id)
        receiver.secret, receiver.reply_secret = demo.webhook_secret, demo.web_reply_secret
        receiver.sandbox, receiver.sandbox_fail = sandbox.received, sandbox.fail_next
        # -- the assistant's demo knowledge base --
        from tools.local.demo_knowledge import seed_demo_knowledge

        if self.demo_assistant:
            seed_demo_knowledge(hub, demo.tenant_id, demo.api_key)  # trained by the training pump, as in AWS
        # -- end of the assistant's demo knowledge base --
        # -- the widget's demo --
        # the sample shop page on a second loopback port, and the demo tenant's widget allowing it
        from .widget_demo import start_widget_demo

        demo = start_widget_demo(hub, demo, host=self.host, cleanups=self._cleanups)
        # -- end of the widget's demo --
        return replace(demo, agent_email=agent.email, agent_password=agent.password, sandbox=sandbox.urls)

    def start_pumps(self, hub: Hub, outputs: dict[str, str]) -> None:
        app_module = import_app()  # the same handlers Lambda runs
        sqs = hub.aws.sqs
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=outputs["DeliveryQueueUrl"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        stream = StreamPump(hub.aws.client("dynamodbstreams"), outputs["TableStreamArn"], app_module.store_changes,
                            on_failure=OnFailureQueue(sqs, outputs["StreamFailureQueueUrl"]))  # as the mapping's
        queue = QueuePump(sqs, outputs["DeliveryQueueUrl"], queue_arn, app_module.deliveries)
        objects = ObjectPump(hub.aws.s3, hub.settings.bucket, app_module.stored_objects,
                             on_failure=OnFailureQueue(sqs, outputs["ObjectFailureQueueUrl"]))
        # the on-failure queues' consumers (app.py stream_failures, object_failures): they set aside
        # what ran out of retries; mostly idle, so polled once a second
        failures = [(name, QueuePump(sqs, outputs[output], _queue_arn(sqs, outputs[output]), handler))
                     for name, output, handler in (
                         ("stream-failure-pump", "StreamFailureQueueUrl", app_module.stream_failures),
                         ("object-failure-pump", "ObjectFailureQueueUrl", app_module.object_failures))]
        pumps: list[tuple[str, Callable[[], int], float]] = [
            ("stream-pump", stream.poll_once, STREAM_POLL_SECONDS), ("object-pump", objects.poll_once, 0.0),
        ] + [  # like Lambda, several worker invocations at once; FIFO keeps each ticket in order.
            # Short polls: the emulator answers one call at a time (a long poll would hold it)
            (f"queue-pump-{n}", queue.poll_once, 0.0) for n in range(self.queue_workers)
        ] + [(name, pump.poll_once, FAILURE_POLL_SECONDS) for name, pump in failures] + [
            ("schedule-pump", SchedulePump(app_module.workflow_timers).poll_once, SCHEDULE_SECONDS)]
        # -- the assistant's pumps --
        # training jobs one at a time (app.train_assistants, batch 1) and the answering queue
        # (app.answer_customers, batch 10), as their event source mappings in infra/ do
        for name, output, handler_name, batch in (("training-pump", "TrainingQueueUrl", "train_assistants", 1),
                                                  ("assistant-pump", "AssistantQueueUrl", "answer_customers", 10)):
            handler = getattr(app_module, handler_name, None)
            if handler is not None and output in outputs:
                pump = QueuePump(sqs, outputs[output], _queue_arn(sqs, outputs[output]), handler, batch_size=batch)
                pumps.append((name, pump.poll_once, 0.0))
        # -- end of the assistant's pumps --
        for name, poll, every in pumps:
            thread = threading.Thread(target=self._pump_loop, args=(name, poll, every), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _pump_loop(self, name: str, poll: Any, every: float, pause: Callable[[float], object] | None = None) -> None:
        """Poll until stopped: no more often than ``every`` seconds, and resting
        longer the longer the source stays idle. ``pause`` rests (default: a wait
        that :meth:`stop` cuts short); tests pass their own to run many polls fast."""
        rest_for = pause or self._stop.wait
        idle = 0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                idle = 0 if poll() else idle + 1
                rest = max(idle_wait(idle) if idle else 0.0, every - (time.monotonic() - started))
                if rest > 0:
                    rest_for(rest)
            except Exception:  # keep pumping: Lambda would retry too
                log.exception("%s failed; retrying in 1s", name)
                rest_for(1.0)

    def start(self) -> tuple[Hub, DemoTenant, Any]:
        """Everything up, the HTTP server not yet serving: ``(hub, demo, server)``."""
        from chalice.config import Config

        app_module = import_app()
        hub, demo, receiver, outputs = self.build()
        receiver.start()
        self._cleanups.append(receiver.stop)
        self.start_pumps(hub, outputs)
        # -- the widget's demo host page --
        # -- end of the widget's demo host page --
        server = _local_server(app_module.app, Config(chalice_stage="dev"), self.host, self.port)
        self._cleanups.append(server.server.server_close)
        return hub, demo, server

    def serve(self) -> None:
        """Run until interrupted (Ctrl-C or SIGTERM)."""
        hub, demo, server = self.start()
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.server.shutdown).start())
        print(banner(demo, self.state_dir / "demo.json", hub.settings.aws_endpoint or ""), flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def serve_in_background(self) -> tuple[Hub, DemoTenant]:
        """Start and serve from a thread (tests, benchmarks); :meth:`stop` ends it."""
        hub, demo, server = self.start()
        threading.Thread(target=server.serve_forever, name="hub-http", daemon=True).start()
        self._cleanups.append(server.server.shutdown)
        return hub, demo

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:  # let pumps finish their poll before the emulator goes
            thread.join(timeout=5)
        self._threads.clear()
        for cleanup in reversed(self._cleanups):
            cleanup()
        self._cleanups.clear()


class RouteNotFound(LocalGatewayException):
    """A path no route matches: 404 in the API's error shape.

    chalice answers it 403 and, mimicking API Gateway's SigV4 parser, quotes the
    request's ``Authorization`` header back in the body, which would put a
    caller's ``sbk_`` key into whatever logs or caches the response.
    """

    CODE = 404

    def __init__(self) -> None:
        body = NotFound("no route matches this path").to_body()
        super().__init__({"Content-Type": "application/json"}, json.dumps(body).encode())


class _Gateway(LocalGateway):
    def _generate_lambda_event(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            event = super()._generate_lambda_event(method, path, headers, body)
        except ValueError:  # chalice's route matcher: no route for this path
            raise RouteNotFound from None
        # The query string as the client sent it (``path`` is the request target);
        # HTTP APIs call it rawQueryString. URL-signing providers (Twilio) signed
        # these bytes, which the parsed parameters cannot always give back.
        event["rawQueryString"] = path.partition("?")[2]
        return event


class _RequestHandler(ChaliceRequestHandler):
    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        self.local_gateway = _Gateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        """The console's files (and ``/`` → ``/console/``) here, everything else to Chalice."""
        if not console_static.is_console_path(self.path):
            self._generic_handle()
            return
        found = console_static.answer(self.path)
        self.send_response(found.status)
        for name, value in found.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(found.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(found.body)

    do_HEAD = do_GET  # noqa: N815

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The access log names the method, path and status, never the query: providers put
        personal data there (WeChat's ``openid``), and tokens (the CSAT links' signatures)."""
        # http.server answers a request line over 64 KiB 414 before it has read a path
        path = getattr(self, "path", "").partition("?")[0]
        self.log_message('"%s %s" %s %s', self.command, path, str(code), str(size))


class _HTTPServer(ThreadedHTTPServer):
    # socketserver listens with a backlog of 5: a burst of more clients than that
    # overflows the accept queue before the serving thread gets to them, and the
    # kernel drops or resets the surplus. The kernel caps this at somaxconn.
    request_queue_size = 1024


def _local_server(app: Any, config: Any, host: str, port: int) -> Any:
    """chalice's dev server, with a listen backlog for bursts of clients, unknown
    paths answered 404, and the raw query string in the event.

    chalice rebases the app's class onto its own, which fails with an
    inheritance cycle when a second runtime starts in the same process (tests),
    so a class rebased before is first put back.
    """
    if isinstance(app, CustomLocalChalice):
        app.__class__ = CustomLocalChalice.__bases__[-1]
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)  # as chalice's create_local_server
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=_RequestHandler, server_cls=_HTTPServer)
