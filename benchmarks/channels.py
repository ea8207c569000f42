"""Verify + parse cost of one typical message per channel, measured in one run.

Each channel gets a correctly signed sample built by ``tools.local.samples``
(the provider's own algorithm), turned into the ``WebhookRequest`` the hub would
hand over, and run through the plugin registry's ``verify`` and ``parse`` —
the plugin work on the webhook path, without AWS. Channels are measured in
interleaved rounds so machine noise spreads evenly; the median is printed as
``<channel>_us_per_message=``.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel
from switchboard_sdk import PluginRegistry, WebhookRequest, build_plugin_manager

from tools.local import samples

TENANT, BASE = "bench", "https://hooks.example.com/hooks/bench"
Case = tuple[WebhookRequest, BaseModel]


def _request(channel: str, sample: samples.Sample) -> WebhookRequest:
    headers = {k.lower(): v for k, v in sample.headers.items()}
    return WebhookRequest(TENANT, channel, "POST", sample.url, headers, sample.query, sample.body,
                          datetime.now(UTC))


def _cases(registry: PluginRegistry) -> dict[str, Case]:
    web_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    twilio_token = secrets.token_hex(16)
    wechat: dict[str, object] = {"token": "benchtoken", "app_id": "wxbench0001",
              "encoding_aes_key": base64.b64encode(secrets.token_bytes(32)).decode().rstrip("="), "mode": "safe"}
    mailgun_key = "key-" + secrets.token_hex(16)
    text = "Hello, my order #1234 has not arrived yet. Could you check?"
    mime, _ = samples.email_mime(text, sender="ada@example.com", subject="Order #1234")
    built: dict[str, tuple[samples.Sample, dict[str, object]]] = {
        "web": (samples.web_message(f"{BASE}/web", web_secret, text, phone="+14155550100"),
                {"secrets": [web_secret]}),
        "twilio": (samples.twilio_sms(f"{BASE}/twilio", twilio_token, text, sender="+14155550100"),
                   {"auth_token": twilio_token}),
        "wechat": (samples.wechat_text(f"{BASE}/wechat", token=str(wechat["token"]),
                                       aes_key=str(wechat["encoding_aes_key"]),
                                       app_id=str(wechat["app_id"]), text=text), wechat),
        "email": (samples.mailgun_mime(f"{BASE}/email", mailgun_key, mime), {"mailgun_signing_key": mailgun_key}),
    }
    return {
        channel: (_request(channel, sample), registry.validate_config(channel, config))
        for channel, (sample, config) in built.items() if channel in registry.infos
    }


def _timer(registry: PluginRegistry, channel: str, case: Case, repeat: int) -> Callable[[], float]:
    request, config = case

    def run() -> float:
        start = time.perf_counter()
        for _ in range(repeat):
            registry.verify(channel, request, config)
            registry.parse(channel, request, config)
        return (time.perf_counter() - start) / repeat * 1e6

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=200, help="messages per channel per round")
    args = parser.parse_args()
    registry = build_plugin_manager()
    timers = {channel: _timer(registry, channel, case, args.repeat) for channel, case in _cases(registry).items()}
    results: dict[str, list[float]] = {channel: [] for channel in timers}
    for _ in range(args.rounds):
        for channel, run in timers.items():
            results[channel].append(run())
    for channel, values in results.items():
        print(f"{channel}_us_per_message={statistics.median(values):.1f}")


if __name__ == "__main__":
    main()
