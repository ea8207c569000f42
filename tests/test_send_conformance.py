"""The conformance suite's send section checks what it says: a well-behaved channel passes
every check, and each kind of misbehaving channel fails exactly the check that names it.

The misbehaving suites are run by calling their checks directly (as pytest would, one per
parameter), so a failing check here is an expected result, not a failing test.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

import pytest
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, SecretStr
from switchboard_sdk import outcomes
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.netguard import LOOPBACK, OUTBOUND_ALLOW_ENV
from switchboard_sdk.sending import OutboundMessage, SendContext, SendOutcome
from switchboard_sdk.standard_webhooks import WhsecSecret
from switchboard_sdk.testing import (
    SEND_NOW,
    Reply,
    SendConformance,
    config_secrets,
    sample_outbound,
)
from switchboard_sdk.transport import OUTBOUND_URL, HttpResponse, TransportError

API_KEY = "acme-api-key-do-not-show-0123456789"


class AcmeConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    api_base_url: Annotated[AnyHttpUrl, OUTBOUND_URL]
    api_key: SecretStr


class Acme:
    """A tiny channel that sends well: every answer classified, the timeout kept, the key never shown."""

    timeout: float | None = None  # None: the context's, as a plugin must

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="acme", kind="channel", config_model=AcmeConfig, contract_version=CONTRACT_VERSION)

    @hookimpl
    def switchboard_channel_send(self, message: OutboundMessage, config: BaseModel,
                                 context: SendContext) -> SendOutcome:
        cfg = expect_config(config, AcmeConfig)
        key = cfg.api_key.get_secret_value()
        try:
            response = context.http.request(
                "POST", str(cfg.api_base_url).rstrip("/") + "/messages",
                headers={"authorization": f"Bearer {key}", "idempotency-key": message.id},
                body=json.dumps({"to": message.to.value, "text": message.text}).encode(),
                timeout=self.timeout or context.timeout_seconds,
            )
        except TransportError as err:
            return SendOutcome.retry(f"Acme: no answer ({err.message})")
        return self.classify(response, context, key)

    def classify(self, response: HttpResponse, context: SendContext, key: str) -> SendOutcome:
        status = response.status
        if 200 <= status < 300:
            return SendOutcome.sent(json.loads(response.body)["id"], status_code=status)
        reason = self.reason(status, outcomes.snippet(response.body), key)
        if status in outcomes.RETRY_STATUSES or status >= 500:
            after = outcomes.retry_after(outcomes.header(response.headers, "retry-after"), context.clock())
            return SendOutcome.retry(reason, status_code=status, after=after)
        return SendOutcome.failed(reason, status_code=status)

    def reason(self, status: int, excerpt: str, key: str) -> str:
        return f"Acme answered {status}: {excerpt}".replace(key, "[redacted]")


class AcmeSends(SendConformance):
    """The suite for Acme; subclasses swap in a misbehaving plugin."""

    hooks: object = Acme()

    def make_config(self, base_url: str) -> BaseModel:
        return AcmeConfig.model_validate({"api_base_url": base_url, "api_key": API_KEY})

    def provider_reply(self, scenario: str) -> Reply:
        return {
            "success": Reply.json(201, {"id": "acme-msg-1"}),
            "rate_limited": Reply.json(429, {"error": "slow down"}, {"Retry-After": "7"}),
            "server_error": Reply.json(503, {"error": "maintenance"}),
            "auth_failure": Reply.json(401, {"error": "bad key"}),
        }[scenario]


class TestAWellBehavedChannelPasses(AcmeSends):
    """Collected: the whole suite, run by pytest as a plugin author's module runs it."""


# -- misbehaving channels -------------------------------------------------------------


class Raises(Acme):
    def classify(self, response: HttpResponse, context: SendContext, key: str) -> SendOutcome:
        if response.status >= 400:
            raise RuntimeError(f"provider said {response.status}")
        return super().classify(response, context, key)


class SwallowsRateLimits(Acme):
    def classify(self, response: HttpResponse, context: SendContext, key: str) -> SendOutcome:
        return SendOutcome.sent("unknown") if response.status == 429 else super().classify(response, context, key)


class RetriesEverything(Acme):
    def classify(self, response: HttpResponse, context: SendContext, key: str) -> SendOutcome:
        outcome = super().classify(response, context, key)
        return SendOutcome.retry(outcome.reason) if outcome.kind == "failed" else outcome


class ShowsWhatTheProviderEchoed(Acme):
    def reason(self, status: int, excerpt: str, key: str) -> str:
        return f"Acme answered {status}: {excerpt}"


class IgnoresTheTimeout(Acme):
    timeout = 5.0


class SendsNothing:
    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="acme", kind="channel", config_model=AcmeConfig, contract_version=CONTRACT_VERSION)


class IsAConnector(Acme):
    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="acme", kind="connector", config_model=AcmeConfig, contract_version=CONTRACT_VERSION)


@pytest.fixture(autouse=True)
def loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the suite's own autouse fixture does, which checks called directly do not get."""
    monkeypatch.setenv(OUTBOUND_ALLOW_ENV, LOOPBACK)


def checks(suite: SendConformance) -> dict[str, Callable[[], None]]:
    """Every check of the suite, one per parameter, named as pytest names them."""
    found: dict[str, Callable[[], None]] = {}
    for name in dir(SendConformance):
        if not name.startswith("test_"):
            continue
        method = getattr(suite, name)
        marks = [m for m in getattr(method, "pytestmark", []) if m.name == "parametrize"]
        if not marks:
            found[name] = method
        for mark in marks:
            argument, values = mark.args
            for value in values:
                found[f"{name}[{value}]"] = functools.partial(method, **{argument: value})
    return found


def failing(plugin: object) -> dict[str, str]:
    """The checks ``plugin`` fails, with what each said."""
    suite = AcmeSends()
    suite.hooks = plugin
    failures: dict[str, str] = {}
    for name, check in checks(suite).items():
        try:
            check()
        except (AssertionError, pytest.fail.Exception) as failure:
            failures[name] = str(failure)
    return failures


def test_the_well_behaved_channel_fails_nothing() -> None:
    assert failing(Acme()) == {}


@pytest.mark.parametrize(("plugin", "expected"), [
    (SwallowsRateLimits(), {"test_passing_failures_are_retried[rate_limited]"}),
    (RetriesEverything(), {"test_refused_credentials_fail_permanently"}),
    (IgnoresTheTimeout(), {"test_a_provider_that_hangs_is_retried"}),
    (ShowsWhatTheProviderEchoed(), {"test_an_echoed_secret_never_reaches_a_reason[auth_failure]",
                                    "test_an_echoed_secret_never_reaches_a_reason[server_error]"}),
    (Raises(), {"test_passing_failures_are_retried[rate_limited]", "test_passing_failures_are_retried[server_error]",
                "test_refused_credentials_fail_permanently",
                "test_an_echoed_secret_never_reaches_a_reason[auth_failure]",
                "test_an_echoed_secret_never_reaches_a_reason[server_error]"}),
], ids=lambda value: type(value).__name__ if not isinstance(value, set) else "")
def test_a_misbehaving_channel_fails_the_check_that_names_it(plugin: object, expected: set[str]) -> None:
    assert set(failing(plugin)) == expected


def test_a_raising_channel_is_told_to_classify_instead() -> None:
    message = failing(Raises())["test_refused_credentials_fail_permanently"]
    assert "switchboard_channel_send raised RuntimeError: provider said 401" in message
    assert "must be classified into a SendOutcome" in message


def test_a_leaked_secret_is_named_as_such() -> None:
    message = failing(ShowsWhatTheProviderEchoed())["test_an_echoed_secret_never_reaches_a_reason[auth_failure]"]
    assert "reveals a secret of the config" in message


def test_a_channel_without_a_send_hook_fails_send_and_success() -> None:
    failures = failing(SendsNothing())
    assert {"test_implements_send", "test_success_is_sent_with_the_providers_id"} <= set(failures)
    assert "no switchboard_channel_send hook" in failures["test_implements_send"]


def test_a_connector_is_not_a_channel() -> None:
    assert "test_declares_a_channel" in failing(IsAConnector())


# -- helpers ----------------------------------------------------------------------------


class Nested(BaseModel):
    token: SecretStr
    keys: list[WhsecSecret]


class Outer(BaseModel):
    api_key: SecretStr
    short: SecretStr
    inner: Nested
    by_region: dict[str, SecretStr]
    optional: SecretStr | None = None


def test_config_secrets_walks_nested_models_and_collections() -> None:
    whsec = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    config = Outer(api_key=SecretStr("top-level-key"), short=SecretStr("abc"),
                   inner=Nested(token=SecretStr("nested-token"), keys=[SecretStr(whsec)]),
                   by_region={"eu": SecretStr("eu-region-key")})
    assert sorted(config_secrets(config)) == sorted(
        ["top-level-key", "nested-token", whsec, whsec.removeprefix("whsec_"), "eu-region-key"]
    )  # "abc": too short to tell from an ordinary word


def test_the_sample_reply_is_open_to_any_reply_window() -> None:
    message = sample_outbound("acme")
    assert (message.channel, message.to.kind) == ("acme", "phone")
    assert message.last_inbound_at is not None
    assert SEND_NOW - message.last_inbound_at < timedelta(hours=1)  # WhatsApp allows 24, WeChat 48
    assert message.ticket_ref == message.ticket_id.removeprefix("tkt_").upper()
