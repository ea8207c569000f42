"""The ``twilio`` channel: SMS, MMS and WhatsApp messages, and voice calls.

Twilio posts form-encoded webhooks to ``/hooks/{tenant}/twilio`` and signs each
with ``X-Twilio-Signature`` (HMAC-SHA1 over the URL it called plus the sorted
POST parameters). Voice calls are answered with TwiML that sends every callback
back to the same URL with an ``event`` query marker:

* ``?event=recording``: ``<Record recordingStatusCallback>`` (the voicemail)
* ``?event=recorded``: ``<Record action>`` (the call flow after recording; hangs up)
* ``?event=transcription``: ``<Record transcribeCallback>``
* ``?event=status``: ``<Dial action>`` in forward mode, and the number's
  "call status changes" URL if the tenant sets one

The marker is part of the signed URL, so it cannot be forged. Modules: ``config``
(tenant settings), ``signing`` (signature, URL Twilio signed), ``inbound`` (parse),
``twiml`` (answers). See ``docs/channels/twilio.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse

from .config import DEFAULT_GREETING, NAME, TwilioConfig

if TYPE_CHECKING:
    from .inbound import EVENT_PARAM, MARKERS, WITHHELD_CALLER_IDS, Marker, classify, parse_request
    from .signing import (
        SIGNATURE_HEADER,
        body_sha256,
        query_forms,
        signature,
        signed_url,
        url_variants,
        verify_request,
    )
    from .twiml import EMPTY_TWIML, answer, callback_url, voice_twiml

# The hub imports every plugin at start-up only to call switchboard_plugin_info, so
# .inbound, .signing and .twiml (xml.etree; ~7 ms in all) load on first use: the
# hooks import them when called, and the names re-exported from them resolve
# through the module __getattr__ below (PEP 562).
_LAZY = {
    "EVENT_PARAM": ".inbound",
    "MARKERS": ".inbound",
    "WITHHELD_CALLER_IDS": ".inbound",
    "Marker": ".inbound",
    "classify": ".inbound",
    "parse_request": ".inbound",
    "SIGNATURE_HEADER": ".signing",
    "body_sha256": ".signing",
    "query_forms": ".signing",
    "signature": ".signing",
    "signed_url": ".signing",
    "url_variants": ".signing",
    "verify_request": ".signing",
    "EMPTY_TWIML": ".twiml",
    "answer": ".twiml",
    "callback_url": ".twiml",
    "voice_twiml": ".twiml",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def _as_config(config: BaseModel) -> TwilioConfig:
    return expect_config(config, TwilioConfig)


class TwilioChannel:
    """The plugin object registered under the ``twilio`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="channel",
            contract_version=CONTRACT_VERSION,
            config_model=TwilioConfig,
            version="0.1.0",
            summary="Twilio SMS, MMS, WhatsApp and voice (voicemail, transcription, missed calls)",
            retries_webhooks=False,  # a refused messaging webhook is not sent again: never answer it 429
            setup_steps=(
                "Twilio Console > Phone Numbers > your number: set 'A message comes in' to Webhook, "
                "HTTP POST, {webhook_url}",
                "On the same page set 'A call comes in' to Webhook, HTTP POST, {webhook_url}",
                "For WhatsApp senders set the same URL as the incoming-message webhook",
                "Configure auth_token with the account's Auth Token (it signs X-Twilio-Signature)",
            ),
        )

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> bool:
        from .signing import verify_request  # lazy: see the note at the imports

        verify_request(request, _as_config(config))
        return True

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> list[InboundMessage]:
        from .inbound import parse_request  # lazy: see the note at the imports

        _as_config(config)
        return parse_request(request)

    @hookimpl
    def switchboard_channel_respond(
        self, request: WebhookRequest, config: BaseModel, report: IngestReport
    ) -> WebhookResponse:
        from .twiml import answer  # lazy: see the note at the imports

        return answer(request, _as_config(config), report)


plugin = TwilioChannel()

__all__ = [
    "DEFAULT_GREETING",
    "EMPTY_TWIML",
    "EVENT_PARAM",
    "MARKERS",
    "NAME",
    "SIGNATURE_HEADER",
    "WITHHELD_CALLER_IDS",
    "Marker",
    "TwilioChannel",
    "TwilioConfig",
    "answer",
    "body_sha256",
    "callback_url",
    "classify",
    "parse_request",
    "plugin",
    "query_forms",
    "signature",
    "signed_url",
    "url_variants",
    "verify_request",
    "voice_twiml",
]
