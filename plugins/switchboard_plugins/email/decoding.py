"""Bytes and header words to text: charset aliases, RFC 2047, raw 8-bit headers.

Nothing here raises on bad input: undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import binascii
import codecs
import re

FALLBACK = "utf-8"

# Labels mail clients use for a narrower charset than they actually send: GB2312
# mail routinely carries GBK/GB18030 characters, "Big5" mail HKSCS ones, and
# "ISO-8859-1" mail Windows-1252 quotes (the WHATWG encoding standard does the same).
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "chinese": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
}
# Python codecs that are not charsets a mail could honestly name.
_REFUSED = {"undefined", "unicode_escape", "raw_unicode_escape", "idna", "punycode", "mbcs", "oem"}
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_NEWLINES = re.compile(r"[\r\n]+")


def codec_for(label: str | None) -> str:
    """The Python codec to decode a MIME charset label with (``utf-8`` when unknown)."""
    name = (label or "").strip().strip("\"'").lower().split("*", 1)[0]  # RFC 2231 "utf-8*en"
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return FALLBACK
    if info.name in _REFUSED or not getattr(info, "_is_text_encoding", True):
        return FALLBACK
    return info.name


def decode_bytes(data: bytes, label: str | None) -> str:
    """``data`` decoded as ``label`` says, undecodable bytes replaced."""
    try:
        return data.decode(codec_for(label), errors="replace")
    except (LookupError, UnicodeError, ValueError):
        return data.decode(FALLBACK, errors="replace")


def _unescape_8bit(value: str) -> str:
    """Undo the parser's surrogate escapes for raw 8-bit header bytes (UTF-8, or
    GB18030 as Chinese clients send, or Windows-1252)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp1252", errors="replace")


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def _word_bytes(encoding: str, text: str) -> bytes | None:
    data = text.encode("ascii", "replace")
    try:
        if encoding in "bB":
            return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
        return binascii.a2b_qp(data, header=True)
    except (binascii.Error, ValueError):
        return None


def _decode_words(value: str) -> str:
    """RFC 2047: decode encoded words, drop the blanks between adjacent ones and join
    the bytes of adjacent same-charset words first (clients split a multi-byte
    character across two words)."""
    pieces: list[tuple[str | None, str | bytes]] = []  # (codec or None for plain text, value)
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        pos = match.end()
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            pieces.append((None, between + match.group(0)))
            continue
        if between and not (between.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, between))
        codec = codec_for(match.group(1))
        previous = pieces[-1] if pieces else None
        if previous is not None and previous[0] == codec and isinstance(previous[1], bytes):
            pieces[-1] = (codec, previous[1] + data)
        else:
            pieces.append((codec, data))
    pieces.append((None, value[pos:]))
    return "".join(v if isinstance(v, str) else decode_bytes(v, c) for c, v in pieces)


def unfold(value: str) -> str:
    """A raw header value on one line, raw 8-bit bytes decoded; RFC 2047 words kept
    (address lists must be split before they are decoded: a display name may hide a comma)."""
    return _NEWLINES.sub(" ", _unescape_8bit(_FOLD.sub("", value))).strip()


def header_text(value: str) -> str:
    """A raw header value as display text: unfolded, RFC 2047 words decoded, on one line."""
    return _NEWLINES.sub(" ", _decode_words(unfold(value))).strip()
