"""Mailgun route POST bodies: ``application/x-www-form-urlencoded`` or
``multipart/form-data``, read in one linear pass with bounded part headers.

A route whose URL ends in ``mime`` posts the raw message as ``body-mime``;
otherwise Mailgun posts parsed fields (``message-headers``, ``body-plain``,
``body-html``, ``attachment-N``, ``content-id-map``): :mod:`.mailgun` turns
either into a :class:`~.mime.Mail`.
"""

from __future__ import annotations

import binascii
import logging
import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from python_multipart import MultipartParser, QuerystringParser
from python_multipart.multipart import parse_options_header
from switchboard_sdk.errors import BadPayload, SwitchboardError, VerificationFailed
from switchboard_sdk.webhooks import WebhookRequest

MAX_ATTACHMENT_FIELDS = 200
# A route POST has ~25 fields plus its attachments; more is not Mailgun.
MAX_FORM_FIELDS = 2 * MAX_ATTACHMENT_FIELDS
MAX_PART_HEADERS = 8  # Content-Disposition, Content-Type and a few more
MAX_PART_HEADER_BYTES = 8192  # one header line of a part: room for a long file name
MAX_CONTENT_TYPE_CHARS = 1024  # the request's Content-Type: type and boundary (≤ 70 chars per RFC 2046)
_ATTACHMENT_FIELD = re.compile(r"attachment-[0-9]{1,4}")
# python-multipart logs a warning for every malformed body before raising; we raise
# BadPayload/VerificationFailed instead and the hub logs those, so anyone could
# otherwise add unstructured lines to the hub's logs at will.
_PARSER_LOG = logging.getLogger(__name__ + ".parser")
_PARSER_LOG.addHandler(logging.NullHandler())
_PARSER_LOG.propagate = False


@dataclass(frozen=True)
class Upload:
    content: bytes
    filename: str | None
    content_type: str


@dataclass
class Form:
    """A route POST's fields (raw bytes: ``body-mime`` may hold 8-bit MIME) and files."""

    fields: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        value = self.fields.get(name)
        return None if value is None else value.decode("utf-8", errors="replace")


def _unquote(value: bytes) -> bytes:
    return unquote_to_bytes(value.replace(b"+", b" "))


class _Unreadable(ValueError):
    """Our own refusals inside the parse (some in python-multipart's callbacks),
    reported like the parser's errors: ``unreadable`` in :func:`parse_form`."""


class _FormBuilder:
    """Collects what python-multipart's streaming parsers report. Field values stay
    bytes (``body-mime`` may hold 8-bit MIME); the first value of a name wins."""

    def __init__(self) -> None:
        self.form = Form()
        self.count = 0
        self.name: list[bytes] = []
        self.value: list[bytes] = []
        self.headers: dict[bytes, bytes] = {}

    def begin(self) -> None:
        self.count += 1
        if self.count > MAX_FORM_FIELDS:
            raise _Unreadable(f"more than {MAX_FORM_FIELDS} form fields")
        self.name, self.value, self.headers = [], [], {}

    def name_part(self, data: bytes, start: int, end: int) -> None:
        self.name.append(data[start:end])

    def value_part(self, data: bytes, start: int, end: int) -> None:
        self.value.append(data[start:end])

    # -- urlencoded

    def field_end(self) -> None:
        key = _unquote(b"".join(self.name)).decode("utf-8", errors="replace")
        self.form.fields.setdefault(key, _unquote(b"".join(self.value)))

    # -- multipart

    def header_end(self) -> None:
        self.headers.setdefault(b"".join(self.name).strip().lower(), b"".join(self.value).strip())
        self.name, self.value = [], []

    def part_end(self) -> None:
        disposition = self.headers.get(b"content-disposition", b"").decode("latin-1")
        _, params = parse_options_header(disposition)  # linear, and the header is capped
        name = params.get(b"name")
        if name is None:
            return  # RFC 7578 requires a name; a part without one is nothing we read
        key = name.decode("utf-8", errors="replace")
        content = _transfer_decoded(b"".join(self.value), self.headers.get(b"content-transfer-encoding"))
        filename = params.get(b"filename")
        if filename is not None or _ATTACHMENT_FIELD.fullmatch(key):
            ctype = parse_options_header(self.headers.get(b"content-type", b"").decode("latin-1"))[0]
            upload = Upload(
                content,
                filename.decode("utf-8", errors="replace") if filename is not None else None,
                ctype.decode("latin-1") or "application/octet-stream",
            )
            self.form.files.setdefault(key, upload)
        else:
            self.form.fields.setdefault(key, content)


def _transfer_decoded(data: bytes, encoding: bytes | None) -> bytes:
    """RFC 7578 forbids Content-Transfer-Encoding in form parts; honour the two
    a client could still send rather than store encoded bytes."""
    cte = (encoding or b"").strip().lower()
    try:
        if cte == b"base64":
            return binascii.a2b_base64(data)
        if cte == b"quoted-printable":
            return binascii.a2b_qp(data)
    except (binascii.Error, ValueError):
        return data
    return data


def _urlencoded(body: bytes) -> Form:
    builder = _FormBuilder()
    parser = QuerystringParser(
        callbacks={
            "on_field_start": builder.begin,
            "on_field_name": builder.name_part,
            "on_field_data": builder.value_part,
            "on_field_end": builder.field_end,
        }
    )
    parser.logger = _PARSER_LOG
    parser.write(body)
    parser.finalize()
    return builder.form


def _multipart(body: bytes, content_type: str) -> Form:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise _Unreadable("multipart/form-data without a boundary")
    builder = _FormBuilder()
    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": builder.begin,
            "on_header_field": builder.name_part,
            "on_header_value": builder.value_part,
            "on_header_end": builder.header_end,
            "on_part_data": builder.value_part,
            "on_part_end": builder.part_end,
        },
        max_header_count=MAX_PART_HEADERS,
        max_header_size=MAX_PART_HEADER_BYTES,
    )
    parser.logger = _PARSER_LOG
    parser.write(body)
    parser.finalize()
    return builder.form


def parse_form(
    body: bytes, content_type: str | None, *, unreadable: type[SwitchboardError] = BadPayload
) -> Form:
    """The POST body as a :class:`Form`; JSON (a tracking webhook, not a route) is refused.
    A body that is no form raises ``unreadable``: :class:`BadPayload` once verified,
    :class:`VerificationFailed` while verifying (no readable signature, nothing proven).

    python-multipart parses both encodings in one pass with bounded part headers, so
    an unsigned request costs time linear in its size before verification refuses
    it (the stdlib's MIME parser, used here before, is super-quadratic in header
    parameters: 60,000 ``;`` in one part's Content-Disposition took 43 s).
    """
    ctype = (content_type or "").strip()[:MAX_CONTENT_TYPE_CHARS]
    if ctype.lower().startswith("application/json"):
        # event (tracking) webhooks are JSON: .events reads them as delivery statuses, never as mail
        raise BadPayload("JSON body: a Mailgun tracking webhook is a delivery status, not a route (inbound) POST")
    try:
        if ctype.lower().startswith("multipart/form-data"):
            return _multipart(body, ctype)
        return _urlencoded(body)
    except ValueError as err:  # python-multipart's errors are ValueErrors
        raise unreadable("the form body could not be parsed") from err


def read_form(request: WebhookRequest, *, verifying: bool = False) -> Form:
    """The request's form; unreadable is :class:`VerificationFailed` while verifying
    (nothing is proven yet), :class:`BadPayload` afterwards."""
    unreadable = VerificationFailed if verifying else BadPayload
    return parse_form(request.body, request.header("content-type"), unreadable=unreadable)
