"""Threading hints, bounces and auto-replies of the ``email`` channel."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from switchboard_plugins.email.config import EmailConfig
from switchboard_plugins.email.parse import parse_mime
from switchboard_plugins.email.threading import message_ids
from switchboard_sdk.errors import BadPayload
from switchboard_sdk.models import InboundMessage, ticket_ref

NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
MIME_DIR = Path(__file__).parent / "vectors" / "email" / "mime"
REF = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
REF2 = "ZYXWVUTSRQPONMLKJIHGFEDCBA"
REF3 = "AAAAAAAAAAAAAAAAAAAAAAAAAA"


def parse(headers: str, body: str = "Hello", **config: object) -> InboundMessage:
    raw = (headers + "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()
    return parse_mime(raw, tenant_id="t-acme", received_at=NOW, config=EmailConfig.model_validate(config))


def refs(headers: str, **config: object) -> list[str]:
    return parse("From: ada@example.com\nMessage-ID: <m@x>\n" + headers, **config).thread.ticket_refs


# -- ticket refs ------------------------------------------------------------------------------

REF_CASES = [
    ("plus address in To", f"To: Acme <support+{REF}@acme.test>\n", [REF]),
    ("lower-case token", f"To: support+{REF.lower()}@acme.test\n", [REF]),
    ("plus address in Cc", f"To: x@y.example\nCc: a@b.example, support+{REF}@acme.test\n", [REF]),
    ("Delivered-To", f"Delivered-To: support+{REF}@acme.test\n", [REF]),
    ("X-Original-To", f"X-Original-To: support+{REF}@acme.test\n", [REF]),
    ("not a ref", "To: support+newsletter@acme.test\n", []),
    ("wrong alphabet", "To: support+ABCDEFGHIJKLMNOPQRSTUVWXY1@acme.test\n", []),
    ("our header", f"X-Switchboard-Ticket: {REF}\n", [REF]),
    ("our header with a ticket id", f"X-Switchboard-Ticket: tkt_{REF.lower()}\n", [REF]),
    ("subject tag", f"Subject: Re: [#{REF}] Refund\n", [REF]),
    ("encoded subject tag", "Subject: =?utf-8?q?Re=3A_=5B#" + REF + "=5D_R=C3=BCckerstattung?=\n", [REF]),
    ("two subject tags", f"Subject: [#{REF}] and [#{REF2}]\n", [REF, REF2]),
    (
        "strongest first",
        f"Subject: [#{REF3}]\nX-Switchboard-Ticket: {REF2}\nTo: support+{REF}@acme.test\n",
        [REF, REF2, REF3],
    ),
    ("duplicates collapse", f"Subject: [#{REF}]\nX-Switchboard-Ticket: {REF}\nTo: support+{REF}@acme.test\n", [REF]),
    ("tag without hash", f"Subject: [{REF}]\n", []),
]


@pytest.mark.parametrize(("headers", "expected"), [c[1:] for c in REF_CASES], ids=[c[0] for c in REF_CASES])
def test_ticket_refs(headers: str, expected: list[str]) -> None:
    assert refs(headers) == expected


def test_envelope_recipient_counts_as_a_recipient() -> None:
    raw = b"From: ada@example.com\nTo: support@acme.test\nMessage-ID: <m@x>\n\nhi"
    message = parse_mime(raw, tenant_id="t", received_at=NOW, envelope_recipients=[f"support+{REF}@acme.test"])
    assert message.thread.ticket_refs == [REF]


def test_support_address_limits_plus_addresses_to_its_own() -> None:
    headers = f"To: sales+{REF}@acme.test, support+{REF2}@other.test, support+{REF3}@acme.test\n"
    assert refs(headers) == [REF, REF2, REF3]
    assert refs(headers, support_address="support@acme.test") == [REF3]


def test_refs_are_what_ticket_ref_issues() -> None:
    assert refs(f"Subject: [#{ticket_ref('tkt_' + REF.lower())}]\n") == [REF]


def test_a_strangers_mail_with_the_tag_still_yields_the_hint() -> None:
    # extraction only: the hub's sender check keeps a stranger out of the ticket
    message = parse(
        f"From: mallory@evil.example\nMessage-ID: <m@x>\nSubject: Re: [#{REF}] your refund\n"
        f"In-Reply-To: <out-42@acme.test>\n"
    )
    assert message.thread.ticket_refs == [REF]
    assert message.thread.provider_ids == ["out-42@acme.test"]
    assert message.customer is not None
    assert message.customer.identities[0].value == "mallory@evil.example"
    assert message.opens_ticket


# -- provider ids ----------------------------------------------------------------------------------

ID_CASES = [
    ("in-reply-to only", "In-Reply-To: <a@x>\n", ["a@x"]),
    ("references newest first", "References: <a@x> <b@x>\n <c@x>\n", ["c@x", "b@x", "a@x"]),
    ("in-reply-to then references", "In-Reply-To: <c@x>\nReferences: <a@x> <b@x> <c@x>\n", ["c@x", "b@x", "a@x"]),
    ("unbracketed in-reply-to", "In-Reply-To: c@x\n", ["c@x"]),
    ("comments around ids", "In-Reply-To: <c@x> (Ada's message of Tuesday)\n", ["c@x"]),
    ("none", "", []),
]


@pytest.mark.parametrize(("headers", "expected"), [c[1:] for c in ID_CASES], ids=[c[0] for c in ID_CASES])
def test_provider_ids(headers: str, expected: list[str]) -> None:
    assert parse("From: ada@example.com\nMessage-ID: <m@x>\n" + headers).thread.provider_ids == expected


def test_provider_ids_are_capped() -> None:
    references = " ".join(f"<r{i}@x>" for i in range(80))
    ids = parse(f"From: a@b.example\nReferences: {references}\n").thread.provider_ids
    assert len(ids) == 50
    assert ids[0] == "r79@x"


def test_message_ids_helper() -> None:
    assert message_ids("<a@x> junk <b@y>") == ["a@x", "b@y"]
    assert message_ids("two words") == []
    assert message_ids(None) == []
    assert message_ids("<" + "x" * 600 + "@y>") == []


def test_metadata_keeps_to_cc_message_id_in_reply_to() -> None:
    message = parse(
        "From: ada@example.com\nTo: =?utf-8?q?Acme_S=C3=BCd?= <s@acme.test>\nCc: b@x.example\n"
        "Message-ID: <m1@x>\nIn-Reply-To: <p@x>\n"
    )
    assert {k: message.metadata[k] for k in ("to", "cc", "message_id", "in_reply_to")} == {
        "to": "Acme Süd <s@acme.test>",
        "cc": "b@x.example",
        "message_id": "m1@x",
        "in_reply_to": "p@x",
    }


# -- bounces ---------------------------------------------------------------------------------------


def bounce(name: str, **config: object) -> InboundMessage:
    raw = (MIME_DIR / name).read_bytes()
    return parse_mime(raw, tenant_id="t-acme", received_at=NOW, config=EmailConfig.model_validate(config))


def test_dsn_with_the_original_message_attached() -> None:
    message = bounce("dsn-rfc822.eml")
    assert (message.kind, message.opens_ticket, message.customer) == ("delivery_failure", False, None)
    assert message.thread.provider_ids == ["out-42@acme.test"]
    assert message.thread.ticket_refs == [REF]
    assert message.text == (
        "Delivery failed for bob@example.net: status 5.1.1, smtp; 550 5.1.1 <bob@example.net>: "
        "Recipient address rejected: User unknown in local recipient table"
    )
    assert {k: message.metadata[k] for k in ("dsn_recipient", "dsn_status", "dsn_action", "original_message_id")} == {
        "dsn_recipient": "bob@example.net",
        "dsn_status": "5.1.1",
        "dsn_action": "failed",
        "original_message_id": "out-42@acme.test",
    }


def test_dsn_with_only_the_original_headers() -> None:
    message = bounce("dsn-headers.eml")
    assert message.kind == "delivery_failure"
    assert message.thread.provider_ids == ["out-77@acme.test"]
    assert message.thread.ticket_refs == [REF2]
    assert "carol@example.org" in message.text
    assert "5.4.1" in message.text


def test_legacy_bounce_quoting_the_original_inline() -> None:
    message = bounce("legacy-bounce.eml")
    assert (message.kind, message.customer, message.opens_ticket) == ("delivery_failure", None, False)
    assert message.thread.provider_ids == ["out-99@acme.test"]
    assert message.thread.ticket_refs == [REF]
    assert message.text.startswith("Delivery failed (no machine-readable report).")
    assert message.provider_message_id.startswith("sha256:")


def test_a_bounce_without_the_original_id_falls_back_to_its_own_references() -> None:
    message = parse(
        "From: MAILER-DAEMON@mx.example.net\nSubject: Undeliverable: hi\nMessage-ID: <d@x>\n"
        "In-Reply-To: <out-5@acme.test>\n",
        "Your message could not be delivered.",
    )
    assert (message.kind, message.customer) == ("delivery_failure", None)
    assert message.thread.provider_ids == ["out-5@acme.test"]


def test_a_bounce_naming_nothing_is_attributed_to_its_sender() -> None:
    message = parse(
        "From: MAILER-DAEMON@mx.example.net\nSubject: Mail delivery failed\nMessage-ID: <d@x>\n", "Something failed."
    )
    assert message.kind == "delivery_failure"
    assert message.customer is not None
    assert message.customer.identities[0].value == "mailer-daemon@mx.example.net"
    assert message.thread.provider_ids == []
    assert not message.opens_ticket


def test_a_bounce_naming_nothing_from_nobody_is_a_bad_payload() -> None:
    raw = (
        b"Return-Path: <>\nSubject: Delivery Status Notification (Failure)\nMessage-ID: <d@x>\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\n"
        b"Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@y.example\nAction: failed\n--b--\n"
    )
    with pytest.raises(BadPayload, match="bounce"):
        parse_mime(raw, tenant_id="t", received_at=NOW)


def test_a_customer_mentioning_delivery_failure_is_not_a_bounce() -> None:
    message = parse("From: ada@example.com\nSubject: Undelivered parcel!\nMessage-ID: <m@x>\n")
    assert (message.kind, message.opens_ticket) == ("message", True)


# -- auto-replies ------------------------------------------------------------------------------------

AUTO = [
    ("Auto-Submitted: auto-replied\n", True),
    ("Auto-Submitted: auto-generated; type=vacation\n", True),
    ("Auto-Submitted: no\n", False),
    ("X-Autoreply: yes\n", True),
    ("X-Autorespond: Out of office\n", True),
    ("Precedence: bulk\n", True),
    ("Precedence: junk\n", True),
    ("Precedence: auto_reply\n", True),
    ("Precedence: list\n", False),
    ("X-Auto-Response-Suppress: All\n", True),
    ("X-Auto-Response-Suppress: DR, OOF, AutoReply\n", False),
    ("", False),
]


@pytest.mark.parametrize(("header", "auto"), AUTO, ids=[a[0].strip() or "none" for a in AUTO])
def test_auto_replies_open_no_ticket(header: str, auto: bool) -> None:
    message = parse(
        f"From: ada@example.com\nMessage-ID: <m@x>\nSubject: Out of office\n{header}In-Reply-To: <out-1@acme.test>\n"
    )
    assert message.opens_ticket is not auto
    assert (message.metadata.get("auto_reply") == "true") is auto
    assert message.kind == "message"
    assert message.customer is not None
    assert message.thread.provider_ids == ["out-1@acme.test"]
