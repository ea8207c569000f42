"""A fake Mailgun sending API on loopback, for tests and ``make run``'s provider sandbox.

``POST /v3/{domain}/messages.mime`` and ``POST /v3/{domain}/messages``, as Mailgun
documents them (documentation.mailgun.com, "Messages" → "Sending"):

* HTTP Basic auth ``api:<API key>``; anything else answers ``401`` with the plain
  body ``Forbidden``, as Mailgun does. A domain the fake was not given (when it
  was given any) answers ``404 {"message": "Domain not found: …"}``.
* ``messages.mime``: ``multipart/form-data`` with ``to`` (the envelope recipients,
  comma-separated) and ``message`` (the raw MIME, a file upload). ``messages``:
  form fields ``from``, ``to``, ``subject``, ``text``/``html`` and ``h:<Header>``,
  multipart or urlencoded. A missing field answers ``400 {"message": "'to'
  parameter is missing"}`` and the like.
* Accepted: ``200 {"id": "<…>", "message": "Queued. Thank you."}``; the id is the
  message's own ``Message-ID`` when it has one (Mailgun keeps it), else one
  Mailgun-style. The mail is parsed with the stdlib and kept in
  :attr:`FakeMailgun.accepted` (headers, subject, text).

When ``webhook_url`` and ``signing_key`` are set, each accepted mail is followed by
Mailgun's event webhook, ``delivered`` (or a permanent ``failed`` after
:meth:`FakeMailgun.bounce_next`), posted as JSON from one background thread and
signed as Mailgun signs it (HMAC-SHA256 of ``timestamp + token``). Each post waits
at most ``callback_timeout`` seconds and is never retried; :attr:`FakeMailgun.events`
records what was posted and the answer.

Switches: :meth:`FakeMailgun.fail_next` answers the next sends with an error (``429``
with ``Retry-After``, ``400`` with a message, ``500`` …); ``delay`` holds every answer
back (a provider that hangs). ``echo=True`` prints one line per request and event.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs, unquote

from switchboard_plugins.email.signing import mailgun_signature
from switchboard_sdk.fake_http import Recorded, Reply

from .base import FakeProvider

QUEUED = "Queued. Thank you."
_MIME_PATH = "/messages.mime"
_API_PATH = "/messages"


@dataclass(frozen=True)
class AcceptedMail:
    """A mail the fake accepted: ``to`` the envelope recipients it was given, the rest
    read from the MIME (``messages.mime``) or the form (``messages``)."""

    id: str  # as answered, with <>
    domain: str
    to: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    subject: str
    text: str
    raw: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    @property
    def message_id(self) -> str:
        """The id without ``<>``, as Mailgun's events name it."""
        return self.id.strip("<>")


@dataclass(frozen=True)
class PostedEvent:
    """One event webhook the fake posted: ``answer`` is the HTTP status it got,
    ``None`` when none came (``error`` says why)."""

    url: str
    event: str
    message_id: str
    body: dict[str, Any] = field(repr=False)
    answer: int | None = None
    error: str | None = None


class MailgunError(Exception):
    """An error answer: a status and Mailgun's body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}

    def reply(self, delay: float) -> Reply:
        if self.status == 401:  # Mailgun's 401 is plain text, not JSON
            return Reply(401, b"Forbidden", {"Content-Type": "text/plain", **self.headers}, delay)
        return Reply.json(self.status, {"message": self.message}, self.headers, delay=delay)


class FakeMailgun(FakeProvider):
    """The fake; a context manager (a free port, stopped on exit), or :meth:`start`/:meth:`stop`."""

    def __init__(self, api_key: str, *, domains: tuple[str, ...] = (), signing_key: str | None = None,
                 webhook_url: str | None = None, echo: bool = False, host: str = "127.0.0.1", port: int = 0,
                 event_delay: float = 0.5, callback_timeout: float = 2.0) -> None:
        super().__init__(echo=echo, host=host, port=port, callback_timeout=callback_timeout)
        self.api_key, self.domains = api_key, domains
        self.signing_key, self.webhook_url, self.event_delay = signing_key, webhook_url, event_delay
        self.delay = 0.0
        self.accepted: list[AcceptedMail] = []
        self.events: list[PostedEvent] = []
        self._failures: list[MailgunError] = []
        self._bounces: list[tuple[int, str]] = []
        self._lock = threading.Condition()

    # -- test controls -----------------------------------------------------------------

    def fail_next(self, status: int, message: str = "", *, times: int = 1, retry_after: str | None = None) -> None:
        """Answer the next ``times`` authenticated sends with ``status`` and ``{"message": message}``."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        error = MailgunError(status, message or f"error {status}", headers)
        with self._lock:
            self._failures.extend([error] * times)

    def bounce_next(self, *, times: int = 1, code: int = 550,
                    message: str = "5.1.1 The email account that you tried to reach does not exist.") -> None:
        """Accept the next ``times`` mails, then report a permanent ``failed`` event instead of ``delivered``."""
        with self._lock:
            self._bounces.extend([(code, message)] * times)

    def wait_for_events(self, count: int, timeout: float = 5.0) -> list[PostedEvent]:
        """The events posted so far, once there are ``count``; ``TimeoutError`` if not in time."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.events) >= count, timeout):
                raise TimeoutError(f"{len(self.events)} of {count} event webhooks posted")
            return list(self.events)

    # -- the API -------------------------------------------------------------------------

    def _respond(self, request: Recorded) -> Reply:
        try:
            mail = self._send(request)
        except MailgunError as err:
            self._say(f"[mailgun] {request.method} {request.path} → {err.status} {err.message}")
            return err.reply(self.delay)
        self._say(f"[mailgun] {request.method} {request.path} → 200 {mail.id} to {', '.join(mail.to)}: "
                  f"{mail.subject[:60]!r}")
        return Reply.json(200, {"id": mail.id, "message": QUEUED}, delay=self.delay)

    def _send(self, request: Recorded) -> AcceptedMail:
        domain, kind = _route(request.path)
        if domain is None or request.method != "POST":
            raise MailgunError(404, "Not Found")
        if not self._authenticated(request.headers.get("authorization", "")):
            raise MailgunError(401, "Forbidden")
        if self.domains and domain not in self.domains:
            raise MailgunError(404, f"Domain not found: {domain}")
        with self._lock:
            if self._failures:
                raise self._failures.pop(0)
        fields, files = _form(request)
        mail = _from_mime(domain, fields, files) if kind == "mime" else _from_fields(domain, fields)
        with self._lock:
            self.accepted.append(mail)
            bounce = self._bounces.pop(0) if self._bounces else None
        self._schedule_event(mail, bounce)
        return mail

    def _authenticated(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except ValueError:
            return False
        return scheme.lower() == "basic" and hmac.compare_digest(decoded, f"api:{self.api_key}".encode())

    # -- event webhooks --------------------------------------------------------------------

    def _schedule_event(self, mail: AcceptedMail, bounce: tuple[int, str] | None) -> None:
        url = self.webhook_url
        if url is None or self.signing_key is None:
            return
        data = _event_data(mail, bounce)
        signed = self._signed(data)
        if not self._schedule(time.monotonic() + self.event_delay, url, json.dumps(signed).encode(),
                              {"Content-Type": "application/json"}, (mail, signed)):
            self._say(f"[mailgun] event queue full: no {data['event']} event for {mail.id}")

    def _posted(self, note: Any, url: str, answer: int | None, error: str | None) -> None:
        mail, signed = note
        posted = PostedEvent(url, str(signed["event-data"]["event"]), mail.message_id, signed, answer, error)
        with self._lock:
            self.events.append(posted)
            self._lock.notify_all()
        outcome = answer if answer is not None else f"no answer ({error})"
        self._say(f"[mailgun] event {posted.event} {mail.id} → {outcome}")

    def _signed(self, data: dict[str, Any]) -> dict[str, Any]:
        timestamp, token = str(int(time.time())), secrets.token_hex(25)
        signature = mailgun_signature(self.signing_key or "", timestamp, token)
        return {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": data}


def _route(path: str) -> tuple[str | None, str]:
    """``(domain, "mime" | "api")`` of a sending path, or ``(None, "")``."""
    path = path.split("?", 1)[0]
    for suffix, kind in ((_MIME_PATH, "mime"), (_API_PATH, "api")):
        if path.startswith("/v3/") and path.endswith(suffix):
            domain = unquote(path[len("/v3/"):-len(suffix)])
            return (domain, kind) if domain and "/" not in domain else (None, "")
    return None, ""


def _form(request: Recorded) -> tuple[dict[str, str], dict[str, bytes]]:
    """Form fields (text, first value) and file uploads, from multipart or urlencoded bodies."""
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        pairs = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[0] for name, values in pairs.items()}, {}
    envelope = f"Content-Type: {ctype}\r\n\r\n".encode() + request.body
    parsed = BytesParser(policy=policy.HTTP).parsebytes(envelope)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in parsed.iter_parts() if parsed.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        content = _part_bytes(part)
        if not isinstance(name, str):
            continue
        if part.get_filename() is not None:
            files.setdefault(name, content)
        else:
            fields.setdefault(name, content.decode("utf-8", "replace"))
    return fields, files


def _part_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    # a message/rfc822 upload is parsed into a message by the stdlib: its bytes again
    inner = part.get_payload()
    first = inner[0] if isinstance(inner, list) and inner else None
    return first.as_bytes() if isinstance(first, Message) else b""


def _missing(name: str) -> MailgunError:
    return MailgunError(400, f"'{name}' parameter is missing")


def _recipients(value: str) -> tuple[str, ...]:
    return tuple(r.strip() for r in value.split(",") if r.strip())


def _mailgun_id(domain: str) -> str:
    return f"<{time.strftime('%Y%m%d%H%M%S', time.gmtime())}.{secrets.token_hex(8)}@{domain}>"


def _from_mime(domain: str, fields: dict[str, str], files: dict[str, bytes]) -> AcceptedMail:
    if not fields.get("to"):
        raise _missing("to")
    raw = files.get("message") or fields.get("message", "").encode()
    if not raw:
        raise _missing("message")
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(mail, EmailMessage)
    own = mail.get("message-id")
    body = mail.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    return AcceptedMail(
        id=str(own).strip() if own else _mailgun_id(domain), domain=domain, to=_recipients(fields["to"]),
        headers=tuple((k, str(v)) for k, v in mail.items()), subject=str(mail.get("subject", "")),
        text=text, raw=raw,
    )


def _from_fields(domain: str, fields: dict[str, str]) -> AcceptedMail:
    for name in ("from", "to", "subject"):
        if not fields.get(name):
            raise _missing(name)
    if not (fields.get("text") or fields.get("html")):
        raise MailgunError(400, "Need at least one of 'text', 'html' or 'template' parameters specified")
    extra = [(name[2:], value) for name, value in fields.items() if name.startswith("h:")]
    headers = (("From", fields["from"]), ("To", fields["to"]), ("Subject", fields["subject"]), *extra)
    own = next((value for name, value in extra if name.lower() == "message-id"), None)
    return AcceptedMail(
        id=own.strip() if own else _mailgun_id(domain), domain=domain, to=_recipients(fields["to"]),
        headers=headers, subject=fields["subject"], text=fields.get("text") or fields.get("html", ""),
        raw=b"",
    )


def _event_data(mail: AcceptedMail, bounce: tuple[int, str] | None) -> dict[str, Any]:
    """``event-data`` as Mailgun's webhook payloads document it (the fields the hub reads and a few more)."""
    recipient = mail.to[0] if mail.to else ""
    data: dict[str, Any] = {
        "id": secrets.token_urlsafe(16), "timestamp": time.time(), "log-level": "info",
        "event": "delivered", "recipient": recipient, "recipient-domain": recipient.rpartition("@")[2],
        "envelope": {"sender": mail.header("from") or "", "targets": ",".join(mail.to), "transport": "smtp"},
        "flags": {"is-authenticated": True, "is-test-mode": False},
        "message": {"headers": {"to": mail.header("to") or recipient, "message-id": mail.message_id,
                                "from": mail.header("from") or "", "subject": mail.subject},
                    "attachments": [], "size": len(mail.raw)},
        "delivery-status": {"code": 250, "message": "OK", "description": "", "attempt-no": 1, "tls": True},
        "tags": [], "user-variables": {},
    }
    if bounce is not None:
        code, message = bounce
        data.update({"event": "failed", "log-level": "error", "severity": "permanent", "reason": "bounce",
                     "delivery-status": {"code": code, "message": message, "description": "", "attempt-no": 1}})
    return data


__all__ = ["QUEUED", "AcceptedMail", "FakeMailgun", "MailgunError", "PostedEvent"]
