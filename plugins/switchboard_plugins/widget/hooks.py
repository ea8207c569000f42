"""The ``widget`` channel's hooks: thin, each hands over to ``verify``, ``parse``, ``respond``
or ``send``, loaded on first use like every built-in's internals (the stream and delivery
functions never load the request side)."""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.sending import OutboundMessage, SendContext, SendOutcome
from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse

from .config import NAME, WidgetConfig


def _as_config(config: BaseModel) -> WidgetConfig:
    return expect_config(config, WidgetConfig)


class WidgetChannel:
    """The plugin object registered under the ``widget`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME, kind="channel", contract_version=CONTRACT_VERSION, config_model=WidgetConfig,
            version="0.1.0", summary="The hub's web chat widget, embedded in your site with one script tag",
            setup_steps=(
                "List your site's origins in allowed_origins (e.g. https://shop.example.com) and set "
                "token_secret to a long random string",
                "Paste <script src=\"https://YOUR-HUB/widget.js\" data-tenant=\"YOUR-TENANT-ID\" async></script> "
                "into your pages (docs/channels/widget.md); the widget talks to /widget/..., not to a webhook URL",
                "Optional: set identity_secret and pass user_id and user_hash from your backend to identify "
                "signed-in users (docs/channels/widget.md, Identity verification)",
            ),
            sends_to=("visitor",),
        )

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> bool:
        from .verify import verify_request

        verify_request(request, _as_config(config))
        return True

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> list[InboundMessage]:
        from .parse import parse_body, to_inbound
        from .verify import claims_of

        claims = claims_of(request, _as_config(config))
        return [to_inbound(request, claims, parse_body(request.body))]

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

        _as_config(config)
        return send_reply(message)

plugin = WidgetChannel()
