"""The ``widget`` channel's request body, as the hub's widget route forwards it, as an ``InboundMessage``.

The visitor is whoever the verified token says: a hub-issued visitor id, or — when the
business vouched for a signed-in user — ``user:<id>`` (kind ``visitor``) and the email the
business vouched for too, first, so the customer's other channels find them. Attachments
are objects the visitor uploaded to their own folder, which the hub checked exists.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from switchboard_sdk.errors import BadPayload, describe_validation_error
from switchboard_sdk.models import AttachmentRef, CustomerProfile, Identity, InboundMessage
from switchboard_sdk.visitor_tokens import VisitorClaims
from switchboard_sdk.webhooks import WebhookRequest

from .config import NAME

ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]
MAX_ATTACHMENTS = 5


class WidgetAttachment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    url: Annotated[str, StringConstraints(max_length=1024)]
    content_type: Text
    filename: Text
    size_bytes: int = Field(ge=0)


class WidgetMessage(BaseModel):
    """What the widget sends (``client_message_id`` makes a resend the same message)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    client_message_id: ClientId
    text: str = Field(default="", max_length=10_000)
    attachments: list[WidgetAttachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    language: Literal["en", "zh"] | None = None
    page_url: Annotated[str, StringConstraints(max_length=2048)] | None = None


def parse_body(body: bytes) -> WidgetMessage:
    """The body as a :class:`WidgetMessage`, or :class:`BadPayload`."""
    try:
        message = WidgetMessage.model_validate_json(body)
    except ValidationError as err:
        raise BadPayload(f"invalid widget message: {describe_validation_error(err, root='body')}") from None
    if not message.text.strip() and not message.attachments:
        raise BadPayload("invalid widget message: body.text is empty and there is no attachment")
    return message


def provider_message_id(claims: VisitorClaims, client_message_id: str) -> str:
    """One id per visitor and client message id: the widget's retry is the same message."""
    return f"{claims.identity_value}/{client_message_id}"


def identities(claims: VisitorClaims) -> list[Identity]:
    """The vouched-for email first (the hub matches the first identity it knows), then the visitor."""
    found = [Identity(kind="email", value=claims.email)] if claims.email else []
    return [*found, Identity(kind="visitor", value=claims.identity_value)]


def _attachments(request: WebhookRequest, claims: VisitorClaims, message: WidgetMessage) -> list[AttachmentRef]:
    folder = f"/attachments/{request.tenant_id}/{NAME}/{claims.folder}/"
    for attachment in message.attachments:
        if not attachment.url.startswith("s3://") or folder not in attachment.url:
            raise BadPayload("an attachment is not one of this visitor's uploads")
    return [AttachmentRef(url=a.url, content_type=a.content_type, filename=a.filename, size_bytes=a.size_bytes)
            for a in message.attachments]


def to_inbound(request: WebhookRequest, claims: VisitorClaims, message: WidgetMessage) -> InboundMessage:
    metadata = {"client_message_id": message.client_message_id}
    if message.language:
        metadata["language"] = message.language
    if message.page_url:
        metadata["page_url"] = message.page_url
    return InboundMessage(
        tenant_id=request.tenant_id, channel=NAME,
        provider_message_id=provider_message_id(claims, message.client_message_id),
        customer=CustomerProfile(identities=identities(claims), display_name=claims.name or None),
        text=message.text, attachments=_attachments(request, claims, message),
        received_at=request.received_at, metadata=metadata,
        sender_authenticated=True if claims.user else None,
    )
