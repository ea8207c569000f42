"""Parser cost grows linearly with the input, for every channel on the webhook path.

Each case runs one channel's verify + parse (through the plugin registry, as the
hub calls it) on a hostile-shaped input of size n and of size 4n in the same
run and compares the CPU time (best of several tries, ``time.process_time``: the
other core's load does not count). Linear work gives a ratio near 4; quadratic
work 16. The bound, 8, never depends on how fast the machine is. The email
channel's own parsers have their cost tests in plugins/tests.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from pydantic import BaseModel
from switchboard_sdk import BadPayload, PluginRegistry, WebhookRequest, build_plugin_manager, standard_webhooks

from tools.local import samples

BASE = "https://hooks.example.com/hooks/cost"
LINEAR_BOUND = 8.0  # for 4x the input: linear ≈ 4, quadratic ≈ 16
Case = Callable[[int], tuple[WebhookRequest, BaseModel]]


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    return build_plugin_manager()


def _request(channel: str, url: str, body: bytes, headers: dict[str, str], query: dict[str, str]) -> WebhookRequest:
    lowered = {k.lower(): v for k, v in headers.items()}
    return WebhookRequest("cost", channel, "POST", url, lowered, query, body, datetime.now(UTC))


def _web(registry: PluginRegistry) -> Case:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    config = registry.validate_config("web", {"secrets": [secret]})

    def build(n: int) -> tuple[WebhookRequest, BaseModel]:
        # control characters: each is six bytes of JSON escape
        body = json.dumps({"visitor_id": "v", "client_message_id": "c", "text": "a\u0001\"\\" * (n // 4)}).encode()
        headers = standard_webhooks.signed_headers(secret, "msg_1", int(time.time()), body)
        return _request("web", f"{BASE}/web", body, headers | {"content-type": "application/json"}, {}), config

    return build


def _twilio(registry: PluginRegistry) -> Case:
    from switchboard_plugins.twilio.signing import signature

    token = secrets.token_hex(16)
    config = registry.validate_config("twilio", {"auth_token": token})

    def build(n: int) -> tuple[WebhookRequest, BaseModel]:
        params = {"MessageSid": "SM" + "0" * 32, "AccountSid": "AC" + "0" * 32, "From": "+14155550100",
                  "To": "+15005550006", "Body": "%;&=中" * (n // 5)}
        url = f"{BASE}/twilio"
        headers = {"X-Twilio-Signature": signature(token, url, {k: [v] for k, v in params.items()}),
                   "Content-Type": "application/x-www-form-urlencoded"}
        return _request("twilio", url, urlencode(params).encode(), headers, {}), config

    return build


def _wechat(registry: PluginRegistry) -> Case:
    wechat = {"token": "costtoken", "app_id": "wxcost0001", "mode": "safe",
              "encoding_aes_key": base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")}
    config = registry.validate_config("wechat", wechat)

    def build(n: int) -> tuple[WebhookRequest, BaseModel]:
        sample = samples.wechat_text(f"{BASE}/wechat", token=wechat["token"], aes_key=wechat["encoding_aes_key"],
                                     app_id=wechat["app_id"], text="<&>中]]" * (n // 6))
        return _request("wechat", sample.url, sample.body, sample.headers, sample.query), config

    return build


def _run(registry: PluginRegistry, channel: str, case: tuple[WebhookRequest, BaseModel]) -> None:
    request, config = case
    registry.verify(channel, request, config)
    with contextlib.suppress(BadPayload):  # refused for its size: that path must be linear too
        registry.parse(channel, request, config)


def _cpu_seconds(registry: PluginRegistry, channel: str, case: tuple[WebhookRequest, BaseModel], calls: int) -> float:
    """Best of five tries of ``calls`` runs: the least disturbed measurement."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(calls):
            _run(registry, channel, case)
        best = min(best, time.process_time() - start)
    return max(best, 1e-9)


def _calls_for(registry: PluginRegistry, channel: str, case: tuple[WebhookRequest, BaseModel]) -> int:
    """Enough runs of the small case to take ~20 ms of CPU, so timer noise stays small."""
    calls = 1
    while _cpu_seconds(registry, channel, case, calls) < 0.02 and calls < 4096:
        calls *= 2
    return calls


@pytest.mark.parametrize(("channel", "factory"), [("web", _web), ("twilio", _twilio), ("wechat", _wechat)])
def test_verify_and_parse_cost_is_linear(registry: PluginRegistry, channel: str, factory: Any) -> None:
    build = factory(registry)
    n = 20_000
    small, large = build(n), build(4 * n)
    assert len(large[0].body) > 3 * len(small[0].body)
    calls = _calls_for(registry, channel, small)
    ratio = _cpu_seconds(registry, channel, large, calls) / _cpu_seconds(registry, channel, small, calls)
    assert ratio < LINEAR_BOUND, f"{channel}: 4x the input cost {ratio:.1f}x the CPU"
