"""The ``twilio`` channel's parsing: verified Twilio webhooks as inbound messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal
from urllib.parse import urlsplit

from pydantic import ValidationError
from switchboard_sdk.errors import BadPayload, describe_validation_error
from switchboard_sdk.models import AttachmentRef, CustomerProfile, Identity, InboundMessage, ThreadHints
from switchboard_sdk.webhooks import WebhookRequest

from .config import NAME
from .signing import BODY_HASH_PARAM
from .verify import query_params

EVENT_PARAM = "event"
Marker = Literal["recording", "recorded", "transcription", "status"]
MARKERS: tuple[Marker, ...] = ("recording", "recorded", "transcription", "status")
Kind = Literal["message", "call", "recording", "transcription", "status", "nothing"]

_RINGING = frozenset({"ringing", "in-progress"})
_MISSED = {
    "no-answer": "Missed call (no-answer)",
    "busy": "Missed call (busy)",
    "canceled": "Abandoned call (canceled)",
    "failed": "Failed call (failed)",
}
# Outbound message progress reported by a status callback: nothing a customer wrote. The hub
# reads these through switchboard_channel_status (.status) before parse, so parse sees them
# only from a hub that predates that hook (contract 1.0): then progress stores nothing and a
# failure is a delivery_failure on the recipient's ticket, as before replies existed.
OUTBOUND_PROGRESS = frozenset(
    {"accepted", "scheduled", "queued", "sending", "sent", "delivered", "read", "canceled", "partially_delivered"}
)
OUTBOUND_FAILED = frozenset({"failed", "undelivered"})
# Caller IDs Twilio substitutes when a caller withholds theirs (ANONYMOUS, RESTRICTED,
# BLOCKED, UNKNOWN, UNAVAILABLE on a keypad): valid E.164 shapes, but nobody's number.
WITHHELD_CALLER_IDS = frozenset({"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"})
_MAX_MEDIA = 100
_MAX_NAME = 200


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL (media we may fetch later)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def event_marker(request: WebhookRequest) -> Marker | None:
    """The callback marker our TwiML put in the URL, ``None`` for Twilio's first request."""
    values = query_params(request.public_url).get(EVENT_PARAM)
    if not values:
        return None
    for marker in MARKERS:
        if values[0] == marker:
            return marker
    raise BadPayload("unknown event marker in the webhook URL")


def form_params(request: WebhookRequest) -> dict[str, str]:
    """The form body, first value per key (Twilio sends each parameter once)."""
    if query_params(request.public_url).get(BODY_HASH_PARAM):
        raise BadPayload("JSON webhooks are not supported by the twilio channel")
    return {key: values[0] for key, values in request.form().items()}


def classify(marker: Marker | None, params: Mapping[str, str]) -> Kind:
    """What a verified Twilio request is. Callback markers and SIDs decide, in that
    order; a transcription also names its recording, so it is checked first."""
    if marker == "transcription" or "TranscriptionSid" in params or "TranscriptionText" in params:
        return "transcription"
    if marker == "recorded" and "RecordingSid" not in params:
        return "nothing"  # the recording status callback carries the voicemail
    if marker in ("recording", "recorded") or "RecordingSid" in params:
        return "recording"
    if marker == "status" or "DialCallStatus" in params:
        return "status"
    if params.get("CallSid"):
        status = params.get("CallStatus", "")
        if status in _RINGING:
            return "call"
        if status in _MISSED or status == "completed":
            return "status"
        raise BadPayload("unexpected CallStatus for a voice webhook")
    if any(params.get(key) for key in ("MessageSid", "SmsMessageSid", "SmsSid")):
        return "message"
    raise BadPayload("not a Twilio messaging or voice webhook")


def _required(params: Mapping[str, str], key: str) -> str:
    value = params.get(key, "")
    if not value:
        raise BadPayload(f"{key} is missing")
    return value


def _phone(value: str) -> str | None:
    """The E.164 number, or ``None`` for a withheld, SIP or client caller."""
    try:
        phone = Identity(kind="phone", value=value).value
    except ValidationError:
        return None
    return None if phone in WITHHELD_CALLER_IDS else phone


def _caller(params: Mapping[str, str], call_sid: str) -> CustomerProfile:
    """The caller; one without a number is a visitor scoped to this call, so a
    withheld number never merges strangers into one customer."""
    phone = _phone(params.get("From", ""))
    name = params.get("CallerName", "")[:_MAX_NAME] or None
    if phone is not None:
        return CustomerProfile(identities=[Identity(kind="phone", value=phone)], display_name=name)
    return CustomerProfile(
        identities=[Identity(kind="visitor", value=f"twilio-call:{call_sid}")], display_name=name or "Withheld number"
    )


def _follower(params: Mapping[str, str]) -> CustomerProfile | None:
    """Callbacks often lack ``From``: then the hub takes the customer from the call."""
    phone = _phone(params.get("From", ""))
    return None if phone is None else CustomerProfile(identities=[Identity(kind="phone", value=phone)])


def _metadata(params: Mapping[str, str], **extra: str) -> dict[str, str]:
    names = {"AccountSid": "account_sid", "To": "to", "MessagingServiceSid": "messaging_service_sid"}
    found = {name: params[key] for key, name in names.items() if params.get(key)}
    return found | {key: value for key, value in extra.items() if value}


def _count(value: str, what: str) -> int:
    # isascii: int() would accept other scripts' digits ("١٢")
    if not (value.isascii() and value.isdigit() and len(value) <= 3):
        raise BadPayload(f"{what} is not a small number")
    return int(value)


def _media(params: Mapping[str, str]) -> list[AttachmentRef]:
    count = _count(params.get("NumMedia") or "0", "NumMedia")
    if count > _MAX_MEDIA:
        raise BadPayload("NumMedia is too large")
    refs = []
    for index in range(count):
        url = _required(params, f"MediaUrl{index}")
        if not is_http_url(url):
            raise BadPayload(f"MediaUrl{index} is not an http(s) URL")
        refs.append(AttachmentRef(url=url, content_type=params.get(f"MediaContentType{index}") or None))
    return refs


def message_sid(params: Mapping[str, str]) -> str:
    return params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid") or ""


def message_status(params: Mapping[str, str]) -> str:
    return params.get("MessageStatus") or params.get("SmsStatus") or "received"


def _message(request: WebhookRequest, params: Mapping[str, str]) -> list[InboundMessage]:
    sid, status = message_sid(params), message_status(params)
    if status in OUTBOUND_FAILED:
        return [_delivery_failure(request, params, sid, status)]
    if status in OUTBOUND_PROGRESS:
        return []
    sender = _required(params, "From")
    whatsapp = sender.startswith("whatsapp:")
    phone = _phone(sender.removeprefix("whatsapp:"))
    if phone is None:
        raise BadPayload("From is not a phone number")
    attachments = _media(params)
    channel = "whatsapp" if whatsapp else "mms" if attachments else "sms"
    customer = CustomerProfile(
        identities=[Identity(kind="phone", value=phone)], display_name=params.get("ProfileName", "")[:_MAX_NAME] or None
    )
    return [
        InboundMessage(
            tenant_id=request.tenant_id, channel=NAME, provider_message_id=sid, kind="message", customer=customer,
            text=params.get("Body", ""), attachments=attachments, received_at=request.received_at,
            metadata=_metadata(params, twilio_channel=channel),
        )
    ]


def _delivery_failure(
    request: WebhookRequest, params: Mapping[str, str], sid: str, status: str
) -> InboundMessage:
    """A message we sent bounced: the customer is its recipient (``To``)."""
    phone = _phone(params.get("To", "").removeprefix("whatsapp:"))
    if phone is None:
        raise BadPayload("To is not a phone number")
    code = params.get("ErrorCode", "")
    return InboundMessage(
        tenant_id=request.tenant_id, channel=NAME, provider_message_id=f"{sid}:status:{status}",
        kind="delivery_failure", customer=CustomerProfile(identities=[Identity(kind="phone", value=phone)]),
        text=f"Message {status}" + (f" (error {code})" if code else ""), received_at=request.received_at,
        thread=ThreadHints(provider_ids=[sid]), opens_ticket=False, metadata=_metadata(params, error_code=code),
    )


def _call(request: WebhookRequest, params: Mapping[str, str]) -> list[InboundMessage]:
    sid = _required(params, "CallSid")
    customer = _caller(params, sid)
    phone = _phone(params.get("From", ""))
    return [
        InboundMessage(
            tenant_id=request.tenant_id, channel=NAME, provider_message_id=sid, kind="call", customer=customer,
            text=f"Incoming call from {phone or 'a withheld number'}", received_at=request.received_at,
            metadata=_metadata(params, call_status=params.get("CallStatus", "")),
        )
    ]


def _seconds(value: str) -> str:
    return value if value.isascii() and value.isdigit() and len(value) <= 6 else ""


def _recording(request: WebhookRequest, params: Mapping[str, str]) -> list[InboundMessage]:
    if params.get("RecordingStatus", "completed") != "completed":
        return []  # in-progress, absent (silence) or failed: no audio to keep
    call_sid, recording_sid = _required(params, "CallSid"), _required(params, "RecordingSid")
    url = _required(params, "RecordingUrl")
    if not is_http_url(url):
        raise BadPayload("RecordingUrl is not an http(s) URL")
    duration = _seconds(params.get("RecordingDuration", ""))
    return [
        InboundMessage(
            tenant_id=request.tenant_id, channel=NAME, provider_message_id=f"{call_sid}:recording:{recording_sid}",
            kind="voicemail", customer=_follower(params),
            text=f"Voicemail ({duration} s)" if duration else "Voicemail",
            attachments=[AttachmentRef(url=url, content_type="audio/wav")], received_at=request.received_at,
            thread=ThreadHints(provider_ids=[call_sid]),
            metadata=_metadata(params, recording_sid=recording_sid, duration_seconds=duration),
        )
    ]


def _transcription(request: WebhookRequest, params: Mapping[str, str]) -> list[InboundMessage]:
    if params.get("TranscriptionStatus", "completed") != "completed":
        return []  # a failed transcription leaves the voicemail as it is
    call_sid, transcription_sid = _required(params, "CallSid"), _required(params, "TranscriptionSid")
    recording_sid = params.get("RecordingSid", "")
    # the voicemail it transcribes first: the strongest hint
    hints = ([f"{call_sid}:recording:{recording_sid}"] if recording_sid else []) + [call_sid]
    return [
        InboundMessage(
            tenant_id=request.tenant_id, channel=NAME,
            provider_message_id=f"{call_sid}:transcription:{transcription_sid}", kind="transcription",
            customer=_follower(params), text=params.get("TranscriptionText", ""), received_at=request.received_at,
            thread=ThreadHints(provider_ids=hints), metadata=_metadata(params, recording_sid=recording_sid),
        )
    ]


def _status(request: WebhookRequest, params: Mapping[str, str]) -> list[InboundMessage]:
    """Missed and abandoned calls, and forwarded calls an agent took.

    ``DialCallStatus`` (the forwarded leg) wins over ``CallStatus``. A plain
    ``completed`` CallStatus is not stored: the call, its voicemail or its missed
    dial already tell that story.
    """
    call_sid = _required(params, "CallSid")
    dialled = params.get("DialCallStatus", "")
    status = "completed" if dialled == "answered" else dialled or _required(params, "CallStatus")
    if status in _MISSED:
        text, opens = _MISSED[status], True
    elif status == "completed" and dialled:
        duration = _seconds(params.get("DialCallDuration", ""))
        text, opens = (f"Call completed ({duration} s)" if duration else "Call completed"), False
    else:
        return []  # progress (ringing, answered, in-progress) or an unforwarded completion
    customer = _caller(params, call_sid) if params.get("From") else None
    return [
        InboundMessage(
            tenant_id=request.tenant_id, channel=NAME, provider_message_id=f"{call_sid}:status:{status}",
            kind="event", customer=customer, text=text, received_at=request.received_at,
            thread=ThreadHints(provider_ids=[call_sid]), opens_ticket=opens,
            metadata=_metadata(params, call_status=status),
        )
    ]


_PARSERS: dict[Kind, Callable[[WebhookRequest, Mapping[str, str]], list[InboundMessage]]] = {
    "message": _message,
    "call": _call,
    "recording": _recording,
    "transcription": _transcription,
    "status": _status,
    "nothing": lambda request, params: [],
}


def parse_request(request: WebhookRequest) -> list[InboundMessage]:
    """The normalised messages of a verified request, or :class:`BadPayload`."""
    marker = event_marker(request)
    params = form_params(request)
    try:
        return _PARSERS[classify(marker, params)](request, params)
    except ValidationError as err:
        # field locations and pydantic's messages; never the offending input
        raise BadPayload(f"invalid twilio webhook: {describe_validation_error(err)}") from None
