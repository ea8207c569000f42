"""Replies: AWS calls per reply, the hub's overhead on the way to the provider, and
WeChat token fetches across containers.

Prints ``name=value`` lines on stdout:

``aws_calls_per_reply``
    The local runtime as in `make run` (moto's server in its own process, the stream
    and queue pumps calling app.py's handlers, the HTTP app); the demo agent, signed in
    through ``POST /v1/session``, answers SMS tickets over HTTP, and a fake Twilio
    takes the sends. Every AWS API call is counted with botocore's ``before-call``
    hook on the hub's clients and tagged by who made it: the reply API call
    (``replies_api.post``: token check, agent and tenant reads, rate limit, the
    write), the stream handler (the send job's enqueue; also the stream records of
    the reply's later status change, which ask nothing), and the delivery worker's
    send. The event sources' own calls (GetRecords, ReceiveMessage,
    DeleteMessageBatch — Lambda makes those) are not counted. The fake posts no
    status callbacks here: they are the provider's calls, not the reply's. No
    connector is enabled, so no ``message.created`` delivery is counted either.

``reply_overhead_ratio``
    Median time from the reply API call to the fake Twilio's receipt of the send,
    through the local runtime, over the median time from a direct POST of the same
    kind of message to the same fake from this process (the hub's own HTTP
    transport) to its receipt. The two run interleaved, alternating which goes
    first, one at a time. The local runtime's event sources poll (the stream four
    times a second, the queue with an idle back-off, as Lambda's pollers do), so the
    figure is mostly their wait, printed apart as ``reply_api_median_ms``.

``wechat_token_fetches_per_1000_replies`` (target 1)
    1,000 sends through the wechat plugin's send hook (the registry, as the worker
    calls it) against a fake WeChat API, by several simulated containers at once:
    each a thread with its own :class:`~chalicelib.outbound.tokens.TableTokens` and
    HTTP transport, all on the local runtime's table. Counted at the fake: answered
    ``stable_token`` requests.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from phases import PHASE, tagged  # noqa: E402 - beside this script
from switchboard_sdk import Identity, OutboundMessage, SendContext  # noqa: E402
from switchboard_sdk.testing import Recorded, Reply  # noqa: E402

from chalicelib.hub import Hub  # noqa: E402
from chalicelib.tenancy.tenants import PluginSetting  # noqa: E402
from tools.local import samples  # noqa: E402
from tools.local.demo import DemoTenant  # noqa: E402
from tools.local.runtime import LocalRuntime, free_port  # noqa: E402
from tools.local.sandbox.twilio import FakeTwilio  # noqa: E402
from tools.local.sandbox.wechat import FakeWeChat  # noqa: E402

SERVICES = ("dynamodb", "sqs", "s3", "dynamodbstreams", "cognito-idp")
COUNTED = ("reply-api", "stream", "worker")


class TimedTwilio(FakeTwilio):
    """The sandbox's fake Twilio, noting when each message body first arrives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.received: dict[str, float] = {}
        super().__init__(*args, **kwargs)

    def _respond(self, request: Recorded) -> Reply:
        body = parse_qs(request.body.decode()).get("Body", [""])[0]
        self.received.setdefault(body, time.perf_counter())
        return super()._respond(request)



def instrument(hub: Hub, calls: Counter[str], operations: Counter[str]) -> None:
    """Count every AWS call by the phase that made it (wrapping entry points only)."""
    def count(event_name: str = "", **_: Any) -> None:
        calls[PHASE.get()] += 1
        operations[f"{PHASE.get()} {event_name.removeprefix('before-call.')}"] += 1

    for service in SERVICES:
        hub.aws.client(service).meta.events.register("before-call.*.*", count)
    hub.replies_api.post = tagged("reply-api", hub.replies_api.post)  # type: ignore[method-assign]
    hub.stream.process = tagged("stream", hub.stream.process)  # type: ignore[method-assign]
    hub.worker.process = tagged("worker", hub.worker.process)  # type: ignore[method-assign]


def http(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def wait(probe: Callable[[], bool], what: str, timeout: float = 300, step: float = 0.001) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(step)


class Bench:
    def __init__(self, hub: Hub, demo: DemoTenant, twilio: TimedTwilio) -> None:
        self.hub, self.demo, self.twilio = hub, demo, twilio
        self.token = http(f"{demo.hub_url}/v1/session", {"email": demo.agent_email,
                                                         "password": demo.agent_password})["id_token"]

    def tickets(self, customers: int) -> list[str]:
        """One SMS ticket per customer."""
        auth_token = self.demo.channels["twilio"]["auth_token"]
        for c in range(customers):
            sample = samples.twilio_sms(self.demo.hook_url("twilio"), auth_token, f"bench customer {c}",
                                        sender=f"+1415555{c:04d}")
            urllib.request.urlopen(urllib.request.Request(sample.url, data=sample.body, headers=sample.headers),
                                   timeout=30).read()

        def listed() -> list[str]:
            return [t["id"] for t in http(f"{self.demo.hub_url}/v1/tickets?limit=100", token=self.token)["tickets"]]

        wait(lambda: len(listed()) >= customers, "the tickets", step=0.2)
        return listed()

    def reply(self, ticket_id: str, text: str) -> None:
        http(f"{self.demo.hub_url}/v1/tickets/{ticket_id}/messages", {"text": text}, self.token)

    def replies(self, tickets: list[str], per_ticket: int, prefix: str, threads: int = 4) -> None:
        """``per_ticket`` replies on every ticket from ``threads`` agents' tabs; back once the fake has them all."""
        texts = [(t, f"{prefix} {t} #{n}") for n in range(per_ticket) for t in tickets]

        def tab(mine: list[tuple[str, str]]) -> None:
            for ticket_id, text in mine:
                self.reply(ticket_id, text)

        workers = [threading.Thread(target=tab, args=(texts[i::threads],)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        wait(lambda: all(text in self.twilio.received for _, text in texts), f"{len(texts)} sends", step=0.05)


def quiet(calls: Counter[str], seconds: float = 2.0) -> None:
    """Until no counted call happened for ``seconds`` (the workers' last writes are in)."""
    while True:
        before = sum(calls[p] for p in COUNTED)
        time.sleep(seconds)
        if sum(calls[p] for p in COUNTED) == before:
            return


def aws_calls(bench: Bench, tickets: list[str], replies: int, calls: Counter[str],
              operations: Counter[str]) -> dict[str, float]:
    per_ticket = max(1, replies // len(tickets))
    calls.clear()
    operations.clear()
    bench.replies(tickets, per_ticket, "counted")
    quiet(calls)
    sent = per_ticket * len(tickets)
    for operation, count in sorted(operations.items()):  # the detail, on stderr
        if operation.split()[0] in COUNTED:
            print(f"  {operation}: {count / sent:.2f} per reply", file=sys.stderr)
    return {"replies": sent, "aws_calls_per_reply": sum(calls[p] for p in COUNTED) / sent,
            "reply_api_calls_per_reply": calls["reply-api"] / sent,
            "stream_calls_per_reply": calls["stream"] / sent, "worker_calls_per_reply": calls["worker"] / sent}


def overhead(bench: Bench, ticket_id: str, pairs: int) -> dict[str, float]:
    """Interleaved: a reply through the hub, a direct POST to the fake; each timed to the fake's receipt."""
    twilio, transport = bench.twilio, bench.hub.outbound_transport
    config = bench.demo.channels["twilio"]
    url = f"{twilio.url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    basic = base64.b64encode(f"{twilio.account_sid}:{config['auth_token']}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
    through, direct, api = [], [], []

    def via_hub(n: int) -> None:
        text, started = f"timed reply {n}", time.perf_counter()
        bench.reply(ticket_id, text)
        api.append(time.perf_counter() - started)
        wait(lambda: text in twilio.received, text)
        through.append(twilio.received[text] - started)

    def straight(n: int) -> None:
        text, started = f"direct call {n}", time.perf_counter()
        body = urlencode({"To": "+14155550000", "From": "+15005550006", "Body": text}).encode()
        transport.request("POST", url, headers=headers, body=body, timeout=10)
        direct.append(twilio.received[text] - started)

    for n in range(pairs):
        for step in ((via_hub, straight) if n % 2 == 0 else (straight, via_hub)):
            step(n)
    return {"reply_api_median_ms": statistics.median(api) * 1000,
            "reply_to_provider_median_ms": statistics.median(through) * 1000,
            "direct_provider_call_median_ms": statistics.median(direct) * 1000,
            "reply_overhead_ratio": statistics.median(through) / statistics.median(direct)}


def wechat_tokens(hub: Hub, sends: int, containers: int) -> dict[str, float]:
    """``sends`` replies through the wechat plugin by ``containers`` threads sharing the table's token."""
    from switchboard_plugins.wechat.config import WeChatConfig
    from switchboard_sdk.transport import Urllib3Transport

    from chalicelib.outbound.tokens import TableTokens
    from chalicelib.storage.keys import TenantKeys

    outcomes: Counter[str] = Counter()
    secret = "bench-" + secrets.token_hex(8)
    with FakeWeChat("wxbench0001", secret) as wechat:
        config = WeChatConfig.model_validate({"token": "benchtoken", "app_id": "wxbench0001", "mode": "plaintext",
                                              "app_secret": secret, "api_base_url": wechat.url})

        def container(number: int) -> None:
            tokens = TableTokens(hub.aws.dynamodb, hub.settings.table_name, TenantKeys("bench-wechat"), "wechat",
                                 lambda: datetime.now(UTC))
            http = Urllib3Transport(policy=hub.settings.outbound_policy)
            for n in range(number, sends, containers):
                context = SendContext(http=http, clock=lambda: datetime.now(UTC), timeout_seconds=10, tokens=tokens)
                outcomes[hub.registry.send("wechat", _wechat_message(n), config, context).kind] += 1

        threads = [threading.Thread(target=container, args=(c,)) for c in range(containers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        fetches = wechat.token_fetches
    return {"wechat_sends": sum(outcomes.values()), "wechat_sends_sent": outcomes["sent"],
            "wechat_containers": containers, "wechat_token_fetches_per_1000_replies": fetches * 1000 / sends}


def _wechat_message(n: int) -> OutboundMessage:
    now = datetime.now(UTC)
    return OutboundMessage(id=f"msg_bench{n}", tenant_id="bench-wechat", channel="wechat", ticket_id=f"tkt_b{n % 50}",
                           ticket_ref=f"B{n % 50}", customer_id=f"cus_b{n % 50}",
                           to=Identity(kind="wechat_openid", value=f"oBench{n % 50}"), text=f"reply {n}",
                           last_inbound_at=now, created_at=now)


def start(workers: int) -> tuple[LocalRuntime, Hub, DemoTenant, TimedTwilio]:
    """The local runtime, its demo tenant's twilio channel sending to a timed fake, no connector."""
    for name in ("SWITCHBOARD_AWS_ENDPOINT", "SWITCHBOARD_PLUGINS"):
        os.environ.pop(name, None)
    os.environ["SWITCHBOARD_API_RATE"] = "100000"  # the agent's calls are measured, not limited
    os.environ["SWITCHBOARD_WEBHOOK_RATE"] = "100000"
    local = LocalRuntime(port=free_port(), receiver_port=free_port(), state_dir=Path(tempfile.mkdtemp()),
                         queue_workers=workers)
    hub, demo = local.serve_in_background()
    assert local.sandbox is not None
    assert local.sandbox.twilio is not None
    twilio = TimedTwilio(local.sandbox.twilio.account_sid, demo.channels["twilio"]["auth_token"],
                         callback_statuses=())
    twilio.start()
    tenant = hub.tenants.get(demo.tenant_id)
    plugins = tenant.plugins | {
        "twilio": PluginSetting(config=tenant.plugins["twilio"].config | {"api_base_url": twilio.url}),
        "webhook": tenant.plugins["webhook"].model_copy(update={"enabled": False}),
    }
    hub.tenants.put(tenant.model_copy(update={"plugins": plugins}))
    return local, hub, demo, twilio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=40, help="interleaved timing pairs")
    parser.add_argument("--wechat-sends", type=int, default=1000)
    parser.add_argument("--containers", type=int, default=8)
    args = parser.parse_args()
    local, hub, demo, twilio = start(workers=3)
    try:
        bench, calls, operations = Bench(hub, demo, twilio), Counter[str](), Counter[str]()
        tickets = bench.tickets(args.tickets)
        bench.replies(tickets, 1, "warm-up")  # caches, the JWKS, every ticket's first read
        instrument(hub, calls, operations)
        figures = aws_calls(bench, tickets, args.replies, calls, operations)
        figures |= overhead(bench, tickets[0], args.pairs)
        figures |= wechat_tokens(hub, args.wechat_sends, args.containers)
    finally:
        twilio.stop()
        local.stop()
    for name, value in figures.items():
        print(f"{name}={value:.2f}" if isinstance(value, float) else f"{name}={value}")


if __name__ == "__main__":
    main()
