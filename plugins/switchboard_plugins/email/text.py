"""Message text: HTML to plain text, and the visible reply split from quoted history.

Both run on hostile input in the request path, so both are linear in their input:
every scan below consumes what it reads, and no pattern can backtrack over more
than a bounded window (tests/test_email_cost.py measures it).
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass

MAX_HTML_CHARS = 2_000_000  # an HTML part larger than this is cut before parsing
QUOTED_HISTORY_CAP = 50_000
MAX_QUOTE_DEPTH = 10  # deeper <blockquote> nesting is shown at this depth

# -- HTML → text ----------------------------------------------------------------
#
# Not html.parser: CPython's HTMLParser rescans from the tag start whenever a tag is
# unfinished (40,000 ``<a x='`` cost 140 s) and asserts on ``<![ if !mso]>``. Text
# extraction needs tokens, not a tree, so this is a small HTML5-style tokenizer:
# text, start/end tags (attributes skipped, quotes honoured), comments, and the raw
# text of script/style-like elements. Unfinished constructs end the input, as in the
# HTML5 tokenizer. Not a C parser (selectolax, lxml): ~1.5-8 MB of native code in the
# Lambda package to parse hostile bytes, for output we only read tokens from.

_SKIPPED = {"script", "style", "head", "title", "template", "noscript", "svg", "object", "iframe"}
_LINES = {"div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "address", "center", "form"}
_PARAGRAPHS = {"p", "table", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "blockquote"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source", "track", "embed"}
# elements whose content is not markup (HTML5 RAWTEXT / RCDATA / script data)
_RAW_TEXT = {"script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript"}
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")

_TAG_NAME = re.compile(r"[^\s/>]*")
_BETWEEN_ATTRIBUTES = re.compile(r"[\s/]*")
_ATTRIBUTE_NAME = re.compile(r"=?[^\s/>=]*")
_EQUALS = re.compile(r"\s*=\s*")
_UNQUOTED_VALUE = re.compile(r"[^\s>]*")
_CHARREF = re.compile(r"&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|[A-Za-z][A-Za-z0-9]{0,31});?")
_RAW_TEXT_END: dict[str, re.Pattern[str]] = {
    name: re.compile(rf"</{name}(?=[\s/>])", re.IGNORECASE) for name in (*_RAW_TEXT, "plaintext")
}


def _charref(match: re.Match[str]) -> str:
    digits = match.group(1) or match.group(2)
    if digits is None:
        return _html.unescape(match.group(0))  # a named reference: at most 34 characters
    # int() of a long decimal string is quadratic (and refused past 4,300 digits,
    # which makes html.unescape raise); any number past 8 digits is no character
    significant = digits.lstrip("0") or "0"
    if len(significant) > 8:
        return "\ufffd"
    return _html.unescape(f"&#{'x' if match.group(1) else ''}{significant};")


def unescape(text: str) -> str:
    """Character references decoded as html.unescape does, in linear time and never raising."""
    return _CHARREF.sub(_charref, text) if "&" in text else text


@dataclass(frozen=True)
class _Tag:
    name: str
    end: bool
    self_closing: bool


def _letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _tag_end(source: str, pos: int) -> tuple[int, bool] | None:
    """Skip a tag's attributes from ``pos``: ``(index after '>', self-closing)``, or
    ``None`` when the input ends inside the tag. Every step consumes at least one
    character or ends the tag, so a tag costs its own length."""
    n = len(source)
    while True:
        start = pos
        pos = _BETWEEN_ATTRIBUTES.match(source, pos).end()  # type: ignore[union-attr]
        if pos >= n:
            return None
        if source[pos] == ">":
            return pos + 1, pos > start and source[pos - 1] == "/"
        pos = _ATTRIBUTE_NAME.match(source, pos).end()  # type: ignore[union-attr]
        equals = _EQUALS.match(source, pos)
        if equals is None:
            continue
        pos = equals.end()
        if pos >= n:
            return None
        quote = source[pos]
        if quote in "\"'":
            close = source.find(quote, pos + 1)
            if close < 0:
                return None
            pos = close + 1
        else:
            pos = _UNQUOTED_VALUE.match(source, pos).end()  # type: ignore[union-attr]


def _tokens(source: str) -> Iterator[str | _Tag]:
    """Text runs (references decoded) and tags; comments, doctypes and processing
    instructions dropped; raw-text element content yielded as text."""
    n = len(source)
    pos = 0
    while pos < n:
        lt = source.find("<", pos)
        if lt < 0:
            yield unescape(source[pos:])
            return
        if lt > pos:
            yield unescape(source[pos:lt])
        pos = lt
        nxt = source[lt + 1 : lt + 2]
        if _letter(nxt) or (nxt == "/" and _letter(source[lt + 2 : lt + 3])):
            end_tag = nxt == "/"
            name_start = lt + 2 if end_tag else lt + 1
            name_end = _TAG_NAME.match(source, name_start).end()  # type: ignore[union-attr]
            found = _tag_end(source, name_end)
            if found is None:
                return  # EOF in a tag: the HTML5 tokenizer drops it
            pos, self_closing = found
            name = source[name_start:name_end].lower()
            yield _Tag(name, end_tag, self_closing)
            if not end_tag and name in _RAW_TEXT_END:
                pos = yield from _raw_text(source, pos, name)
        elif source.startswith("<!--", lt):
            if source.startswith("<!-->", lt) or source.startswith("<!--->", lt):
                pos = source.index(">", lt + 4) + 1
                continue
            close = source.find("-->", lt + 4)
            if close < 0:
                return
            pos = close + 3
        elif nxt in ("!", "?", "/"):
            # <!DOCTYPE>, <![CDATA[…]]>, <![if !mso]>, <?xml?>, </3>: bogus comments to the next '>'
            close = source.find(">", lt + 2)
            if close < 0:
                return
            pos = close + 1
        else:
            yield "<"
            pos = lt + 1


def _raw_text(source: str, pos: int, name: str) -> Generator[str, None, int]:
    """The content of a raw-text element up to its end tag (or the end of input);
    returns where tokenizing goes on."""
    if name == "plaintext":
        yield source[pos:]
        return len(source)
    close = _RAW_TEXT_END[name].search(source, pos)
    stop = close.start() if close else len(source)
    content = source[pos:stop]
    yield unescape(content) if name in ("title", "textarea") else content
    return stop


class _TextExtractor:
    """Collects visible text; blocks become line breaks, blockquotes ``> `` lines.
    Every token costs O(its length): no step re-reads earlier output."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._line: list[str] = []
        self._skip: list[str] = []
        self._quote_depth = 0
        self._pre = 0
        self._last_blank = True  # the last line is empty (or there is none): no blank line after it

    def feed(self, source: str) -> None:
        for token in _tokens(source):
            if isinstance(token, str):
                self.handle_data(token)
            elif token.end:
                self.handle_endtag(token.name)
            elif token.self_closing and token.name not in _RAW_TEXT_END:
                self.handle_startendtag(token.name)
            else:
                self.handle_starttag(token.name)

    def handle_starttag(self, tag: str) -> None:
        if tag == "body" and self._skip == ["head"]:
            self._skip = []  # a <head> left open ends where the body starts
        if self._skip:
            if tag == self._skip[-1] and tag not in _VOID:
                self._skip.append(tag)  # nested <svg> in <svg>: wait for the outer end tag
            return
        if tag in _SKIPPED:
            self._skip.append(tag)
            return
        self._block(tag, opening=True)
        if tag == "li":
            self._line.append("- ")
        elif tag in ("td", "th"):
            self._line.append(" ")

    def handle_startendtag(self, tag: str) -> None:
        if not self._skip:
            self._block(tag, opening=True)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            return
        self._block(tag, opening=False)

    def _block(self, tag: str, *, opening: bool) -> None:
        if tag == "br":
            self._flush(blank_ok=True)
        elif tag in _LINES:
            self._flush()
        elif tag in _PARAGRAPHS:
            self._flush()
            if opening:
                self._blank()
            step = 1 if opening else -1
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth + step)
            elif tag == "pre":
                self._pre = max(0, self._pre + step)
            if not opening:
                self._blank()  # after leaving a quote, so the blank line is not quoted

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if not self._pre:
            self._line.append(_SPACES.sub(" ", data))
            return
        first, *rest = data.split("\n")
        self._line.append(first)
        for line in rest:
            self._flush(blank_ok=True)
            self._line.append(line)

    def _depth(self) -> int:
        return min(self._quote_depth, MAX_QUOTE_DEPTH)

    def _flush(self, *, blank_ok: bool = False) -> None:
        line = "".join(self._line)
        line = line.rstrip() if self._pre else line.strip(" ")
        self._line = []
        if line:
            self.lines.append("> " * self._depth() + line)
            self._last_blank = not line.strip("> ")
        elif blank_ok:
            self._blank()

    def _blank(self) -> None:
        if not self._last_blank:
            self.lines.append(">" * self._depth())  # a quoted blank line stays quoted
            self._last_blank = True

    def text(self) -> str:
        self._flush()
        return "\n".join(self.lines).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: no script/style, line breaks kept, quotes
    marked. Total (never raises) and linear in ``len(html)``."""
    extractor = _TextExtractor()
    extractor.feed(html[:MAX_HTML_CHARS])
    return extractor.text()


# -- reply / quoted history ------------------------------------------------------

# \uff1a is the full-width colon Chinese clients write after 写道 / 发件人.
#
# An attribution is one (or two wrapped) line(s): an opener, at most 300 characters,
# a "wrote" word and a colon that ends the line. Checked by position arithmetic on
# the stripped candidate instead of one regex with ``.{0,300}…\s*$`` groups, whose
# backtracking multiplied those windows with the line's whitespace (seconds per MB).
MAX_ATTRIBUTION_CHARS = 720  # the longest line the forms below can match
MAX_GAP = 300
_OPENER = re.compile(r"(On|Le|Am|El)\b", re.IGNORECASE)  # English, French, German, Spanish
_ENDING = {
    "on": re.compile(r"\bwrote\s*:\Z", re.IGNORECASE),  # English clients, Gmail, Apple Mail, Thunderbird
    "le": re.compile(r"\ba\s+écrit\s*:\Z", re.IGNORECASE),
    "el": re.compile(r"\bescribió\s*:\Z", re.IGNORECASE),
}
_SCHRIEB = re.compile(r"\bschrieb\b", re.IGNORECASE)  # German: "Am … schrieb Name <addr>:"
_WROTE_SIMPLIFIED = re.compile(r"写道\s*[:\uff1a]\Z")  # "在/于 … 写道" + colon: Gmail, QQ Mail, Foxmail
_WROTE_TRADITIONAL = re.compile(r"寫道\s*[:\uff1a]\Z")  # "… 於 … 寫道" + colon
_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|原始邮件|原始郵件)\s*-{2,}"
    r"|_{20,})\s*$",
    re.IGNORECASE,
)
# "\s*(?:\*\s*)?:" rather than "\s*\*?\s*:": two adjacent \s* groups backtrack
# quadratically over a long run of spaces that ends in something else
_HEADER_FROM = re.compile(r"^\s*\*?(?:From|发件人|寄件者|Von|De)\s*(?:\*\s*)?[:\uff1a]", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(?:Sent|Date|To|Subject|发送时间|时间|日期|收件人|主题|寄件日期|傳送時間|Gesendet|Envoyé)\s*(?:\*\s*)?[:\uff1a]",
    re.IGNORECASE,
)


def _latin_attribution(line: str) -> bool:
    opener = _OPENER.match(line)
    if opener is None:
        return False
    word = opener.group(1).lower()
    if word == "am":  # "Am\b.{0,300}\bschrieb\b.{0,100}:" with the colon ending the line
        colon = len(line) - 1
        return line[colon] == ":" and any(
            0 <= m.start() - 2 <= MAX_GAP and 0 <= colon - m.end() <= 100 for m in _SCHRIEB.finditer(line)
        )
    ending = _ENDING[word].search(line)
    return ending is not None and 0 <= ending.start() - 2 <= MAX_GAP


def _chinese_attribution(line: str) -> bool:
    if line[0] in "在于" and (ending := _WROTE_SIMPLIFIED.search(line)) and 1 <= ending.start() <= MAX_GAP + 1:
        return True
    ending = _WROTE_TRADITIONAL.search(line)
    if ending is None:
        return False
    # "於" within the first 300 characters and at most 300 before 寫道: the last
    # such 於 is the best candidate
    tw = line.rfind("於", 0, min(MAX_GAP + 1, ending.start()))
    return tw >= 0 and ending.start() - tw - 1 <= MAX_GAP


def _is_attribution(candidate: str) -> bool:
    line = candidate.strip()
    if not line or len(line) > MAX_ATTRIBUTION_CHARS or line[-1] not in ":\uff1a":
        return False
    return _latin_attribution(line) or _chinese_attribution(line)


def _attribution_at(lines: list[str], index: int) -> bool:
    """An "On … wrote:" line; clients wrap it onto a second line, so try two."""
    line = lines[index]
    if len(line) > 400:
        return False
    if _is_attribution(line):
        return True
    return index + 1 < len(lines) and _is_attribution(line + " " + lines[index + 1])


def _outlook_header_at(lines: list[str], index: int) -> bool:
    """``From:`` followed by ``Sent:``/``Date:``/``To:`` — an Outlook reply header."""
    if not _HEADER_FROM.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 4] if line.strip()]
    return bool(following) and all(_HEADER_NEXT.match(line) for line in following[:2])


def _marker_index(lines: list[str]) -> int | None:
    for index in range(len(lines)):
        if _SEPARATOR.match(lines[index]) or _attribution_at(lines, index) or _outlook_header_at(lines, index):
            return index
    return None


def _trailing_quote_index(lines: list[str]) -> int | None:
    """Start of the ``>`` block that runs to the end; inline answers between quotes stay visible."""
    start = None
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].strip()
        if stripped.startswith(">"):
            start = index
        elif stripped:
            break
    return start


def split_reply(text: str) -> tuple[str, str]:
    """``(visible reply, quoted history)``. When nothing but history is found, the
    whole text is the reply (an agent must never see an empty message)."""
    lines = text.split("\n")
    cut = _marker_index(lines)
    quote = _trailing_quote_index(lines)
    if cut is None or (quote is not None and quote < cut):
        cut = quote
    if cut is None:
        return text.strip(), ""
    visible = "\n".join(lines[:cut]).strip()
    history = "\n".join(lines[cut:]).strip()
    if not visible:
        return text.strip(), ""
    return visible, history[:QUOTED_HISTORY_CAP]
