"""Message text: HTML to plain text, and the visible reply split from quoted history."""

from __future__ import annotations

import re
from html.parser import HTMLParser

MAX_HTML_CHARS = 2_000_000  # an HTML part larger than this is cut before parsing
QUOTED_HISTORY_CAP = 50_000

# -- HTML → text ----------------------------------------------------------------

_SKIPPED = {"script", "style", "head", "title", "template", "noscript", "svg", "object", "iframe"}
_LINES = {"div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "address", "center", "form"}
_PARAGRAPHS = {"p", "table", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "blockquote"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source", "track", "embed"}
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")


class _TextExtractor(HTMLParser):
    """Collects visible text; blocks become line breaks, blockquotes ``> `` lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._skip: list[str] = []
        self._quote_depth = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
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

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
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

    def _flush(self, *, blank_ok: bool = False) -> None:
        line = "".join(self._line)
        line = line.rstrip() if self._pre else line.strip(" ")
        self._line = []
        if line:
            self.lines.append("> " * self._quote_depth + line)
        elif blank_ok:
            self._blank()

    def _blank(self) -> None:
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append(">" * self._quote_depth)  # a quoted blank line stays quoted

    def text(self) -> str:
        self._flush()
        return "\n".join(self.lines).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: no script/style, line breaks kept, quotes marked."""
    parser = _TextExtractor()
    parser.feed(html[:MAX_HTML_CHARS])
    parser.close()
    return parser.text()


# -- reply / quoted history ------------------------------------------------------

# \uff1a is the full-width colon Chinese clients write after 写道 / 发件人.
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\b.{0,300}\bwrote\s*:"  # English clients, Gmail, Apple Mail, Thunderbird
    r"|Le\b.{0,300}\ba\s+écrit\s*:"  # French
    r"|Am\b.{0,300}\bschrieb\b.{0,100}:"  # German
    r"|El\b.{0,300}\bescribió\s*:"  # Spanish
    r"|[在于].{0,300}写道\s*[:\uff1a]"  # Chinese Gmail / QQ Mail / Foxmail
    r"|.{0,300}於.{0,300}寫道\s*[:\uff1a]"  # Traditional Chinese
    r")\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|原始邮件|原始郵件)\s*-{2,}"
    r"|_{20,})\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(?:From|发件人|寄件者|Von|De)\s*\*?\s*[:\uff1a]", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(?:Sent|Date|To|Subject|发送时间|时间|日期|收件人|主题|寄件日期|傳送時間|Gesendet|Envoyé)\s*\*?\s*[:\uff1a]",
    re.IGNORECASE,
)


def _attribution_at(lines: list[str], index: int) -> bool:
    """An "On … wrote:" line; clients wrap it onto a second line, so try two."""
    line = lines[index]
    if len(line) > 400:
        return False
    if _ATTRIBUTION.match(line):
        return True
    return index + 1 < len(lines) and bool(_ATTRIBUTION.match(line + " " + lines[index + 1]))


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
