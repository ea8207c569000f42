# ruff: noqa: RUF001, RUF002, RUF003  (full-width and CJK punctuation is what this module reads and writes)
"""Reading a customer's answer to a satisfaction survey (回访): a score 1–5 and a comment.

Customers answer in many shapes: ``5``, ``5分``, ``五星``, ``★★★★☆``, ``4/5``, ``4 out of
5``, ``Score: 4``, ``I'd give it a 3 - slow response``, ``3，客服态度还行``, full-width
``５``, keycap ``4️⃣``, and email replies that quote the survey below. :func:`read_reply`
finds every score-like token in the part above any quoted history and keeps the reply
only when they agree on one score in 1–5. Anything that could be misread is refused
(``None``), so nothing is misrecorded: two scores (``3 or 4``, ``4-5``), a number out of
range (``10``, ``2024``, ``4.5``, ``8/10``), a phone or order number.

A bare number counts only at the very start or end of the reply and set apart by
punctuation or a line break (``5, thanks`` is a score; ``2 items missing`` and ``waited
3 days`` are not). Chinese numerals count alone, with a unit (``五分``, ``一星``) or set
apart at an edge (``三，还行``), so ``一般`` or ``十分满意`` are not scores.

Pure and linear in the input (replies up to 100 KB): one translation pass, one line pass
to cut quoted history, one ``finditer`` whose alternatives are all bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

MAX_COMMENT = 2000  # characters of comment kept (a long email is cut, not refused)
LOWEST, HIGHEST = 1, 5
ReplyKind = Literal["answer", "comment", "ambiguous", "empty"]

# Digits in other forms become ASCII (full-width ５, circled ②, ❹, ➂, ⑩); invisible marks go; a
# keycap (4️⃣) sets its digit apart like punctuation would. Everything else stays as written,
# so a comment keeps the customer's own punctuation.
_NORMAL: dict[int, str | None] = {ord(c): None for c in "\ufe0f\ufe0e\u200b\u200c\u200d\u2060\ufeff"}
_NORMAL |= {0x20E3: " ·", 0xFF0F: "/"} | {0xFF10 + d: str(d) for d in range(10)}
_NORMAL |= {start + d: str(d + 1) for start in (0x2460, 0x2776, 0x2780, 0x278A) for d in range(10)}
_CN_VALUE = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "".join(_CN_VALUE)
_FILLED, _EMPTY = "★⭐🌟✭✮", "☆✩✰"
_NUM = r"[0-9]+(?:\.[0-9]+)?"
_B = r"(?<![A-Za-z0-9.])"  # a number starts here, not inside a word or another number
_E = r"(?![A-Za-z0-9]|\.[0-9])"  # and ends here
_TOKENS = re.compile(
    rf"(?P<stars>[{_FILLED}{_EMPTY}](?:[ ]?[{_FILLED}{_EMPTY}])*)"
    rf"|(?P<marker>(?:\b(?:i|we)(?:['’]d|['’]ll| would| will)?\s{{1,3}})?"
    rf"\b(?:score|rating|rate|rated|give|gave|giving)\b"
    rf"|(?:我们?)?(?:评分|打分|分数|满意度|评价))"
    rf"[^0-9\n]{{0,16}}?{_B}(?P<mnum>{_NUM})(?:\s{{0,3}}(?:/|out\s+of)\s{{0,3}}(?P<mden>[0-9]+))?{_E}"
    rf"|{_B}(?P<a>[0-9]+)\s{{0,3}}(?:or|to|-|–|—|~|或者?|到|至)\s{{0,3}}(?P<b>[0-9]+){_E}"
    rf"|{_B}(?P<rnum>{_NUM})\s{{0,3}}(?:/|out\s+of|of)\s{{0,3}}(?P<rden>[0-9]+){_E}"
    rf"|(?:(?:我们?)?(?:打|给你?们?|评)个?\s{{0,2}})?(?:{_B}(?P<unum>{_NUM})|(?<![{_CN}])(?P<ucn>[{_CN}]{{1,3}}))\s{{0,3}}"
    rf"(?P<unit>分|颗星|星|stars?\b|pts?\b|points?\b)"
    rf"|{_B}(?P<bare>{_NUM}){_E}"
    rf"|(?P<cn>[{_CN}])",
    re.IGNORECASE,
)
_QUOTE_START = re.compile(
    r"\s*(?:>|-{2,}\s*(?:original message|forwarded message|原始邮件|转发邮件)"
    r"|_{8,}\s*$|(?:from|发件人|寄件者)\s?[:：]|sent from my\b|发自我的|--\s*$)",
    re.IGNORECASE,
)
_WROTE = ("wrote:", "写道:", "写道：", "a écrit :", "a écrit:", "schrieb:", "escribió:")
_SEPARATORS = " \t\r\n,.;:!?-–—~，。；：！？、·|/()（）\"'“”‘’"


@dataclass(frozen=True)
class CsatAnswer:
    """A score 1–5 and, when the customer wrote more, their comment."""

    score: int
    comment: str | None = None


@dataclass(frozen=True)
class ReplyReading:
    """What a reply to a survey is: an ``answer`` (a score), a ``comment`` (words and no
    score-like number: a follow-up to an earlier answer), ``ambiguous`` (score-like
    numbers that do not agree, or out of range: ask again, record nothing) or
    ``empty``. ``text``: the reply above any quoted history, normalised."""

    kind: ReplyKind
    text: str
    answer: CsatAnswer | None = None


@dataclass(frozen=True)
class _Found:
    values: frozenset[int]
    refused: bool
    unsure: bool  # a number 1-5 at an edge, not set apart ("2 items missing"): maybe a score
    start: int  # span of all candidates, for the comment
    end: int


def parse_answer(text: str) -> CsatAnswer | None:
    """The score (and comment) in a survey reply, or ``None`` when there is none or it is ambiguous."""
    return read_reply(text).answer


def is_comment_follow_up(text: str) -> bool:
    """Whether a message carries words and nothing score-like: after an answer, it is a comment."""
    return read_reply(text).kind == "comment"


def merge_comment(answer: CsatAnswer, text: str) -> CsatAnswer:
    """``answer`` with ``text`` (above its quoted history) added to its comment, bounded."""
    addition = read_reply(text).text.strip()
    if not addition:
        return answer
    joined = f"{answer.comment}\n{addition}" if answer.comment else addition
    return replace(answer, comment=joined[:MAX_COMMENT])


def read_reply(text: str) -> ReplyReading:
    """Classify a reply (see :class:`ReplyReading`)."""
    head = strip_quoted(text.translate(_NORMAL))
    lead, trail = _edges(head)
    found = _scan(head, lead, trail)
    if found.refused or len(found.values) > 1:
        return ReplyReading("ambiguous", head.strip())
    if found.values:
        score = next(iter(found.values))
        return ReplyReading("answer", head.strip(), CsatAnswer(score, _comment(head, found, lead, trail)))
    if found.unsure or (lead < trail and not any(c.isalpha() for c in head[lead:trail])):
        return ReplyReading("ambiguous", head.strip())  # "2 items missing", "+1 415 555 0100"
    return ReplyReading("comment" if lead < trail else "empty", head.strip())


def strip_quoted(text: str) -> str:
    """The part of an email reply above its quoted history (``>`` lines, ``On … wrote:``,
    ``-----Original Message-----``, Outlook's ``From:`` block, a signature)."""
    offset, previous = 0, (0, "")
    for line in text.splitlines(keepends=True):
        bare = line.strip()
        if _QUOTE_START.match(line) or bare.lower().endswith(_WROTE):
            # Gmail may wrap "On <date>, <name> <address>\nwrote:": the "On" line goes too
            if bare.lower().endswith(_WROTE) and previous[1].lower().startswith(("on ", "在")):
                return text[: previous[0]]
            return text[:offset]
        if bare:
            previous = (offset, bare)
        offset += len(line)
    return text


def _edges(head: str) -> tuple[int, int]:
    """Index of the first letter or digit, and one past the last."""
    lead = 0
    while lead < len(head) and not head[lead].isalnum():
        lead += 1
    trail = len(head)
    while trail > lead and not head[trail - 1].isalnum():
        trail -= 1
    return lead, trail


def _scan(head: str, lead: int, trail: int) -> _Found:
    values: set[int] = set()
    refused = unsure = False
    start, end = len(head), 0
    for match in _TOKENS.finditer(head):
        kind, value = _value(match, head, lead, trail)
        if kind == "none":
            continue
        if kind == "maybe":
            unsure = unsure or (value is not None and LOWEST <= value <= HIGHEST)
            continue
        if kind == "refuse" or value is None or not LOWEST <= value <= HIGHEST:
            refused = True
            continue
        values.add(value)
        start, end = min(start, match.start()), max(end, match.end())
    return _Found(frozenset(values), refused, unsure, start, end)


def _value(match: re.Match[str], head: str, lead: int, trail: int) -> tuple[str, int | None]:
    """``("score", n)``, ``("refuse", _)`` for a score-like token that cannot be one, or
    ``("none", _)`` for text that is not score-like (a number inside a sentence)."""
    group = match.lastgroup
    if match["stars"]:
        filled = sum(match["stars"].count(c) for c in _FILLED)
        return ("score", filled) if filled else ("refuse", None)
    if match["mnum"] is not None:
        return _ratio(match["mnum"], match["mden"])
    if match["a"] is not None:
        return ("score", int(match["a"])) if int(match["a"]) == int(match["b"]) else ("refuse", None)
    if match["rnum"] is not None:
        return _ratio(match["rnum"], match["rden"])
    if match["unit"] is not None:
        if match["ucn"] is not None:
            return ("score", _CN_VALUE[match["ucn"]]) if len(match["ucn"]) == 1 else ("refuse", None)
        return _integer(match["unum"])
    kind, value = _integer(match["bare"]) if group == "bare" else ("score", _CN_VALUE[match["cn"]])
    placed = _placement(head, match.start(), match.end(), lead, trail)
    if placed == "apart":
        return kind, value
    return ("maybe", value) if placed == "edge" and group == "bare" else ("none", None)


def _ratio(number: str, denominator: str | None) -> tuple[str, int | None]:
    if denominator is not None and denominator != "5":
        return "refuse", None
    return _integer(number)


def _integer(number: str) -> tuple[str, int | None]:
    if "." in number or len(number) > 2:
        return "refuse", None
    return "score", int(number)


def _placement(head: str, start: int, end: int, lead: int, trail: int) -> str:
    """``apart``: a bare number at an edge of the reply with punctuation or a line break
    (or nothing) between it and the words beside it — an answer. ``edge``: at an edge
    but run into the words (``2 items missing``). ``inside``: within the sentence."""
    at_edge = False
    if start == lead:
        at_edge, following = True, end
        while following < trail and not head[following].isalnum():
            following += 1
        if following >= trail or _separated(head[end:following]):
            return "apart"
    if end == trail:
        at_edge, preceding = True, start
        while preceding > lead and not head[preceding - 1].isalnum():
            preceding -= 1
        # "满意 5": after Chinese text a space sets a number apart (no sentence runs on into it)
        if preceding <= lead or _separated(head[preceding:start]) or not head[preceding - 1].isascii():
            return "apart"
    return "edge" if at_edge else "inside"


def _separated(gap: str) -> bool:
    return "\n" in gap or bool(gap.strip())


def _comment(head: str, found: _Found, lead: int, trail: int) -> str | None:
    """The words around the score: after it when it leads, before it when it ends the
    reply, else the whole reply (``I'd give it a 3 - slow response``)."""
    if found.start <= lead:
        comment = head[found.end :].strip(_SEPARATORS)
    elif found.end >= trail:
        comment = head[: found.start].strip(_SEPARATORS)
    else:
        comment = head.strip()
    if not any(c.isalnum() for c in comment):
        return None
    return comment[:MAX_COMMENT]
