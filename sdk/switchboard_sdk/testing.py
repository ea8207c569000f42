"""The conformance suite: pytest base classes a plugin's own tests subclass.

    class TestMyChannel(ChannelConformance):
        plugin = my_plugin
        def make_config(self): ...
        def signed_requests(self, config): ...   # genuine requests (fixtures)
        def unsigned(self, request): ...         # the same request, signature removed

    class TestMyChannelSends(SendConformance):
        hooks = my_plugin
        def make_config(self, base_url): ...     # config whose api_base_url is base_url
        def provider_reply(self, scenario): ...  # the provider's answer in each scenario

    class TestMyConnector(ConnectorConformance):
        plugin = my_plugin
        def make_config(self, base_url): ...     # config pointing at base_url

    class TestMyAssistant(AssistantConformance):
        plugin = my_plugin                       # knowledge(), queries(), make_config() optional

A plugin "conforms" when its subclasses pass. Hooks are called through pluggy
directly, or (``SendConformance``, defined in :mod:`.send_conformance`) through the
hub's own :meth:`PluginRegistry.send`, so a plugin bug is not masked; likewise
``AssistantConformance`` (:mod:`.assistant_conformance`) through the registry's
``train``, ``load_model``, ``classify`` and ``answer``.

:class:`StatusServer` (defined in :mod:`.fake_http`) is the one fake HTTP receiver for
tests: a real server on loopback that records each request (:class:`Recorded`) and
answers with scripted :class:`Reply` objects, a responder function (a fake
third-party API), or a fixed status.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from .assistant_conformance import SAMPLE_KNOWLEDGE, SAMPLE_QUERIES, AssistantConformance
from .errors import BadPayload, OutcomeReached, SwitchboardError, VerificationFailed
from .fake_http import Recorded, Reply, Responder, StatusServer, closed_port_url
from .models import DeliveryOutcome, EventEnvelope
from .netguard import LOOPBACK, OutboundPolicy
from .registry import PluginRegistry, build_plugin_manager
from .send_conformance import SEND_NOW, SEND_SCENARIOS, SendConformance, config_secrets, sample_outbound
from .transport import DeliveryContext, Urllib3Transport
from .webhooks import IngestReport, WebhookRequest, WebhookResponse

__all__ = ["SAMPLE_KNOWLEDGE", "SAMPLE_QUERIES", "SEND_NOW", "SEND_SCENARIOS", "AssistantConformance",
           "ChannelConformance", "ConnectorConformance", "Recorded", "Reply",
           "Responder", "SendConformance", "StatusServer", "closed_port_url", "config_secrets", "sample_event",
           "sample_outbound"]

_GARBAGE = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def _registry(plugin: object) -> PluginRegistry:
    return build_plugin_manager(extra_plugins=[plugin], load_entry_points=False)


class ChannelConformance:
    """What every channel plugin must do."""

    plugin: ClassVar[object]

    def make_config(self) -> BaseModel:
        raise NotImplementedError

    def signed_requests(self, config: BaseModel) -> list[WebhookRequest]:
        """Genuine provider requests the plugin must verify and parse."""
        raise NotImplementedError

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        """``request`` with its signature removed."""
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------

    @pytest.fixture
    def hooks(self) -> Any:
        return _registry(self.plugin).pm.hook

    def _channel_name(self, hooks: Any) -> str:
        (info,) = hooks.switchboard_plugin_info()
        return str(info.name)

    # -- the suite --------------------------------------------------------------

    def test_declares_a_channel(self, hooks: Any) -> None:
        (info,) = hooks.switchboard_plugin_info()
        assert info.kind == "channel"
        assert isinstance(self.make_config(), info.config_model)

    def test_verifies_and_parses_its_fixtures(self, hooks: Any) -> None:
        config = self.make_config()
        requests = self.signed_requests(config)
        assert requests, "signed_requests() must return at least one request"
        for request in requests:
            assert hooks.switchboard_channel_verify(request=request, config=config) is True
            messages = hooks.switchboard_channel_parse(request=request, config=config)
            assert isinstance(messages, list)
            for message in messages:
                assert message.tenant_id == request.tenant_id
                assert message.channel == self._channel_name(hooks)
                assert message.provider_message_id

    def test_rejects_a_tampered_body(self, hooks: Any) -> None:
        config = self.make_config()
        for request in self.signed_requests(config):
            if not request.body:
                continue
            flipped = bytes([request.body[0] ^ 0x01]) + request.body[1:]
            with pytest.raises((VerificationFailed, BadPayload)):
                hooks.switchboard_channel_verify(request=replace(request, body=flipped), config=config)

    def test_rejects_a_missing_signature(self, hooks: Any) -> None:
        config = self.make_config()
        for request in self.signed_requests(config):
            with pytest.raises(VerificationFailed):
                hooks.switchboard_channel_verify(request=self.unsigned(request), config=config)

    def test_redelivery_parses_to_the_same_messages(self, hooks: Any) -> None:
        config = self.make_config()
        for request in self.signed_requests(config):
            first = hooks.switchboard_channel_parse(request=request, config=config)
            again = hooks.switchboard_channel_parse(request=request, config=config)
            assert first == again

    def test_answers_every_outcome_without_a_server_error(self, hooks: Any) -> None:
        config = self.make_config()
        request = self.signed_requests(config)[0]
        reports = [
            IngestReport(stored=1, message_ids=("m1",)),
            IngestReport(duplicates=1, message_ids=("m1",)),
            IngestReport(quarantine_id="q1", quarantine_reason="bad_payload"),
        ]
        answers = [
            hooks.switchboard_channel_respond(request=request, config=config, report=r) for r in reports
        ]
        for answer in answers:
            assert answer is None or (isinstance(answer, WebhookResponse) and answer.status_code < 500)
        assert answers[0] == answers[1], "a duplicate must be answered like the first delivery"

    @_GARBAGE
    @given(body=st.binary(max_size=2048), mutate_at=st.integers(min_value=0, max_value=10_000))
    def test_garbage_raises_only_sdk_errors(self, body: bytes, mutate_at: int) -> None:
        hooks = _registry(self.plugin).pm.hook
        config = self.make_config()
        fixture = self.signed_requests(config)[mutate_at % len(self.signed_requests(config))]
        spliced = fixture.body[: mutate_at % (len(fixture.body) + 1)] + body
        for candidate in (replace(fixture, body=body), replace(fixture, body=spliced)):
            for hook in (hooks.switchboard_channel_verify, hooks.switchboard_channel_parse):
                with contextlib.suppress(SwitchboardError):
                    hook(request=candidate, config=config)


def sample_event(tenant_id: str = "t-conformance") -> EventEnvelope:
    """A ``message.created`` event with every field filled."""
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    message = {
        "id": "msg_1", "tenant_id": tenant_id, "ticket_id": "tkt_1", "customer_id": "cus_1",
        "channel": "web", "provider_message_id": "p1", "text": "hello", "received_at": now.isoformat(),
    }
    return EventEnvelope(
        id="evt_conformance_1", type="message.created", tenant_id=tenant_id, ticket_id="tkt_1",
        occurred_at=now, data={"message": message},
    )


class ConnectorConformance:
    """What every connector plugin must do with a failing or absent receiver.

    Override ``healthy_server`` when the connector needs more than a 200 ``{}``
    (a CRM fake that returns record ids). ``make_config`` gets loopback URLs: if
    your model marks them ``OUTBOUND_URL``, validate with
    ``context=netguard.validation_context(OutboundPolicy.parse("loopback"))``.
    Deliveries here allow loopback; production transports do not.
    """

    plugin: ClassVar[object]

    def make_config(self, base_url: str) -> BaseModel:
        raise NotImplementedError

    @pytest.fixture
    def healthy_server(self) -> Iterator[Any]:
        with StatusServer(200) as server:
            yield server

    def _deliver(self, base_url: str, *, timeout: float = 2.0) -> DeliveryOutcome:
        hooks = _registry(self.plugin).pm.hook
        # the suite's receivers are loopback servers, which the default policy refuses
        transport = Urllib3Transport(policy=OutboundPolicy.parse(LOOPBACK))
        context = DeliveryContext(http=transport, timeout_seconds=timeout)
        try:
            outcome = hooks.switchboard_connector_deliver(
                event=sample_event(), config=self.make_config(base_url), context=context
            )
        except OutcomeReached as stop:  # the hub reads an escaped one as its outcome, so may the suite
            outcome = stop.outcome
        assert isinstance(outcome, DeliveryOutcome)
        return outcome

    def test_declares_a_connector(self) -> None:
        (info,) = _registry(self.plugin).pm.hook.switchboard_plugin_info()
        assert info.kind == "connector"

    def test_delivers_to_a_healthy_receiver(self, healthy_server: Any) -> None:
        assert self._deliver(healthy_server.url).kind == "delivered"

    @pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
    def test_transient_statuses_are_retried(self, status: int) -> None:
        with StatusServer(status, body=json.dumps({"error": "x"}).encode()) as server:
            assert self._deliver(server.url).kind == "retry"

    @pytest.mark.parametrize("status", [400, 403, 404, 422])
    def test_rejections_fail_permanently(self, status: int) -> None:
        with StatusServer(status, body=json.dumps({"error": "x"}).encode()) as server:
            assert self._deliver(server.url).kind == "failed"

    def test_refused_connection_is_retried(self) -> None:
        assert self._deliver(closed_port_url()).kind == "retry"

    def test_hanging_receiver_times_out_and_is_retried(self) -> None:
        with StatusServer(200, delay=1.5) as server:
            assert self._deliver(server.url, timeout=0.3).kind == "retry"

