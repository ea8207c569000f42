"""The ``email`` channel's hooks, thin: Mailgun route POSTs and SES-stored raw MIME, one parser;
replies through SES or Mailgun.

* ``POST /hooks/{tenant}/email`` — a Mailgun route ``forward()``; verified by
  signature and timestamp, de-duplicated by its one-time ``token`` (replay key)
  and by Message-ID. Mailgun's event webhooks (JSON) arrive here too and become
  delivery statuses (:func:`switchboard_channel_status`).
* ``inbound/<tenant>/email/<id>`` in the hub's bucket — an SES receipt rule's S3
  action; the hub's S3 handler calls :func:`switchboard_channel_parse_object`.
* replies — :func:`switchboard_channel_send` (:mod:`.send`).

The parser modules (form, mime, normalise, …) pull in python-multipart, the stdlib
``email`` parser and ``html.parser`` (~20 ms). The hub imports every plugin at
start-up but only needs ``switchboard_plugin_info`` then, so the hooks import
``verify``, ``parse``, ``respond``, ``events`` and ``send`` on first use.
"""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.sending import OutboundMessage, SendContext, SendOutcome, StatusUpdate
from switchboard_sdk.webhooks import IngestReport, StoredObject, WebhookRequest, WebhookResponse

from .config import CHANNEL, EmailConfig

VERSION = "0.2.0"


def _as_config(config: BaseModel) -> EmailConfig:
    return expect_config(config, EmailConfig)


class EmailChannel:
    """The plugin object registered under the ``email`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=CHANNEL,
            kind="channel",
            contract_version=CONTRACT_VERSION,
            config_model=EmailConfig,
            version=VERSION,
            summary="Email: Mailgun route POSTs and SES receipt rules in (raw MIME in S3); replies by SES or Mailgun",
            webhook_paths=("/mime",),
            sends_to=("email",),
            setup_steps=(
                "Mailgun: Receiving > Create Route, match your support address, action forward() to "
                "{webhook_url}/mime (raw MIME); set mailgun_signing_key to the HTTP webhook signing key",
                "Or SES: a receipt rule for your support address with an S3 action writing to the hub's "
                "bucket under inbound/<tenant>/email/ (see docs/channels/email.md)",
                "Replies: set from_address (and from_name); SES needs from_address's domain verified in SES, "
                "Mailgun needs mailgun_api_key and mailgun_domain (EU: api_base_url https://api.eu.mailgun.net)",
                "Mailgun delivery statuses: Sending > Webhooks for delivered, permanent failure, opened and "
                "spam complaints, each pointing at {webhook_url}",
            ),
        )

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> bool:
        from .verify import verify_request  # lazy: see the module docstring

        verify_request(request, _as_config(config))
        return True

    @hookimpl
    def switchboard_channel_replay_key(self, request: WebhookRequest, config: BaseModel) -> str | None:
        from .verify import replay_key  # lazy: see the module docstring

        _as_config(config)
        return replay_key(request)

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> list[InboundMessage]:
        from .parse import parse_request  # lazy: see the module docstring

        return parse_request(request, _as_config(config))

    @hookimpl
    def switchboard_channel_parse_object(self, obj: StoredObject, config: BaseModel) -> list[InboundMessage]:
        from .parse import parse_stored  # lazy: see the module docstring

        return parse_stored(obj, _as_config(config))

    @hookimpl
    def switchboard_channel_respond(
        self, request: WebhookRequest, config: BaseModel, report: IngestReport
    ) -> WebhookResponse:
        from .respond import answer  # lazy: see the module docstring

        return answer(report)

    @hookimpl
    def switchboard_channel_send(
        self, message: OutboundMessage, config: BaseModel, context: SendContext
    ) -> SendOutcome:
        from .send import send  # lazy: see the module docstring

        return send(message, _as_config(config), context)

    @hookimpl
    def switchboard_channel_status(self, request: WebhookRequest, config: BaseModel) -> list[StatusUpdate] | None:
        from .events import status_updates  # lazy: see the module docstring

        _as_config(config)
        return status_updates(request)


plugin = EmailChannel()
