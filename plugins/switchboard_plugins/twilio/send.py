"""The ``twilio`` channel's replies: one POST to the Messages API, classified.

``POST {api_base_url}/2010-04-01/Accounts/{account_sid}/Messages.json``, form-encoded,
Basic auth (Account SID : Auth Token): ``To`` the customer (``whatsapp:+…`` on
WhatsApp), ``From`` the number the customer wrote to (``MessagingServiceSid``
instead when the tenant set one), ``Body``, one ``MediaUrl`` per attachment (MMS,
WhatsApp media) and ``StatusCallback`` the tenant's webhook URL, where Twilio's
signed status callbacks arrive (:mod:`.status`). Twilio answers ``201`` with the
message's ``sid`` (``SM…``/``MM…``), or an error ``{"code", "message", "more_info",
"status"}`` that :func:`classify` turns into an outcome.

The Messages API takes no idempotency key: an answer lost after Twilio accepted
(a timeout, a crash before the hub's write) is retried and may send twice.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from switchboard_sdk import outcomes
from switchboard_sdk.sending import OutboundMessage, SendContext, SendOutcome
from switchboard_sdk.transport import HttpResponse, TransportError

from . import codes
from .config import TwilioConfig

MESSAGES_PATH = "/2010-04-01/Accounts/{account_sid}/Messages.json"
WHATSAPP = "whatsapp:"
WHATSAPP_WINDOW = timedelta(hours=24)
MAX_BODY = 1600  # characters Twilio accepts in one message (error 21617 beyond)


@dataclass(frozen=True)
class Route:
    """Who a reply goes to and from: ``sender`` is ``("From", number)`` or
    ``("MessagingServiceSid", "MG…")``."""

    to: str
    sender: tuple[str, str]
    whatsapp: bool


def send_reply(message: OutboundMessage, config: TwilioConfig, context: SendContext) -> SendOutcome:
    """Send ``message`` and classify the answer; never raises for Twilio's refusal or absence."""
    if config.account_sid is None:
        return SendOutcome.failed(
            "Twilio: replies need the account's SID; set account_sid (AC…) in the twilio channel's settings")
    now = context.clock()
    route = route_for(message, config)
    if isinstance(route, SendOutcome):
        return route
    refusal = window_closed(message, route, now) or unsendable(message)
    if refusal is not None:
        return refusal
    url = config.api_root + MESSAGES_PATH.format(account_sid=config.account_sid)
    try:
        response = context.http.request("POST", url, headers=_headers(config, config.account_sid),
                                        body=form(message, route, config), timeout=context.timeout_seconds)
    except TransportError as err:
        return _redact(_no_answer(err), config.auth_tokens())
    return _redact(classify(response, now), config.auth_tokens())


def route_for(message: OutboundMessage, config: TwilioConfig) -> Route | SendOutcome:
    """The addresses of a reply: WhatsApp when the customer last wrote on WhatsApp,
    from the number they wrote to (its ``to`` metadata, kept by :mod:`.parse`)."""
    if message.to.kind != "phone":
        return SendOutcome.failed("Twilio: the customer has no phone number to reply to (a withheld caller)")
    metadata = message.replying_to.metadata if message.replying_to else {}
    wrote_to = metadata.get("to", "")
    whatsapp = metadata.get("twilio_channel") == "whatsapp" or wrote_to.startswith(WHATSAPP)
    prefix = WHATSAPP if whatsapp else ""
    if config.messaging_service_sid:
        sender = ("MessagingServiceSid", config.messaging_service_sid)
    elif wrote_to:
        sender = ("From", prefix + wrote_to.removeprefix(WHATSAPP))
    else:
        return SendOutcome.failed(
            "Twilio: no number to reply from: the customer has not written to one of the tenant's Twilio "
            "numbers on this ticket; set messaging_service_sid to send from a Messaging Service")
    return Route(to=prefix + message.to.value, sender=sender, whatsapp=whatsapp)


def window_closed(message: OutboundMessage, route: Route, now: datetime) -> SendOutcome | None:
    """WhatsApp takes free-form replies only within 24 hours of the customer's last
    message: checked before calling, so a closed window costs no request (Twilio's
    own answer, ``63016``, is mapped too, for clocks that disagree)."""
    if not route.whatsapp:
        return None
    last = message.last_inbound_at or (message.replying_to.received_at if message.replying_to else None)
    if last is not None and _utc(now) - _utc(last) < WHATSAPP_WINDOW:
        return None
    when = f" (the customer last wrote {_utc(last):%Y-%m-%d %H:%M} UTC)" if last is not None else ""
    return SendOutcome.window_closed(
        f"Twilio: WhatsApp's 24-hour reply window has closed{when}; the customer must write again first")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def unsendable(message: OutboundMessage) -> SendOutcome | None:
    """What Twilio would refuse anyway, said in words before calling."""
    if not message.text.strip() and not message.attachments:
        return SendOutcome.failed("Twilio: the reply has no text and no attachment")
    if len(message.text) > MAX_BODY:
        return SendOutcome.failed(f"Twilio: the reply is longer than {MAX_BODY:,} characters, "
                                  "the most one message may hold; shorten it or split it")
    for number, attachment in enumerate(message.attachments, 1):
        if not _fetchable(attachment.url):
            name = attachment.filename or f"attachment {number}"
            return SendOutcome.failed(f"Twilio: {name} is not at an http(s) URL Twilio can fetch")
    return None


def _fetchable(url: str | None) -> bool:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def form(message: OutboundMessage, route: Route, config: TwilioConfig) -> bytes:
    """The form body; ``MediaUrl`` repeats, once per attachment."""
    fields = [("To", route.to), route.sender]
    if message.text.strip():
        fields.append(("Body", message.text))
    fields.extend(("MediaUrl", attachment.url or "") for attachment in message.attachments)
    if callback := status_callback(message, config):
        fields.append(("StatusCallback", callback))
    return urlencode(fields).encode()


def status_callback(message: OutboundMessage, config: TwilioConfig) -> str | None:
    """Where Twilio posts statuses: under the config's ``public_base_url`` when set (the
    base its signatures are checked against, :func:`.verify.signed_url`), else the hub's."""
    if config.public_base_url is not None:
        return f"{config.public_base_url}/hooks/{message.tenant_id}/{message.channel}"
    return message.status_callback_url


def _headers(config: TwilioConfig, account_sid: str) -> dict[str, str]:
    credentials = f"{account_sid}:{config.auth_token.get_secret_value()}".encode()
    return {
        "Authorization": "Basic " + base64.b64encode(credentials).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }


def classify(response: HttpResponse, now: datetime) -> SendOutcome:
    """Twilio's answer as an outcome: 2xx sent; 429/20429, 408 and 5xx retried
    (after ``Retry-After`` when given); 401/20003 and every other 4xx failed with
    Twilio's code, ``63016`` as a closed window."""
    status = response.status
    if 200 <= status < 300:
        return _accepted(response)
    code, text = _error(response.body)
    if status in outcomes.RETRY_STATUSES or status >= 500 or code == codes.TOO_MANY_REQUESTS:
        after = outcomes.retry_after(outcomes.header(response.headers, "retry-after"), now)
        busy = status == 429 or code == codes.TOO_MANY_REQUESTS
        words = "too many requests" if busy else f"the API answered {status}"
        return SendOutcome.retry(f"Twilio: {words}; trying again later", code=code, status_code=status, after=after)
    if status == 401 or code == codes.AUTH_FAILED:
        return SendOutcome.failed(codes.AUTH_REFUSED_REASON, code=code or codes.AUTH_FAILED, status_code=status)
    if code == codes.WINDOW_CLOSED:
        closed = SendOutcome.window_closed(codes.reason(code, text), code=code)
        return closed.model_copy(update={"status_code": status})
    if 300 <= status < 400:
        return SendOutcome.failed(f"Twilio: the API answered a redirect ({status}); check api_base_url",
                                  status_code=status)
    return SendOutcome.failed(codes.reason(code, text or f"the API refused the message ({status})"),
                              code=code, status_code=status)


def _accepted(response: HttpResponse) -> SendOutcome:
    try:
        sid = json.loads(response.body).get("sid")
    except (ValueError, AttributeError):
        sid = None
    if not isinstance(sid, str) or not sid.strip():
        # accepted, so possibly sent: failing (not retrying) is what cannot send it twice
        return SendOutcome.failed("Twilio: the API accepted the message but did not say its SID",
                                  status_code=response.status)
    return SendOutcome.sent(sid.strip(), status_code=response.status)


def _error(body: bytes) -> tuple[str | None, str]:
    """Twilio's error ``code`` (as text) and ``message``; a body that is not Twilio's
    JSON (a proxy's page) gives no code and a printable excerpt."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return None, outcomes.snippet(body)
    raw = data.get("code")
    code = str(raw) if isinstance(raw, int) or (isinstance(raw, str) and raw.isascii() and raw.isdigit()) else None
    message = data.get("message")
    text = outcomes.snippet(str(message).encode()) if message else ""
    return (code[:64] if code else None), text


def _no_answer(err: TransportError) -> SendOutcome:
    if err.retryable:
        return SendOutcome.retry(f"Twilio: no answer from the API ({err.message}); trying again later")
    return SendOutcome.failed(f"Twilio: the API cannot be called: {err.message}")


def _redact(outcome: SendOutcome, secrets: list[str]) -> SendOutcome:
    # belt and braces: an answer that echoed the auth token must not show it to agents
    text = outcome.reason
    for secret in secrets:
        if len(secret) >= 6:
            text = text.replace(secret, "[redacted]")
    return outcome if text == outcome.reason else outcome.model_copy(update={"reason": text})
