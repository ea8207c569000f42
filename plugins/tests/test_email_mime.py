"""The shared MIME parser: charsets, bodies, attachments, ids, and malformed input."""
# ruff: noqa: RUF001 -- Chinese mail uses full-width punctuation on purpose

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from switchboard_plugins.email.config import EmailConfig
from switchboard_plugins.email.decoding import codec_for, decode_bytes, header_text
from switchboard_plugins.email.mime import (
    MAX_MULTIPARTS,
    MAX_PARAMETER_CHARS,
    MAX_PARAMETER_HEADER_CHARS,
    MAX_PARAMETERS,
    bounded_parameters,
)
from switchboard_plugins.email.parse import parse_mime
from switchboard_sdk.errors import BadPayload, SwitchboardError
from switchboard_sdk.models import InboundMessage

NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
MIME_DIR = Path(__file__).parent / "vectors" / "email" / "mime"


def mail(
    body: bytes = b"Hello",
    *,
    headers: str = "",
    content_type: str = "text/plain; charset=utf-8",
    cte: str = "8bit",
    base: str = "From: Ada <ada@example.com>\nTo: support@acme.test\nSubject: Hi\nMessage-ID: <m@example.com>\n",
) -> bytes:
    head = base + headers + f"MIME-Version: 1.0\nContent-Type: {content_type}\nContent-Transfer-Encoding: {cte}\n"
    return head.encode() + b"\n" + body


def parse(raw: bytes, **config: object) -> InboundMessage:
    return parse_mime(raw, tenant_id="t-acme", received_at=NOW, config=EmailConfig.model_validate(config))


# -- charsets ---------------------------------------------------------------------------------

SAMPLES = [
    ("utf-8", "Grüße, 你好, مرحبا"),
    ("gb2312", "您好，我的订单在哪里？"),
    ("gbk", "您好，訂單"),  # traditional characters: in GBK, not in GB2312
    ("gb18030", "您好 𠀀 㐀"),
    ("big5", "您好，我的訂單在哪裡？"),
    ("big5-hkscs", "香港 𨋢"),  # 𨋢 (lift) is an HKSCS character
    ("iso-2022-jp", "こんにちは、注文について"),
    ("shift_jis", "ありがとう"),
    ("euc-kr", "안녕하세요"),
    ("koi8-r", "Здравствуйте"),
    ("iso-8859-1", "Ça coûte 5 €?".replace("€", "")),
    ("windows-1252", "“smart quotes” – €"),
]
ENCODERS = {"big5": "big5hkscs", "gbk": "gb18030", "big5-hkscs": "big5hkscs"}


@pytest.mark.parametrize(("charset", "text"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_body_charsets(charset: str, text: str) -> None:
    encoded = text.encode(ENCODERS.get(charset, charset))
    assert parse(mail(encoded, content_type=f"text/plain; charset={charset}")).text == text
    b64 = base64.b64encode(encoded)
    assert parse(mail(b64, content_type=f'text/plain; charset="{charset}"', cte="base64")).text == text


@pytest.mark.parametrize(("charset", "text"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_rfc2047_header_charsets(charset: str, text: str) -> None:
    codec = ENCODERS.get(charset, charset)
    for encoding in ("b", "q"):
        payload = (
            base64.b64encode(text.encode(codec)).decode()
            if encoding == "b"
            else "".join(f"={b:02X}" for b in text.encode(codec))
        )
        word = f"=?{charset}?{encoding}?{payload}?="
        raw = mail(base=f"From: {word} <ada@example.com>\nSubject: {word}\nMessage-ID: <m@x>\n")
        message = parse(raw)
        assert message.subject == text
        assert message.customer is not None
        assert message.customer.display_name == text.strip()


def test_gb2312_label_with_gbk_only_characters_decodes_as_gb18030() -> None:
    text = "鎔鎔 — 镕"  # 鎔 is GBK-only
    word = "=?gb2312?B?" + base64.b64encode(text.encode("gb18030")).decode() + "?="
    message = parse(
        mail(
            text.encode("gb18030"),
            content_type="text/plain; charset=gb2312",
            base=f"From: a@b.example\nSubject: {word}\nMessage-ID: <m@x>\n",
        )
    )
    assert (message.subject, message.text) == (text, text)


def test_a_multibyte_character_split_across_two_encoded_words() -> None:
    data = "你好".encode()
    first, second = base64.b64encode(data[:4]).decode(), base64.b64encode(data[4:]).decode()
    assert header_text(f"=?utf-8?b?{first}?=\r\n =?utf-8?b?{second}?=") == "你好"


def test_raw_8bit_headers_in_utf8_and_gbk() -> None:
    for codec in ("utf-8", "gb18030"):
        raw = "From: 张三 <zhang@example.cn>\nSubject: 退款申请\nMessage-ID: <m@x>\n\n正文".encode(codec)
        message = parse(raw)
        assert (message.subject, message.customer.display_name if message.customer else None) == ("退款申请", "张三")


@pytest.mark.parametrize("charset", ["x-unknown-charset", "utf-99", "base64", "rot13", "undefined", "'\x00'"])
def test_unknown_or_hostile_charsets_decode_with_replacement(charset: str) -> None:
    message = parse(mail(b"caf\xc3\xa9 \xff!", content_type=f'text/plain; charset="{charset}"'))
    assert message.text == "café \ufffd!"
    assert codec_for(charset) == "utf-8"


def test_unknown_charset_in_an_encoded_word() -> None:
    assert header_text("=?x-klingon?q?caf=C3=A9_=FF?=") == "café \ufffd"


def test_decode_bytes_never_raises() -> None:
    assert decode_bytes(b"\xff\xfe\x00", "utf-16") == "\ufeff" or decode_bytes(b"\xff\xfe\x00", "utf-16")
    assert decode_bytes(b"\x1b$B", "iso-2022-jp") is not None


def test_rfc2231_filenames() -> None:
    body = (
        b"--b\nContent-Type: text/plain\n\nsee attached\n--b\n"
        b"Content-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8%20%E2%84%96%201.pdf\n"
        b"Content-Transfer-Encoding: base64\n\nJVBERg==\n--b\n"
        b"Content-Type: text/plain; name*0*=gb2312''%C4%E3%BA%C3; name*1=.txt\n"
        b"Content-Disposition: attachment; filename*0*=gb2312''%C4%E3%BA%C3; filename*1=.txt\n\nhi\n"
        b'--b\nContent-Type: image/png\nContent-Disposition: attachment; filename="=?utf-8?b?5Zu+54mHLnBuZw==?="\n'
        b"\npng\n--b--\n"
    )
    message = parse(mail(body, content_type='multipart/mixed; boundary="b"'))
    assert [a.filename for a in message.attachments] == ["发票 № 1.pdf", "你好.txt", "图片.png"]
    assert message.attachments[0].content == b"%PDF"
    assert message.text == "see attached"


# -- bodies -----------------------------------------------------------------------------------


def alternative(plain: str | None, html: str | None) -> bytes:
    parts = b""
    if plain is not None:
        parts += b"--alt\nContent-Type: text/plain; charset=utf-8\n\n" + plain.encode() + b"\n"
    if html is not None:
        parts += b"--alt\nContent-Type: text/html; charset=utf-8\n\n" + html.encode() + b"\n"
    return mail(parts + b"--alt--\n", content_type='multipart/alternative; boundary="alt"')


def test_alternative_prefers_text_plain() -> None:
    assert parse(alternative("plain words", "<p>html words</p>")).text == "plain words"
    assert parse(alternative("<html> first? no", "<p>html</p>")).text == "<html> first? no"


def test_alternative_with_blank_plain_falls_back_to_html() -> None:
    assert parse(alternative("  \n", "<p>only html</p>")).text == "only html"


def test_html_only_mail_is_converted_safely() -> None:
    html = (
        "<html><head><style>body{color:red}</style><script>steal()</script></head><body>"
        "<p>Dear team,</p><p>my parcel &amp; invoice<br>are missing.</p>"
        "<ul><li>order 1042</li><li>order 1043</li></ul><!-- a comment --></body></html>"
    )
    message = parse(mail(html.encode(), content_type="text/html; charset=utf-8"))
    assert message.text == "Dear team,\n\nmy parcel & invoice\nare missing.\n\n- order 1042\n- order 1043"
    assert "steal" not in message.text
    assert "color" not in message.text


def test_html_blockquote_history_is_split_off() -> None:
    html = (
        "<div>Sounds good.</div><div class=gmail_quote>On Tue, Jan 6, 2026 at 5:00 PM Acme wrote:"
        "<blockquote>Shall we refund?<br>Thanks</blockquote></div>"
    )
    message = parse(mail(html.encode(), content_type="text/html"))
    assert message.text == "Sounds good."
    assert (
        message.metadata["quoted_history"]
        == "On Tue, Jan 6, 2026 at 5:00 PM Acme wrote:\n\n> Shall we refund?\n> Thanks"
    )


def test_gmail_reply_with_inline_image_and_attachment() -> None:
    message = parse((MIME_DIR / "gmail-reply.eml").read_bytes())
    assert message.text == "收到，谢谢！图片在下面。"
    image, pdf = message.attachments
    assert (image.filename, image.content_type, image.inline) == ("photo.png", "image/png", True)
    assert image.content is not None
    assert image.content.startswith(b"\x89PNG")
    assert image.size_bytes == len(image.content)
    assert (pdf.filename, pdf.inline, pdf.content) == (
        "发票.pdf",
        False,
        b"%PDF-1.4\n%\xc3\xa4\xc3\xbc\xc3\xb6\xc3\x9f\n",
    )
    assert message.customer is not None
    assert message.customer.display_name == "张三"
    assert message.metadata["cc"] == "li.si@example.cn"
    assert message.sent_at == datetime(2026, 1, 8, 11, 22, 33, tzinfo=timezone(timedelta(hours=8)))


def test_inline_image_by_content_id_without_disposition() -> None:
    body = (
        b"--r\nContent-Type: text/html\n\n<p>see <img src=cid:x1></p>\n"
        b"--r\nContent-Type: image/gif\nContent-ID: <x1>\nContent-Transfer-Encoding: base64\n\nR0lGODlh\n--r--\n"
    )
    message = parse(mail(body, content_type='multipart/related; boundary="r"'))
    assert message.text == "see"
    (image,) = message.attachments
    assert (image.inline, image.filename, image.content) == (True, None, b"GIF89a")


def test_several_inline_text_parts_are_joined_in_order() -> None:
    body = (
        b"--m\nContent-Type: text/plain\n\npart one\n--m\nContent-Type: image/png\n"
        b"Content-Disposition: inline\n\npng\n--m\nContent-Type: text/plain\n\npart two\n--m--\n"
    )
    message = parse(mail(body, content_type='multipart/mixed; boundary="m"'))
    assert message.text == "part one\n\npart two"
    assert len(message.attachments) == 1


def test_a_forwarded_message_stays_an_attachment() -> None:
    inner = b"From: x@y.example\nSubject: inner\n\ninner body\n"
    body = b"--m\nContent-Type: text/plain\n\nFYI\n--m\nContent-Type: message/rfc822\n\n" + inner + b"--m--\n"
    message = parse(mail(body, content_type='multipart/mixed; boundary="m"'))
    assert message.text == "FYI"
    (forwarded,) = message.attachments
    assert (forwarded.content_type, forwarded.filename) == ("message/rfc822", "message.eml")
    assert forwarded.content is not None
    assert b"inner body" in forwarded.content


def test_large_attachments_keep_their_metadata_without_bytes() -> None:
    body = (
        b"--m\nContent-Type: text/plain\n\nbig file\n--m\nContent-Type: application/zip\n"
        b"Content-Disposition: attachment; filename=big.zip\n\n" + b"z" * 2048 + b"\n--m--\n"
    )
    raw = mail(body, content_type='multipart/mixed; boundary="m"')
    (kept,) = parse(raw).attachments
    (withheld,) = parse(raw, max_attachment_bytes=1024).attachments
    assert kept.content == b"z" * 2048
    assert (withheld.content, withheld.url, withheld.size_bytes, withheld.filename) == (
        None,
        "omitted:too-large",
        2048,
        "big.zip",
    )


def test_more_than_100_attachments_are_counted_not_lost_silently() -> None:
    parts = b"".join(
        b"--m\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=f%d.bin\n\nx\n" % i
        for i in range(105)
    )
    message = parse(mail(parts + b"--m--\n", content_type='multipart/mixed; boundary="m"'))
    assert len(message.attachments) == 100
    assert message.metadata["attachments_omitted"] == "5"


def test_very_long_text_is_truncated_and_flagged() -> None:
    message = parse(mail(b"a" * 150_000))
    assert len(message.text) == 100_000
    assert message.metadata["text_truncated"] == "true"


# -- identity, ids, dates ----------------------------------------------------------------------


def test_customer_is_from_not_reply_to() -> None:
    raw = mail(base="From: Ada <Ada@Example.com>\nReply-To: attacker@evil.example\nMessage-ID: <m@x>\n")
    message = parse(raw)
    assert message.customer is not None
    assert [i.value for i in message.customer.identities] == ["ada@example.com"]
    assert message.metadata["reply_to"] == "attacker@evil.example"


@pytest.mark.parametrize("sender", ["", "From: undisclosed\n", "From: <>\n", "From: a@b@c\n"])
def test_no_usable_from_is_a_bad_payload(sender: str) -> None:
    with pytest.raises(BadPayload, match="From"):
        parse(mail(base=sender + "Subject: s\nIn-Reply-To: <out-1@acme.test>\n"))


def test_message_id_without_brackets_and_with_junk() -> None:
    assert parse(mail(base="From: a@b.example\nMessage-ID:  <abc@host> (comment)\n")).provider_message_id == "abc@host"
    assert parse(mail(base="From: a@b.example\nMessage-ID: bare-id@host\n")).provider_message_id == "bare-id@host"


def test_missing_message_id_falls_back_to_a_stable_digest() -> None:
    base = "From: a@b.example\nTo: s@acme.test\nSubject: Hi\nDate: Thu, 8 Jan 2026 10:00:00 +0000\n"
    first = parse(mail(b"Hello  there", base=base))
    again = parse(mail(b"Hello there\n", base=base.replace("Subject: Hi", "Subject:  Hi")))
    other = parse(mail(b"Hello there, again", base=base))
    assert first.provider_message_id.startswith("sha256:")
    assert len(first.provider_message_id) == len("sha256:") + 64
    assert first.provider_message_id == again.provider_message_id != other.provider_message_id
    assert first.metadata["message_id"] == first.provider_message_id


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Thu, 8 Jan 2026 10:00:00 +0800", datetime(2026, 1, 8, 2, 0, tzinfo=UTC)),
        ("Thu, 8 Jan 2026 10:00:00 -0000", datetime(2026, 1, 8, 10, 0, tzinfo=UTC)),
        ("8 Jan 2026 10:00 GMT", datetime(2026, 1, 8, 10, 0, tzinfo=UTC)),
        ("yesterday", None),
        ("Thu, 99 Foo 2026 99:99:99 +9999", None),
    ],
)
def test_dates(date: str, expected: datetime | None) -> None:
    assert parse(mail(base=f"From: a@b.example\nDate: {date}\n")).sent_at == expected


# -- malformed MIME ----------------------------------------------------------------------------

GOOD_HEAD = "From: a@b.example\nSubject: s\nMessage-ID: <m@x>\n"
MALFORMED: list[tuple[str, bytes, str]] = [
    (
        "missing boundary",
        mail(b"--x\nContent-Type: text/plain\n\nhello\n--x--\n", content_type="multipart/mixed"),
        "hello",
    ),
    ("wrong boundary", mail(b"--y\n\nhello\n--y--\n", content_type='multipart/mixed; boundary="x"'), ""),
    ("bad base64", mail(b"aGVsbG8gd29ybGQ!!!@@@", cte="base64"), "hello world"),
    ("truncated base64", mail(b"aGVsbG8gd29y", cte="base64"), "hello wor"),
    (
        "truncated multipart",
        mail(b"--x\nContent-Type: text/plain\n\nhello wor", content_type='multipart/mixed; boundary="x"'),
        "hello wor",
    ),
    ("truncated headers", b"From: a@b.example\nSubject: cut he", ""),
    ("bad quoted-printable", mail(b"caf=C3=A9 =ZZ =", cte="quoted-printable"), "café =ZZ"),
    ("unknown encoding", mail(b"plain", cte="x-uuencode-ish"), "plain"),
    ("header without colon", b"From: a@b.example\nthis is not a header\nSubject: s\n\nbody", ""),
    ("nul bytes", mail(b"a\x00b"), "a\x00b"),
    ("cr only line endings", b"From: a@b.example\rSubject: s\r\rbody", ""),
    (
        "deep nesting",
        mail(
            b"--x\n" + b"Content-Type: multipart/mixed; boundary=x\n\n--x\n" * 60 + b"\nend\n",
            content_type='multipart/mixed; boundary="x"',
        ),
        "",
    ),
    ("param soup", mail(b"soup", content_type="text/plain; charset=\"; name*0*=''%; =;;; boundary"), "soup"),
    ("encoded word soup", mail(base="From: =?utf-8?b?=?= <a@b.example>\nSubject: =?=?=??==?utf-8?q?=?=\n"), ""),
]


@pytest.mark.parametrize(("raw", "expected"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_mime_parses_what_it_can(raw: bytes, expected: str) -> None:
    message = parse(raw)
    assert expected in message.text
    assert message.provider_message_id


@pytest.mark.parametrize("raw", [b"", b"   \n", b"\x00\x01\x02\x03", b"just some words", b"\n\nbody only"])
def test_what_is_not_mail_is_a_bad_payload(raw: bytes) -> None:
    with pytest.raises(BadPayload):
        parse(raw)


def test_defects_are_counted() -> None:
    assert int(parse(mail(b"aGVsbG8!", cte="base64")).metadata["mime_defects"]) >= 1
    assert "mime_defects" not in parse(mail()).metadata


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
SEEDS = [p.read_bytes() for p in sorted(MIME_DIR.glob("*.eml"))]


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_raise_only_sdk_errors(data: bytes) -> None:
    with contextlib.suppress(SwitchboardError):
        parse(data)


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), st.binary(max_size=12)), max_size=6),
)
def test_mutated_mime_raises_only_sdk_errors(seed: bytes, edits: list[tuple[float, int, bytes]]) -> None:
    data = bytearray(seed)
    for where, cut, insert in edits:
        at = int(where * len(data))
        data[at : at + cut] = insert
    with contextlib.suppress(SwitchboardError):
        parse(bytes(data))


@FUZZ
@given(value=st.text(max_size=200))
def test_header_text_never_raises(value: str) -> None:
    assert isinstance(header_text(value), str)


# -- MIME parameters in bounded shape -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "bounded"),
    [
        ("text/plain; charset=utf-8", "text/plain; charset=utf-8"),
        ("text/plain (a comment); ;; ;charset=\"utf-8\"", 'text/plain; charset="utf-8"'),
        ("text/plain" + ";" * 60_000, "text/plain"),
        ('attachment; filename="a;b.pdf"', "attachment; filename*=utf-8''a%3Bb.pdf"),
        ("", ""),
    ],
)
def test_parameter_headers_are_cut_to_a_bounded_shape(value: str, bounded: str) -> None:
    assert bounded_parameters(value) == bounded


def test_parameter_headers_keep_at_most_the_limits() -> None:
    many = bounded_parameters("text/plain; " + "; ".join(f"p{i}={'v' * 900}" for i in range(200)))
    assert many.count(";") <= MAX_PARAMETERS
    assert len(many) <= MAX_PARAMETER_HEADER_CHARS
    one = bounded_parameters('attachment; filename="' + "x" * 50_000)
    assert len(one) <= MAX_PARAMETER_CHARS + len("attachment; ")


def test_a_quoted_file_name_with_semicolons_survives_the_rewrite() -> None:
    body = (b'--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/pdf\n'
            b'Content-Disposition: attachment; filename="Rechnung; M\\"uller.pdf"\n\n%PDF\n--b--\n')
    message = parse(mail(body, content_type='multipart/mixed; boundary="b"'))
    assert [a.filename for a in message.attachments] == ['Rechnung; M"uller.pdf']


def test_a_content_type_of_20000_semicolons_reads_as_its_type() -> None:
    message = parse(mail(b"Hello", content_type="text/plain" + ";" * 20_000))
    assert message.text == "Hello"


def test_a_transfer_encoding_with_trailing_blanks_or_comments_still_decodes() -> None:
    for cte in ("base64 ", "base64 (sic)", "BASE64"):
        assert parse(mail(base64.b64encode(b"Hallo"), cte=cte)).text == "Hallo"


def test_multipart_declarations_past_the_limit_become_opaque_attachments() -> None:
    inner = "".join(
        f"--o\nContent-Type: multipart/mixed; boundary=i{i}\n\n--i{i}\nContent-Type: text/plain\n\nx\n--i{i}--\n"
        for i in range(MAX_MULTIPARTS + 5)
    )
    message = parse(mail((inner + "--o--\n").encode(), content_type="multipart/mixed; boundary=o"))
    opaque = [a for a in message.attachments if a.content_type == "x-multipart/mixed"]
    assert len(opaque) == 6  # the outer container is the first of the 32
    assert int(message.metadata["mime_defects"]) >= 6


def test_nested_comments_in_from_are_no_usable_address() -> None:
    raw = mail(base="From: " + "(" * 5000 + " <ada@example.com>\nSubject: Hi\n")
    with pytest.raises(BadPayload, match="no usable From"):
        parse(raw)
