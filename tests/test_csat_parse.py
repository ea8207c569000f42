# ruff: noqa: RUF001  (full-width and CJK punctuation: the replies customers write)
"""Survey replies as customers write them: scores, comments, quoted email history,
and the ambiguous ones that must not be recorded. Plus a linear-cost check."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from chalicelib.workflow.csat import (
    MAX_COMMENT,
    CsatAnswer,
    is_comment_follow_up,
    merge_comment,
    parse_answer,
    read_reply,
    strip_quoted,
)

GMAIL_QUOTE = ("\n\nOn Mon, Jan 6, 2025 at 10:04 AM Acme Support <support@acme.example> wrote:\n"
               "> How satisfied were you with our help? Reply with a number from 1 (poor) to 5 (excellent).\n>\n"
               "> Ticket 7HQ2 · order 123456\n")
GMAIL_WRAPPED = ("\n\nOn Mon, Jan 6, 2025 at 10:04 AM Acme Support <support@acme.example>\nwrote:\n"
                 "> Reply with a number from 1 (poor) to 5 (excellent).\n")
OUTLOOK_QUOTE = ("\r\n\r\n________________________________\r\nFrom: Acme Support <support@acme.example>\r\n"
                 "Sent: Monday, January 6, 2025 10:04\r\nSubject: Re: [#7HQ2] 1 to 5?\r\n\r\n"
                 "Reply with a number from 1 (poor) to 5 (excellent).\r\n")
ORIGINAL_MESSAGE = "\n-----Original Message-----\nFrom: support@acme.example\nRate us 1-5 please, 2024\n"
CHINESE_QUOTE = ("\n\n在 2025年1月6日 10:04，Acme 客服 <support@acme.example> 写道：\n"
                 "> 请为本次服务评分：回复 1（很差）到 5（很好）。\n")
QQ_QUOTE = "\n\n------------------ 原始邮件 ------------------\n发件人: \"Acme\"<support@acme.example>\n回复 1 到 5\n"

ANSWERS: list[tuple[str, int, str | None]] = [
    # bare digits and the ways around them
    ("1", 1, None), ("2", 2, None), ("3", 3, None), ("4", 4, None), ("5", 5, None),
    (" 5 ", 5, None), ("5.", 5, None), ("5!!!", 5, None), ("\"4\"", 4, None), ("**4**", 4, None),
    ("5\n", 5, None), ("5 👍", 5, None), ("1 (poor)", 1, "poor"),
    ("5, thanks a lot!", 5, "thanks a lot"), ("5 - quick and friendly", 5, "quick and friendly"),
    ("4\nThe agent was helpful but slow", 4, "The agent was helpful but slow"),
    ("Great service, 5", 5, "Great service"), ("Too slow: 2", 2, "Too slow"),
    # full-width, circled and keycap digits
    ("５", 5, None), ("４分", 4, None), ("②", 2, None), ("4️⃣", 4, None), ("5️⃣ 非常满意", 5, "非常满意"),
    # scales and markers
    ("4/5", 4, None), ("4 / 5", 4, None), ("4 out of 5", 4, None), ("5 of 5", 5, None),
    ("Score: 4", 4, None), ("score 3", 3, None), ("Rating: 4/5 - fast", 4, "fast"),
    ("I'd give it a 3 - slow response", 3, "slow response"), ("I’d give you 5", 5, None),
    ("I rate you 5 out of 5 👍", 5, None), ("We would rate it 2, nobody called back", 2, "nobody called back"),
    ("5 stars", 5, None), ("1 star. Never again.", 1, "Never again"), ("3 points", 3, None),
    ("5 stars, the agent was quick", 5, "the agent was quick"),
    # stars
    ("★★★★★", 5, None), ("⭐⭐⭐⭐", 4, None), ("★★★☆☆", 3, None), ("⭐️⭐️", 2, None),
    ("★ ★ ★ ★", 4, None), ("🌟🌟🌟🌟🌟 amazing", 5, "amazing"),
    # Chinese
    ("5分", 5, None), ("五", 5, None), ("五分", 5, None), ("五星", 5, None), ("一星", 1, None),
    ("两分", 2, None), ("三，客服态度还行", 3, "客服态度还行"), ("3，客服态度还行", 3, "客服态度还行"),
    ("给五星好评", 5, "好评"), ("打三分", 3, None), ("我给5分", 5, None), ("评分：4", 4, None),
    ("服务很好，5分", 5, "服务很好"), ("满意 5", 5, "满意"), ("5分，十分满意", 5, "十分满意"),
    ("一星都不想给，太慢了", 1, "都不想给，太慢了"),
    # email replies quoting the survey (numbers in the quote do not count)
    ("5" + GMAIL_QUOTE, 5, None), ("2, nobody answered my question" + GMAIL_QUOTE, 2, "nobody answered my question"),
    ("4" + GMAIL_WRAPPED, 4, None), ("3" + OUTLOOK_QUOTE, 3, None), ("1" + ORIGINAL_MESSAGE, 1, None),
    ("五分" + CHINESE_QUOTE, 5, None), ("4" + QQ_QUOTE, 4, None),
    ("5\n> How satisfied were you? 1 to 5", 5, None), ("5\n\nSent from my iPhone", 5, None),
    ("4\n-- \nJane Doe\n+1 415 555 0100", 4, None),
]

REFUSED: list[str] = [
    "3 or 4", "4-5", "4 to 5", "3~4", "3或4", "三四分", "4 or 5 stars", "5 ⭐⭐⭐",
    "10", "0", "6", "2024", "4.5", "10/10", "8/10", "3/10 stars", "0分", "六分", "10分", "6 stars",
    "+1 415 555 0100", "call me at 555-0100", "2024-05-01", "5 5",
    "2 items missing from order 12345", "3 days and still waiting",
    "☆☆☆☆☆", "★★★★★★", "Score: 12", "I'd give it a 7",
    "Rated 4, no wait, 2" + GMAIL_QUOTE,
]

NO_SCORE: list[str] = [
    "the agent was rude", "order 12345", "一般", "十分满意", "waited 3 days for a reply",
    "非常满意", "thanks!", "Where is my refund?" + GMAIL_QUOTE, "", "   ", "👍", "\n" + GMAIL_QUOTE,
]


@pytest.mark.parametrize(("text", "score", "comment"), ANSWERS)
def test_answers_are_read(text: str, score: int, comment: str | None) -> None:
    assert parse_answer(text) == CsatAnswer(score, comment)
    assert read_reply(text).kind == "answer"


@pytest.mark.parametrize("text", REFUSED)
def test_ambiguous_replies_are_refused(text: str) -> None:
    reading = read_reply(text)
    assert parse_answer(text) is None
    assert reading.kind == "ambiguous", reading


@pytest.mark.parametrize("text", NO_SCORE)
def test_replies_without_a_score(text: str) -> None:
    assert parse_answer(text) is None
    assert read_reply(text).kind in {"comment", "empty"}


def test_case_counts() -> None:
    assert len(ANSWERS) + len(REFUSED) + len(NO_SCORE) >= 60


def test_comment_follow_up_and_merge() -> None:
    assert is_comment_follow_up("the agent was rude")
    assert is_comment_follow_up("客服态度很差" + CHINESE_QUOTE)
    assert not is_comment_follow_up("4")
    assert not is_comment_follow_up("3 or 4")
    assert not is_comment_follow_up("👍")
    first = parse_answer("2")
    assert first == CsatAnswer(2, None)
    merged = merge_comment(first, "the agent was rude" + GMAIL_QUOTE)
    assert merged == CsatAnswer(2, "the agent was rude")
    assert merge_comment(merged, "and slow") == CsatAnswer(2, "the agent was rude\nand slow")
    assert merge_comment(merged, "   ") == merged
    assert len(merge_comment(merged, "x" * 5000).comment or "") == MAX_COMMENT


def test_long_comment_is_cut_not_refused() -> None:
    answer = parse_answer("4, " + "slow " * 2000)
    assert answer is not None
    assert answer.score == 4
    assert len(answer.comment or "") == MAX_COMMENT


def test_quoted_history_is_cut() -> None:
    assert strip_quoted("5" + GMAIL_QUOTE).strip() == "5"
    assert strip_quoted("4" + GMAIL_WRAPPED).strip() == "4"
    assert strip_quoted("no quote here") == "no quote here"


# -- cost: linear in the input ------------------------------------------------------

LINEAR_BOUND = 8.0  # 4x the input: linear ≈ 4, quadratic ≈ 16
SHAPES: dict[str, Callable[[int], str]] = {
    "digits and spaces": lambda n: "1 " * (n // 2),
    "chinese numerals": lambda n: "一二三四五" * (n // 5),
    "numerals without unit": lambda n: "五 " * (n // 2) + "x",
    "markers without numbers": lambda n: "give score rating " * (n // 18),
    "stars": lambda n: "★ ☆" * (n // 3),
    "number then spaces": lambda n: "5" + " " * n + "x",
    "punctuation": lambda n: "!" * n + "5" + "!" * n,
    "quote-like lines": lambda n: "wrote wrote\n" * (n // 12),
    "dashes": lambda n: "-" * n,
    "digit runs": lambda n: ("1234567890." * (n // 11)),
    "ranges": lambda n: "1-2 " * (n // 4),
    "emoji": lambda n: "😀" * n,
}


def _cpu(text: str) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        read_reply(text)
        best = min(best, time.process_time() - start)
    return max(best, 1e-6)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_reading_cost_is_linear(shape: str) -> None:
    build = SHAPES[shape]
    small, large = build(25_000), build(100_000)
    ratio = _cpu(large) / _cpu(small)
    assert ratio < LINEAR_BOUND, f"{shape}: 4x the input cost {ratio:.1f}x"
