"""The conformance suite's send section: :class:`SendConformance`, and its helpers.

Import it from :mod:`switchboard_sdk.testing`, beside the other suites::

    class TestMyChannelSends(SendConformance):
        hooks = my_plugin
        def make_config(self, base_url): ...     # config whose api_base_url is base_url
        def sample_message(self): ...            # optional: a reply this channel can send
        def provider_reply(self, scenario): ...  # the provider's answer in each scenario
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, SecretBytes, SecretStr

from . import standard_webhooks
from .fake_http import Recorded, Reply, StatusServer, closed_port_url
from .models import Identity, ticket_ref
from .netguard import LOOPBACK, OUTBOUND_ALLOW_ENV, OutboundPolicy
from .registry import PluginRegistry, build_plugin_manager
from .sending import MemoryTokens, OutboundMessage, ReplyContext, SendContext, SendOutcome
from .transport import Urllib3Transport

__all__ = ["SEND_NOW", "SEND_SCENARIOS", "SendConformance", "config_secrets", "sample_outbound"]

SEND_SCENARIOS = ("success", "rate_limited", "server_error", "auth_failure")
"""The provider answers :meth:`SendConformance.provider_reply` is asked for."""
TICKET_ID = "tkt_" + "conformance" + "a" * 15  # the 26 base32 letters of a real ticket id
SEND_NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # the suite's clock: every send sees this "now"


def sample_outbound(channel: str, *, tenant_id: str = "t-conformance") -> OutboundMessage:
    """A reply to a customer known by phone, five minutes after their message (any reply window is open)."""
    asked = SEND_NOW - timedelta(minutes=5)
    return OutboundMessage(
        id="msg_conformance_reply_1", tenant_id=tenant_id, channel=channel,
        ticket_id=TICKET_ID, ticket_ref=ticket_ref(TICKET_ID), customer_id="cus_conformance_1",
        to=Identity(kind="phone", value="+14155550100"), text="Your order ships today.",
        subject="Where is my order?", author_name="Grace Hopper",
        replying_to=ReplyContext(provider_message_id="in-1", received_at=asked, subject="Where is my order?"),
        last_inbound_at=asked, replies_since_inbound=0,
        status_callback_url=f"https://hub.example.com/hooks/{tenant_id}/{channel}",
        created_at=SEND_NOW - timedelta(seconds=1),
    )


def config_secrets(config: BaseModel) -> list[str]:
    """Every secret in ``config`` (``SecretStr``/``SecretBytes`` fields, nested models and
    collections walked), plus each ``whsec_`` secret without its prefix (the key itself)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr | SecretBytes):
            raw = value.get_secret_value()
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
            found.extend({text, text.removeprefix(standard_webhooks.SECRET_PREFIX)})
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(config)
    # as outcomes.redact: shorter values would match ordinary words by chance
    return [secret for secret in found if len(secret) >= 6]


def _echoing(reply: Reply, secrets: list[str]) -> Reply:
    """``reply`` as a provider that echoes credentials in its error texts would send it:
    every string at the top of a JSON object body, or the whole body, followed by the secrets."""
    echo = " ".join(secrets)
    try:
        data = json.loads(reply.body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        data = {key: f"{value} {echo}" if isinstance(value, str) else value for key, value in data.items()}
        return replace(reply, body=json.dumps(data).encode())
    return replace(reply, body=reply.body + b" " + echo.encode())


class SendConformance:
    """What every channel that sends replies must do with its provider's answers.

    Subclass it in a pytest module (beside, not mixed into, your
    ``ChannelConformance`` subclass) and set ``hooks`` to the plugin object.
    Each test starts a :class:`StatusServer` that answers every request the plugin
    makes (a token fetch too) with ``provider_reply(scenario)``, or — when the
    plugin's endpoints answer differently — ``provider_answer(scenario, request)``;
    ``make_config`` gets that server's URL as the config's ``api_base_url``. The
    send goes through :meth:`PluginRegistry.send`, as the hub's worker calls it,
    with a :class:`SendContext` of a loopback transport, :class:`MemoryTokens`, the
    suite's fixed clock (:meth:`now`) and ``timeout_seconds``.

    Checks: ``success`` → ``sent``/``delivered`` with the provider's id;
    ``rate_limited``, ``server_error``, a provider that holds its answer past the
    timeout, and a refused connection → ``retry``; ``auth_failure`` → ``failed``;
    the hook never raises; no outcome's reason or code contains a secret of the
    config (:func:`config_secrets`), even when the provider echoes them.

    ``SWITCHBOARD_OUTBOUND_ALLOW=loopback`` is set during each test, so a config
    whose URLs are marked ``OUTBOUND_URL`` validates with the suite's loopback URLs.
    """

    hooks: Any  # the plugin object (module or instance with @hookimpl methods)
    timeout_seconds: ClassVar[float] = 0.5  # SendContext.timeout_seconds; the hang scenario holds longer

    def make_config(self, base_url: str) -> BaseModel:
        """A config for the channel whose ``api_base_url`` (and any other provider URL) is ``base_url``."""
        raise NotImplementedError

    def provider_reply(self, scenario: str) -> Reply:
        """The provider's answer in ``scenario`` (one of :data:`SEND_SCENARIOS`)."""
        raise NotImplementedError

    def provider_answer(self, scenario: str, request: Recorded) -> Reply:
        """The answer to one request; override when the provider's endpoints differ (a token endpoint)."""
        return self.provider_reply(scenario)

    def sample_message(self) -> OutboundMessage:
        """A reply the channel can send; the default reaches a phone: override for email, openid, visitor."""
        return sample_outbound(self.channel_name())

    def now(self) -> datetime:
        """The clock of every send (``SendContext.clock``, ``MemoryTokens``)."""
        return SEND_NOW

    # -- helpers --------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _loopback_allowed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(OUTBOUND_ALLOW_ENV, LOOPBACK)

    def registry(self) -> PluginRegistry:
        return build_plugin_manager(extra_plugins=[self.hooks], load_entry_points=False)

    def channel_name(self) -> str:
        (name,) = self.registry().infos
        return name

    def send(self, base_url: str) -> SendOutcome:
        """One send to ``base_url`` through the hub's registry; fails the test if the plugin
        raises or an outcome reveals a secret."""
        registry, config = self.registry(), self.make_config(base_url)
        context = SendContext(http=Urllib3Transport(policy=OutboundPolicy.parse(LOOPBACK)), clock=self.now,
                              timeout_seconds=self.timeout_seconds, tokens=MemoryTokens(self.now))
        try:
            outcome = registry.send(self.channel_name(), self.sample_message(), config, context)
        except Exception as err:
            pytest.fail(f"switchboard_channel_send raised {type(err).__name__}: {err} — a provider's refusal "
                        "or absence must be classified into a SendOutcome, never raised")
        for secret in config_secrets(config):
            shown = f"{outcome.reason} {outcome.code or ''}"
            assert secret not in shown, f"the {outcome.kind} outcome reveals a secret of the config: {shown!r}"
        return outcome

    def send_in(self, scenario: str, *, shape: Callable[[Reply], Reply] | None = None) -> SendOutcome:
        """One send against a provider answering every request as in ``scenario``."""
        def respond(request: Recorded) -> Reply:
            reply = self.provider_answer(scenario, request)
            return reply if shape is None else shape(reply)

        with StatusServer(respond=respond) as server:
            return self.send(server.url)

    # -- the suite ----------------------------------------------------------------

    def test_declares_a_channel(self) -> None:
        registry = self.registry()
        (info,) = registry.infos.values()
        assert info.kind == "channel"
        assert isinstance(self.make_config(closed_port_url()), info.config_model)

    def test_implements_send(self) -> None:
        assert self.registry().sends(self.channel_name()), "the plugin has no switchboard_channel_send hook"

    def test_success_is_sent_with_the_providers_id(self) -> None:
        outcome = self.send_in("success")
        assert outcome.kind in ("sent", "delivered"), f"success answered {outcome.kind}: {outcome.reason}"
        assert outcome.provider_message_id, "a sent outcome must carry the provider's message id"

    @pytest.mark.parametrize("scenario", ["rate_limited", "server_error"])
    def test_passing_failures_are_retried(self, scenario: str) -> None:
        outcome = self.send_in(scenario)
        assert outcome.kind == "retry", f"{scenario} answered {outcome.kind}: {outcome.reason}"
        assert outcome.reason, "a retry must say why, for the agent"

    def test_refused_credentials_fail_permanently(self) -> None:
        outcome = self.send_in("auth_failure")
        assert outcome.kind == "failed", f"auth_failure answered {outcome.kind}: {outcome.reason}"
        assert outcome.reason, "a failure must say why, for the agent"

    def test_a_provider_that_hangs_is_retried(self) -> None:
        # held past the timeout: a plugin that ignores context.timeout_seconds gets the success late
        hold = self.timeout_seconds + 1.0
        outcome = self.send_in("success", shape=lambda reply: replace(reply, delay=hold))
        assert outcome.kind == "retry", f"a hanging provider answered {outcome.kind}: {outcome.reason}"

    def test_a_refused_connection_is_retried(self) -> None:
        outcome = self.send(closed_port_url())
        assert outcome.kind == "retry", f"a refused connection answered {outcome.kind}: {outcome.reason}"

    @pytest.mark.parametrize("scenario", ["auth_failure", "server_error"])
    def test_an_echoed_secret_never_reaches_a_reason(self, scenario: str) -> None:
        secrets = config_secrets(self.make_config(closed_port_url()))
        self.send_in(scenario, shape=lambda reply: _echoing(reply, secrets))  # send() checks the reasons
