"""The ``wechat`` channel's parsing: pushes (decrypted XML) normalised into :class:`InboundMessage`.

User messages (text, image, voice, video, shortvideo, location, link) are
``kind="message"`` keyed by ``MsgId``. Events, and any ``MsgType`` this module
does not know, are ``kind="event"`` and never open a ticket: WeChat adds types
over time, and a push we cannot interpret must still be kept, not refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from switchboard_sdk.errors import BadPayload, describe_validation_error
from switchboard_sdk.models import AttachmentRef, CustomerProfile, Identity, InboundMessage
from switchboard_sdk.webhooks import WebhookRequest

from .config import NAME
from .xmltools import fields, parse_xml

MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})
MAX_KEY_IN_ID = 128  # a longer EventKey (a VIEW URL) enters the event id as a hash
MAX_METADATA_VALUE = 2000
_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


@dataclass(frozen=True)
class Push:
    """The simple fields of one decrypted push, with the envelope checked."""

    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "").strip()

    @property
    def msg_type(self) -> str:
        return self.get("MsgType")

    @property
    def event(self) -> str:
        return self.get("Event")

    @property
    def is_user_message(self) -> bool:
        return self.msg_type in MESSAGE_TYPES and bool(self.get("MsgId"))


def read_push(xml: bytes | str) -> Push:
    """The push in ``xml``; :class:`BadPayload` when it is not UTF-8 (WeChat sends
    nothing else; an XML declaration cannot say otherwise) or the envelope is
    incomplete."""
    if isinstance(xml, bytes):
        try:
            xml = xml.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadPayload("the message is not UTF-8 text") from None
    found = fields(parse_xml(xml, "message"))
    missing = [name for name in _REQUIRED if not found.get(name, "").strip()]
    if missing:
        raise BadPayload(f"the message lacks {', '.join(missing)}")
    stamp = found["CreateTime"].strip()
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise BadPayload("CreateTime is not a Unix timestamp")
    return Push(found)


# -- ids and people -------------------------------------------------------------


def provider_message_id(push: Push) -> str:
    """``MsgId`` as sent (a 64-bit integer: never through int or float), else
    ``FromUserName:CreateTime:Event[:EventKey]``. Events carry no id; the
    EventKey tells apart two menu clicks in the same second, and retries repeat
    all four values, so they collapse onto one record."""
    msg_id = push.get("MsgId")
    if msg_id and push.msg_type != "event":
        return msg_id
    parts = [push.get("FromUserName"), push.get("CreateTime"), push.event or push.msg_type]
    key = push.get("EventKey")
    if key:
        parts.append(key if len(key) <= MAX_KEY_IN_ID else "sha256-" + hashlib.sha256(key.encode()).hexdigest())
    return ":".join(parts)


def customer(push: Push) -> CustomerProfile:
    """The OpenID (per account), and the UnionID (per developer) when sent."""
    union_id = push.get("UnionId") or push.get("UnionID")
    try:
        identities = [Identity(kind="wechat_openid", value=push.get("FromUserName"))]
        if union_id:
            identities.append(Identity(kind="wechat_unionid", value=union_id))
    except ValidationError:
        raise BadPayload("FromUserName or UnionId is not a valid customer id") from None
    return CustomerProfile(identities=identities)


def sent_at(push: Push) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(push.get("CreateTime")), UTC)
    except (OverflowError, ValueError, OSError):
        return None  # a CreateTime past year 9999 is odd, not a reason to lose the message


# -- per type ---------------------------------------------------------------------

Content = tuple[str, dict[str, str], list[AttachmentRef]]
"""What a type contributes: text, metadata, attachments."""


def _picked(push: Push, **names: str) -> dict[str, str]:
    """Metadata ``key -> push[Element]`` for the elements present."""
    return {key: push.get(element) for key, element in names.items() if push.get(element)}


def _text(push: Push) -> Content:
    return push.fields.get("Content", ""), {}, []


def _image(push: Push) -> Content:
    url = push.get("PicUrl")
    # only web URLs become attachments: agents' browsers open them
    attachments = [AttachmentRef(url=url)] if url.startswith(("https://", "http://")) and len(url) <= 2048 else []
    return "[image]", _picked(push, media_id="MediaId", pic_url="PicUrl"), attachments


def _voice(push: Push) -> Content:
    # Recognition is WeChat's speech-to-text, when the account enabled it
    text = push.get("Recognition") or "[voice]"
    return text, _picked(push, media_id="MediaId", format="Format", recognition="Recognition"), []


def _video(push: Push) -> Content:
    label = "[short video]" if push.msg_type == "shortvideo" else "[video]"
    return label, _picked(push, media_id="MediaId", thumb_media_id="ThumbMediaId"), []


def _location(push: Push) -> Content:
    lat, lng, label = push.get("Location_X"), push.get("Location_Y"), push.get("Label")
    text = f"Location: {lat},{lng}" + (f" ({label})" if label else "")
    return text, _picked(push, latitude="Location_X", longitude="Location_Y", scale="Scale", label="Label"), []


def _link(push: Push) -> Content:
    metadata = _picked(push, title="Title", description="Description", url="Url")
    return "\n".join(metadata.values()), metadata, []


_MESSAGES: dict[str, Callable[[Push], Content]] = {
    "text": _text, "image": _image, "voice": _voice, "video": _video,
    "shortvideo": _video, "location": _location, "link": _link,
}


# -- events -------------------------------------------------------------------------


def _subscribe(push: Push) -> Content:
    key = push.get("EventKey")
    metadata = _picked(push, event_key="EventKey", ticket="Ticket")
    if key.startswith("qrscene_"):
        metadata["scene"] = key.removeprefix("qrscene_")
        return f"Followed the account via QR code scene {metadata['scene']}", metadata, []
    return "Followed the account", metadata, []


def _scan(push: Push) -> Content:
    metadata = _picked(push, event_key="EventKey", ticket="Ticket")
    metadata["scene"] = push.get("EventKey")
    return f"Scanned QR code scene {metadata['scene']}", metadata, []


def _menu(push: Push) -> Content:
    verb = "Opened menu link" if push.event == "VIEW" else "Clicked menu item"
    return f"{verb} {push.get('EventKey')}", _picked(push, event_key="EventKey", menu_id="MenuId"), []


def _location_event(push: Push) -> Content:
    metadata = _picked(push, latitude="Latitude", longitude="Longitude", precision="Precision")
    return f"Location: {push.get('Latitude')},{push.get('Longitude')}", metadata, []


def _kf_session(push: Push) -> Content:
    metadata = _picked(push, kf_account="KfAccount", from_kf_account="FromKfAccount", to_kf_account="ToKfAccount")
    if push.event == "kf_switch_session":
        text = f"Customer-service session moved from {push.get('FromKfAccount')} to {push.get('ToKfAccount')}"
    else:
        verb = "opened" if push.event == "kf_create_session" else "closed"
        text = f"Customer-service session {verb} by {push.get('KfAccount')}"
    return text, metadata, []


def _generic(push: Push) -> Content:
    """Anything else: every simple element kept under its own name."""
    metadata = {name: value[:MAX_METADATA_VALUE] for name, value in push.fields.items() if name != "Encrypt"}
    return f"WeChat event {push.event or push.msg_type}", metadata, []


_EVENTS: dict[str, Callable[[Push], Content]] = {
    "subscribe": _subscribe, "unsubscribe": lambda _: ("Unfollowed the account", {}, []),
    "SCAN": _scan, "CLICK": _menu, "VIEW": _menu, "LOCATION": _location_event,
    "kf_create_session": _kf_session, "kf_close_session": _kf_session, "kf_switch_session": _kf_session,
}


def _content(push: Push) -> Content:
    if push.is_user_message:
        return _MESSAGES[push.msg_type](push)
    if push.msg_type == "event":
        return _EVENTS.get(push.event, _generic)(push)
    return _generic(push)


# -- the message ----------------------------------------------------------------------


def to_inbound(request: WebhookRequest, push: Push) -> InboundMessage:
    """The normalised message; a retry of the same push yields an equal one."""
    text, extra, attachments = _content(push)
    is_message = push.is_user_message
    metadata = {"to_user": push.get("ToUserName"), "msg_type": push.msg_type}
    if push.event:
        metadata["event"] = push.event
    try:
        return InboundMessage(
            tenant_id=request.tenant_id,
            channel=NAME,
            provider_message_id=provider_message_id(push),
            kind="message" if is_message else "event",
            customer=customer(push),
            text=text,
            attachments=attachments,
            received_at=request.received_at,
            sent_at=sent_at(push),
            opens_ticket=is_message,
            metadata={**extra, **metadata},  # ours win over a stray <to_user>
        )
    except ValidationError as err:
        # field names only: pydantic's error text would echo the customer's words
        where = describe_validation_error(err, messages=False)
        raise BadPayload(f"the message has out-of-range fields: {where}") from None
