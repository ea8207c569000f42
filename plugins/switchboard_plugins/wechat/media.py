"""A reply's attachments on WeChat: images as image messages, anything else as a link.

The customer-service API sends an image by ``media_id``, so its bytes are uploaded
first as temporary media (``POST /cgi-bin/media/upload?type=image``, multipart field
``media``; PNG, JPEG or GIF; WeChat keeps it 3 days). The bytes come from the
attachment itself (``content``), its http(s) URL (fetched through the send's
transport, so the outbound guard applies) or its ``s3://`` reference (the
deployment's S3 client). Any other attachment with a web URL becomes a line
``name: url`` under the text; one without a web URL cannot reach a WeChat customer,
and the reply fails before anything is sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from switchboard_sdk import outcomes
from switchboard_sdk.errors import ConnectorError
from switchboard_sdk.models import AttachmentRef
from switchboard_sdk.sending import OutboundMessage, SendOutcome

from .api import UPLOAD_PATH, Stop, WeChatClient, unreachable

IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif"}
_EXTENSIONS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif"}
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # the temporary-media limit for images
# S3 errors that another attempt will not fix
_S3_PERMANENT = frozenset({"NoSuchKey", "NoSuchBucket", "AccessDenied", "InvalidObjectState"})


@dataclass(frozen=True)
class Image:
    attachment: AttachmentRef
    content_type: str

    @property
    def label(self) -> str:
        return label(self.attachment)


@dataclass(frozen=True)
class Plan:
    """What goes to WeChat: the text (links appended) and the images, in order."""

    text: str
    images: tuple[Image, ...]

    @property
    def parts(self) -> int:
        """How many customer-service messages the reply takes (each counts against the budget)."""
        return (1 if self.text else 0) + len(self.images)


def label(attachment: AttachmentRef) -> str:
    if attachment.filename:
        return attachment.filename
    # the path's last segment: a presigned URL's query carries a signature
    return PurePosixPath(urlsplit(attachment.url or "").path).name or "an attachment"


def _is_web(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme in ("http", "https")


def image_type(attachment: AttachmentRef) -> str | None:
    """The image type WeChat takes (by declared type, else by name), or ``None``."""
    declared = (attachment.content_type or "").split(";")[0].strip().lower()
    if declared:
        return declared if declared in IMAGE_TYPES else None
    name = attachment.filename or urlsplit(attachment.url or "").path
    return _EXTENSIONS.get(PurePosixPath(name).suffix.lower())


def plan(message: OutboundMessage) -> Plan:
    """The reply as WeChat messages; :class:`Stop` (failed) for an attachment that cannot go."""
    images: list[Image] = []
    links: list[str] = []
    for attachment in message.attachments:
        kind = image_type(attachment)
        too_big = attachment.content is not None and len(attachment.content) > MAX_IMAGE_BYTES
        if kind is not None and not too_big:
            images.append(Image(attachment, kind))
        elif _is_web(attachment.url):
            links.append(f"{label(attachment)}: {attachment.url}")
        else:
            what = "is an image over 10 MB" if kind else "is not a PNG, JPEG or GIF image"
            raise Stop(SendOutcome.failed(
                f"WeChat: {label(attachment)} cannot be sent: it {what} and has no web link to send instead"
            ))
    text = "\n".join(part for part in [message.text.strip(), *links] if part)
    return Plan(text, tuple(images))


# -- the bytes --------------------------------------------------------------------


def image_bytes(image: Image, client: WeChatClient) -> bytes:
    attachment = image.attachment
    if attachment.content is not None:
        data = attachment.content
    elif (attachment.url or "").startswith("s3://"):
        data = _from_s3(image, client)
    else:
        data = _download(image, client)
    if len(data) > MAX_IMAGE_BYTES:
        raise Stop(SendOutcome.failed(f"WeChat: {image.label} is over 10 MB, WeChat's limit for images"))
    return data


def _download(image: Image, client: WeChatClient) -> bytes:
    url = image.attachment.url or ""
    try:
        response = client.context.http.request("GET", url, headers={}, body=None, timeout=client.timeout())
    except ConnectorError as err:
        raise Stop(unreachable(err, f"the image {image.label}")) from err
    if 200 <= response.status < 300:
        return response.body
    verdict = outcomes.classify(response, client.context.clock())
    reason = f"WeChat: could not fetch the image {image.label} (HTTP {response.status})"
    if verdict.kind == "retry":
        raise Stop(SendOutcome.retry(reason, status_code=response.status, after=verdict.retry_after_seconds))
    raise Stop(SendOutcome.failed(reason, status_code=response.status))


def _from_s3(image: Image, client: WeChatClient) -> bytes:
    bucket, _, key = (image.attachment.url or "").removeprefix("s3://").partition("/")
    aws = client.context.aws
    if aws is None or not key:
        raise Stop(SendOutcome.failed(f"WeChat: the image {image.label} is in storage this worker cannot read"))
    try:
        body: Any = aws("s3").get_object(Bucket=bucket, Key=key)["Body"]
        return bytes(body.read())
    except Exception as err:  # botocore's errors: the plugin does not import botocore
        code = str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))
        reason = f"WeChat: could not read the image {image.label} from storage ({code or type(err).__name__})"
        raise Stop(SendOutcome.failed(reason) if code in _S3_PERMANENT else SendOutcome.retry(reason)) from err


# -- the upload ---------------------------------------------------------------------


def multipart(data: bytes, content_type: str, filename: str) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with one file field ``media``, and its content type."""
    boundary = "switchboard-" + secrets.token_hex(16)
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(client: WeChatClient, token: str, image: Image, data: bytes, index: int) -> str:
    """Upload ``data`` as temporary image media; its ``media_id``."""
    # a plain generated name: WeChat only needs the extension, and the tenant's names may be anything
    body, content_type = multipart(data, image.content_type, f"image{index}{IMAGE_TYPES[image.content_type]}")
    answer = client.post(UPLOAD_PATH, {"access_token": token, "type": "image"}, body, content_type)
    media_id = answer.get("media_id")
    if not isinstance(media_id, str) or not media_id:
        raise Stop(SendOutcome.retry("WeChat: the image upload answer lacked a media_id"))
    return media_id
