"""The ``web`` channel's hooks: thin, each hands over to ``verify``, ``parse``, ``respond``
or ``send``.

Those are imported on first use, like every built-in's internals: a function that never
handles a web request (the stream and delivery Lambdas) never loads ``verify``, ``parse``
or ``respond``, and only the delivery worker loads ``send``. There is no status hook: a
backend that takes a reply has delivered it."""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.sending import OutboundMessage, SendContext, SendOutcome
from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse

from .config import NAME, WebConfig


def _as_config(config: BaseModel) -> WebConfig:
    return expect_config(config, WebConfig)


class WebChannel:
    """The plugin object registered under the ``web`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="channel",
            contract_version=CONTRACT_VERSION,
            config_model=WebConfig,
            version="0.1.0",
            summary="Signed JSON messages from a business's own site or app, and replies to its backend "
                    "(Standard Webhooks)",
            setup_steps=(
                "Have your server POST each message as JSON to {webhook_url}",
                "Sign every request per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) "
                "with the whsec_ secret you configured; see docs/channels/web.md",
                "To answer customers, set reply_url to your backend's endpoint and reply_signing_secret to a new "
                "whsec_ secret; your backend verifies each reply with it (docs/channels/web.md, Replying)",
            ),
        )

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> bool:
        from .verify import verify_request

        verify_request(request, _as_config(config))
        return True

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> list[InboundMessage]:
        from .parse import parse_body, to_inbound

        _as_config(config)
        return [to_inbound(request, parse_body(request.body))]

    @hookimpl
    def switchboard_channel_respond(
        self, request: WebhookRequest, config: BaseModel, report: IngestReport
    ) -> WebhookResponse:
        from .respond import answer

        return answer(report)

    @hookimpl
    def switchboard_channel_send(
        self, message: OutboundMessage, config: BaseModel, context: SendContext
    ) -> SendOutcome:
        from .send import send_reply

        return send_reply(message, _as_config(config), context)


plugin = WebChannel()
