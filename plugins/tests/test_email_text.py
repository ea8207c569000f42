"""Reply vs quoted history, and HTML to text."""
# ruff: noqa: RUF001 -- Chinese mail uses full-width punctuation on purpose

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from switchboard_plugins.email.text import QUOTED_HISTORY_CAP, _is_attribution, html_to_text, split_reply

SPLITS = [
    (
        "gmail",
        "Thanks, that works.\n\nOn Tue, Jan 6, 2026 at 5:00 PM Acme Support <support@acme.test> wrote:\n> Try again?",
        "Thanks, that works.",
        "On Tue, Jan 6, 2026 at 5:00 PM Acme Support <support@acme.test> wrote:\n> Try again?",
    ),
    (
        "gmail wrapped attribution",
        "OK\n\nOn Tue, Jan 6, 2026 at 5:00 PM Acme Support <\nsupport@acme.test> wrote:\n\n> Try again?",
        "OK",
        "On Tue, Jan 6, 2026 at 5:00 PM Acme Support <\nsupport@acme.test> wrote:\n\n> Try again?",
    ),
    (
        "apple mail",
        "Sure.\n\n> On 6 Jan 2026, at 17:00, Acme <support@acme.test> wrote:\n> \n> Try again?",
        "Sure.",
        "> On 6 Jan 2026, at 17:00, Acme <support@acme.test> wrote:\n> \n> Try again?",
    ),
    (
        "outlook separator",
        "Please call me.\n\n-----Original Message-----\nFrom: Acme\nSent: Tuesday\nSubject: Re: order\n\nTry again?",
        "Please call me.",
        "-----Original Message-----\nFrom: Acme\nSent: Tuesday\nSubject: Re: order\n\nTry again?",
    ),
    (
        "outlook header block",
        "Done.\n\n________________________________\nFrom: Acme <support@acme.test>\nSent: Tuesday, January 6, 2026"
        "\nTo: Ada\nSubject: Re: order\n\nTry again?",
        "Done.",
        "________________________________\nFrom: Acme <support@acme.test>\nSent: Tuesday, January 6, 2026\nTo: Ada"
        "\nSubject: Re: order\n\nTry again?",
    ),
    (
        "outlook bold header without separator",
        "Done.\n\n*From:* Acme <support@acme.test>\n*Sent:* Tuesday\n*To:* Ada\n\nTry again?",
        "Done.",
        "*From:* Acme <support@acme.test>\n*Sent:* Tuesday\n*To:* Ada\n\nTry again?",
    ),
    (
        "chinese gmail",
        "好的，谢谢。\n\n在 2026年1月6日周二 17:00，Acme <support@acme.test> 写道：\n> 请再试一次？",
        "好的，谢谢。",
        "在 2026年1月6日周二 17:00，Acme <support@acme.test> 写道：\n> 请再试一次？",
    ),
    (
        "chinese outlook",
        "已收到\n\n"
        "发件人: Acme <support@acme.test>\n发送时间: 2026年1月6日 17:00\n收件人: 张三\n主题: 订单\n\n请再试一次",
        "已收到",
        "发件人: Acme <support@acme.test>\n发送时间: 2026年1月6日 17:00\n收件人: 张三\n主题: 订单\n\n请再试一次",
    ),
    (
        "foxmail",
        '收到\n\n------------------ 原始邮件 ------------------\n发件人: "Acme"<support@acme.test>;\n请再试一次',
        "收到",
        '------------------ 原始邮件 ------------------\n发件人: "Acme"<support@acme.test>;\n请再试一次',
    ),
    ("trailing > block", "Yes.\n\n> Shall we?\n> Thanks", "Yes.", "> Shall we?\n> Thanks"),
    (
        "interleaved answers stay visible",
        "> Order number?\n1042\n> Address?\nBerlin\n\n> Thanks, Acme",
        "> Order number?\n1042\n> Address?\nBerlin",
        "> Thanks, Acme",
    ),
    ("no history", "Just a question.\nSecond line.", "Just a question.\nSecond line.", ""),
    ("only history keeps the text", "> everything quoted\n> here", "> everything quoted\n> here", ""),
    (
        "'on' in ordinary prose is not a marker",
        "On Monday I wrote: a letter to you.\nPlease reply.",
        "On Monday I wrote: a letter to you.\nPlease reply.",
        "",
    ),
    (
        "german",
        "Danke.\n\nAm 06.01.2026 um 17:00 schrieb Acme <s@acme.test>:\n> Hallo",
        "Danke.",
        "Am 06.01.2026 um 17:00 schrieb Acme <s@acme.test>:\n> Hallo",
    ),
]


@pytest.mark.parametrize(("text", "visible", "history"), [s[1:] for s in SPLITS], ids=[s[0] for s in SPLITS])
def test_split_reply(text: str, visible: str, history: str) -> None:
    assert split_reply(text) == (visible, history)


def test_quoted_history_is_capped() -> None:
    visible, history = split_reply("Hi\n\n" + "> old\n" * 20_000)
    assert visible == "Hi"
    assert len(history) == QUOTED_HISTORY_CAP


HTML = [
    ("script and style dropped", "<style>a{}</style><p>x</p><script>alert(1)</script>", "x"),
    ("line breaks kept", "a<br>b<br/>c", "a\nb\nc"),
    ("paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo"),
    ("entities", "&lt;tag&gt; &amp; &nbsp;&copy;", "<tag> & ©"),
    ("whitespace collapsed", "<p>a   \n  b</p>", "a b"),
    ("pre keeps layout", "<pre>a\n  b</pre>", "a\n  b"),
    ("lists", "<ul><li>x</li><li>y</li></ul>", "- x\n- y"),
    ("table cells", "<table><tr><td>a</td><td>b</td></tr></table>", "a b"),
    ("blockquote quoted", "<p>yes</p><blockquote>old<br>older</blockquote>", "yes\n\n> old\n> older"),
    ("head and title dropped", "<html><head><title>T</title></head><body>b</body></html>", "b"),
    ("comments dropped", "a<!-- secret -->b", "ab"),
    ("unclosed tags", "<div><p>open <b>bold", "open bold"),
    ("script with html inside", "<script>document.write('<p>x</p>')</script>y", "y"),
    ("nested svg skipped", "<svg><svg><text>no</text></svg><text>no</text></svg>yes", "yes"),
    # what html.parser got wrong: AssertionError, ValueError, or a wrong reading
    ("mso conditional", "<![if !mso]><p>x</p><![endif]><!--[if mso]>no<![endif]-->", "x"),
    ("mso conditional with spaces", "<![ if !mso]>x<![ endif ]>", "x"),
    ("cdata outside svg is a bogus comment", "a<![CDATA[no]]>b", "ab"),
    ("decimal reference past 4,300 digits", "a&#" + "1" * 5000 + ";b", "a\ufffdb"),
    ("leading zeros", "&#0000000065;&#x0041;&#x110000;", "AA\ufffd"),
    ("legacy reference without ;", "&copy 2026 &ampx", "© 2026 &x"),
    ("unfinished attribute quote ends the input", "ok<a x='<p>lost", "ok"),
    ("> inside a quoted attribute", '<p title="a>b">t</p>', "t"),
    ("lone < is text", "1 < 2 <3 <", "1 < 2 <3 <"),
    ("textarea content is text", "<textarea><b>&lt;x</textarea>", "<b><x"),
    ("head left open ends at body", "<head><title>T</title><body>shown", "shown"),
    ("quote depth is capped", "<blockquote>" * 30 + "deep", "> " * 10 + "deep"),
    ("abrupt comments", "<!-->a<!--->b", "ab"),
]


@pytest.mark.parametrize(("html", "text"), [h[1:] for h in HTML], ids=[h[0] for h in HTML])
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


# The attribution pattern before it was rewritten as position checks: the reference.
_OLD_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\b.{0,300}\bwrote\s*:"
    r"|Le\b.{0,300}\ba\s+écrit\s*:"
    r"|Am\b.{0,300}\bschrieb\b.{0,100}:"
    r"|El\b.{0,300}\bescribió\s*:"
    r"|[在于].{0,300}写道\s*[:\uff1a]"
    r"|.{0,300}於.{0,300}寫道\s*[:\uff1a]"
    r")\s*$",
    re.IGNORECASE | re.DOTALL,
)
_PIECES = ["On", "ON ", "Le", "Am", "El", " ", "\u3000", "wrote", " a ", "écrit", "schrieb", "escribió", ":", "：",
           "在", "于", "写道", "於", "寫道", "x", "x" * 40, "x" * 150, "é", "\t"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=16).map("".join))
def test_attribution_checks_match_the_old_pattern(line: str) -> None:
    assert _is_attribution(line) == bool(_OLD_ATTRIBUTION.match(line))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500) | st.lists(st.sampled_from(["<", ">", "!", "[", "-", "'", '"', "=", "/", "&#", "a", ";"]),
                                        max_size=60).map("".join))
def test_text_functions_never_raise(value: str) -> None:
    assert isinstance(html_to_text(value), str)
    visible, history = split_reply(value)
    assert isinstance(visible, str)
    assert isinstance(history, str)
