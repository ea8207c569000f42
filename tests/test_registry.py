"""The plugin registry: start-up checks, the allowlist, entry-point discovery,
and the typed per-plugin hook wrappers (fail-closed verify, parse errors)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from importlib.metadata import EntryPoint, entry_points, version
from typing import Any

import pytest
import switchboard_sdk
from pydantic import BaseModel
from switchboard_sdk import (
    CONTRACT_VERSION,
    BadPayload,
    ContractWarning,
    CustomerProfile,
    DeliveryContext,
    DeliveryOutcome,
    Identity,
    InboundMessage,
    IngestReport,
    PluginConfigError,
    VerificationFailed,
    WebhookRequest,
    WebhookResponse,
    build_plugin_manager,
    hookimpl,
)
from switchboard_sdk.hookspecs import ENTRY_POINT_GROUP, PluginInfo
from switchboard_sdk.registry import PluginRegistry, parse_allowlist
from switchboard_sdk.testing import sample_event

from chalicelib.settings import Settings

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class EmptyConfig(BaseModel):
    pass


class Channel:
    """A channel plugin that records each hook call and answers what the test set."""

    def __init__(self, name: str, *, verify: Any = True, parse: Any = None, respond: Any = None,
                 handshake: Any = None, kind: str = "channel", contract: Any = CONTRACT_VERSION) -> None:
        self.name, self.kind, self.contract = name, kind, contract
        self.answers = {"verify": verify, "parse": parse, "respond": respond, "handshake": handshake}
        self.calls: list[str] = []

    def _answer(self, hook: str) -> Any:
        self.calls.append(hook)
        answer = self.answers[hook]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, kind=self.kind, config_model=EmptyConfig,  # type: ignore[arg-type]
                          contract_version=self.contract)

    @hookimpl
    def switchboard_channel_handshake(self, request: WebhookRequest, config: BaseModel) -> Any:
        return self._answer("handshake")

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> Any:
        return self._answer("verify")

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> Any:
        return self._answer("parse")

    @hookimpl
    def switchboard_channel_respond(self, request: WebhookRequest, config: BaseModel, report: IngestReport) -> Any:
        return self._answer("respond")


class Connector:
    def __init__(self, name: str, outcome: Any) -> None:
        self.name, self.outcome = name, outcome
        self.calls: list[str] = []

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, kind="connector", config_model=EmptyConfig,
                          contract_version=CONTRACT_VERSION)

    @hookimpl
    def switchboard_connector_deliver(self, event: Any, config: BaseModel, context: DeliveryContext) -> Any:
        self.calls.append(event.id)
        return self.outcome


def registry_of(*plugins: object) -> PluginRegistry:
    return build_plugin_manager(extra_plugins=plugins, load_entry_points=False)


def request(channel: str = "a") -> WebhookRequest:
    return WebhookRequest(
        tenant_id="t1", channel=channel, method="POST", public_url=f"https://hub.example/hooks/t1/{channel}",
        headers={}, query={}, body=b"{}", received_at=NOW,
    )


def inbound(channel: str = "a") -> InboundMessage:
    return InboundMessage(
        tenant_id="t1", channel=channel, provider_message_id="p1",
        customer=CustomerProfile(identities=[Identity(kind="visitor", value="v1")]), received_at=NOW,
    )


# -- start-up checks -------------------------------------------------------------


def test_duplicate_plugin_names_fail_at_build_time() -> None:
    with pytest.raises(PluginConfigError, match="two plugins are named 'a'"):
        registry_of(Channel("a"), Channel("a"))


def test_misspelt_hookimpl_fails_at_start_up() -> None:
    class Misspelt(Channel):
        @hookimpl
        def switchboard_channel_verifyy(self, request: WebhookRequest, config: BaseModel) -> bool:
            return True

    with pytest.raises(PluginConfigError, match="switchboard_channel_verifyy"):
        registry_of(Misspelt("a"))


def test_hookimpl_with_unknown_argument_fails_at_start_up() -> None:
    class WrongArgs(Channel):
        @hookimpl
        def switchboard_channel_verify(self, request: WebhookRequest, settings: BaseModel) -> Any:  # type: ignore[override]
            return True

    with pytest.raises(PluginConfigError, match="settings"):
        registry_of(WrongArgs("a"))


def test_plugin_without_plugin_info_fails() -> None:
    class Anonymous:
        @hookimpl
        def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> bool:
            return True

    with pytest.raises(PluginConfigError, match="does not return PluginInfo"):
        registry_of(Anonymous())


def test_plugin_info_of_the_wrong_type_fails() -> None:
    class DictInfo:
        @hookimpl
        def switchboard_plugin_info(self) -> Any:
            return {"name": "a", "kind": "channel", "config_model": EmptyConfig}

    with pytest.raises(PluginConfigError, match="does not return PluginInfo"):
        registry_of(DictInfo())


def test_config_model_must_be_a_pydantic_model() -> None:
    class BadModel(Channel):
        @hookimpl
        def switchboard_plugin_info(self) -> PluginInfo:
            return PluginInfo(name="a", kind="channel", config_model=dict,  # type: ignore[arg-type]
                              contract_version=CONTRACT_VERSION)

    with pytest.raises(PluginConfigError, match="config_model"):
        registry_of(BadModel("a"))


@pytest.mark.parametrize("name", ["", "Web", "1web", "-web", "_web", "web channel", "we.b", "wéb", "a" * 33])
def test_bad_plugin_names_fail(name: str) -> None:
    with pytest.raises(PluginConfigError, match="must match"):
        registry_of(Channel(name))


@pytest.mark.parametrize("name", ["a", "web", "my-plugin_2", "a" * 32])
def test_good_plugin_names_register(name: str) -> None:
    assert set(registry_of(Channel(name)).infos) == {name}


def test_name_with_trailing_newline_fails() -> None:
    with pytest.raises(PluginConfigError):
        registry_of(Channel("web\n"))


def test_unknown_plugin_kind_fails_at_start_up() -> None:
    with pytest.raises(PluginConfigError):
        registry_of(Channel("a", kind="channels"))


# -- the contract version -------------------------------------------------------------

MAJOR, MINOR = (int(part) for part in CONTRACT_VERSION.split("."))


def test_the_sdk_release_carries_its_contract_version() -> None:
    assert version("switchboard-sdk").startswith(f"{CONTRACT_VERSION}.")
    assert switchboard_sdk.__version__ == version("switchboard-sdk")


@pytest.mark.parametrize("built_for", [f"{MAJOR + 1}.0", f"{MAJOR - 1}.{MINOR + 3}", f"{MAJOR + 1}.{MINOR}"])
def test_a_plugin_built_for_another_major_is_refused(built_for: str) -> None:
    with pytest.raises(PluginConfigError) as refused:
        registry_of(Channel("acme-chat", contract=built_for))
    message = str(refused.value)
    assert "'acme-chat'" in message
    assert f"contract {built_for}" in message
    assert f"contract {CONTRACT_VERSION}" in message


def test_a_plugin_built_for_a_newer_minor_loads_with_a_warning() -> None:
    newer = f"{MAJOR}.{MINOR + 1}"
    with pytest.warns(ContractWarning) as warned:
        registry = registry_of(Channel("acme-chat", contract=newer))
    assert set(registry.infos) == {"acme-chat"}
    [warning] = warned.list
    assert "'acme-chat'" in str(warning.message)
    assert newer in str(warning.message)
    assert CONTRACT_VERSION in str(warning.message)


def test_a_newer_minor_hook_marked_optional_loads_on_this_hub() -> None:
    class Future(Channel):
        @hookimpl(optionalhook=True)
        def switchboard_channel_hook_of_a_later_minor(self, request: WebhookRequest) -> None:
            raise AssertionError("this hub never calls it")

    with pytest.warns(ContractWarning):
        assert set(registry_of(Future("acme-chat", contract=f"{MAJOR}.{MINOR + 1}")).infos) == {"acme-chat"}


def test_a_plugin_built_for_this_contract_loads_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert set(registry_of(Channel("acme-chat", contract=CONTRACT_VERSION)).infos) == {"acme-chat"}


@pytest.mark.parametrize("declared", ["", "1", f"{CONTRACT_VERSION}.0", f"v{CONTRACT_VERSION}", " 1.0", "01.0",
                                      "1.x", 1.0, None])
def test_a_malformed_contract_version_is_refused(declared: Any) -> None:
    with pytest.raises(PluginConfigError, match="'acme-chat' declares contract_version"):
        registry_of(Channel("acme-chat", contract=declared))


def test_a_plugin_that_predates_contract_versions_is_refused_by_name() -> None:
    class Unversioned:
        @hookimpl
        def switchboard_plugin_info(self) -> PluginInfo:
            return PluginInfo(name="old", kind="channel", config_model=EmptyConfig)  # type: ignore[call-arg]

    with pytest.raises(PluginConfigError, match=r"switchboard_plugin_info raised TypeError.*contract_version"):
        registry_of(Unversioned())


def test_every_builtin_declares_this_contract() -> None:
    infos = build_plugin_manager().infos
    assert infos
    assert {info.contract_version for info in infos.values()} == {CONTRACT_VERSION}


# -- entry-point names ------------------------------------------------------------------

# Module-level plugin objects, published below under made-up entry points the way an
# installed distribution publishes them (importlib.metadata loads "module:attribute").
ACME_CHAT = Channel("acme-chat")
NEWER_MINOR_CHAT = Channel("future-chat", contract=f"{MAJOR}.{MINOR + 1}")
OTHER_MAJOR_CHAT = Channel("ancient-chat", contract=f"{MAJOR - 1}.9")


def publish(monkeypatch: pytest.MonkeyPatch, **published: str) -> None:
    """Make entry-point discovery find exactly ``name=attribute`` of this module."""
    found = [EntryPoint(name, f"{__name__}:{attribute}", ENTRY_POINT_GROUP) for name, attribute in published.items()]
    monkeypatch.setattr("switchboard_sdk.registry.entry_points", lambda group: found if group == ENTRY_POINT_GROUP
                        else [])


def test_an_entry_point_named_like_its_plugin_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    publish(monkeypatch, **{"acme-chat": "ACME_CHAT"})
    assert build_plugin_manager().infos["acme-chat"] is not None


def test_an_entry_point_named_unlike_its_plugin_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    publish(monkeypatch, chat="ACME_CHAT")
    with pytest.raises(PluginConfigError) as refused:
        build_plugin_manager()
    message = str(refused.value)
    assert "entry point 'chat'" in message
    assert "plugin named 'acme-chat'" in message


def test_the_allowlist_matches_entry_point_names_which_are_plugin_names(monkeypatch: pytest.MonkeyPatch) -> None:
    publish(monkeypatch, **{"acme-chat": "ACME_CHAT", "future-chat": "NEWER_MINOR_CHAT"})
    assert set(build_plugin_manager(allowlist={"acme-chat"}).infos) == {"acme-chat"}


def test_a_discovered_plugin_is_checked_for_its_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    publish(monkeypatch, **{"future-chat": "NEWER_MINOR_CHAT"})
    with pytest.warns(ContractWarning, match="'future-chat'"):
        assert set(build_plugin_manager().infos) == {"future-chat"}
    publish(monkeypatch, **{"ancient-chat": "OTHER_MAJOR_CHAT"})
    with pytest.raises(PluginConfigError, match=f"'ancient-chat' was built for plugin contract {MAJOR - 1}.9"):
        build_plugin_manager()


# -- allowlist and entry points ----------------------------------------------------


def test_builtin_entry_points_are_discovered_with_their_kinds() -> None:
    names = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"web", "webhook"} <= names

    registry = build_plugin_manager()

    assert {"web", "webhook"} <= set(registry.infos)
    assert registry.info("web", "channel") is not None
    assert registry.info("webhook", "connector") is not None
    assert registry.info("web", "connector") is None
    assert registry.info("webhook", "channel") is None


@pytest.mark.parametrize(("allowlist", "loaded"), [
    ({"web"}, {"web"}),
    ({"webhook"}, {"webhook"}),
    ({"web", "webhook"}, {"web", "webhook"}),
    ({"not-installed"}, set()),
])
def test_allowlist_loads_only_named_entry_points(allowlist: set[str], loaded: set[str]) -> None:
    assert set(build_plugin_manager(allowlist=allowlist).infos) == loaded


def test_allowlist_does_not_filter_extra_plugins() -> None:
    registry = build_plugin_manager(allowlist={"web"}, extra_plugins=[Channel("a")])
    assert set(registry.infos) == {"web", "a"}


@pytest.mark.parametrize(("value", "expected"), [
    ("web", {"web"}),
    ("web, webhook", {"web", "webhook"}),
    (" web ,webhook,, web ", {"web", "webhook"}),
    ("", None),
    ("  ", None),
    (" , ,", None),
    (None, None),
])
def test_parse_allowlist(value: str | None, expected: set[str] | None) -> None:
    parsed = parse_allowlist(value)
    assert parsed == (None if expected is None else frozenset(expected))


def test_allowlist_comes_from_the_environment() -> None:
    assert Settings.from_env({"SWITCHBOARD_PLUGINS": "web"}).plugin_allowlist == frozenset({"web"})
    assert Settings.from_env({}).plugin_allowlist is None


def test_validate_config_wraps_validation_errors() -> None:
    registry = build_plugin_manager(allowlist={"webhook"})
    with pytest.raises(PluginConfigError, match="invalid config for plugin 'webhook'"):
        registry.validate_config("webhook", {"url": "not a url", "secret": "whsec_x"})


# -- verify: fail closed --------------------------------------------------------------


@pytest.mark.parametrize("answer", [None, False, "yes", 1])
def test_verify_fails_closed_unless_true(answer: Any) -> None:
    registry = registry_of(Channel("a", verify=answer))
    with pytest.raises(VerificationFailed):
        registry.verify("a", request(), EmptyConfig())


def test_verify_passes_on_true() -> None:
    plugin = Channel("a", verify=True)
    assert registry_of(plugin).verify("a", request(), EmptyConfig()) is None
    assert plugin.calls == ["verify"]


def test_verify_of_an_unknown_plugin_fails_closed() -> None:
    registry = registry_of(Channel("a", verify=True))
    with pytest.raises(VerificationFailed):
        registry.verify("ghost", request(), EmptyConfig())


# -- parse wrapper ----------------------------------------------------------------------


@pytest.mark.parametrize("error", [ValueError("nope"), KeyError("field"), TypeError("x"), UnicodeDecodeError(
    "utf-8", b"\xff", 0, 1, "bad")])
def test_parse_turns_plugin_value_errors_into_bad_payload(error: Exception) -> None:
    registry = registry_of(Channel("a", parse=error))
    with pytest.raises(BadPayload, match=type(error).__name__):
        registry.parse("a", request(), EmptyConfig())


def test_parse_turns_pydantic_validation_errors_into_bad_payload() -> None:
    class Strict(Channel):
        @hookimpl
        def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> Any:
            return [InboundMessage.model_validate({"tenant_id": "t1"})]

    with pytest.raises(BadPayload, match="ValidationError"):
        registry_of(Strict("a")).parse("a", request(), EmptyConfig())


def test_parse_lets_switchboard_errors_through_and_does_not_mask_bugs() -> None:
    with pytest.raises(VerificationFailed):
        registry_of(Channel("a", parse=VerificationFailed("late"))).parse("a", request(), EmptyConfig())
    with pytest.raises(RuntimeError):
        registry_of(Channel("a", parse=RuntimeError("bug"))).parse("a", request(), EmptyConfig())


@pytest.mark.parametrize("result", [None, (), {"messages": []}, "text", inbound(), (inbound(),), ["not a message"]])
def test_parse_rejects_non_list_results(result: Any) -> None:
    with pytest.raises(PluginConfigError, match="parse hook returned"):
        registry_of(Channel("a", parse=result)).parse("a", request(), EmptyConfig())


def test_parse_returns_the_plugin_messages() -> None:
    messages = [inbound(), inbound().model_copy(update={"provider_message_id": "p2"})]
    assert registry_of(Channel("a", parse=messages)).parse("a", request(), EmptyConfig()) == messages
    assert registry_of(Channel("a", parse=[])).parse("a", request(), EmptyConfig()) == []


# -- other typed wrappers ------------------------------------------------------------------


def test_handshake_and_respond_accept_none_or_a_response() -> None:
    answer = WebhookResponse(status_code=200, body="echo")
    registry = registry_of(Channel("a", handshake=answer, respond=None))
    assert registry.handshake("a", request(), EmptyConfig()) == answer
    assert registry.respond("a", request(), EmptyConfig(), IngestReport(stored=1)) is None


def test_handshake_and_respond_reject_other_results() -> None:
    registry = registry_of(Channel("a", handshake="echo", respond={"status": 200}))
    with pytest.raises(PluginConfigError, match="handshake hook returned str"):
        registry.handshake("a", request(), EmptyConfig())
    with pytest.raises(PluginConfigError, match="respond hook returned dict"):
        registry.respond("a", request(), EmptyConfig(), IngestReport())


def test_deliver_requires_an_outcome() -> None:
    good, silent = Connector("good", DeliveryOutcome.delivered(200)), Connector("silent", None)
    registry = registry_of(good, silent)
    context = DeliveryContext(http=None)  # type: ignore[arg-type]
    assert registry.deliver("good", sample_event(), EmptyConfig(), context).kind == "delivered"
    with pytest.raises(PluginConfigError, match="deliver hook returned NoneType"):
        registry.deliver("silent", sample_event(), EmptyConfig(), context)
    assert good.calls == silent.calls == ["evt_conformance_1"]


# -- per-plugin callers ------------------------------------------------------------------------


def test_hooks_reach_only_the_named_plugin() -> None:
    a = Channel("a", verify=None, parse=[inbound("a")])
    b = Channel("b", verify=True, parse=[inbound("b")])
    registry = registry_of(a, b)

    with pytest.raises(VerificationFailed):  # b's True must not verify a's request
        registry.verify("a", request("a"), EmptyConfig())
    assert [m.channel for m in registry.parse("a", request("a"), EmptyConfig())] == ["a"]
    assert a.calls == ["verify", "parse"]
    assert b.calls == []

    registry.verify("b", request("b"), EmptyConfig())
    assert b.calls == ["verify"]
    assert a.calls == ["verify", "parse"]


def test_a_plugin_with_no_impl_of_a_hook_gets_none_not_another_plugins_answer() -> None:
    class VerifyOnly:
        @hookimpl
        def switchboard_plugin_info(self) -> PluginInfo:
            return PluginInfo(name="quiet", kind="channel", config_model=EmptyConfig,
                              contract_version=CONTRACT_VERSION)

    loud = Channel("loud", handshake=WebhookResponse(body="loud"))
    registry = registry_of(VerifyOnly(), loud)
    assert registry.handshake("quiet", request("quiet"), EmptyConfig()) is None
    assert loud.calls == []


def test_plugin_added_later_does_not_answer_for_another() -> None:
    registry = registry_of(Channel("a", verify=None))
    with pytest.raises(VerificationFailed):
        registry.verify("a", request(), EmptyConfig())

    late = Channel("late", verify=True)
    registry.add(late)

    with pytest.raises(VerificationFailed):
        registry.verify("a", request(), EmptyConfig())
    assert late.calls == []
