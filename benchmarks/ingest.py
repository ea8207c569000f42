"""Benchmark of the webhook ingest path: AWS calls, hub overhead, cold import.

Prints ``name=value`` lines on stdout (details on stderr):

``aws_calls_per_message`` (target 1)
    AWS API calls made while the hub handles one NEW ``web`` message. A handler on
    botocore's ``before-call`` event (one event per API call, retries excluded) is
    registered on the boto3 session the hub's ``AwsClients`` builds its clients
    from, so every client the hub creates inherits it. One message is sent first
    (tenant record and plugin config warm in the cache); the count over N new
    messages is divided by N. Only calls inside the HTTP requests are counted;
    they include the rate limiter's lease writes (the bench tenant may send
    ``WEBHOOK_RATE`` requests/s) and any KMS call (the KMS client is built from the
    same session): sealing the inbound record uses the container's cached data key.

``kms_calls_per_1000_messages`` (target <= 2 at a steady rate)
    KMS calls (every operation, counted on the same session from the hub's first
    message on, so a cold container's ``GenerateDataKey`` is in) per 1,000 messages
    through the hub over the whole run (the call count and the timed paths), at the
    rate the run goes. A data key serves 300 s or 100,000 seals (chalicelib/crypto/datakeys.py):
    at a steady rate of R messages/s a webhook container makes ``1000 / (300 R)`` calls
    per 1,000 messages, plus one when it starts.

``hub_overhead_ratio`` (target <= 1.5)
    Median time per message of the full webhook path, driven through
    ``chalice.test.Client`` (routing, edge, tenant lookup, plugin verify/parse,
    the conditional PutItem, the answer), divided by the median of a baseline that
    only verifies the same Standard Webhooks signature and does one conditional
    PutItem of a similar-sized item into the same table. Both talk to moto's
    server over loopback HTTP and run interleaved in small blocks (rotating order)
    so machine noise hits both alike. ``hub_direct_overhead_ratio`` is the same
    with ``hub.ingestor.handle(WebhookRequest(...))`` called directly (no Chalice).

``cold_import_ratio`` (target <= 1.3)
    Whole-process wall time of ``python -c "import app; build_plugin_manager()"``
    (the plugin entry points actually load) over that of ``python -c "import
    boto3"``, alternating the two, several repetitions each, medians. Both import
    from bytecode (written by a first run into a scratch cache), as the Lambda package
    ships it (tools/bytecode.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from switchboard_sdk import WebhookRequest
from switchboard_sdk.standard_webhooks import signed_headers, verify

ROOT = Path(__file__).resolve().parent.parent
TENANT = "bench"
BLOCK = 10  # messages per interleaved block
WEBHOOK_RATE = 5000.0  # requests/s the bench tenant may send (per-tenant limiter, docs/limits.md)
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
APP_IMPORT = (
    "import app; from switchboard_sdk import build_plugin_manager; "
    "assert {'web', 'webhook'} <= set(build_plugin_manager().infos)"
)
BOTO3_IMPORT = "import boto3"


def log(text: str) -> None:
    print(text, file=sys.stderr)


# -- environment -----------------------------------------------------------------


def fake_aws_environment() -> None:
    """Fake credentials, and no setting that could point the hub elsewhere."""
    os.environ.update(FAKE_AWS)
    for var in ("AWS_PROFILE", "SWITCHBOARD_AWS_ENDPOINT", "SWITCHBOARD_PLUGINS"):
        os.environ.pop(var, None)
    os.environ["SWITCHBOARD_OUTBOUND_ALLOW"] = "loopback"  # the demo tenant's webhook points at loopback
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # for ``import app``


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on loopback; yields its endpoint URL, stops it afterwards."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


# -- the hub under test -----------------------------------------------------------


class CallCounter:
    """botocore ``before-call`` handler: counts API calls while ``active``."""

    def __init__(self) -> None:
        self.active = False
        self.calls: Counter[str] = Counter()
        self.kms: Counter[str] = Counter()

    def __call__(self, event_name: str = "", **_: Any) -> None:
        name = event_name.removeprefix("before-call.")
        if name.startswith("kms."):
            self.kms[name] += 1  # KMS calls are counted from the first on (a cold container's included)
        if self.active:
            self.calls[name] += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.calls.clear()
        self.active = True
        try:
            yield
        finally:
            self.active = False


@dataclass
class Bench:
    hub: Any
    http: Any  # chalice.test.TestHTTPClient
    ddb: Any  # the baseline's own DynamoDB client, same session and endpoint
    table: str
    secret: str
    counter: CallCounter
    sent: int = 0
    through_hub: int = 0  # messages the hub handled (the baseline's are not)
    hub_ns: list[int] = field(default_factory=list)
    direct_ns: list[int] = field(default_factory=list)
    base_ns: list[int] = field(default_factory=list)


def build_bench(endpoint: str) -> Bench:
    """Deploy infra/ to moto, build and install a hub on it, seed a tenant."""
    import boto3
    from chalice.test import Client

    import app
    from chalicelib.hub import build_hub, set_hub
    from chalicelib.settings import Settings
    from chalicelib.storage.aws import AwsClients
    from tools.local.demo import seed_demo_tenant
    from tools.provision import deploy_stateful, settings_for

    session = boto3.session.Session()
    counter = CallCounter()
    # Registered on the session before any client exists: every client built from
    # it copies the handler into its ``meta.events``.
    session.events.register("before-call", counter, unique_id="bench-call-counter")
    aws = AwsClients(region=FAKE_AWS["AWS_DEFAULT_REGION"], endpoint=endpoint, session=session)
    outputs = deploy_stateful(aws.client("cloudformation"))
    # A long tenant cache, so a slow run never measures a refresh (one GetItem per
    # tenant per ``tenant_cache_seconds`` in production).
    # a busy tenant's webhook rate: the limiter's lease calls are counted, not its refusals
    settings = settings_for(outputs, Settings(aws_endpoint=endpoint, tenant_cache_seconds=3600,
                                              webhook_rate=WEBHOOK_RATE))
    hub = build_hub(settings)
    hub.aws = aws
    set_hub(hub)
    demo = seed_demo_tenant(hub, hub_url="http://testserver", receiver_url="http://127.0.0.1:9/hook",
                            tenant_id=TENANT)
    http = Client(app.app, project_dir=str(ROOT)).http
    ddb = session.client("dynamodb", region_name=aws.region, endpoint_url=endpoint)
    return Bench(hub, http, ddb, settings.table_name, demo.web_secret, counter)


# -- messages and the three paths -------------------------------------------------


def next_message(bench: Bench) -> tuple[bytes, dict[str, str]]:
    """A new signed web message (unique ``client_message_id`` and ``webhook-id``)."""
    bench.sent += 1
    body = json.dumps({
        "visitor_id": "v-42", "name": "Ada", "email": "Ada@Example.com",
        "text": f"Hello, my order is late (#{bench.sent})", "client_message_id": f"c-{bench.sent}",
        "page_url": "https://shop.example.com/orders",
    }).encode()
    signed = signed_headers(bench.secret, f"wh_{bench.sent}", int(time.time()), body)
    return body, {"content-type": "application/json"} | signed


def via_chalice(bench: Bench, body: bytes, headers: dict[str, str]) -> None:
    bench.through_hub += 1
    response = bench.http.post(f"/hooks/{TENANT}/web", body=body, headers=headers)
    if response.status_code != 202:
        raise RuntimeError(f"webhook answered {response.status_code}: {response.body!r}")


def via_ingestor(bench: Bench, body: bytes, headers: dict[str, str]) -> None:
    bench.through_hub += 1
    raw = WebhookRequest(tenant_id=TENANT, channel="web", method="POST", received_at=bench.hub.clock(),
                         public_url=f"http://testserver/hooks/{TENANT}/web", headers=headers, query={}, body=body)
    answer = bench.hub.ingestor.handle(raw)
    if answer.status_code != 202:
        raise RuntimeError(f"ingestor answered {answer.status_code}: {answer.body}")


def baseline(bench: Bench, body: bytes, headers: dict[str, str]) -> None:
    """The least a webhook can do: check the signature, one conditional PutItem."""
    msg_id = verify([bench.secret], headers, body, now=datetime.now(UTC))
    item = {"pk": {"S": f"BASE#{msg_id}"}, "sk": {"S": "IN"}, "type": {"S": "inbound"},
            "doc": {"S": body.decode()}, "raw": {"B": body}, "expires_at": {"N": str(int(time.time()))}}
    bench.ddb.put_item(TableName=bench.table, Item=item, ConditionExpression="attribute_not_exists(pk)")


# -- measurements ------------------------------------------------------------------


def count_calls(bench: Bench, n: int) -> float:
    """AWS calls per new message on the webhook path (cache warmed by one message)."""
    via_chalice(bench, *next_message(bench))
    messages = [next_message(bench) for _ in range(n)]
    with bench.counter.counting():
        for body, headers in messages:
            via_chalice(bench, body, headers)
    log(f"calls over {n} messages: {dict(bench.counter.calls)}")
    return sum(bench.counter.calls.values()) / n


Path_ = Callable[[Bench, bytes, dict[str, str]], None]


def time_block(bench: Bench, path: Path_, samples: list[int], size: int) -> None:
    messages = [next_message(bench) for _ in range(size)]  # signing is the sender's cost
    for body, headers in messages:
        start = time.perf_counter_ns()
        path(bench, body, headers)
        samples.append(time.perf_counter_ns() - start)


def time_paths(bench: Bench, n: int) -> None:
    """Interleave blocks of the three paths, rotating which goes first."""
    arms: list[tuple[Path_, list[int]]] = [
        (via_chalice, bench.hub_ns), (via_ingestor, bench.direct_ns), (baseline, bench.base_ns)
    ]
    for path, _ in arms:  # warm each path (client creation, first-call caches)
        time_block(bench, path, [], 3)
    for block, start in enumerate(range(0, n, BLOCK)):
        size = min(BLOCK, n - start)
        for shift in range(len(arms)):
            path, samples = arms[(block + shift) % len(arms)]
            time_block(bench, path, samples, size)


def median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000


def process_seconds(code: str, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=env)
    return time.perf_counter() - start


def from_bytecode(cache: str) -> dict[str, str]:
    """An environment whose imports read (and, the first time, write) bytecode under ``cache``,
    as the Lambda package ships it (tools/bytecode.py), even where PYTHONDONTWRITEBYTECODE is
    set (it would make every run compile the project's sources, which Lambda does not)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPYCACHEPREFIX": cache}


def cold_import_ratio(reps: int) -> tuple[float, float, float]:
    """(ratio, app ms, boto3 ms): whole-process medians, runs alternating, both from bytecode."""
    with tempfile.TemporaryDirectory() as cache:
        env = from_bytecode(cache)
        process_seconds(APP_IMPORT, env), process_seconds(BOTO3_IMPORT, env)  # warm disk cache, write .pyc
        app_s: list[float] = []
        boto_s: list[float] = []
        for rep in range(reps):
            pair = [(APP_IMPORT, app_s), (BOTO3_IMPORT, boto_s)]
            for code, samples in pair if rep % 2 == 0 else reversed(pair):
                samples.append(process_seconds(code, env))
    app_ms, boto_ms = statistics.median(app_s) * 1000, statistics.median(boto_s) * 1000
    return app_ms / boto_ms, app_ms, boto_ms


# -- entry point -------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=300, help="messages per measurement (default 300)")
    parser.add_argument("--import-reps", type=int, default=7,
                        help="cold-import runs of each kind (default 7)")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.import_reps < 1:
        parser.error("--messages and --import-reps must be positive")
    return args


def measure_hub(n: int) -> dict[str, float]:
    with moto_server() as endpoint:
        bench = build_bench(endpoint)
        started = time.perf_counter()
        calls = count_calls(bench, n)
        time_paths(bench, n)
        seconds = time.perf_counter() - started
    log(f"KMS calls over {bench.through_hub} messages through the hub in {seconds:.0f} s "
        f"({bench.through_hub / seconds:.0f}/s): {dict(bench.counter.kms)}")
    kms_per_1000 = sum(bench.counter.kms.values()) * 1000 / bench.through_hub
    hub_us, direct_us, base_us = (median_us(s) for s in (bench.hub_ns, bench.direct_ns, bench.base_ns))
    return {
        "aws_calls_per_message": calls,
        "kms_calls_per_1000_messages": kms_per_1000,
        "hub_overhead_ratio": hub_us / base_us,
        "hub_direct_overhead_ratio": direct_us / base_us,
        "hub_us_per_message": hub_us,
        "hub_direct_us_per_message": direct_us,
        "baseline_us_per_message": base_us,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fake_aws_environment()
    started = time.perf_counter()
    figures = measure_hub(args.messages)
    ratio, app_ms, boto_ms = cold_import_ratio(args.import_reps)
    figures |= {"cold_import_ratio": ratio, "app_import_ms": app_ms, "boto3_import_ms": boto_ms}
    print(f"messages_measured={args.messages}")
    for name, value in figures.items():
        print(f"{name}={value:.3f}" if "ratio" in name or "calls" in name else f"{name}={value:.0f}")
    log(f"took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
