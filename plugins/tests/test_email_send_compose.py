"""Email replies as RFC 5322 messages: headers, body, and threading back through the inbound parser."""

from __future__ import annotations

from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from email_replies import CONFIG, NOW, REF
from email_replies import outbound as email_reply
from switchboard_plugins.email.compose import ComposeError, compose, subject, thread_ids
from switchboard_plugins.email.config import EmailConfig
from switchboard_plugins.email.parse import parse_mime
from switchboard_plugins.email.threading import subject_refs
from switchboard_sdk.models import AttachmentRef, Identity, InboundMessage
from switchboard_sdk.sending import OutboundMessage, ReplyContext


def outbound(**overrides: Any) -> OutboundMessage:
    """A reply in a conversation with history (References) and two lines of text."""
    history = ReplyContext(provider_message_id="reply-1@example.com", received_at=NOW - timedelta(hours=1),
                           references=["out-41@acme.test", "first@example.com"])
    return email_reply(**{"text": "Hello Ada,\nthe refund is on its way.", "replying_to": history, **overrides})




def parsed(raw: bytes) -> EmailMessage:
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(mail, EmailMessage)
    return mail


def text_of(raw: bytes) -> str:
    return str(parsed(raw).get_content()).replace("\r\n", "\n")


def test_the_reply_carries_every_threading_header() -> None:
    mail = parsed(compose(outbound(), CONFIG, NOW).raw)
    assert mail["From"] == '"Grace (Acme Support)" <support@acme.test>'
    assert mail["To"] == "ada@example.com"
    assert mail["Reply-To"] == f"Acme Support <support+{REF}@acme.test>"
    assert mail["Subject"] == f"Re: Order 1042 [#{REF}]"
    assert mail["Message-ID"] == "<msg_01JREPLY@acme.test>"
    assert mail["In-Reply-To"] == "<reply-1@example.com>"
    assert mail["References"] == "<out-41@acme.test> <first@example.com> <reply-1@example.com>"
    assert mail["X-Switchboard-Ticket"] == REF
    assert mail["Date"].datetime == NOW
    assert mail.get_content_type() == "text/plain"
    assert text_of(compose(outbound(), CONFIG, NOW).raw) == "Hello Ada,\nthe refund is on its way.\n"


def test_the_raw_message_is_seven_bit_with_crlf_line_ends() -> None:
    raw = compose(outbound(text="Grüße, 您好 — " + "x" * 1200), CONFIG, NOW).raw
    assert raw.isascii()
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert text_of(raw) == "Grüße, 您好 — " + "x" * 1200 + "\n"


@pytest.mark.parametrize(
    ("ticket_subject", "expected"),
    [
        ("Order 1042", f"Re: Order 1042 [#{REF}]"),
        ("Re: RE: Order 1042", f"Re: Order 1042 [#{REF}]"),
        ("AW: Bestellung", f"Re: Bestellung [#{REF}]"),
        ("回复\uff1a订单", f"Re: 订单 [#{REF}]"),
        (f"[#{REF}] Order 1042", f"Re: [#{REF}] Order 1042"),
        ("", f"Re: Your request [#{REF}]"),
        ("two\r\nlines", f"Re: two lines [#{REF}]"),
    ],
)
def test_subject_has_one_re_and_one_tag(ticket_subject: str, expected: str) -> None:
    assert subject(outbound(subject=ticket_subject)) == expected
    assert subject_refs(expected) == [REF]  # the tag is the one threading reads


def test_subject_falls_back_to_the_customers_subject() -> None:
    context = ReplyContext(provider_message_id="r@x", received_at=NOW, subject="Where is my parcel?")
    assert subject(outbound(subject="", replying_to=context)) == f"Re: Where is my parcel? [#{REF}]"


def test_thread_ids_skip_fallback_ids_and_keep_the_chain_short() -> None:
    many = [f"m{i}@example.com" for i in range(40)]
    context = ReplyContext(provider_message_id="sha256:" + "0" * 64, received_at=NOW, references=many)
    parent, chain = thread_ids(outbound(replying_to=context))
    assert parent is None  # a mail without Message-ID: nothing to answer by id
    assert len(chain) == 20
    assert chain[0] == "m0@example.com"
    assert chain[-1] == "m39@example.com"
    assert thread_ids(outbound(replying_to=None)) == (None, [])


def test_a_first_message_has_no_in_reply_to_but_still_threads() -> None:
    mail = parsed(compose(outbound(replying_to=None), CONFIG, NOW).raw)
    assert "In-Reply-To" not in mail
    assert "References" not in mail
    assert mail["Reply-To"] == f"Acme Support <support+{REF}@acme.test>"


def test_names_cannot_write_headers() -> None:
    mail = parsed(compose(outbound(author_name="Eve\r\nBcc: spy@evil.test"), CONFIG, NOW).raw)
    assert "Bcc" not in mail
    assert mail["From"].addresses[0].addr_spec == "support@acme.test"


def test_an_international_domain_is_punycode_and_the_name_encoded() -> None:
    mail = parsed(compose(outbound(to=Identity(kind="email", value="ada@exämple.com"), author_name="Zoë"),
                          CONFIG, NOW).raw)
    assert mail["To"] == "ada@xn--exmple-cua.com"
    assert mail["From"].addresses[0].display_name == "Zoë (Acme Support)"


def test_attachments_are_listed_as_links() -> None:
    files = [AttachmentRef(url="https://files.acme.test/label.pdf", filename="label.pdf"),
             AttachmentRef(url="https://files.acme.test/x")]
    text = text_of(compose(outbound(attachments=files), CONFIG, NOW).raw)
    assert text.endswith("Attachments:\n- label.pdf: https://files.acme.test/label.pdf\n- https://files.acme.test/x\n")


@pytest.mark.parametrize(
    ("overrides", "config", "words"),
    [
        ({}, EmailConfig(), "no from_address"),
        ({"to": Identity(kind="phone", value="+14155550100")}, CONFIG, "no email address"),
        ({"to": Identity(kind="email", value="josé@example.com")}, CONFIG, "non-ASCII"),
        ({"to": Identity(kind="email", value="a b@example.com")}, CONFIG, "not a valid email address"),
        ({"attachments": [AttachmentRef(url="s3://bucket/key", filename="x.pdf")]}, CONFIG, "no web link"),
    ],
)
def test_unsendable_replies_say_why(overrides: dict[str, Any], config: EmailConfig, words: str) -> None:
    with pytest.raises(ComposeError, match=words):
        compose(outbound(**overrides), config, NOW)


def test_the_same_reply_composes_the_same_bytes() -> None:
    # a resend after a crash is the same mail: same Message-ID, same content
    assert compose(outbound(), CONFIG, NOW).raw == compose(outbound(), CONFIG, NOW).raw


# -- threading round trip ------------------------------------------------------------------


def customer_answer(reply: bytes, *, in_reply_to: str, text: str = "Thanks!") -> InboundMessage:
    """The customer's client answering ``reply`` (To the Reply-To, Re: the subject)."""
    ours = parsed(reply)
    raw = (
        "From: Ada <ada@example.com>\r\n"
        f"To: {ours['Reply-To']}\r\n"
        f"Subject: Re: {ours['Subject']}\r\n"
        "Message-ID: <answer-2@example.com>\r\n"
        f"In-Reply-To: <{in_reply_to}>\r\n"
        f"References: {ours['References']} <{in_reply_to}>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{text}\r\n"
    ).encode()
    return parse_mime(raw, tenant_id="t-acme", received_at=NOW, config=CONFIG)


def test_the_customers_answer_threads_back_to_the_ticket_and_the_reply() -> None:
    composed = compose(outbound(), CONFIG, NOW)
    answer = customer_answer(composed.raw, in_reply_to=composed.message_id)
    assert answer.thread.ticket_refs == [REF]  # plus-address and subject tag
    assert answer.thread.provider_ids[0] == composed.message_id  # what Mailgun keeps and send returns
    assert answer.customer is not None
    assert answer.customer.identities[0].value == "ada@example.com"


def test_an_answer_threads_even_when_ses_replaced_the_message_id() -> None:
    composed = compose(outbound(), CONFIG, NOW)
    ses_id = "0102019abc-def-000000@email.amazonses.com"  # the provider id send returns for SES
    answer = customer_answer(composed.raw, in_reply_to=ses_id)
    assert answer.thread.provider_ids[0] == ses_id
    assert answer.thread.ticket_refs == [REF]


def test_a_bounce_of_the_reply_names_it() -> None:
    composed = compose(outbound(), CONFIG, NOW)
    headers = composed.raw.split(b"\r\n\r\n", 1)[0].decode()
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: support@acme.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.com>\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; ada@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n{headers}\r\n--b--\r\n"
    ).encode()
    bounce = parse_mime(dsn, tenant_id="t-acme", received_at=NOW, config=CONFIG)
    assert bounce.kind == "delivery_failure"
    assert bounce.thread.provider_ids[0] == composed.message_id
    assert bounce.thread.ticket_refs == [REF]
    assert "5.1.1" in bounce.text


def test_a_spam_complaint_about_the_reply_is_a_delivery_failure() -> None:
    composed = compose(outbound(), CONFIG, NOW)
    arf = (
        "From: complaints@email-abuse.amazonses.com\r\nTo: support@acme.test\r\n"
        "Subject: Complaint\r\nMessage-ID: <arf-1@amazonses.com>\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n"
        "--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n"
        "--b\r\nContent-Type: message/rfc822\r\n\r\n" + composed.raw.decode() + "\r\n--b--\r\n"
    ).encode()
    complaint = parse_mime(arf, tenant_id="t-acme", received_at=NOW, config=CONFIG)
    assert complaint.kind == "delivery_failure"
    assert complaint.metadata["complaint"] == "true"
    assert complaint.thread.provider_ids[0] == composed.message_id
    assert "spam" in complaint.text
