"""Delivery throughput and AWS calls per delivered event, through the local runtime.

The local runtime runs as in `make run` (moto's server in its own process, the
stream and queue pumps calling app.py's handlers, the HTTP app), delivering to a
healthy loopback receiver. Signed web messages go in over HTTP; the clock runs
from the first message to the last delivery:

* ``deliveries_per_second``: delivered events per second, end to end.
* ``aws_calls_per_delivery``: AWS API calls made by the dispatcher (the stream
  handler's event → job step) and by the delivery worker, per delivered event,
  counted with botocore's ``before-call`` hook. Conversation building and the
  event sources' own calls (GetRecords, ReceiveMessage, DeleteMessageBatch —
  Lambda makes those) are counted apart and printed for reference.

Instrumentation only: the stream processor's and worker's entry points are
wrapped to tag the calls they make; nothing they do is changed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from phases import PHASE, tagged  # noqa: E402 - beside this script
from switchboard_sdk.testing import StatusServer  # noqa: E402

from chalicelib.hub import Hub  # noqa: E402
from chalicelib.tenancy.tenants import PluginSetting  # noqa: E402
from tools.local import samples  # noqa: E402
from tools.local.demo import DemoTenant  # noqa: E402
from tools.local.runtime import LocalRuntime, free_port  # noqa: E402


def instrument(hub: Hub, calls: Counter[str]) -> None:
    """Count every AWS call by the phase that made it."""
    def count(**_: Any) -> None:
        calls[PHASE.get()] += 1

    for service in ("dynamodb", "sqs", "s3", "dynamodbstreams"):
        hub.aws.client(service).meta.events.register("before-call.*.*", count)
    stream, worker = hub.stream, hub.worker
    stream.process = tagged("dispatcher", stream.process)  # type: ignore[method-assign]
    conversations = stream._conversations  # conversation building is not dispatching
    conversations.absorb = tagged("conversations", conversations.absorb)  # type: ignore[method-assign]
    conversations.release = tagged("conversations", conversations.release)  # type: ignore[method-assign]
    worker.process = tagged("worker", worker.process)  # type: ignore[method-assign]


def send(demo: DemoTenant, customers: int, messages: int) -> None:
    def customer(c: int) -> None:
        for m in range(messages):
            sample = samples.web_message(demo.web_hook_url, demo.web_secret, f"c{c}-m{m}",
                                         email=f"bench{c}@example.com", visitor_id=f"bench-{c}",
                                         client_message_id=f"bench-{c}-{m}")
            _post(sample)

    threads = [threading.Thread(target=customer, args=(c,)) for c in range(customers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)


def _post(sample: samples.Sample, tries: int = 30) -> None:
    """POST until accepted; a 429 (the tenant's webhook rate limit) is sent again after
    its Retry-After, as providers do."""
    import urllib.error
    import urllib.request

    for _ in range(tries):
        request = urllib.request.Request(sample.url, data=sample.body, headers=sample.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                return
        except urllib.error.HTTPError as err:
            if err.code != 429:
                raise
            time.sleep(float(err.headers.get("Retry-After") or 1))
    raise RuntimeError(f"still rate limited after {tries} tries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--messages", type=int, default=20, help="per customer")
    args = parser.parse_args()
    expected = args.customers * (args.messages + 1)  # one ticket.created each
    local = LocalRuntime(port=free_port(), receiver_port=free_port(), state_dir=Path(tempfile.mkdtemp()))
    hub, demo = local.serve_in_background()
    calls: Counter[str] = Counter()
    with StatusServer(200) as receiver:
        tenant = hub.tenants.get(demo.tenant_id)
        webhook = PluginSetting(config={"url": receiver.url, "secret": demo.webhook_secret})
        hub.tenants.put(tenant.model_copy(update={"plugins": tenant.plugins | {"webhook": webhook}}))
        instrument(hub, calls)
        started = time.perf_counter()
        send(demo, args.customers, args.messages)
        deadline = time.monotonic() + 600
        while len(receiver.requests) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed, delivered = time.perf_counter() - started, len(receiver.requests)
    local.stop()
    print(f"events_delivered={delivered}")
    print(f"deliveries_per_second={delivered / elapsed:.1f}")
    print(f"aws_calls_per_delivery={(calls['dispatcher'] + calls['worker']) / max(delivered, 1):.2f}")
    print(f"dispatcher_calls_per_delivery={calls['dispatcher'] / max(delivered, 1):.2f}")
    print(f"worker_calls_per_delivery={calls['worker'] / max(delivered, 1):.2f}")
    print(f"conversation_calls_per_message={calls['conversations'] / max(args.customers * args.messages, 1):.2f}")
    print(f"event_source_calls={calls['event-source']}")


if __name__ == "__main__":
    main()
