"""Sender authenticity: each ingress path reads its own provider's SPF/DKIM/DMARC
verdict into ``sender_authenticated``, and only where the sender cannot have
written it. Also the Mailgun form parser's limits."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from switchboard_plugins.email.authenticity import aligned, authentication_results
from switchboard_plugins.email.parse import parse_mime
from switchboard_sdk.errors import BadPayload, VerificationFailed
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.webhooks import WebhookRequest
from test_email import (
    BOUNDARY,
    NOW,
    REPLY,
    Field,
    multipart,
    parse,
    parse_object,
    parsed_fields,
    request,
    signature_fields,
    stored,
    urlencoded,
    verify,
)

SES_STORED = (Path(__file__).parent / "vectors" / "email" / "mime" / "ses-stored.eml").read_bytes()


def ses(raw: bytes = SES_STORED) -> InboundMessage:
    (message,) = parse_object(stored(raw))
    return message


# -- SES ------------------------------------------------------------------------------------


def test_ses_dmarc_pass_authenticates() -> None:
    assert ses().sender_authenticated is True


def test_ses_dmarc_fail_does_not() -> None:
    assert ses(SES_STORED.replace(b"dmarc=pass", b"dmarc=fail")).sender_authenticated is False


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        # no DMARC policy: an aligned SPF or DKIM pass still proves the domain
        (b"spf=pass smtp.mailfrom=bounce@mail.example.com; dkim=none; dmarc=none", True),
        (b"spf=fail envelope-from=x@example.com; dkim=pass header.d=example.com; dmarc=none", True),
        (b"spf=pass envelope-from=x@mail.example.com; dkim=none; dmarc=none", True),
        # passes for someone else's domain are no proof of From
        (b"spf=pass envelope-from=mallory@evil.example; dkim=pass header.i=@evil.example; dmarc=none", False),
        (b"spf=softfail envelope-from=x@example.com; dkim=none; dmarc=none", False),
        (b"spf=pass (comment; with dmarc=pass inside) envelope-from=a@evil.example; dmarc=none", False),
    ],
)
def test_ses_without_dmarc_uses_aligned_spf_or_dkim(results: bytes, verdict: bool) -> None:
    head, _, rest = SES_STORED.partition(b"Authentication-Results:")
    _, _, tail = rest.partition(b"\nX-SES-RECEIPT")
    raw = head + b"Authentication-Results: amazonses.com; " + results + b";\nX-SES-RECEIPT" + tail
    assert ses(raw).sender_authenticated is verdict


def test_a_results_header_the_sender_wrote_is_ignored() -> None:
    # below SES's X-SES-RECEIPT everything is the sender's: a forged pass counts for nothing
    failing = SES_STORED.replace(b"dmarc=pass", b"dmarc=fail")
    forged = failing.replace(b"From: sender@example.com", b"Authentication-Results: amazonses.com; dmarc=pass\n"
                             b"From: sender@example.com")
    assert ses(forged).sender_authenticated is False
    # no SES block at all (not stored by SES): nothing to read
    assert ses(b"Authentication-Results: amazonses.com; dmarc=pass\n" + REPLY).sender_authenticated is None


def test_the_shared_parser_alone_says_nothing() -> None:
    assert parse_mime(SES_STORED, tenant_id="t-acme", received_at=NOW).sender_authenticated is None


def test_a_bounce_keeps_none() -> None:
    raw = (Path(__file__).parent / "vectors" / "email" / "mime" / "dsn-rfc822.eml").read_bytes()
    block = b"Authentication-Results: amazonses.com; dmarc=fail;\nX-SES-RECEIPT: AEFB\n"
    message = ses(block + raw)
    assert message.kind == "delivery_failure"
    assert message.sender_authenticated is None


def test_authentication_results_parsing() -> None:
    authserv, results = authentication_results(
        "mx.example.net (a (nested) comment); spf=pass smtp.mailfrom=a@b.example;"
        ' dkim=fail header.d="b.example"; dmarc=none header.from=b.example'
    )
    assert authserv == "mx.example.net"
    assert [(r.method, r.result) for r in results] == [("spf", "pass"), ("dkim", "fail"), ("dmarc", "none")]
    assert results[1].properties["header.d"] == "b.example"
    _, deep = authentication_results("x; spf=pass " + "(" * 100_000)
    assert [r.method for r in deep] == ["spf"]


@pytest.mark.parametrize(
    ("domain", "from_domain", "expected"),
    [
        ("example.com", "example.com", True),
        ("bounce.example.com", "example.com", True),
        ("example.com", "mail.example.com", True),
        ("evil.example", "example.com", False),
        ("notexample.com", "example.com", False),
        ("com", "example.com", False),
    ],
)
def test_relaxed_alignment(domain: str, from_domain: str, expected: bool) -> None:
    assert aligned(domain, from_domain) is expected


# -- Mailgun --------------------------------------------------------------------------------


def mailgun(extra: list[Field], *, raw: bytes = REPLY) -> InboundMessage:
    fields = [*signature_fields(), ("recipient", "support@acme.test"), *extra, ("body-mime", raw)]
    return parse(request(urlencoded(fields)))


@pytest.mark.parametrize(
    ("extra", "verdict"),
    [
        ([("sender", "ada@example.com"), ("X-Mailgun-Spf", "Pass")], True),
        ([("sender", "bounces+x@mail.example.com"), ("X-Mailgun-Spf", "Pass")], True),
        ([("sender", "mallory@evil.example"), ("X-Mailgun-Spf", "Pass")], False),
        ([("sender", "ada@example.com"), ("X-Mailgun-Spf", "SoftFail")], False),
        ([("sender", "ada@example.com"), ("X-Mailgun-Spf", "Neutral"), ("X-Mailgun-Dkim-Check-Result", "Fail")], False),
        ([("sender", "ada@example.com")], None),
    ],
)
def test_mailgun_spf_verdicts(extra: list[Field], verdict: bool | None) -> None:
    assert mailgun(extra).sender_authenticated is verdict


def test_mailgun_dkim_pass_needs_every_signature_aligned() -> None:
    signed = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; h=from; b=x\r\n" + REPLY
    extra: list[Field] = [("sender", "mallory@evil.example"), ("X-Mailgun-Dkim-Check-Result", "Pass")]
    assert mailgun(extra, raw=signed).sender_authenticated is True
    second = b"DKIM-Signature: v=1; d=evil.example; s=s1; b=y\r\n" + signed
    assert mailgun(extra, raw=second).sender_authenticated is False  # which signature passed? unknown
    assert mailgun(extra).sender_authenticated is False  # unsigned: a "Pass" about nothing


def test_a_forged_mailgun_header_that_disagrees_fails() -> None:
    forged = b"X-Mailgun-Spf: Pass\r\n" + REPLY
    extra: list[Field] = [("sender", "ada@example.com"), ("X-Mailgun-Spf", "Fail")]
    assert mailgun(extra, raw=forged).sender_authenticated is False


def test_the_parsed_format_reads_the_same_verdicts() -> None:
    fields = [*parsed_fields(), ("X-Mailgun-Spf", "Pass")]
    assert parse(request(urlencoded([*signature_fields(), *fields]))).sender_authenticated is True
    spoofed = [(n, "mallory@evil.example" if n == "sender" else v) for n, v in fields]
    assert parse(request(urlencoded([*signature_fields(), *spoofed]))).sender_authenticated is False


# -- the form parser ----------------------------------------------------------------------------


def test_the_first_value_of_a_repeated_field_wins() -> None:
    fields = [*signature_fields(), ("body-mime", REPLY), ("body-mime", b"From: x@y.z\r\n\r\nother")]
    for req in (request(urlencoded(fields)), request(multipart(fields), form="multipart")):
        assert parse(req).provider_message_id == "reply-1@example.com"


def test_a_base64_form_part_is_decoded() -> None:
    fields = _multipart_part("body-mime", base64.b64encode(REPLY), b"Content-Transfer-Encoding: base64\r\n")
    body = multipart(signature_fields())[: -len(f"--{BOUNDARY}--\r\n")] + fields + f"--{BOUNDARY}--\r\n".encode()
    assert parse(request(body, form="multipart")).text == "Yes, please refund it."


def _multipart_part(name: str, content: bytes, headers: bytes = b"") -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n'.encode()
    return head + headers + b"\r\n" + content + b"\r\n"


@pytest.mark.parametrize(
    "body",
    [
        urlencoded([(f"f{i}", "x") for i in range(500)]),
        b"".join(_multipart_part(f"f{i}", b"x") for i in range(500)) + f"--{BOUNDARY}--\r\n".encode(),
        _multipart_part("timestamp", b"1", b"X-Pad: " + b"a" * 10_000 + b"\r\n") + f"--{BOUNDARY}--\r\n".encode(),
        _multipart_part("timestamp", b"1", b"".join(b"X-%d: a\r\n" % i for i in range(20))),
    ],
    ids=["too many urlencoded fields", "too many parts", "a part header too long", "too many part headers"],
)
def test_forms_past_the_limits_fail_verification_and_parsing(body: bytes) -> None:
    form = "urlencoded" if not body.startswith(b"--") else "multipart"
    with pytest.raises(VerificationFailed):
        verify(request(body, form=form))
    with pytest.raises(BadPayload):
        parse(request(body, form=form))


def test_a_multipart_request_without_a_boundary_is_refused() -> None:
    req = WebhookRequest("t-acme", "email", "POST", "https://hub.example.com/hooks/t-acme/email",
                         {"content-type": "multipart/form-data"}, {}, multipart(signature_fields()), NOW)
    with pytest.raises(VerificationFailed):
        verify(req)


def test_a_malformed_content_id_map_is_a_bad_payload() -> None:
    fields = [*signature_fields(), *parsed_fields(), ("content-id-map", "{not json")]
    with pytest.raises(BadPayload, match="content-id-map"):
        parse(request(urlencoded(fields)))

