"""What a rule looks at: one model per kind of condition, each knowing how to check itself
against the :class:`Facts` of a run (the ticket as the run has changed it so far).

A text condition's regex is checked when the rule is validated, and its matcher compiled
on first use and kept with the rule object (the stream's :class:`~.store.RuleCache` keeps
the objects): a run only calls compiled matchers.

Regular expressions meet text a customer wrote, so they are kept cheap by construction
rather than trusted (Python's ``re`` backtracks, and cannot be interrupted). A pattern
is refused when it could take long on any input:

* longer than :data:`MAX_PATTERN` characters, or not valid for ``re``;
* an unbounded repeat (``*``, ``+``, ``{n,}``): write a bound, ``\\d{1,20}``. Measured on
  10,000 characters, a single ``[a-z]+\\d`` takes seconds on ``aaaa…`` (each start
  position scans to the end), and ``a*a*b`` does not finish in minutes;
* a repeated group containing a repeat (``(a{1,5}){1,9}``, the classic catastrophic
  shape), or a back-reference (``\\1``, ``(?P=name)``);
* more than :data:`MAX_REPEAT_PRODUCT` ways to backtrack: the product of every repeat's
  (upper bound + 1) (a repeated group also times its alternatives).

Only the first :data:`MAX_SCANNED` characters of a text are looked at. Together these
bound a search to about ``MAX_SCANNED * MAX_REPEAT_PRODUCT`` steps (tens of
milliseconds on the worst input measured), whatever the customer sends.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from switchboard_sdk import Customer, SlaMetric, SlaState, Ticket, TicketPriority, TicketStatus

from ..changes import TAG_PATTERN, WORKFLOW_FIELDS, ActorKind, ChangeActor, FieldChange

MAX_PATTERN = 500
MAX_SCANNED = 10_000
MAX_REPEAT_PRODUCT = 1_000
MAX_VALUES = 100
Value = Annotated[str, Field(min_length=1, max_length=200)]
Values = Annotated[list[Value], Field(min_length=1, max_length=MAX_VALUES)]
Tag = Annotated[str, Field(pattern=TAG_PATTERN)]
Tags = Annotated[list[Tag], Field(min_length=1, max_length=MAX_VALUES)]
WorkflowField = Literal["status", "priority", "assignee_id", "group_id", "category", "language", "tags",
                        "sla_policy_id"]
assert set(WorkflowField.__args__) == set(WORKFLOW_FIELDS)  # type: ignore[attr-defined]
TextField = Literal["subject", "message"]
TEXT_FIELDS: tuple[TextField, ...] = ("subject", "message")
_BOUNDS = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


@dataclass(frozen=True)
class Facts:
    """What conditions see: the ticket (as earlier rules of this run left it), its
    customer, the texts (cut to :data:`MAX_SCANNED`), what changed and who changed it
    (``ticket.updated``), the time and the tenant's business hours."""

    ticket: Ticket
    customer: Customer | None
    subject: str
    message: str
    subject_folded: str  # casefolded once per run: keyword searches are case-sensitive on it (3x faster)
    message_folded: str
    changes: Sequence[FieldChange]
    actor: ChangeActor | None
    now: datetime
    is_open: Callable[[datetime], bool] | None


class _Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def holds(self, facts: Facts) -> bool:
        raise NotImplementedError


class ChannelIs(_Condition):
    """The ticket came in on one of ``values`` (``web``, ``sms``, ``wechat``, ``email``, …)."""

    type: Literal["channel"] = "channel"
    values: Values

    def holds(self, facts: Facts) -> bool:
        return facts.ticket.channel in self.values


class CustomerTagged(_Condition):
    """The customer has ``any``/``all``/``none`` of the tags (no customer: no tags)."""

    type: Literal["customer_tag"] = "customer_tag"
    match: Literal["any", "all", "none"] = "any"
    values: Tags

    def holds(self, facts: Facts) -> bool:
        return _tags_match(self.match, facts.customer.tags if facts.customer else [], self.values)


class CustomerAttribute(_Condition):
    """A customer attribute ``equals`` one value, is ``in`` several, ``exists`` or is ``missing``."""

    type: Literal["customer_attribute"] = "customer_attribute"
    key: str = Field(min_length=1, max_length=64)
    op: Literal["equals", "in", "exists", "missing"] = "equals"
    values: list[Value] = Field(default_factory=list, max_length=MAX_VALUES)

    @model_validator(mode="after")
    def _arity(self) -> CustomerAttribute:
        wanted = {"equals": (1, 1), "in": (1, MAX_VALUES), "exists": (0, 0), "missing": (0, 0)}[self.op]
        if not wanted[0] <= len(self.values) <= wanted[1]:
            raise ValueError(f"op {self.op!r} takes {wanted[0]}-{wanted[1]} values")
        return self

    def holds(self, facts: Facts) -> bool:
        value = (facts.customer.attributes if facts.customer else {}).get(self.key)
        if self.op in ("exists", "missing"):
            return (value is not None) == (self.op == "exists")
        return value is not None and value in self.values


class TextMatches(_Condition):
    """The subject or the message contains one of ``keywords`` (case-insensitive; ``word``:
    as a whole word, ``substring``: anywhere), or matches ``regex`` (see the module's text
    for the patterns refused). ``fields``: which texts to look at."""

    type: Literal["text"] = "text"
    keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list,
                                                                                max_length=MAX_VALUES)
    match: Literal["word", "substring"] = "word"
    regex: str | None = Field(default=None, max_length=MAX_PATTERN)
    case_sensitive: bool = False
    fields: list[TextField] = Field(default_factory=lambda: list(TEXT_FIELDS), min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> TextMatches:
        if bool(self.keywords) == (self.regex is not None):
            raise ValueError("give either keywords or regex")
        if self.regex is not None:
            compile_pattern(self.regex, self.case_sensitive)  # refused here, with the reason
        return self

    @functools.cached_property
    def _matcher(self) -> KeywordMatcher | re.Pattern[str]:
        """Compiled on first use, then kept with the rule (a plain attribute: fast to reach)."""
        if self.regex is not None:
            return compile_pattern(self.regex, self.case_sensitive)
        return keyword_pattern(self.keywords, whole_words=self.match == "word")

    def holds(self, facts: Facts) -> bool:
        matcher = self._matcher
        if isinstance(matcher, KeywordMatcher):
            folded = (facts.subject_folded if name == "subject" else facts.message_folded for name in self.fields)
            return any(matcher.search(text) for text in folded if text)
        texts = (facts.subject if name == "subject" else facts.message for name in self.fields)
        return any(matcher.search(text) for text in texts if text)


class LanguageIs(_Condition):
    """The ticket's language is one of ``values``; ``zh`` also matches ``zh-CN``."""

    type: Literal["language"] = "language"
    values: Values

    def holds(self, facts: Facts) -> bool:
        language = (facts.ticket.language or "").lower()
        return bool(language) and any(language == v.lower() or language.startswith(v.lower() + "-")
                                      for v in self.values)


class CategoryIs(_Condition):
    """The ticket's category is one of ``values``, or (``empty``) it has none yet."""

    type: Literal["category"] = "category"
    values: list[Value] = Field(default_factory=list, max_length=MAX_VALUES)
    empty: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> CategoryIs:
        if bool(self.values) == self.empty:
            raise ValueError("give either values or empty: true")
        return self

    def holds(self, facts: Facts) -> bool:
        return facts.ticket.category is None if self.empty else facts.ticket.category in self.values


class PriorityIs(_Condition):
    type: Literal["priority"] = "priority"
    op: Literal["in", "not_in"] = "in"
    values: Annotated[list[TicketPriority], Field(min_length=1)]

    def holds(self, facts: Facts) -> bool:
        return (facts.ticket.priority in self.values) == (self.op == "in")


class StatusIs(_Condition):
    type: Literal["status"] = "status"
    op: Literal["in", "not_in"] = "in"
    values: Annotated[list[TicketStatus], Field(min_length=1)]

    def holds(self, facts: Facts) -> bool:
        return (facts.ticket.status in self.values) == (self.op == "in")


class WithinBusinessHours(_Condition):
    """Now is (``value: true``) or is not within the tenant's business hours. A tenant
    without a calendar is open around the clock."""

    type: Literal["within_business_hours"] = "within_business_hours"
    value: bool = True

    def holds(self, facts: Facts) -> bool:
        is_open = facts.is_open(facts.now) if facts.is_open is not None else True
        return is_open == self.value


class SlaStateIs(_Condition):
    """A running SLA target of the ticket (of ``metric``, or any) is in one of ``states``."""

    type: Literal["sla_state"] = "sla_state"
    metric: SlaMetric | None = None
    states: Annotated[list[SlaState], Field(min_length=1)]

    def holds(self, facts: Facts) -> bool:
        return any(t.state in self.states for t in facts.ticket.sla if self.metric in (None, t.metric))


class TicketTagged(_Condition):
    type: Literal["ticket_tag"] = "ticket_tag"
    match: Literal["any", "all", "none"] = "any"
    values: Tags

    def holds(self, facts: Facts) -> bool:
        return _tags_match(self.match, facts.ticket.tags, self.values)


class Changed(_Condition):
    """(``ticket.updated``) one of ``fields`` changed — to ``to`` when given (for ``tags``:
    the tag ``to`` was added)."""

    type: Literal["changed"] = "changed"
    fields: Annotated[list[WorkflowField], Field(min_length=1)]
    to: str | None = Field(default=None, max_length=200)

    def holds(self, facts: Facts) -> bool:
        return any(c.field in self.fields and self._to(c) for c in facts.changes)

    def _to(self, change: FieldChange) -> bool:
        if self.to is None:
            return True
        if change.field == "tags":
            return self.to.lower() in (change.after or []) and self.to.lower() not in (change.before or [])
        return bool(change.after == self.to)


class ActorIs(_Condition):
    """(``ticket.updated``) the change was made by one of ``kinds`` (agent, rule, customer, …)."""

    type: Literal["actor"] = "actor"
    kinds: Annotated[list[ActorKind], Field(min_length=1)]

    def holds(self, facts: Facts) -> bool:
        return facts.actor is not None and facts.actor.kind in self.kinds


Condition = Annotated[
    ChannelIs | CustomerTagged | CustomerAttribute | TextMatches | LanguageIs | CategoryIs | PriorityIs | StatusIs
    | WithinBusinessHours | SlaStateIs | TicketTagged | Changed | ActorIs,
    Field(discriminator="type"),
]
UPDATE_ONLY = frozenset({"changed", "actor"})  # conditions that only a ticket.updated trigger can meet


def _tags_match(match: str, have: Sequence[str], wanted: Sequence[str]) -> bool:
    found = {t.lower() for t in have} & {w.lower() for w in wanted}
    return {"any": bool(found), "all": len(found) == len({w.lower() for w in wanted}), "none": not found}[match]


# -- text patterns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeywordMatcher:
    """Keywords (casefolded) found in casefolded text: one plain alternation finds a
    candidate fast (lookarounds or IGNORECASE would make ``re`` try every position
    slowly), then whole-word edges are checked here. A keyword is a literal, never a regex."""

    pattern: re.Pattern[str]
    keywords: tuple[str, ...]
    whole_words: bool

    def search(self, text: str) -> bool:
        found = self.pattern.search(text)
        while found is not None:
            start = found.start()
            if not self.whole_words or any(_whole(text, start, k) for k in self.keywords if text.startswith(k, start)):
                return True
            found = self.pattern.search(text, start + 1)
        return False


def keyword_pattern(keywords: Sequence[str], *, whole_words: bool) -> KeywordMatcher:
    """A matcher for ``keywords``, any case. As whole words, a keyword must not touch a letter
    or digit on a side where it has one itself; CJK text has no spaces between words, so a
    CJK edge matches anywhere."""
    folded = tuple(sorted({k.strip().casefold() for k in keywords if k.strip()}, key=len, reverse=True))
    pattern = re.compile("|".join(re.escape(k) for k in folded) or "(?!)")
    return KeywordMatcher(pattern, folded, whole_words)


def _whole(text: str, start: int, keyword: str) -> bool:
    end = start + len(keyword)
    before = start == 0 or not _spaced(keyword[0]) or not _word(text[start - 1])
    after = end == len(text) or not _spaced(keyword[-1]) or not _word(text[end])
    return before and after


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _spaced(char: str) -> bool:
    """A letter or digit of a script that separates words with spaces (below CJK's blocks)."""
    return char.isalnum() and ord(char) < 0x2E80


def compile_pattern(pattern: str, case_sensitive: bool = False) -> re.Pattern[str]:
    """``pattern`` compiled, or ``ValueError`` saying why it is refused (see the module)."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"a regex is at most {MAX_PATTERN} characters")
    if _BACKREFERENCE.search(pattern):
        raise ValueError("back-references (\\1, (?P=name)) are not allowed in rules")
    try:
        compiled = re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
    except re.error as err:
        raise ValueError(f"not a valid regular expression: {err.msg}") from None
    repeat_cost(pattern)
    return compiled


def repeat_cost(pattern: str) -> int:
    """The product of the pattern's repeat bounds; ``ValueError`` for an unbounded or nested
    repeat, or a product over :data:`MAX_REPEAT_PRODUCT`. ``pattern`` compiles already."""
    groups: list[list[int]] = [[1, 1]]  # per open group: [has a repeat inside, alternatives]
    product, last, i = 1, 1, 0  # last: what the atom just before a quantifier multiplies by
    while i < len(pattern):
        char = pattern[i]
        bounds = _quantifier(pattern, i)
        if bounds is not None:
            width, upper = bounds
            if upper is None:
                raise ValueError("unbounded repeats (*, +, {n,}) are not allowed in rules: give a bound, "
                                 "e.g. \\d{1,20} or .{0,100}")
            if last < 0 and upper > 1:
                raise ValueError("a repeated group may not contain a repeat (it can take exponential time)")
            product *= (upper + 1) * abs(last)
            groups[-1][0] = 1
            i, last = i + width, 1
            continue
        last, i = _atom(pattern, i, char, groups)
    if product > MAX_REPEAT_PRODUCT:
        raise ValueError(f"this regex can backtrack {product:,} ways per position (at most "
                         f"{MAX_REPEAT_PRODUCT:,}): use fewer or smaller repeats")
    return product


def _atom(pattern: str, i: int, char: str, groups: list[list[int]]) -> tuple[int, int]:
    """Step over one atom at ``i``: (what a quantifier after it multiplies by, where next).
    A group that holds a repeat gives -1 (repeating it is refused)."""
    if char == "\\":
        return 1, i + 2
    if char == "[":
        return 1, _class_end(pattern, i)
    if char == "(":
        groups.append([0, 1])
        return 1, i + (2 if pattern.startswith("(?", i) else 1)
    if char == ")":
        inner, alternatives = groups.pop()
        groups[-1][0] |= inner
        return (-1 if inner else alternatives), i + 1
    if char == "|":
        groups[-1][1] += 1
    return 1, i + 1


def _quantifier(pattern: str, i: int) -> tuple[int, int | None] | None:
    """The quantifier at ``i`` as (its width, its upper bound or None), or None when there is none."""
    char = pattern[i]
    if char in "*+?":
        width, upper = 1, (1 if char == "?" else None)
    elif char == "{" and (found := _BOUNDS.match(pattern, i)) and (found.group(1) or found.group(3)):
        width = found.end() - i
        lower, comma, top = found.group(1), found.group(2), found.group(3)
        upper = int(top) if top else (None if comma else int(lower))
    else:
        return None
    if i + width < len(pattern) and pattern[i + width] in "?+":  # lazy or possessive: the same bound
        width += 1
    return width, upper


def _class_end(pattern: str, i: int) -> int:
    """The index just after the character class opening at ``i``."""
    j = i + 1
    j += pattern.startswith("^", j)
    j += pattern.startswith("]", j)
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1

