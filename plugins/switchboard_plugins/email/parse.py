"""The ``email`` channel's parsing: a verified Mailgun route POST or an SES-stored
object, through one MIME parser, as its :class:`InboundMessage`."""

from __future__ import annotations

from datetime import datetime

from switchboard_sdk.errors import BadPayload
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.webhooks import StoredObject, WebhookRequest

from .authenticity import ses_verdict
from .config import EmailConfig
from .form import read_form
from .mailgun import authenticator, mail_from_form
from .mime import parse_bytes
from .normalise import Authenticator, Options, to_inbound

# SES writes this object under the rule's prefix when the rule is created, to prove access.
SES_SETUP_OBJECT = "AMAZON_SES_SETUP_NOTIFICATION"
# S3 encryption-client metadata: SES encrypted the message with KMS before storing it.
_CLIENT_SIDE_ENCRYPTION = ("x-amz-key-v2", "x-amz-cek-alg", "x-amz-meta-x-amz-key-v2", "x-amz-meta-x-amz-cek-alg")


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
    mail = parse_bytes(raw, envelope_recipients=envelope_recipients)
    options = _options(config)
    return to_inbound(
        mail, tenant_id=tenant_id, received_at=received_at, options=options, authenticate=authenticate
    )


def _options(config: EmailConfig | None) -> Options:
    if config is None:
        return Options()
    return Options(support_address=config.support_address, max_attachment_bytes=config.max_attachment_bytes)


def parse_request(request: WebhookRequest, config: EmailConfig) -> list[InboundMessage]:
    """A verified Mailgun route POST as its one message."""
    form = read_form(request)
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
    message = parse_mime(
        obj.body, tenant_id=obj.tenant_id, received_at=obj.received_at, config=config, authenticate=ses_verdict
    )
    return [message.model_copy(update={"raw_payload_ref": f"s3://{obj.bucket}/{obj.key}"})]
