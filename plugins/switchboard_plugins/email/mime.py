"""Raw MIME (RFC 5322/2045) to :class:`Mail`, the structure both ingress paths share.

Parsing uses the stdlib ``email`` package with a bounded ``compat32`` policy: header
values stay plain strings (read raw and decoded by :mod:`.decoding`), so the stdlib's
structured header parser (``email._header_value_parser``, whose cost grows faster than
quadratically with some inputs: 20,000 ``;`` in a Content-Type took 13 s) never
runs, and the MIME parameter headers the parser does read are cut to a bounded shape
first (:func:`bounded_parameters`). Malformed input yields what could be read plus a
defect count; only input that is not mail at all raises :class:`BadPayload`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.errors import MessageError
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import Compat32
from itertools import islice
from urllib.parse import quote

from switchboard_sdk.errors import BadPayload

from .decoding import decode_bytes, header_text, unfold
from .text import html_to_text

MAX_DEPTH = 20
MAX_PARTS = 500
# The stdlib's feed parser checks every line against the boundary of every open
# multipart, so its cost is lines x nesting (64 nested: 3 s per MB). Declarations
# past this many are renamed x-multipart/…: the parser reads those parts as opaque
# leaves, which become attachments, and each counts as a MIME defect.
MAX_MULTIPARTS = 32
# Content-Type / Content-Disposition as the stdlib gets to parse them: an RFC 2231
# file name of 255 characters needs ~30 parameters of ~80 characters.
MAX_PARAMETERS = 50
MAX_PARAMETER_CHARS = 1000
MAX_PARAMETER_HEADER_CHARS = 8192
# The stdlib's lenient parser has known crashes on hostile structure; these are the
# types it raises. They are caught at the edges below and become defects or BadPayload.
PARSER_ERRORS = (MessageError, ValueError, TypeError, LookupError, IndexError, AttributeError, RecursionError)

Headers = list[tuple[str, str]]
FORWARDED_FILENAME = "message.eml"
_BOUNDARY_LINE = re.compile(rb"^--([0-9A-Za-z'()+_,./:=?-]{1,70})[ \t]*\r?$", re.MULTILINE)
_REPORT_ORIGINALS = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
_MULTIPART_DECLARATION = re.compile(rb"^content-type:[ \t]*(?:\r?\n[ \t]+)?(multipart/)", re.I | re.M)
_PARAMETER_HEADERS = frozenset({"content-type", "content-disposition"})
# One token of a parameter header: a quoted string (unterminated: to the end), a run
# of other characters, or a separator run. Each alternative consumes what it scans.
_PARAMETER_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[^;"]+|;[;\s]*', re.DOTALL)
_MEDIA_TYPE = re.compile(r"[^\s;(]*")
_CTE_TOKEN = re.compile(r"[^\s;(]*")


def _parameter(piece: str) -> str:
    """One ``name=value`` parameter, capped; a quoted value holding ``;`` is rewritten
    in RFC 2231 form, because the stdlib's ``_parseparam`` recounts every quote before
    each ``;`` inside quotes (quadratic) — ``get_param`` decodes it back unchanged."""
    piece = piece.strip()[:MAX_PARAMETER_CHARS]
    name, equals, value = piece.partition("=")
    name = name.strip()
    value = value.strip()
    if ";" not in value:
        return piece
    if equals and "*" not in name and value.startswith('"'):
        text = value[1:-1] if len(value) > 1 and value.endswith('"') else value[1:]
        text = text.replace('\\"', '"').replace("\\\\", "\\")
        return f"{name}*=utf-8''{quote(text, safe='', errors='surrogateescape')}"
    return piece.replace(";", ",")


def bounded_parameters(value: str) -> str:
    """A Content-Type or Content-Disposition value in a shape the stdlib parses in
    bounded time: the media type's first token, then at most ``MAX_PARAMETERS``
    non-empty parameters of at most ``MAX_PARAMETER_CHARS`` each, at most
    ``MAX_PARAMETER_HEADER_CHARS`` in all. Runs in time linear in ``value``."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for match in _PARAMETER_TOKEN.finditer(value):
        token = match.group(0)
        if token.startswith(";"):
            if (piece := "".join(current).strip()) or not pieces:
                pieces.append(piece)
                size += len(piece)
            current = []
            if len(pieces) > MAX_PARAMETERS or size > MAX_PARAMETER_HEADER_CHARS:
                break  # the rest is never read: stop scanning, not just keeping
        else:
            current.append(token)
    else:
        if (piece := "".join(current).strip()) or not pieces:
            pieces.append(piece)
    if not pieces:
        return ""
    media = _MEDIA_TYPE.match(pieces[0].strip())
    head = media.group(0) if media else ""
    params = [_parameter(p) for p in pieces[1 : MAX_PARAMETERS + 1]]
    kept, total = [], len(head)
    for param in params:
        total += len(param) + 2
        if total > MAX_PARAMETER_HEADER_CHARS:
            break
        kept.append(param)
    return "; ".join([head, *kept])


class _BoundedPolicy(Compat32):
    """``compat32`` (header values stay strings, the Message API splits parameters
    with string methods) with the headers the parser itself reads made bounded."""

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        key = name.strip().lower()
        if key in _PARAMETER_HEADERS:
            value = bounded_parameters(value)
        elif key == "content-transfer-encoding":
            # policy.default read "base64 (comment)" as base64; compat32 compares the
            # whole value, so keep only the token
            token = _CTE_TOKEN.match(value.strip())
            value = token.group(0) if token else ""
        return name, value


BOUNDED = _BoundedPolicy()


@dataclass
class Part:
    """An attachment or an inline resource (image referenced by Content-ID)."""

    content: bytes
    content_type: str
    filename: str | None = None
    inline: bool = False
    content_id: str | None = None


@dataclass
class Mail:
    """One email, decoded: headers in their order (unfolded, RFC 2047 words still
    encoded — :meth:`all` decodes), body texts, attachments and, for delivery
    reports, the status blocks and the headers of the message that bounced."""

    headers: Headers
    texts: list[str] = field(default_factory=list)
    attachments: list[Part] = field(default_factory=list)
    content_type: str = "text/plain"
    report_type: str | None = None
    status_blocks: list[Headers] = field(default_factory=list)
    original_headers: Headers | None = None
    envelope_recipients: list[str] = field(default_factory=list)
    defects: int = 0

    def raw(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order, undecoded."""
        return values(self.headers, name)

    def all(self, name: str) -> list[str]:
        """Every value of header ``name`` as display text."""
        return [header_text(value) for value in self.raw(name)]

    def first(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    @property
    def body(self) -> str:
        return "\n\n".join(text for text in self.texts if text.strip())


def values(headers: Headers, *names: str) -> list[str]:
    """The raw values of the headers called any of ``names`` (case-insensitive), in order."""
    wanted = {name.lower() for name in names}
    return [value for key, value in headers if key.lower() in wanted]


def decoded_headers(message: Message) -> Headers:
    """``(name, unfolded raw value)`` for every header of ``message``, in order."""
    return [(name.strip(), unfold(str(value))) for name, value in message.raw_items()]


def header_block(data: bytes) -> Headers:
    """Headers of a bare header block (``text/rfc822-headers``, a DSN status block)."""
    try:
        return decoded_headers(BytesHeaderParser(policy=BOUNDED).parsebytes(data))
    except PARSER_ERRORS:
        return []


def status_blocks(data: bytes) -> list[Headers]:
    """The field blocks of a ``message/delivery-status`` body (per-message, then per-recipient)."""
    text = data.replace(b"\r\n", b"\n")
    return [block for chunk in text.split(b"\n\n") if (block := header_block(chunk.strip(b"\n") + b"\n"))]


def part_text(part: Message) -> str:
    """A text part's content, decoded by its charset (or UTF-8), HTML converted."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    text = decode_bytes(data, part.get_content_charset()).replace("\r\n", "\n").replace("\r", "\n")
    return html_to_text(text) if part.get_content_type() == "text/html" else text


def _part_bytes(part: Message) -> bytes:
    """The bytes of an attachment: decoded content, or an attached message re-serialised."""
    if part.is_multipart():
        inner = part.get_payload()
        target: object = part
        if part.get_content_type() == "message/rfc822" and isinstance(inner, list) and inner:
            target = inner[0]
        try:
            return target.as_bytes(policy=policy.compat32) if isinstance(target, Message) else b""
        except PARSER_ERRORS:
            return b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _content_id(part: Message) -> str | None:
    raw = part.get("content-id")
    cid = header_text(str(raw)).strip().strip("<>").strip() if raw is not None else ""
    return cid or None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except PARSER_ERRORS:
        return None
    return (header_text(name) or None) if name else None


class _Walker:
    """Collects body text and attachments from a parsed message tree."""

    def __init__(self, mail: Mail) -> None:
        self.mail = mail
        self.seen = 0

    def walk(self, part: Message, *, body: bool, depth: int = 0, in_report: bool = False) -> None:
        self.seen += 1
        if depth > MAX_DEPTH or self.seen > MAX_PARTS:
            self.mail.defects += 1
            return
        try:
            self._dispatch(part, body=body, depth=depth, in_report=in_report)
        except PARSER_ERRORS:
            self.mail.defects += 1  # skip the part the stdlib could not read; keep the rest
        self.mail.defects += len(part.defects)  # after decoding, which records its own defects

    def _dispatch(self, part: Message, *, body: bool, depth: int, in_report: bool) -> None:
        ctype = part.get_content_type()
        # message/* parts hold sub-messages, so is_multipart() is true for them too:
        # decide by type first, or a forwarded mail's body would become ours
        if ctype == "message/delivery-status":
            self.mail.status_blocks.extend(_delivery_status(part))
        elif in_report and ctype in _REPORT_ORIGINALS:
            self.mail.original_headers = _original_headers(part)
        elif part.is_multipart() and not ctype.startswith("message/"):
            self._multipart(part, body=body, depth=depth)
        elif ctype.startswith("multipart/"):
            self._unbounded(part, body=body, depth=depth)
        else:
            self._leaf(part, body=body)

    def _multipart(self, part: Message, *, body: bool, depth: int) -> None:
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        subtype = part.get_content_subtype()
        chosen = _best_alternative(children) if subtype == "alternative" else None
        for index, child in enumerate(children):
            if subtype == "alternative":
                child_body = body and child is chosen
            elif subtype == "related":
                child_body = body and index == 0  # the root; the rest are its resources
            else:
                child_body = body
            self.walk(child, body=child_body, depth=depth + 1, in_report=subtype == "report")

    def _unbounded(self, part: Message, *, body: bool, depth: int) -> None:
        """A multipart without a usable boundary: guess it from the first ``--x``
        line and parse again, else read the whole thing as text."""
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        guess = _BOUNDARY_LINE.search(data)
        if guess is None:
            if body:
                self.mail.texts.append(decode_bytes(data, part.get_content_charset()))
            return
        head = b"Content-Type: multipart/mixed; boundary=\"" + guess.group(1) + b"\"\n\n"
        tree, neutralised = _parse_tree(head + data)
        self.mail.defects += neutralised
        self.walk(tree, body=body, depth=depth + 1)

    def _leaf(self, part: Message, *, body: bool) -> None:
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = _filename(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and filename is None:
            if body:
                self.mail.texts.append(part_text(part))
            return  # a text alternative we did not choose is not an attachment
        content_id = _content_id(part)
        inline = disposition == "inline" or (disposition is None and content_id is not None)
        if filename is None and ctype == "message/rfc822":
            filename = FORWARDED_FILENAME
        self.mail.attachments.append(Part(_part_bytes(part), ctype, filename, inline, content_id))


def _is_plain_body(part: Message) -> bool:
    return part.get_content_type() == "text/plain" and part.get_content_disposition() != "attachment"


def _best_alternative(children: list[Message]) -> Message | None:
    """text/plain first (what the sender wrote, no rendering needed), then a
    multipart holding one, then HTML, then anything."""

    def rank(child: Message) -> int:
        if _is_plain_body(child) and part_text(child).strip():
            return 0
        if child.is_multipart() and any(_is_plain_body(p) for p in child.walk()):
            return 1
        if child.get_content_type() == "text/html":
            return 2
        return 3 if child.is_multipart() else 4

    return min(children, key=rank, default=None)


def _delivery_status(part: Message) -> list[Headers]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for m in payload if isinstance(m, Message) and (block := decoded_headers(m))]
    raw = part.get_payload(decode=True)
    return status_blocks(raw if isinstance(raw, bytes) else b"")


def _original_headers(part: Message) -> Headers:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return decoded_headers(payload[0])
    raw = part.get_payload(decode=True)
    return header_block(raw if isinstance(raw, bytes) else b"")


def _neutralise_multiparts(raw: bytes) -> tuple[bytes, int]:
    """``raw`` with the multipart declarations past ``MAX_MULTIPARTS`` renamed, and how many."""
    excess = [m.start(1) for m in islice(_MULTIPART_DECLARATION.finditer(raw), MAX_MULTIPARTS, None)]
    if not excess:
        return raw, 0
    pieces, previous = [], 0
    for at in excess:
        pieces += [raw[previous:at], b"x-"]
        previous = at
    pieces.append(raw[previous:])
    return b"".join(pieces), len(excess)


def _parse_tree(raw: bytes) -> tuple[Message, int]:
    """The parsed tree and the number of multipart declarations neutralised."""
    raw, neutralised = _neutralise_multiparts(raw)
    try:
        return BytesParser(policy=BOUNDED).parsebytes(raw), neutralised
    except PARSER_ERRORS as err:
        raise BadPayload("the message could not be parsed as MIME") from err


def parse_bytes(raw: bytes, *, envelope_recipients: list[str] | None = None) -> Mail:
    """Raw MIME to :class:`Mail`. Raises :class:`BadPayload` only when there is no
    header block to speak of; broken parts are skipped and counted as defects."""
    if not raw.strip():
        raise BadPayload("empty message")
    root, neutralised = _parse_tree(raw)
    headers = decoded_headers(root)
    if not any(name.lower() in ("from", "to", "subject", "message-id", "date") for name, _ in headers):
        raise BadPayload("no mail headers (From, To, Subject, Message-ID or Date) found")
    mail = Mail(headers=headers, envelope_recipients=list(envelope_recipients or []), defects=neutralised)
    try:
        mail.content_type = root.get_content_type()
        report_type = root.get_param("report-type") if mail.content_type == "multipart/report" else None
        mail.report_type = report_type.lower() if isinstance(report_type, str) else None
    except PARSER_ERRORS:
        mail.defects += 1
    _Walker(mail).walk(root, body=True)
    return mail
