"""The email channel's parsers cost time linear in hostile input.

Each case runs one parser on a hostile-shaped input of size n and of size 4n in the
same run and compares the CPU time (``time.process_time``, best of five tries: the
other core's load does not count). Linear work gives a ratio near 4, quadratic 16;
the bound, 8, never depends on how fast the machine is. CPU time, not a count of
Python calls: the defects these cases reproduce were string copies and regex
backtracking inside single calls (the stdlib's header parser made the same number
of calls per byte at 1,000 ``;`` as at 4,000 while taking 5x longer per byte).

Every shape is one that was super-linear before (Mailgun form: 60,000 ``;`` in a
part header took 43 s unsigned; MIME: 20,000 ``;`` in Content-Type 13 s; HTML:
40,000 ``<a x='`` 140 s; reply splitting: seconds per MB), or one found on the way.
"""
# ruff: noqa: RUF001 -- Chinese mail uses full-width punctuation on purpose

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from switchboard_plugins import email
from switchboard_plugins.email.config import EmailConfig
from switchboard_plugins.email.mime import bounded_parameters
from switchboard_plugins.email.parse import parse_mime
from switchboard_plugins.email.signing import mailgun_signature
from switchboard_plugins.email.text import html_to_text, split_reply
from switchboard_sdk.errors import BadPayload, SwitchboardError, VerificationFailed
from switchboard_sdk.webhooks import WebhookRequest

LINEAR_BOUND = 8.0  # for 4x the input: linear ≈ 4, quadratic ≈ 16
NOW = datetime(2026, 1, 8, 12, 0, 0, tzinfo=UTC)
KEY = "key-cost-0123456789abcdef"
CONFIG = EmailConfig(mailgun_signing_key=KEY)  # type: ignore[arg-type]
BOUNDARY = "costboundary"


def _cpu_seconds(run: Callable[[], object], calls: int, tries: int = 5) -> float:
    best = float("inf")
    for _ in range(tries):
        start = time.process_time()
        for _ in range(calls):
            run()
        best = min(best, time.process_time() - start)
    return max(best, 1e-9)


def _ratio(small: Callable[[], object], large: Callable[[], object], *, tries: int = 5, floor: float = 0.02) -> float:
    """CPU(large) / CPU(small), each the best of ``tries``, with enough runs of the
    small case to take ``floor`` seconds (timer noise stays small)."""
    calls = 1
    while _cpu_seconds(small, calls, tries) < floor and calls < 4096:
        calls *= 2
    return _cpu_seconds(large, calls, tries) / _cpu_seconds(small, calls, tries)


def _outcome(run: Callable[[], object]) -> Callable[[], object]:
    """``run``, answering an SDK error as its value: refusing must be linear too."""

    def wrapped() -> object:
        try:
            return run()
        except SwitchboardError as err:
            return err

    return wrapped


# -- the inputs -------------------------------------------------------------------------


def _request(body: bytes, content_type: str) -> WebhookRequest:
    return WebhookRequest("t-cost", "email", "POST", "https://hub.example.com/hooks/t-cost/email",
                          {"content-type": content_type}, {}, body, NOW)


def _unsigned_disposition(n: int) -> WebhookRequest:
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="timestamp"'.encode() + b";" * n
    body = part + f"\r\n\r\n1\r\n--{BOUNDARY}--\r\n".encode()
    return _request(body, f"multipart/form-data; boundary={BOUNDARY}")


def _unsigned_parts(n: int) -> WebhookRequest:
    """Many parts, each with a header just under the part-header cap."""
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"'.encode() + b";" * 4000 + b"\r\n\r\nv\r\n"
    return _request(part * (n // 4000) + f"--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}")


def _unsigned_urlencoded(n: int) -> WebhookRequest:
    return _request(b"a=%25%26&" * (n // 9), "application/x-www-form-urlencoded")


def _mail(headers: str, body: bytes = b"hi\r\n") -> bytes:
    head = "From: Ada <ada@example.com>\r\nTo: support@acme.test\r\nSubject: s\r\nMessage-ID: <m@example.com>\r\n"
    return (head + headers).encode() + b"\r\n" + body


def _signed_mime(raw: bytes) -> WebhookRequest:
    stamp, token = str(int(NOW.timestamp())), "cost-token"
    fields = {"timestamp": stamp, "token": token, "signature": mailgun_signature(KEY, stamp, token)}
    chunks = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
              for k, v in fields.items()]
    chunks.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="body-mime"\r\n\r\n'.encode() + raw + b"\r\n")
    body = b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()
    return _request(body, f"multipart/form-data; boundary={BOUNDARY}")


def _signed_parsed(fields: dict[str, str]) -> WebhookRequest:
    stamp, token = str(int(NOW.timestamp())), "cost-token"
    all_fields = {"timestamp": stamp, "token": token, "signature": mailgun_signature(KEY, stamp, token), **fields}
    chunks = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
              for k, v in all_fields.items()]
    return _request(b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}")


def _verify(request: WebhookRequest) -> Callable[[], object]:
    return _outcome(lambda: email.plugin.switchboard_channel_verify(request=request, config=CONFIG))


def _parse(request: WebhookRequest) -> Callable[[], object]:
    return _outcome(lambda: email.plugin.switchboard_channel_parse(request=request, config=CONFIG))


def _parse_raw(raw: bytes) -> Callable[[], object]:
    return _outcome(lambda: parse_mime(raw, tenant_id="t-cost", received_at=NOW))


def _nested_multiparts(n: int) -> bytes:
    opens = "".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(40))
    body = (opens + "--b40\r\nContent-Type: text/plain\r\n\r\n").encode() + b"x\r\n" * (n // 3)
    return _mail("Content-Type: multipart/mixed; boundary=b0\r\n", body)


CASES: dict[str, Callable[[int], Callable[[], object]]] = {
    # unsigned: what anyone can make the hub do before its 401
    "form: ';' in one part's Content-Disposition": lambda n: _verify(_unsigned_disposition(n)),
    "form: parts with capped headers": lambda n: _verify(_unsigned_parts(n)),
    "form: urlencoded escapes": lambda n: _verify(_unsigned_urlencoded(n)),
    # signed (Mailgun's signature does not cover the body)
    "mime: ';' in Content-Type": lambda n: _parse(_signed_mime(_mail("Content-Type: text/plain" + ";" * n + "\r\n"))),
    "mime: '\";' in Content-Disposition": lambda n: _parse_raw(_mail(
        "Content-Type: multipart/mixed; boundary=z\r\n",
        b'--z\r\nContent-Disposition: attachment; filename="' + b';"' * (n // 2) + b"\r\n\r\nx\r\n--z--\r\n")),
    "mime: '(' in Content-Type": lambda n: _parse_raw(_mail("Content-Type: text/plain; (" + "(" * n + "\r\n")),
    "mime: '(' in From": lambda n: _parse_raw(b"From: " + b"(" * n + b" <a@b.c>\r\nSubject: s\r\n\r\nhi\r\n"),
    "mime: 40 nested multiparts": lambda n: _parse_raw(_nested_multiparts(n)),
    "mime: parameters": lambda n: _outcome(lambda: bounded_parameters("text/plain" + '; a="b;c' * (n // 8))),
    "html: <a x=' never closed": lambda n: _outcome(lambda: html_to_text("<a x='" * (n // 6))),
    "html: <![ if !mso]>": lambda n: _outcome(lambda: html_to_text("<![ if !mso]>" * (n // 13))),
    "html: blank paragraphs after a line of '> '": lambda n: _outcome(
        lambda: html_to_text("<p>" + "> " * (n // 4) + "<p>" * (n // 6))),
    "html: nested blockquotes": lambda n: _outcome(lambda: html_to_text("<blockquote>x" * (n // 13))),
    "html: long numeric references": lambda n: _outcome(lambda: html_to_text(("&#" + "1" * 5000 + " ") * (n // 5000))),
    "reply: 於…寫道 wrapped onto a line of ideographic spaces": lambda n: _outcome(
        lambda: split_reply(("hi\n" + "於" * 290 + "寫道\n：" + "\u3000" * 300 + "x\n") * (n // 600))),
    "reply: From followed by spaces": lambda n: _outcome(lambda: split_reply("hi\nFrom" + " " * n + "x")),
    "reply: 发件人 followed by ideographic spaces": lambda n: _outcome(
        lambda: split_reply(("hi\n发件人" + "\u3000" * 1000 + "x\n") * (n // 1000))),
    "mailgun: '[' in message-headers": lambda n: _parse(_signed_parsed({"message-headers": "[" * n})),
    "mailgun: '[' in content-id-map": lambda n: _parse(_signed_parsed({
        "message-headers": json.dumps([["From", "ada@example.com"], ["Subject", "s"]]), "content-id-map": "[" * n})),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_parser_cost_is_linear(case: str) -> None:
    n = 20_000
    small, large = CASES[case](n), CASES[case](4 * n)
    small(), large()  # warm up: lazy imports, regex caches
    ratio = _ratio(small, large)
    assert ratio < LINEAR_BOUND, f"{case}: 4x the input cost {ratio:.1f}x the CPU"


def test_the_unsigned_floods_are_refused_not_parsed() -> None:
    # what the cost cases above measure is the path to a 401, not a success
    for build in (_unsigned_disposition, _unsigned_parts, _unsigned_urlencoded):
        with pytest.raises(VerificationFailed):
            email.plugin.switchboard_channel_verify(request=build(80_000), config=CONFIG)


def test_the_signed_floods_parse_or_are_bad_payloads() -> None:
    (message,) = email.plugin.switchboard_channel_parse(
        request=_signed_mime(_mail("Content-Type: text/plain" + ";" * 80_000 + "\r\n")), config=CONFIG)
    assert message.text == "hi"
    for field in ("message-headers", "content-id-map"):
        fields = {"message-headers": json.dumps([["From", "ada@example.com"]]), field: "[" * 100_000}
        with pytest.raises(BadPayload, match="nested too deeply"):
            email.plugin.switchboard_channel_parse(request=_signed_parsed(fields), config=CONFIG)


# Reply splitting was linear before too, per line, but a crafted line cost thousands of
# times an ordinary one (~9 s per MB): compare with ordinary text of the same size.
CRAFTED_REPLY_BOUND = 100.0  # now 5-35x (a regex still scans a long run of spaces); was 750-2,800x
ORDINARY_REPLY = ("你好，我的订单还没有到。" * 80 + "\n") * 200
CRAFTED_REPLIES = {
    "发件人 and ideographic spaces": ("hi\n发件人" + "\u3000" * 1000 + "x\n") * 200,
    "於…寫道 wrapped onto ideographic spaces": ("hi\n" + "於" * 290 + "寫道\n：" + "\u3000" * 300 + "x\n") * 330,
    "From and spaces": ("hi\nFrom" + " " * 1000 + "x\n") * 200,
}


@pytest.mark.parametrize("case", sorted(CRAFTED_REPLIES))
def test_crafted_reply_text_costs_a_bounded_multiple_of_ordinary_text(case: str) -> None:
    crafted = CRAFTED_REPLIES[case]
    assert len(crafted.encode()) <= 1.1 * len(ORDINARY_REPLY.encode())
    # a 30x ratio needs no 5 tries of 20 ms to be told from 750x
    ratio = _ratio(lambda: split_reply(ORDINARY_REPLY), lambda: split_reply(crafted), tries=3, floor=0.01)
    assert ratio < CRAFTED_REPLY_BOUND, f"{case}: {ratio:.0f}x the CPU of ordinary text"
