"""What the assistant makes of a customer's words, and of its own past decisions (pure).

* :func:`asks_for_person` — the customer wants a person: the hub's own phrases in
  Chinese and English (转人工, 人工, 客服, 真人…; agent, human, a person, representative,
  operator… as whole words) plus the tenant's ``handoff_phrases``.
* :func:`says_unhelpful` — the customer says the previous answer did not help ("not
  helpful", "that didn't help", a bare "no"; 没用, 没有帮助, 不对…).
* :func:`strikes` — unhelpful turns in a row, counted from the ticket's history (never
  from memory: any container may answer the next message, and a redelivered job finds
  its own decision there). A strike is an unsure reply or an answer the customer said
  did not help; an answer the customer went on from (a new question), a "helpful" from
  the widget or a hand-off ends the run.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

ANSWERED, UNSURE, HANDED_OFF, FEEDBACK = "assistant.answered", "assistant.unsure", "assistant.handed_off", \
    "assistant.feedback"
DECISIONS = frozenset({ANSWERED, UNSURE, HANDED_OFF, FEEDBACK})

# Chinese has no word boundaries: a phrase anywhere in the message counts
PERSON_ZH = ("转人工", "人工", "客服", "真人", "找人", "接线员", "坐席")
PERSON_EN = re.compile(
    r"\b(agents?|humans?|(a|real|live|actual) person|someone real|representatives?|reps?|operators?"
    r"|speak to (someone|somebody)|talk to (someone|somebody))\b", re.IGNORECASE)
NOT_PERSON_ZH = ("人工智能",)  # artificial intelligence: 人工 without a person
UNHELPFUL_ZH = ("没用", "没有用", "没帮助", "没有帮助", "不对", "不是这个", "没解决", "没有解决", "无用", "不管用",
                "答非所问")
UNHELPFUL_EN = re.compile(
    r"\b(not helpful|unhelpful|(did ?n[o']?t|does ?n[o']?t|did not|does not|not) (help|answer)"
    r"|useless|not what i (asked|meant|need(ed)?)|(that'?s|that is|this is) (wrong|not it|not right)"
    r"|wrong answer)\b", re.IGNORECASE)
UNHELPFUL_BARE = frozenset({"no", "nope", "nah", "wrong", "no it didnt", "不", "不是", "没有"})


def _plain(text: str) -> str:
    """Lower case, compatibility forms folded (full-width letters), curly quotes straight."""
    return unicodedata.normalize("NFKC", text).replace("\u2019", "'").lower().strip()


def asks_for_person(text: str, extra: Iterable[str] = ()) -> bool:
    """Whether the customer asks for a person (the hub's phrases, then the tenant's)."""
    plain = _plain(text)
    zh = functools.reduce(lambda rest, word: rest.replace(word, " "), NOT_PERSON_ZH, plain)
    if any(phrase in zh for phrase in PERSON_ZH) or PERSON_EN.search(plain):
        return True
    return any(_phrase_in(_plain(phrase), plain) for phrase in extra if phrase.strip())


def _phrase_in(phrase: str, text: str) -> bool:
    if phrase.isascii():  # a word or words: whole words only ("agent" is not in "reagent")
        return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None
    return phrase in text


def says_unhelpful(text: str) -> bool:
    """Whether the customer says the previous answer did not help."""
    plain = _plain(text)
    bare = re.sub(r"[\s\W_]+", " ", plain).strip()
    if bare in UNHELPFUL_BARE:
        return True
    return any(phrase in plain for phrase in UNHELPFUL_ZH) or UNHELPFUL_EN.search(plain) is not None


def decisions(history: Sequence[dict[str, Any]], *, skip_message: str | None = None) -> list[dict[str, Any]]:
    """The assistant's decisions in the ticket's history, oldest first; ``skip_message``:
    leave out those made about that message (a redelivered job decides it again)."""
    own = f"assistant:{skip_message}:" if skip_message else None
    return [entry for entry in history if entry.get("event") in DECISIONS
            and not (own and str(entry.get("cause", "")).startswith(own))]


def strikes(history: Sequence[dict[str, Any]], *, skip_message: str | None = None, complaining: bool = False) -> int:
    """Unhelpful turns in a row up to now (see the module's docstring). ``complaining``: the
    message being decided says the latest answer did not help (that answer is its turn)."""
    count, complained = 0, complaining
    for entry in reversed(decisions(history, skip_message=skip_message)):
        event, detail = entry.get("event"), entry.get("detail") or {}
        if event == FEEDBACK and not detail.get("helpful"):
            count, complained = count + 1, True  # that answer did not help: one strike for the turn
        elif event == UNSURE:
            count, complained = count + 1, False
        elif event == ANSWERED and complained:
            complained = False  # the answer the complaint was about
        else:  # an answer taken without complaint, a helpful one, a hand-off
            break
    return count


def last_intent(history: Sequence[dict[str, Any]]) -> str | None:
    """The intent the assistant detected last (a hand-off on request files the ticket under it)."""
    for entry in reversed(decisions(history)):
        intent = (entry.get("detail") or {}).get("intent")
        if intent:
            return str(intent)
    return None


def last_answer(history: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The assistant's latest decision, if it was an answer (what a complaint is about)."""
    found = decisions(history)
    return found[-1] if found and found[-1].get("event") == ANSWERED else None
