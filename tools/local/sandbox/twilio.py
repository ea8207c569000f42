"""A fake Twilio Messages API on loopback, for tests and ``make run``'s provider sandbox.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, as Twilio documents it
(twilio.com/docs/messaging/api/message-resource, "Create a Message resource"):

* HTTP Basic auth, Account SID : Auth Token; anything else answers ``401`` with
  error ``20003`` ("Authenticate"), as does an account in the path that is not
  the authenticated one.
* Form fields ``To``, ``From`` or ``MessagingServiceSid``, ``Body``, ``MediaUrl``
  (repeated), ``StatusCallback``. Checked like Twilio: no ``To`` → ``21604``, no
  sender → ``21603``, no ``Body`` nor ``MediaUrl`` → ``21602``, a ``To`` that is
  not E.164 (after any ``whatsapp:``) → ``21211``, a body over 1,600 characters →
  ``21617``; every error as Twilio's JSON ``{"code", "message", "more_info",
  "status"}``.
* Accepted: ``201`` with the Message resource (``sid`` ``SM``/``MM`` + 32 hex,
  ``status`` ``queued``, or ``accepted`` through a Messaging Service, …). Then,
  when the message named a ``StatusCallback``, it posts the status callbacks
  ``sent`` and ``delivered`` there from one background thread, signed with
  ``X-Twilio-Signature`` as Twilio signs them (:mod:`switchboard_plugins.twilio.signing`):
  form fields ``MessageSid``, ``MessageStatus``, ``SmsSid``, ``SmsStatus``,
  ``AccountSid``, ``From``, ``To``, ``ApiVersion``. Each post waits at most
  ``callback_timeout`` seconds and is never retried; :attr:`FakeTwilio.callbacks`
  records what was posted and the answer.

Switches: :meth:`FakeTwilio.fail_next` answers the next requests with a Twilio error
(``21610``, ``20429`` with ``Retry-After``, ``500`` …); ``delay`` holds every answer
back (a provider that hangs). ``echo=True`` prints one line per request and callback.
"""

from __future__ import annotations

import base64
import hmac
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

from switchboard_plugins.twilio.signing import SIGNATURE_HEADER, signature
from switchboard_sdk.fake_http import Recorded, Reply  # not .testing: make run needs no pytest

from .base import FakeProvider

API_VERSION = "2010-04-01"
SERVICE_NUMBER = "+15005550006"  # the number a Messaging Service "picks" here
MAX_BODY = 1600
_PATH = re.compile(r"^/2010-04-01/Accounts/([^/?]+)/Messages\.json$")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_WHATSAPP = "whatsapp:"
# Twilio's words for the errors tests ask for by code (twilio.com/docs/api/errors/<code>)
MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number {to} is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    63016: "Failed to send freeform message because you are outside the allowed window. "
           "If you are using WhatsApp, please use a Message Template.",
}
_HTTP_STATUS = {20003: 401, 20404: 404, 20429: 429, 20500: 500}


class TwilioError(Exception):
    """An error answer, in Twilio's shape."""

    def __init__(self, code: int, status: int | None = None, message: str | None = None, **words: str) -> None:
        text = message or MESSAGES.get(code, f"Error {code}").format(**words)
        super().__init__(text)
        self.status = status or _HTTP_STATUS.get(code, 400)
        self.body = {"code": code, "message": text, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                     "status": self.status}


@dataclass(frozen=True)
class SentMessage:
    """A message the fake accepted, as it was asked to send it."""

    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    media_urls: tuple[str, ...]
    status_callback: str | None
    status: str


@dataclass(frozen=True)
class PostedCallback:
    """One status callback the fake posted: ``answer`` is the HTTP status it got,
    ``None`` when none came (``error`` says why)."""

    url: str
    params: dict[str, str]
    answer: int | None
    error: str | None = None

    @property
    def status(self) -> str:
        return self.params["MessageStatus"]


class FakeTwilio(FakeProvider):
    """The fake; a context manager (a free port, stopped on exit), or :meth:`start`/:meth:`stop`."""

    def __init__(self, account_sid: str, auth_token: str, *, echo: bool = False, host: str = "127.0.0.1",
                 port: int = 0, callback_statuses: tuple[str, ...] = ("sent", "delivered"),
                 callback_delay: float = 0.5, callback_timeout: float = 2.0) -> None:
        super().__init__(echo=echo, host=host, port=port, callback_timeout=callback_timeout)
        self.account_sid, self.auth_token = account_sid, auth_token
        self.callback_statuses, self.callback_delay = callback_statuses, callback_delay
        self.delay = 0.0
        self.accepted: list[SentMessage] = []
        self.callbacks: list[PostedCallback] = []
        self._failures: list[tuple[TwilioError, dict[str, str]]] = []
        self._lock = threading.Condition()

    # -- test controls -----------------------------------------------------------------

    def fail_next(self, code: int, *, times: int = 1, status: int | None = None, message: str | None = None,
                  retry_after: str | None = None) -> None:
        """Answer the next ``times`` authenticated sends with Twilio error ``code`` (HTTP
        ``status``: 401 for 20003, 429 for 20429, 500 for 20500, else 400 unless given)."""
        error = TwilioError(code, status, message, to="")
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self._lock:
            self._failures.extend([(error, headers)] * times)

    def wait_for_callbacks(self, count: int, timeout: float = 5.0) -> list[PostedCallback]:
        """The callbacks posted so far, once there are ``count``; ``TimeoutError`` if not in time."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.callbacks) >= count, timeout):
                raise TimeoutError(f"{len(self.callbacks)} of {count} status callbacks posted")
            return list(self.callbacks)

    # -- the API -------------------------------------------------------------------------

    def _respond(self, request: Recorded) -> Reply:
        try:
            status, body, headers = 201, self._create(request), {}
        except _Failure as failure:
            status, body, headers = failure.error.status, failure.error.body, failure.headers
        self._say(f"[twilio] {request.method} {request.path} → {status} {_summary(status, body)}")
        return Reply.json(status, body, headers, delay=self.delay)

    def _create(self, request: Recorded) -> dict[str, Any]:
        match = _PATH.match(request.path)
        if match is None or request.method != "POST":
            raise _Failure(TwilioError(20404, 404, f"The requested resource {request.path} was not found"))
        if not self._authenticated(request.headers.get("authorization", "")) or match[1] != self.account_sid:
            raise _Failure(TwilioError(20003))
        with self._lock:
            if self._failures:
                raise _Failure(*self._failures.pop(0))
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        message = self._validated(form)
        with self._lock:
            self.accepted.append(message)
        self._schedule_callbacks(message)
        return self._resource(message)

    def _authenticated(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            return False
        expected = f"{self.account_sid}:{self.auth_token}"
        return scheme.lower() == "basic" and hmac.compare_digest(decoded.encode(), expected.encode())

    def _validated(self, form: dict[str, list[str]]) -> SentMessage:
        def first(key: str) -> str:
            return (form.get(key) or [""])[0].strip()

        to, sender, service, body = first("To"), first("From"), first("MessagingServiceSid"), first("Body")
        media = tuple(url for url in form.get("MediaUrl", []) if url.strip())
        if not to:
            raise _Failure(TwilioError(21604))
        if not sender and not service:
            raise _Failure(TwilioError(21603))
        if not body and not media:
            raise _Failure(TwilioError(21602))
        if not _E164.fullmatch(to.removeprefix(_WHATSAPP)):
            raise _Failure(TwilioError(21211, to=to))
        if len(body) > MAX_BODY:
            raise _Failure(TwilioError(21617))
        sid = ("MM" if media else "SM") + uuid.uuid4().hex
        return SentMessage(sid=sid, to=to, from_=sender or None, messaging_service_sid=service or None, body=body,
                           media_urls=media, status_callback=first("StatusCallback") or None,
                           status="accepted" if service else "queued")

    def _resource(self, message: SentMessage) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC))  # RFC 2822, as Twilio writes dates
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION, "body": message.body,
            "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": message.from_,
            "messaging_service_sid": message.messaging_service_sid, "num_media": str(len(message.media_urls)),
            "num_segments": "0" if message.messaging_service_sid else "1", "price": None, "price_unit": "USD",
            "sid": message.sid, "status": message.status, "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message.to, "uri": f"{uri}.json",
        }

    # -- status callbacks ----------------------------------------------------------------

    def _schedule_callbacks(self, message: SentMessage) -> None:
        if message.status_callback is None:
            return
        sender = message.from_ or ((_WHATSAPP if message.to.startswith(_WHATSAPP) else "") + SERVICE_NUMBER)
        due, url = time.monotonic(), message.status_callback
        for status in self.callback_statuses:
            due += self.callback_delay  # after the answer, as Twilio's come: the hub has stored the sid by then
            params = {"MessageSid": message.sid, "SmsSid": message.sid, "AccountSid": self.account_sid,
                      "From": sender, "To": message.to, "MessageStatus": status, "SmsStatus": status,
                      "ApiVersion": API_VERSION}
            if message.messaging_service_sid:
                params["MessagingServiceSid"] = message.messaging_service_sid
            headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1",
                       SIGNATURE_HEADER: signature(self.auth_token, url, {k: [v] for k, v in params.items()})}
            if not self._schedule(due, url, urlencode(params).encode(), headers, params):
                self._say(f"[twilio] too many callbacks waiting: no {status} for {message.sid}")

    def _posted(self, note: Any, url: str, answer: int | None, error: str | None) -> None:
        posted = PostedCallback(url, note, answer, error)
        with self._lock:
            self.callbacks.append(posted)
            self._lock.notify_all()
        outcome = answer if answer is not None else f"no answer ({error})"
        self._say(f"[twilio] status callback {posted.status} {note['MessageSid']} → {outcome}")


class _Failure(Exception):
    def __init__(self, error: TwilioError, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(error))
        self.error, self.headers = error, headers or {}


def _summary(status: int, body: dict[str, Any]) -> str:
    if status != 201:
        return f"error {body['code']}: {body['message']}"
    media = f" + {body['num_media']} media" if body["num_media"] != "0" else ""
    sender = body["from"] or body["messaging_service_sid"]
    return f"{body['sid']} {body['status']} to {body['to']} from {sender}: {body['body'][:60]!r}{media}"
