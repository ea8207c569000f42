"""The Switchboard plugin contract: pluggy hook specifications.

A plugin is an object (module or instance) with ``@hookimpl`` methods, published
under the entry-point group ``switchboard.plugins``. The hub calls each channel
and connector hook on **one** plugin at a time — the one the tenant enabled for
that channel or connector — so every hook below except ``switchboard_plugin_info``
is ``firstresult``: the first non-None result wins and ``None`` means "not
implemented". Hooks are grouped by phase:

* start-up: :func:`switchboard_plugin_info`
* channel, per inbound request: :func:`switchboard_channel_handshake` (GET),
  :func:`switchboard_channel_verify` → :func:`switchboard_channel_replay_key` →
  :func:`switchboard_channel_parse` → (hub stores) → :func:`switchboard_channel_respond`
* channel, per object an AWS service stored for it: :func:`switchboard_channel_parse_object`
* channel, per reply an agent wrote: :func:`switchboard_channel_send` (delivery
  worker); per verified POST before it is parsed: :func:`switchboard_channel_status`
  (delivery-status callbacks)
* connector, per delivery job: :func:`switchboard_connector_deliver`
* assistant (contract 1.3), per knowledge-base version: :func:`switchboard_assistant_train`;
  per container and model: :func:`switchboard_assistant_load`; per customer message:
  :func:`switchboard_assistant_classify` → :func:`switchboard_assistant_answer`

The contract is versioned: :data:`CONTRACT_VERSION` here, and
``PluginInfo.contract_version`` in each plugin; the registry refuses a plugin
built for another major version (see ``docs/plugins.md``, "Compatibility
promise").

Plugins raise only :mod:`switchboard_sdk.errors` exceptions; anything else is a
bug the hub logs and answers with a 500 (or, for connectors, retries) — except in
``parse`` and ``parse_object``: there the request is verified, so the hub keeps
the body in quarantine and gives the provider its normal answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

import pluggy
from pydantic import BaseModel

from .errors import PluginConfigError
from .models import DeliveryOutcome, EventEnvelope, InboundMessage
from .sending import OutboundMessage, SendContext, SendOutcome, StatusUpdate
from .transport import DeliveryContext
from .webhooks import IngestReport, StoredObject, WebhookRequest, WebhookResponse

if TYPE_CHECKING:  # only the assistant's Lambda uses these: the webhook path does not import them
    from .assistant import AssistantQuery, Classification, KnowledgeBase, ProposedAnswer, TrainedModel

PROJECT_NAME = "switchboard"
ENTRY_POINT_GROUP = "switchboard.plugins"
# The version of the contract in this module, ``major.minor`` (docs/plugins.md,
# "Compatibility promise"): a minor release only adds (an optional hook, a field
# with a default); a major one may remove or change. The distribution's version
# starts with it: switchboard-sdk 1.1.x implements contract 1.1.
# 1.1 added replies: switchboard_channel_send, switchboard_channel_status (optional hooks),
# switchboard_sdk.sending, and Message's outbound fields (all with defaults).
# 1.3 added the assistant kind: switchboard_assistant_* hooks and switchboard_sdk.assistant.
CONTRACT_VERSION = "1.3"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin declares about itself.

    ``name`` is unique across the deployment (``[a-z][a-z0-9_-]*``) and is the
    ``{channel}`` path segment for channels. ``config_model`` validates a
    tenant's configuration; mark secret fields as ``pydantic.SecretStr``.
    ``max_delivery_attempts`` (connectors) overrides the hub's default attempt
    limit, for receivers whose rate limits call for fewer or more tries.
    ``setup_steps`` (channels) tell a business what to do on the provider's side
    once the channel is enabled; ``{webhook_url}`` in a step is replaced by the
    tenant's URL. ``webhook_paths`` are the URL suffixes the channel listens on
    besides the plain one (e.g. ``("/mime",)``). ``retries_webhooks`` (channels)
    says whether the provider sends a webhook again after a 429 or 5xx answer:
    when it does not (Twilio), the hub stores the channel's requests before it
    counts them against the tenant's rate, and never answers them 429.
    ``sends_to`` (channels that send replies) names the identity kinds the
    channel can address, in order of preference (``("phone",)`` for SMS): the hub
    picks the customer's first identity of those kinds as ``OutboundMessage.to``
    (added in contract 1.1; empty: the customer's first identity).

    ``contract_version`` (required, keyword-only) is the plugin contract the
    plugin was written and tested against, ``"major.minor"`` — a literal in a
    third-party plugin, never ``switchboard_sdk.CONTRACT_VERSION``: the point is
    to compare what the plugin expects with what the hub it is loaded into
    provides. The hub refuses a plugin of another major version at start-up and
    warns about one of a newer minor. Plugins shipped with the SDK (the
    built-ins) declare the constant, since they are released together.
    """

    name: str
    kind: Literal["channel", "connector", "assistant"]
    config_model: type[BaseModel]
    # no default: a default would be whatever SDK is installed, so every plugin
    # would look compatible with every hub
    contract_version: str = field(kw_only=True)
    version: str = "0"
    summary: str = ""
    max_delivery_attempts: int | None = None
    setup_steps: tuple[str, ...] = ()
    webhook_paths: tuple[str, ...] = ()
    retries_webhooks: bool = True
    sends_to: tuple[str, ...] = ()


ConfigT = TypeVar("ConfigT", bound=BaseModel)


def expect_config(config: BaseModel, model: type[ConfigT]) -> ConfigT:
    """``config`` as the plugin's own config model; the hub always passes one, so
    anything else is a wiring bug (:class:`PluginConfigError`), not bad input."""
    if not isinstance(config, model):
        raise PluginConfigError(f"expected a {model.__name__}, got {type(config).__name__}")
    return config


# -- start-up ---------------------------------------------------------------


@hookspec
def switchboard_plugin_info() -> PluginInfo:  # type: ignore[empty-body]
    """Describe the plugin. Called once on every plugin when the hub builds its
    plugin manager, before any request. Start-up fails on a duplicate ``name``,
    a ``name`` that differs from the plugin's entry-point name, or a
    ``contract_version`` of another major version than :data:`CONTRACT_VERSION`.

    :returns: the plugin's :class:`PluginInfo`. Results of all plugins are
        collected (not firstresult).
    """


# -- channels -----------------------------------------------------------------


@hookspec(firstresult=True)
def switchboard_channel_handshake(
    request: WebhookRequest, config: BaseModel
) -> WebhookResponse | None:
    """Answer a provider's GET on the webhook URL (e.g. WeChat's ``echostr`` check).

    Called for every GET to ``/hooks/{tenant}/{channel}`` of an enabled channel.
    The plugin must authenticate the GET itself (raise ``VerificationFailed``).

    :param request: the GET request; ``body`` is empty.
    :param config: the tenant's validated config (an instance of ``config_model``).
    :returns: the response to send, or ``None`` if the channel has no handshake
        (the hub answers 405). Stops at first non-None result.
    """


@hookspec(firstresult=True)
def switchboard_channel_verify(request: WebhookRequest, config: BaseModel) -> bool | None:
    """Prove a POST comes from the provider: its signature scheme and replay window.

    Called first for every POST, before anything is parsed or stored. Must
    compare signatures in constant time.

    :param request: the raw request; ``received_at`` is the hub's clock.
    :param config: the tenant's validated config, secrets included.
    :returns: ``True`` when genuine. Raise ``VerificationFailed`` (401) when not,
        ``BadPayload`` (400) when the request is too malformed to check. Any other
        result — ``None`` included — is treated as a failure (fail closed).
        Stops at first non-None result.
    """


@hookspec(firstresult=True)
def switchboard_channel_replay_key(request: WebhookRequest, config: BaseModel) -> str | None:
    """Name the value in a verified request that must never be accepted twice.

    Called after ``switchboard_channel_verify`` for providers whose signature
    covers a one-time token (Mailgun's ``token``). Before anything is stored the
    hub claims the key for this request in one conditional write: a request
    with a key another request claimed is refused (401, nothing stored), while
    the same request again (a provider retrying after a failure: same messages,
    or the same body when it did not parse) is let through and de-duplicated.

    :param request: the verified request.
    :param config: the tenant's validated config.
    :returns: the one-time value, or ``None`` when the channel has none (most
        channels: their messages are de-duplicated by id instead). Stops at
        first non-None result.
    """


@hookspec(firstresult=True)
def switchboard_channel_parse(
    request: WebhookRequest, config: BaseModel
) -> list[InboundMessage] | None:
    """Turn a verified request into normalised inbound messages.

    Called after ``switchboard_channel_verify`` returned ``True``. Must be pure
    and deterministic: a provider retry of the same request yields messages with
    the same ``provider_message_id`` values (the hub's de-duplication key).

    :param request: the verified request.
    :param config: the tenant's validated config.
    :returns: zero or more messages (zero for deliveries with nothing to store,
        such as status pings). Raise ``BadPayload`` when the body cannot be
        understood: the hub then quarantines the raw bytes and still answers
        through ``switchboard_channel_respond``. Stops at first non-None result.
    """


@hookspec(firstresult=True)
def switchboard_channel_parse_object(obj: StoredObject, config: BaseModel) -> list[InboundMessage] | None:
    """Turn a payload an AWS service stored for this channel into inbound messages.

    Called by the hub's S3 event handler for objects under
    ``inbound/<tenant>/<channel>/`` (e.g. raw MIME written by an SES receipt
    rule). There is no signature: the object arrived through the deployment's
    own bucket under IAM. Same rules as ``switchboard_channel_parse``: pure,
    deterministic ids, ``BadPayload`` for what cannot be understood (the hub
    quarantines it).

    :param obj: the object's bytes, bucket, key and metadata.
    :param config: the tenant's validated config.
    :returns: zero or more messages, or ``None`` when the channel takes no
        stored objects. Stops at first non-None result.
    """


@hookspec(firstresult=True)
def switchboard_channel_respond(
    request: WebhookRequest, config: BaseModel, report: IngestReport
) -> WebhookResponse | None:
    """Build the answer the provider expects (TwiML, ``success``, JSON, …).

    Called once per verified POST after the hub stored (or de-duplicated, or
    quarantined) its messages. A duplicate delivery gets the same answer as the
    first.

    :param request: the verified request.
    :param config: the tenant's validated config.
    :param report: what the hub stored; see :class:`IngestReport`.
    :returns: the response. ``None`` lets the hub answer ``202`` with a JSON
        summary. Stops at first non-None result.
    """


@hookspec(firstresult=True)
def switchboard_channel_send(
    message: OutboundMessage, config: BaseModel, context: SendContext
) -> SendOutcome | None:
    """Send one reply to the customer through the provider's API.

    Called by the delivery worker for each reply an agent (or an API key with the
    ``reply`` scope) wrote on a ticket of this channel, in order per ticket, after
    the hub stored it as ``queued``. The same message may be sent again after a
    ``retry`` outcome, a worker crash between the provider's answer and the hub's
    write, or an agent's retry of a failed message; send ``message.id`` as the
    provider's idempotency key where it has one. Calls go through
    ``context.http`` (tests and the hub inject it) and must finish within
    ``context.timeout_seconds``.

    :param message: the reply, the customer's address on this channel, and what
        it answers (:class:`~.sending.ReplyContext`).
    :param config: the tenant's validated config for this channel.
    :param context: attempt number, HTTP transport, clock, timeout, shared
        provider tokens and (``aws``) the deployment's AWS clients.
    :returns: a classified :class:`~.sending.SendOutcome` — never raise for a
        provider's refusal or absence; classify it (``retry`` for 429/5xx/no
        answer, ``failed`` with the provider's code, ``window_closed``).
        ``None`` means the channel cannot send: the hub marks the reply failed.
        Stops at first non-None result.
    """


@hookspec(firstresult=True)
def switchboard_channel_status(request: WebhookRequest, config: BaseModel) -> list[StatusUpdate] | None:
    """Read a provider's delivery-status callback.

    Called for every verified POST to the channel's webhook, before
    ``switchboard_channel_parse``. Status callbacks arrive at the same URL as
    messages and are verified the same way (``switchboard_channel_verify``).

    :param request: the verified request.
    :param config: the tenant's validated config.
    :returns: ``None`` when the request is not a status callback (the hub goes
        on to parse it as messages); otherwise the updates it carries (possibly
        none), which the hub applies to the replies they name; the provider then
        gets ``switchboard_channel_respond``'s answer with an empty report.
        ``BadPayload`` for a callback that cannot be read. Stops at first
        non-None result.
    """


# -- connectors -----------------------------------------------------------------


@hookspec(firstresult=True)
def switchboard_connector_deliver(
    event: EventEnvelope, config: BaseModel, context: DeliveryContext
) -> DeliveryOutcome | None:
    """Deliver one event to the connector's receiver, at least once.

    Called by the delivery worker for each queued job of a tenant that enabled
    the connector, in order per ticket; the same event may be delivered again
    (after a retry or a replay), so send ``event.id`` as the receiver's
    idempotency key.

    :param event: the versioned event envelope.
    :param config: the tenant's validated config for this connector.
    :param context: attempt number, injected HTTP transport, clock and timeout.
    :returns: a classified :class:`DeliveryOutcome` — never raise for a receiver's
        failure; classify it. To stop early from deep inside, raise
        :class:`~switchboard_sdk.errors.OutcomeReached` and return
        :func:`switchboard_sdk.outcomes.settle` of the delivery (the hub also
        reads an ``OutcomeReached`` that escapes this hook as its outcome).
        Stops at first non-None result.
    """


# -- assistants (contract 1.3) ----------------------------------------------------


@hookspec(firstresult=True)
def switchboard_assistant_train(knowledge: KnowledgeBase, config: BaseModel) -> TrainedModel | None:
    """Train a model on the tenant's knowledge base.

    Called by the hub's trainer function (asynchronously, in Lambda: keep within its
    memory and 15 minutes) each time a tenant's knowledge base changes, and by
    ``switchboard assistant evaluate``. Deterministic: the same knowledge base and config
    give the same model and threshold.

    :param knowledge: every article and labelled intent, at one version.
    :param config: the tenant's validated config (a subclass of
        :class:`~switchboard_sdk.assistant.AssistantConfig`); choose the threshold for
        its ``precision`` from the training data alone.
    :returns: the :class:`TrainedModel` the hub stores. ``InvalidInput`` when the
        knowledge base cannot be learnt from (e.g. fewer than two intents). Stops at
        first non-None result.
    """


@hookspec(firstresult=True)
def switchboard_assistant_load(data: bytes, config: BaseModel) -> object | None:
    """Turn a stored model back into something that classifies.

    Called once per container and model version (the hub caches the result), before
    the first message that model sees.

    :param data: ``TrainedModel.data`` as training produced it.
    :param config: the tenant's validated config (an ``AssistantConfig`` subclass).
    :returns: an opaque handle passed to the two hooks below. ``BadPayload`` when the
        data cannot be read. Stops at first non-None result.
    """


@hookspec(firstresult=True)
def switchboard_assistant_classify(model: object, query: AssistantQuery, config: BaseModel) -> Classification | None:
    """The intents of one customer message, most likely first, with confidences in [0, 1]
    comparable with ``TrainedModel.threshold``.

    Called behind the stream for each new customer message on a ticket the assistant
    holds; pure: no I/O, no state kept between calls.

    :param model: what :func:`switchboard_assistant_load` returned for the tenant's model.
    :param query: the message's text, the ticket's language when known, the channel.
    :param config: the tenant's validated config.
    :returns: the :class:`Classification` (empty intents: nothing recognised). Stops at
        first non-None result.
    """


@hookspec(firstresult=True)
def switchboard_assistant_answer(
    model: object, query: AssistantQuery, classification: Classification, config: BaseModel
) -> ProposedAnswer | None:
    """The answer the assistant proposes for a classified message, or ``None`` when no
    article answers its top intent. The answer is in the customer's language when the
    article has it (the language detected, else ``query.language``), else in one it has.

    Called right after :func:`switchboard_assistant_classify`; the hub decides whether
    to send it (the tenant's threshold, hand-off phrases, unhelpful answers in a row).
    Pure, like classify.

    :param model: what :func:`switchboard_assistant_load` returned.
    :param query: the message, as classified.
    :param classification: what :func:`switchboard_assistant_classify` returned for it.
    :param config: the tenant's validated config.
    :returns: a :class:`ProposedAnswer`, or ``None``: nothing to propose. Stops at first
        non-None result.
    """
