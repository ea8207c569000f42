"""The ``wechat`` channel's hooks, thin: a WeChat Official Account's message pushes.

GET is WeChat's URL check (``echostr``); POST carries one message or event as
XML, in clear text or AES-encrypted depending on the account's mode. Replies go
out through the customer-service message API (``send``). See
``docs/channels/wechat.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel
from switchboard_sdk.errors import SwitchboardError
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.sending import OutboundMessage, SendContext, SendOutcome
from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse

from .config import NAME, WeChatConfig

if TYPE_CHECKING:
    from .parse import Push

# The hooks import .verify, .parse, .respond and .send on first use: they pull in
# cryptography, defusedxml and xml.etree (~11 ms), and the hub imports every plugin
# at start-up only to call switchboard_plugin_info.


def _push(request: WebhookRequest, config: WeChatConfig) -> Push:
    from . import verify  # lazy: see the note at the imports
    from .parse import read_push

    # decrypting again is cheap, and keeps parse pure: it needs nothing from verify
    return read_push(verify.verify(request, config))


class WeChatChannel:
    """The plugin object registered under the ``wechat`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="channel",
            contract_version=CONTRACT_VERSION,
            config_model=WeChatConfig,
            version="0.2.0",
            summary="WeChat Official Account messages and events (plaintext, compatible or safe mode), "
            "answered through customer-service messages",
            # WeChat retries only a push that got no answer in 5 s; an error answer is final
            # (the follower sees "该公众号暂时无法提供服务"), so a 429 would lose the message
            retries_webhooks=False,
            # the OpenID is per account, the only address customer-service messages take (not the UnionID)
            sends_to=("wechat_openid",),
            setup_steps=(
                "WeChat Official Accounts Platform > Settings and Development > Basic Configuration > "
                "Server Configuration: set URL to {webhook_url}",
                "Enter the same Token and EncodingAESKey you configured here and pick the same message "
                "encryption mode, then Submit: WeChat checks the URL with a signed GET",
                "Enable the server configuration",
            ),
        )

    @hookimpl
    def switchboard_channel_handshake(self, request: WebhookRequest, config: BaseModel) -> WebhookResponse:
        from . import verify  # lazy: see the note at the imports

        echostr = verify.echo(request, verify.as_config(config))
        return WebhookResponse(status_code=200, body=echostr, headers={"Content-Type": "text/plain"})

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> bool:
        from . import verify  # lazy: see the note at the imports

        verify.verify(request, verify.as_config(config))
        return True

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> list[InboundMessage]:
        from . import verify  # lazy: see the note at the imports
        from .parse import to_inbound

        return [to_inbound(request, _push(request, verify.as_config(config)))]

    @hookimpl
    def switchboard_channel_respond(
        self, request: WebhookRequest, config: BaseModel, report: IngestReport
    ) -> WebhookResponse:
        from . import respond, verify  # lazy: see the note at the imports

        cfg = verify.as_config(config)
        if not cfg.auto_ack_text or report.quarantined:
            return respond.success()
        try:
            push = _push(request, cfg)
            if respond.wants_auto_ack(cfg, report, push):
                return respond.auto_ack(request, cfg, push)
        except (SwitchboardError, ValueError):
            pass  # the answer must not fail: WeChat would retry and show the user an error
        return respond.success()

    @hookimpl
    def switchboard_channel_send(
        self, message: OutboundMessage, config: BaseModel, context: SendContext
    ) -> SendOutcome:
        from . import send  # lazy: see the note at the imports

        return send.send(message, expect_config(config, WeChatConfig), context)


plugin = WeChatChannel()
