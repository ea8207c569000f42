"""The ``email`` channel's hooks: Mailgun route POSTs and SES-stored raw MIME, one parser.

* ``POST /hooks/{tenant}/email`` — a Mailgun route ``forward()``; verified by
  signature and timestamp, de-duplicated by its one-time ``token`` (replay key)
  and by Message-ID.
* ``inbound/<tenant>/email/<id>`` in the hub's bucket — an SES receipt rule's S3
  action; the hub's S3 handler calls :func:`switchboard_channel_parse_object`.

See ``docs/channels/email.md``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from switchboard_sdk.errors import BadPayload, VerificationFailed
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.webhooks import IngestReport, StoredObject, WebhookRequest, WebhookResponse

from .config import CHANNEL, EmailConfig

if TYPE_CHECKING:
    from .mailgun import Form
    from .normalise import Authenticator, Options

# The parser modules (mailgun, mime, normalise, …) pull in the stdlib ``email``
# parser and ``html.parser`` (~20 ms). The hub imports every plugin at start-up
# but only needs ``switchboard_plugin_info`` then, so they are imported on first use.

VERSION = "0.1.0"
# SES writes this object under the rule's prefix when the rule is created, to prove access.
SES_SETUP_OBJECT = "AMAZON_SES_SETUP_NOTIFICATION"
# S3 encryption-client metadata: SES encrypted the message with KMS before storing it.
_CLIENT_SIDE_ENCRYPTION = ("x-amz-key-v2", "x-amz-cek-alg", "x-amz-meta-x-amz-key-v2", "x-amz-meta-x-amz-cek-alg")
_JSON_HEADERS = {"Content-Type": "application/json"}


def parse_mime(
    raw: bytes,
    *,
    tenant_id: str,
    received_at: datetime,
    config: EmailConfig | None = None,
    envelope_recipients: list[str] | None = None,
    authenticate: Authenticator | None = None,
) -> InboundMessage:
    """One raw RFC 5322 message as an :class:`InboundMessage` (the parser both
    ingress paths share; also for benchmarks and the demo CLI). ``authenticate``
    reads the provider's SPF/DKIM/DMARC verdict (:mod:`.authenticity`); without it
    ``sender_authenticated`` is ``None``: headers alone prove nothing."""
    from .mime import parse_bytes  # lazy: see the note at the imports
    from .normalise import to_inbound

    mail = parse_bytes(raw, envelope_recipients=envelope_recipients)
    options = _options(config)
    return to_inbound(
        mail, tenant_id=tenant_id, received_at=received_at, options=options, authenticate=authenticate
    )


def _options(config: EmailConfig | None) -> Options:
    from .normalise import Options  # lazy: see the note at the imports

    if config is None:
        return Options()
    return Options(support_address=config.support_address, max_attachment_bytes=config.max_attachment_bytes)


def _as_config(config: BaseModel) -> EmailConfig:
    return expect_config(config, EmailConfig)


def _form(request: WebhookRequest, *, verifying: bool = False) -> Form:
    from .mailgun import parse_form  # lazy: see the note at the imports

    unreadable = VerificationFailed if verifying else BadPayload
    return parse_form(request.body, request.header("content-type"), unreadable=unreadable)


def parse_request(request: WebhookRequest, config: EmailConfig) -> list[InboundMessage]:
    """A verified Mailgun route POST as its one message."""
    from .mailgun import authenticator, mail_from_form  # lazy: see the note at the imports
    from .normalise import to_inbound

    form = _form(request)
    mail = mail_from_form(form)
    options = _options(config)
    message = to_inbound(
        mail, tenant_id=request.tenant_id, received_at=request.received_at, options=options,
        authenticate=authenticator(form),
    )
    return [message]


def _encrypted(obj: StoredObject) -> bool:
    return any(key.lower() in _CLIENT_SIDE_ENCRYPTION for key in obj.metadata)


def parse_stored(obj: StoredObject, config: EmailConfig) -> list[InboundMessage]:
    """An SES-stored object as its message; SES's setup probe is nothing to store."""
    if obj.key.rsplit("/", 1)[-1] == SES_SETUP_OBJECT:
        return []
    if _encrypted(obj):
        raise BadPayload("SES encrypted this message client-side (KMS); turn that off and use bucket encryption")
    from .authenticity import ses_verdict  # lazy: see the note at the imports

    message = parse_mime(
        obj.body, tenant_id=obj.tenant_id, received_at=obj.received_at, config=config, authenticate=ses_verdict
    )
    return [message.model_copy(update={"raw_payload_ref": f"s3://{obj.bucket}/{obj.key}"})]


def _json(body: dict[str, Any]) -> WebhookResponse:
    import json  # lazy: only answers need it

    return WebhookResponse(status_code=200, body=json.dumps(body), headers=dict(_JSON_HEADERS))


def answer(report: IngestReport) -> WebhookResponse:
    """Always 200: Mailgun retries anything but 200 and 406 for 8 hours, and a
    quarantined message is already kept — a retry would only add copies."""
    if report.quarantined:
        error = {"code": BadPayload.code, "message": report.quarantine_reason}
        return _json({"status": "quarantined", "quarantine_id": report.quarantine_id, "error": error})
    return _json({"status": "accepted"})


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
            summary="Inbound email: Mailgun route POSTs and SES receipt rules (raw MIME in S3)",
            webhook_paths=("/mime",),
            setup_steps=(
                "Mailgun: Receiving > Create Route, match your support address, action forward() to "
                "{webhook_url}/mime (raw MIME); set mailgun_signing_key to the HTTP webhook signing key",
                "Or SES: a receipt rule for your support address with an S3 action writing to the hub's "
                "bucket under inbound/<tenant>/email/ (see docs/channels/email.md)",
            ),
        )

    @hookimpl
    def switchboard_channel_verify(self, request: WebhookRequest, config: BaseModel) -> bool:
        from .mailgun import verify  # lazy: see the note at the imports

        verify(_form(request, verifying=True), _as_config(config), request.received_at)
        return True

    @hookimpl
    def switchboard_channel_replay_key(self, request: WebhookRequest, config: BaseModel) -> str | None:
        _as_config(config)
        return _form(request).text("token") or None

    @hookimpl
    def switchboard_channel_parse(self, request: WebhookRequest, config: BaseModel) -> list[InboundMessage]:
        return parse_request(request, _as_config(config))

    @hookimpl
    def switchboard_channel_parse_object(self, obj: StoredObject, config: BaseModel) -> list[InboundMessage]:
        return parse_stored(obj, _as_config(config))

    @hookimpl
    def switchboard_channel_respond(
        self, request: WebhookRequest, config: BaseModel, report: IngestReport
    ) -> WebhookResponse:
        return answer(report)


plugin = EmailChannel()
