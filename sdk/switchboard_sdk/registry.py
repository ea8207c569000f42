"""Build the plugin manager: discovery, validation and per-plugin hook callers.

Built-in plugins are found exactly like third-party ones, through the
``switchboard.plugins`` entry-point group. Start-up fails loudly (with
:class:`PluginConfigError`) on a misspelt hook, a duplicate plugin name, a
plugin that does not describe itself, an entry point whose name is not the
plugin's ``PluginInfo.name``, or a plugin built for another major version of the
contract — never later, at request time. A plugin built for a newer minor
version loads with a :class:`ContractWarning`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Iterable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy
from pydantic import BaseModel, ValidationError

from . import hookspecs
from .errors import (
    BadPayload,
    OutcomeReached,
    PluginConfigError,
    SwitchboardError,
    VerificationFailed,
    describe_validation_error,
)
from .hookspecs import CONTRACT_VERSION, ENTRY_POINT_GROUP, PROJECT_NAME, PluginInfo
from .models import DeliveryOutcome, EventEnvelope, InboundMessage
from .sending import OutboundMessage, SendContext, SendOutcome, StatusUpdate
from .transport import DeliveryContext
from .webhooks import IngestReport, StoredObject, WebhookRequest, WebhookResponse

if TYPE_CHECKING:  # imported where used: the webhook path never loads the assistant's models
    from .assistant import AssistantQuery, Classification, KnowledgeBase, ProposedAnswer, TrainedModel

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_VERSION = re.compile(r"(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})")
_KINDS = ("channel", "connector", "assistant")
ALLOWLIST_ENV = "SWITCHBOARD_PLUGINS"
T = TypeVar("T")


def parse_allowlist(value: str | None) -> frozenset[str] | None:
    """``"web, webhook"`` → ``{"web", "webhook"}``; unset or blank → no allowlist."""
    names = {part.strip() for part in (value or "").split(",") if part.strip()}
    return frozenset(names) or None


def build_plugin_manager(
    *,
    allowlist: Collection[str] | None = None,
    extra_plugins: Iterable[object] = (),
    load_entry_points: bool = True,
) -> PluginRegistry:
    """Discover, check and register plugins.

    :param allowlist: entry-point names to load; ``None`` loads all.
    :param extra_plugins: plugin objects registered as if discovered (tests).
    :param load_entry_points: ``False`` loads ``extra_plugins`` only.
    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    discovered: list[tuple[str, object]] = []
    if load_entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if allowlist is None or ep.name in allowlist:
                discovered.append((ep.name, _load(ep)))
    registry = PluginRegistry(pm)
    for plugin in extra_plugins:
        registry.add(plugin)
    for name, plugin in discovered:
        registry.add(plugin, entry_point=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as err:
        raise PluginConfigError(f"plugin {err.plugin!r} has a hook no spec defines: {err}") from err
    return registry


def _load(ep: Any) -> object:
    try:
        return ep.load()
    except Exception as err:  # a broken third-party package must name itself
        raise PluginConfigError(f"plugin entry point {ep.name!r} failed to load: {err}") from err


class ContractWarning(UserWarning):
    """A plugin was built for a newer minor version of the contract than the
    installed SDK's: it loads, but may rely on a hook or field this hub lacks.
    ``PYTHONWARNINGS=error::switchboard_sdk.registry.ContractWarning`` makes it fatal."""


def contract_version(value: object, plugin: str) -> tuple[int, int]:
    """``"1.2"`` → ``(1, 2)``; anything else is the plugin's mistake (:class:`PluginConfigError`)."""
    match = _VERSION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise PluginConfigError(
            f"plugin {plugin!r} declares contract_version {value!r}; expected 'major.minor' such as "
            f"{CONTRACT_VERSION!r}"
        )
    return int(match[1]), int(match[2])


def check_contract(info: PluginInfo) -> None:
    """Refuse a plugin built for another major version of the contract; warn about
    a newer minor one (see docs/plugins.md, "Compatibility promise")."""
    major, minor = contract_version(info.contract_version, info.name)
    ours_major, ours_minor = contract_version(CONTRACT_VERSION, "switchboard-sdk")
    if major != ours_major:
        # older majors relied on something since removed or changed; newer ones on
        # something this SDK does not have: either way it would fail at request time
        raise PluginConfigError(
            f"plugin {info.name!r} was built for plugin contract {info.contract_version}, but the installed "
            f"switchboard-sdk implements contract {CONTRACT_VERSION}: major versions differ, so it cannot be "
            f"loaded; install a release of the plugin built for contract {ours_major}.x"
        )
    if minor > ours_minor:
        warnings.warn(
            f"plugin {info.name!r} was built for plugin contract {info.contract_version}, newer than the "
            f"installed switchboard-sdk's contract {CONTRACT_VERSION}: it may rely on a hook or field this "
            f"hub does not have; upgrade switchboard-sdk to {major}.{minor} or later",
            ContractWarning,
            stacklevel=4,  # the caller of build_plugin_manager
        )


class PluginRegistry:
    """The plugin manager plus typed, cached per-plugin callers."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.infos: dict[str, PluginInfo] = {}
        self._callers: dict[tuple[str, str], Any] = {}

    def add(self, plugin: object, *, entry_point: str | None = None) -> None:
        """Check and register ``plugin``; ``entry_point`` is the name it was
        published under, which must equal its ``PluginInfo.name``."""
        info = _describe(plugin, entry_point)
        if entry_point is not None and entry_point != info.name:
            # SWITCHBOARD_PLUGINS names entry points while tenants enable plugin
            # names: they must be one name, or the allowlist would not mean what it says
            raise PluginConfigError(
                f"entry point {entry_point!r} (group {ENTRY_POINT_GROUP!r}) publishes a plugin named "
                f"{info.name!r}; the entry-point name must equal PluginInfo.name"
            )
        check_contract(info)
        if info.name in self.infos:
            raise PluginConfigError(f"two plugins are named {info.name!r}")
        try:
            self.pm.register(plugin, name=info.name)
        except pluggy.PluginValidationError as err:
            raise PluginConfigError(f"plugin {info.name!r} does not fit the hookspecs: {err}") from err
        self.infos[info.name] = info
        self._callers.clear()  # subset callers exclude the plugins known when built

    def info(self, name: str, kind: str) -> PluginInfo | None:
        info = self.infos.get(name)
        return info if info is not None and info.kind == kind else None

    def validate_config(self, name: str, raw: dict[str, Any]) -> BaseModel:
        """The tenant's config for plugin ``name``, validated by its model."""
        info = self.infos[name]
        try:
            return info.config_model.model_validate(raw)
        except ValidationError as err:
            # field locations and messages only: pydantic's own text echoes the
            # input, and a config holds secrets, so the cause is not chained
            fields = describe_validation_error(err, root="(config)")
            raise PluginConfigError(f"invalid config for plugin {name!r}: {fields}") from None

    def _call(self, name: str, hook: str, **kwargs: Any) -> Any:
        caller = self._callers.get((name, hook))
        if caller is None:
            others = [p for n, p in self.pm.list_name_plugin() if n != name]
            caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
            self._callers[(name, hook)] = caller
        return caller(**kwargs)

    # -- channel hooks, typed ------------------------------------------------

    def handshake(self, name: str, request: WebhookRequest, config: BaseModel) -> WebhookResponse | None:
        result = self._call(name, "switchboard_channel_handshake", request=request, config=config)
        return _expect(result, WebhookResponse, name, "handshake", optional=True)

    def verify(self, name: str, request: WebhookRequest, config: BaseModel) -> None:
        result = self._call(name, "switchboard_channel_verify", request=request, config=config)
        if result is not True:  # fail closed: only an explicit True verifies
            raise VerificationFailed("request could not be verified")

    def replay_key(self, name: str, request: WebhookRequest, config: BaseModel) -> str | None:
        result = self._call(name, "switchboard_channel_replay_key", request=request, config=config)
        return _expect(result, str, name, "replay_key", optional=True)

    def parse(self, name: str, request: WebhookRequest, config: BaseModel) -> list[InboundMessage]:
        return self._parsed(name, "switchboard_channel_parse", request=request, config=config)

    def parse_object(self, name: str, obj: StoredObject, config: BaseModel) -> list[InboundMessage] | None:
        if not self._implements(name, "switchboard_channel_parse_object"):
            return None
        return self._parsed(name, "switchboard_channel_parse_object", obj=obj, config=config)

    def _implements(self, name: str, hook: str) -> bool:
        plugin = self.pm.get_plugin(name)
        return any(impl.plugin is plugin for impl in getattr(self.pm.hook, hook).get_hookimpls())

    def _parsed(self, name: str, hook: str, **kwargs: Any) -> list[InboundMessage]:
        try:
            result = self._call(name, hook, **kwargs)
        except SwitchboardError:
            raise
        except (ValueError, TypeError, KeyError, UnicodeError) as err:
            # pydantic's ValidationError is a ValueError: a payload that does not
            # fit the models is the sender's problem, not a crash
            raise BadPayload(f"payload does not parse: {type(err).__name__}") from err
        if not isinstance(result, list) or not all(isinstance(m, InboundMessage) for m in result):
            raise PluginConfigError(f"plugin {name!r} {hook} hook returned {type(result).__name__}")
        return result

    def respond(
        self, name: str, request: WebhookRequest, config: BaseModel, report: IngestReport
    ) -> WebhookResponse | None:
        result = self._call(
            name, "switchboard_channel_respond", request=request, config=config, report=report
        )
        return _expect(result, WebhookResponse, name, "respond", optional=True)

    def sends(self, name: str) -> bool:
        """Whether channel ``name`` implements :func:`~.hookspecs.switchboard_channel_send`."""
        return self.info(name, "channel") is not None and self._implements(name, "switchboard_channel_send")

    def send(self, name: str, message: OutboundMessage, config: BaseModel, context: SendContext) -> SendOutcome:
        """One send attempt; a channel that cannot send answers ``failed``."""
        result = self._call(name, "switchboard_channel_send", message=message, config=config, context=context)
        if result is None:
            return SendOutcome.failed(f"the {name} channel cannot send replies", code="not_supported")
        outcome = _expect(result, SendOutcome, name, "send", optional=False)
        assert outcome is not None
        return outcome

    def status(self, name: str, request: WebhookRequest, config: BaseModel) -> list[StatusUpdate] | None:
        """The delivery statuses a verified request carries, or ``None`` when it is not a status callback."""
        if not self._implements(name, "switchboard_channel_status"):
            return None
        try:
            result = self._call(name, "switchboard_channel_status", request=request, config=config)
        except SwitchboardError:
            raise
        except (ValueError, TypeError, KeyError, UnicodeError) as err:
            raise BadPayload(f"status callback does not parse: {type(err).__name__}") from err
        if result is None:
            return None
        if not isinstance(result, list) or not all(isinstance(u, StatusUpdate) for u in result):
            raise PluginConfigError(f"plugin {name!r} status hook returned {type(result).__name__}")
        return result

    # -- connector hooks, typed ----------------------------------------------

    def deliver(
        self, name: str, event: EventEnvelope, config: BaseModel, context: DeliveryContext
    ) -> DeliveryOutcome:
        try:
            result = self._call(
                name, "switchboard_connector_deliver", event=event, config=config, context=context
            )
        except OutcomeReached as stop:  # the connector stopped early without settling: same outcome
            result = stop.outcome
        outcome = _expect(result, DeliveryOutcome, name, "deliver", optional=False)
        assert outcome is not None
        return outcome

    # -- assistant hooks, typed ----------------------------------------------

    def train(self, name: str, knowledge: KnowledgeBase, config: BaseModel) -> TrainedModel:
        from .assistant import TrainedModel

        result = self._call(name, "switchboard_assistant_train", knowledge=knowledge, config=config)
        model = _expect(result, TrainedModel, name, "train", optional=False)
        assert model is not None
        return model

    def load_model(self, name: str, data: bytes, config: BaseModel) -> object:
        result = self._call(name, "switchboard_assistant_load", data=data, config=config)
        if result is None:
            raise PluginConfigError(f"plugin {name!r} load hook returned None")
        return result

    def classify(self, name: str, model: object, query: AssistantQuery, config: BaseModel) -> Classification:
        from .assistant import Classification

        result = self._call(name, "switchboard_assistant_classify", model=model, query=query, config=config)
        classification = _expect(result, Classification, name, "classify", optional=False)
        assert classification is not None
        return classification

    def answer(self, name: str, model: object, query: AssistantQuery, classification: Classification,
               config: BaseModel) -> ProposedAnswer | None:
        from .assistant import ProposedAnswer

        result = self._call(name, "switchboard_assistant_answer", model=model, query=query,
                            classification=classification, config=config)
        return _expect(result, ProposedAnswer, name, "answer", optional=True)


def _describe(plugin: object, entry_point: str | None) -> PluginInfo:
    label = repr(entry_point) if entry_point is not None else repr(plugin)
    hook = getattr(plugin, "switchboard_plugin_info", None)
    try:
        info = hook() if callable(hook) else None
    except Exception as err:
        # e.g. a plugin written before contract_version existed: TypeError from PluginInfo()
        raise PluginConfigError(
            f"plugin {label}: switchboard_plugin_info raised {type(err).__name__}: {err}"
        ) from err
    if not isinstance(info, PluginInfo):
        raise PluginConfigError(f"plugin {label} does not return PluginInfo from switchboard_plugin_info")
    if not _NAME.fullmatch(info.name):
        raise PluginConfigError(f"plugin name {info.name!r} must match {_NAME.pattern}")
    if info.kind not in _KINDS:
        raise PluginConfigError(f"plugin {info.name!r} kind must be one of {', '.join(_KINDS)}")
    if not (isinstance(info.config_model, type) and issubclass(info.config_model, BaseModel)):
        raise PluginConfigError(f"plugin {info.name!r} config_model is not a pydantic model")
    return info


def _expect(result: object, kind: type[T], name: str, hook: str, *, optional: bool) -> T | None:
    if result is None and optional:
        return None
    if not isinstance(result, kind):
        raise PluginConfigError(f"plugin {name!r} {hook} hook returned {type(result).__name__}")
    return result
