"""The ``web`` channel's request body: the JSON a business posts, as an ``InboundMessage``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from switchboard_sdk.errors import BadPayload, describe_validation_error
from switchboard_sdk.models import AttachmentRef, CustomerProfile, Identity, IdentityKind, InboundMessage
from switchboard_sdk.webhooks import WebhookRequest

from .config import NAME


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http(s) URL")
    return value


def _identity_value(kind: IdentityKind, value: str) -> str:
    """Normalise through the SDK's Identity so web and SMS phones compare equal."""
    try:
        return Identity(kind=kind, value=value).value
    except ValidationError:
        # re-raise without the SDK error's text: it would echo the input value
        raise ValueError(f"not a valid {kind}") from None


Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048), AfterValidator(_http_url)]


# Request-body models: defer_build postpones the schema build to the first
# request; start-up needs only WebConfig.


class WebAttachment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    url: Url
    content_type: Text | None = None
    filename: Text | None = None
    size_bytes: int | None = Field(default=None, ge=0)


class WebMessage(BaseModel):
    """The JSON body a business posts. Unknown fields are rejected (a typo such
    as ``phone_number`` would otherwise drop an identity without a word)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    visitor_id: Key
    client_message_id: Key
    text: str = Field(max_length=100_000)
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    page_url: Url | None = None
    sent_at: AwareDatetime | None = None
    attachments: list[WebAttachment] = Field(default_factory=list, max_length=20)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else _identity_value("email", value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else _identity_value("phone", value)


def parse_body(body: bytes) -> WebMessage:
    """The request body as a :class:`WebMessage`, or :class:`BadPayload`."""
    try:
        return WebMessage.model_validate_json(body)
    except ValidationError as err:
        # field locations and pydantic's messages; never the offending input
        raise BadPayload(f"invalid web message: {describe_validation_error(err, root='body')}") from None


def identities(message: WebMessage) -> list[Identity]:
    """Phone, then email, then visitor: the hub matches the first it knows, and
    the stronger, cross-channel identities should win over a browser id."""
    found: list[Identity] = []
    if message.phone:
        found.append(Identity(kind="phone", value=message.phone))
    if message.email:
        found.append(Identity(kind="email", value=message.email))
    found.append(Identity(kind="visitor", value=message.visitor_id))
    return found


def _metadata(message: WebMessage, webhook_id: str | None) -> dict[str, str]:
    metadata: dict[str, str] = {}
    if message.page_url:
        metadata["page_url"] = message.page_url
    if webhook_id:
        metadata["webhook_id"] = webhook_id
    return metadata


def to_inbound(request: WebhookRequest, message: WebMessage) -> InboundMessage:
    """The normalised message. ``client_message_id`` is the de-duplication key
    (``webhook-id`` changes when the business re-sends the same message)."""
    return InboundMessage(
        tenant_id=request.tenant_id,
        channel=NAME,
        provider_message_id=message.client_message_id,
        customer=CustomerProfile(identities=identities(message), display_name=message.name or None),
        text=message.text,
        attachments=[AttachmentRef.model_validate(a.model_dump()) for a in message.attachments],
        received_at=request.received_at,
        sent_at=message.sent_at,
        metadata=_metadata(message, request.header("webhook-id")),
    )
