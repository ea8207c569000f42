"""The ``twilio`` channel's hooks: thin, each hands over to ``verify``, ``parse``,
``respond``, ``send`` or ``status``.

The hub imports every plugin at start-up only to call ``switchboard_plugin_info``, so
``verify``, ``parse`` and ``respond`` (xml.etree; ~7 ms in all), ``send`` and ``status``
are imported by the hooks on first use.
"""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.sending import OutboundMessage, SendContext, SendOutcome, StatusUpdate
from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse

from .config import NAME, TwilioConfig


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
            summary="Twilio SMS, MMS, WhatsApp and voice (voicemail, transcription, missed calls); replies",
            retries_webhooks=False,  # a refused messaging webhook is not sent again: never answer it 429
            sends_to=("phone",),  # SMS and WhatsApp reach a phone number; a withheld caller's visitor id cannot
            setup_steps=(
                "Twilio Console > Phone Numbers > your number: set 'A message comes in' to Webhook, "
                "HTTP POST, {webhook_url}",
                "On the same page set 'A call comes in' to Webhook, HTTP POST, {webhook_url}",
                "For WhatsApp senders set the same URL as the incoming-message webhook",
                "Configure auth_token with the account's Auth Token (it signs X-Twilio-Signature)",
                "To reply, configure account_sid with the Account SID (AC…), and messaging_service_sid "
                "(MG…) if replies should go through a Messaging Service",
            ),
        )

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> bool:
        from .verify import verify_request  # lazy: see the module docstring

        verify_request(request, _as_config(config))
        return True

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> list[InboundMessage]:
        from .parse import parse_request  # lazy: see the module docstring

        _as_config(config)
        return parse_request(request)

    @hookimpl
    def switchboard_channel_respond(
        self, request: WebhookRequest, config: BaseModel, report: IngestReport
    ) -> WebhookResponse:
        from .respond import answer  # lazy: see the module docstring

        return answer(request, _as_config(config), report)

    @hookimpl
    def switchboard_channel_send(
        self, message: OutboundMessage, config: BaseModel, context: SendContext
    ) -> SendOutcome:
        from .send import send_reply  # lazy: see the module docstring

        return send_reply(message, _as_config(config), context)

    @hookimpl
    def switchboard_channel_status(self, request: WebhookRequest, config: BaseModel) -> list[StatusUpdate] | None:
        from .status import status_updates  # lazy: see the module docstring

        _as_config(config)
        return status_updates(request)


plugin = TwilioChannel()
