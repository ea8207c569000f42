"""The ``email`` channel: conformance, Mailgun verification and forms, SES objects, answers."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from pydantic import BaseModel, ValidationError
from switchboard_plugins import email
from switchboard_plugins.email.config import DEFAULT_TOLERANCE_SECONDS, EmailConfig
from switchboard_plugins.email.parse import parse_mime
from switchboard_plugins.email.signing import mailgun_signature
from switchboard_sdk.errors import BadPayload, PluginConfigError, VerificationFailed
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.testing import ChannelConformance
from switchboard_sdk.webhooks import IngestReport, StoredObject, WebhookRequest

VECTORS = Path(__file__).parent / "vectors" / "email"
NOW = datetime(2026, 1, 8, 12, 0, 0, tzinfo=UTC)
KEY = "key-test-signing-0123456789abcdef"
REF = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TOKEN = "7VwW7k6Ak7zcTwoSoNm7aTtbk1g67MKAnsYLfUB7PdszbgR5Xi"  # noqa: S105 -- the Rails vector's Mailgun token, not a secret

REPLY = (
    "From: Ada Lovelace <ada@example.com>\r\n"
    f"To: Acme <support+{REF}@acme.test>\r\n"
    f"Subject: Re: [#{REF}] Order 1042\r\n"
    "Date: Thu, 8 Jan 2026 11:59:00 +0000\r\n"
    "Message-ID: <reply-1@example.com>\r\n"
    "In-Reply-To: <out-42@acme.test>\r\n"
    "References: <out-41@acme.test> <out-42@acme.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Yes, please refund it.\r\n"
    "\r\n"
    "On Wed, Jan 7, 2026 at 9:00 AM Acme <support@acme.test> wrote:\r\n"
    "> Shall we refund order 1042?\r\n"
).encode()


def config(**overrides: Any) -> EmailConfig:
    return EmailConfig.model_validate({"mailgun_signing_key": KEY, **overrides})


# -- building Mailgun requests ------------------------------------------------------------

Field = tuple[str, bytes | str]
Upload = tuple[str, str, str, bytes]  # field name, filename, content type, content


def signature_fields(*, key: str = KEY, timestamp: datetime = NOW, token: str = TOKEN) -> list[Field]:
    stamp = str(int(timestamp.timestamp()))
    # timestamp first: the conformance suite flips the body's first byte
    return [("timestamp", stamp), ("token", token), ("signature", mailgun_signature(key, stamp, token))]


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def urlencoded(fields: list[Field]) -> bytes:
    return b"&".join(
        quote_from_bytes(n.encode()).encode() + b"=" + quote_from_bytes(_bytes(v)).encode() for n, v in fields
    )


BOUNDARY = "----sbtestboundary7MA4YWxkTrZu0gW"


def multipart(fields: list[Field], uploads: list[Upload] = ()) -> bytes:  # type: ignore[assignment]
    chunks = []
    for name, value in fields:
        chunks.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + _bytes(value) + b"\r\n"
        )
    for name, filename, ctype, content in uploads:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        )
        chunks.append(head.encode() + content + b"\r\n")
    return b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()


def request(
    body: bytes,
    *,
    form: str = "urlencoded",
    received_at: datetime = NOW,
    url: str = "https://hub.example.com/hooks/t-acme/email",
) -> WebhookRequest:
    ctype = "application/x-www-form-urlencoded" if form == "urlencoded" else f"multipart/form-data; boundary={BOUNDARY}"
    return WebhookRequest(
        tenant_id="t-acme",
        channel="email",
        method="POST",
        public_url=url,
        headers={"content-type": ctype},
        query={},
        body=body,
        received_at=received_at,
    )


def parsed_fields(raw: bytes = REPLY) -> list[Field]:
    """What a fully-parsed route POST carries for ``raw`` (a text/plain message)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = [line.split(": ", 1) for line in head.decode().split("\r\n")]
    return [
        ("recipient", f"support+{REF}@acme.test"),
        ("sender", "ada@example.com"),
        ("from", "Ada Lovelace <ada@example.com>"),
        ("subject", f"Re: [#{REF}] Order 1042"),
        ("body-plain", body.decode()),
        ("stripped-text", "Yes, please refund it."),
        ("message-headers", json.dumps(headers)),
    ]


def mime_request(raw: bytes = REPLY, *, form: str = "urlencoded") -> WebhookRequest:
    fields = [*signature_fields(), ("recipient", f"support+{REF}@acme.test"), ("body-mime", raw)]
    return request(urlencoded(fields) if form == "urlencoded" else multipart(fields), form=form)


def parsed_request(fields: list[Field] | None = None, uploads: list[Upload] | None = None) -> WebhookRequest:
    all_fields = [*signature_fields(), *(fields if fields is not None else parsed_fields())]
    if uploads is None:
        return request(urlencoded(all_fields))
    return request(multipart([*all_fields, ("attachment-count", str(len(uploads)))], uploads), form="multipart")


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"
_UNSIGNED: dict[bytes, bytes] = {}


def _strip_signature(fields: list[Field]) -> list[Field]:
    return [(n, v) for n, v in fields if n != "signature"]


def conformance_requests() -> list[WebhookRequest]:
    base = [*signature_fields(), *parsed_fields()]
    with_file = [*base, ("attachment-count", "1")]
    uploads: list[Upload] = [("attachment-1", "invoice.pdf", "application/pdf", PDF)]
    mime_fields = [*signature_fields(), ("recipient", f"support+{REF}@acme.test"), ("body-mime", REPLY)]
    built = [
        (urlencoded(base), urlencoded(_strip_signature(base)), "urlencoded"),
        (multipart(with_file, uploads), multipart(_strip_signature(with_file), uploads), "multipart"),
        (multipart(mime_fields), multipart(_strip_signature(mime_fields)), "multipart"),
        (urlencoded(mime_fields), urlencoded(_strip_signature(mime_fields)), "urlencoded"),
    ]
    for signed, unsigned, _ in built:
        _UNSIGNED[signed] = unsigned
    return [request(signed, form=form) for signed, _, form in built]


class TestEmailConformance(ChannelConformance):
    plugin = email.plugin

    def make_config(self) -> BaseModel:
        return config()

    def signed_requests(self, config: BaseModel) -> list[WebhookRequest]:
        return conformance_requests()

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        return replace(request, body=_UNSIGNED[request.body])


def parse(req: WebhookRequest, cfg: EmailConfig | None = None) -> InboundMessage:
    (message,) = email.plugin.switchboard_channel_parse(request=req, config=cfg or config())
    return message


def verify(req: WebhookRequest, cfg: EmailConfig | None = None) -> bool:
    return bool(email.plugin.switchboard_channel_verify(request=req, config=cfg or config()))


# -- wiring -------------------------------------------------------------------------------


def test_the_hub_wrappers_verify_parse_and_answer() -> None:
    registry = build_plugin_manager(extra_plugins=[email.plugin], load_entry_points=False)
    info = registry.info("email", "channel")
    assert info is not None
    assert info.config_model is EmailConfig
    cfg = registry.validate_config("email", {"mailgun_signing_key": KEY})
    req = mime_request()
    registry.verify("email", req, cfg)
    (message,) = registry.parse("email", req, cfg)
    assert message.provider_message_id == "reply-1@example.com"


def test_has_no_handshake() -> None:
    registry = build_plugin_manager(extra_plugins=[email.plugin], load_entry_points=False)
    assert registry.handshake("email", replace(mime_request(), method="GET", body=b""), config()) is None


# -- signature vectors --------------------------------------------------------------------

SIGNATURE_CASES = json.loads((VECTORS / "mailgun" / "signature_vectors.json").read_text())["cases"]


@pytest.mark.parametrize("case", SIGNATURE_CASES, ids=[c["signing_key"][:8] for c in SIGNATURE_CASES])
def test_signature_vectors(case: dict[str, Any]) -> None:
    assert mailgun_signature(case["signing_key"], case["timestamp"], case["token"]) == case["expected_signature"]


def _vector_request(case: dict[str, Any], *, token: str, signature: str, at: datetime) -> WebhookRequest:
    fields = [("timestamp", case["timestamp"]), ("token", token), ("signature", signature), *parsed_fields()]
    return request(urlencoded(fields), received_at=at)


@pytest.mark.parametrize("case", SIGNATURE_CASES, ids=[c["signing_key"][:8] for c in SIGNATURE_CASES])
def test_signature_vectors_verify_through_the_hook(case: dict[str, Any]) -> None:
    at = datetime.fromtimestamp(int(case["timestamp"]), UTC)
    cfg = config(mailgun_signing_key=case["signing_key"])
    assert verify(_vector_request(case, token=case["token"], signature=case["expected_signature"], at=at), cfg)
    if negative := case.get("negative"):
        with pytest.raises(VerificationFailed):
            verify(_vector_request(case, token=negative["token"], signature=negative["signature"], at=at), cfg)


def test_rails_freshness_vector_with_rails_two_minute_window() -> None:
    (case,) = [c for c in SIGNATURE_CASES if "negative" in c]
    accepted_at = datetime.fromtimestamp(1539112500, UTC)
    rejected_at = accepted_at + timedelta(minutes=11)  # 15:15 → 15:26 EDT
    cfg = config(mailgun_signing_key=case["signing_key"], tolerance_seconds=120)
    sign = {"token": case["token"], "signature": case["expected_signature"]}
    assert verify(_vector_request(case, at=accepted_at, **sign), cfg)
    with pytest.raises(VerificationFailed, match="replay window"):
        verify(_vector_request(case, at=rejected_at, **sign), cfg)


# -- verification -------------------------------------------------------------------------


def test_a_retry_eight_hours_later_is_accepted_by_default() -> None:
    # Mailgun retries for ~8 h with the original timestamp/token/signature
    late = replace(mime_request(), received_at=NOW + timedelta(hours=8, minutes=5))
    assert verify(late)
    assert DEFAULT_TOLERANCE_SECONDS == 9 * 3600


@pytest.mark.parametrize("skew", [timedelta(hours=9, seconds=1), timedelta(minutes=-6)])
def test_timestamps_outside_the_window_fail(skew: timedelta) -> None:
    with pytest.raises(VerificationFailed):
        verify(replace(mime_request(), received_at=NOW + skew))


def test_small_clock_drift_into_the_future_is_tolerated() -> None:
    assert verify(replace(mime_request(), received_at=NOW - timedelta(minutes=4)))


def test_no_signing_key_fails_closed() -> None:
    with pytest.raises(VerificationFailed, match="no Mailgun signing key"):
        verify(mime_request(), EmailConfig())


def test_another_key_fails() -> None:
    with pytest.raises(VerificationFailed, match="signature mismatch"):
        verify(mime_request(), config(mailgun_signing_key="key-of-another-account"))


@pytest.mark.parametrize("missing", ["timestamp", "token", "signature"])
def test_a_missing_field_fails(missing: str) -> None:
    fields = [(n, v) for n, v in [*signature_fields(), *parsed_fields()] if n != missing]
    with pytest.raises(VerificationFailed, match=missing):
        verify(request(urlencoded(fields)))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timestamp", "9" * 40),
        ("timestamp", "-5"),
        ("timestamp", "1e9"),
        ("timestamp", "١٢٣"),
        ("signature", "zz" * 32),
        ("signature", "ab"),
        ("token", ""),
        ("token", "x" * 300),
    ],
)
def test_malformed_fields_fail_cleanly(name: str, value: str) -> None:
    fields = [(n, value if n == name else v) for n, v in [*signature_fields(), *parsed_fields()]]
    with pytest.raises(VerificationFailed):
        verify(request(urlencoded(fields)))


def test_upper_case_hex_signature_verifies() -> None:
    fields = [(n, v.upper() if n == "signature" and isinstance(v, str) else v) for n, v in signature_fields()]
    assert verify(request(urlencoded([*fields, *parsed_fields()])))


def test_a_foreign_config_is_a_plugin_error() -> None:
    class Other(BaseModel):
        mailgun_signing_key: str = KEY

    hooks = (
        email.plugin.switchboard_channel_verify,
        email.plugin.switchboard_channel_parse,
        email.plugin.switchboard_channel_replay_key,
    )
    for hook in hooks:
        with pytest.raises(PluginConfigError):
            hook(request=mime_request(), config=Other())


def test_replay_key_is_the_token() -> None:
    for req in conformance_requests():
        assert email.plugin.switchboard_channel_replay_key(request=req, config=config()) == TOKEN


def test_replay_key_is_none_without_a_token() -> None:
    req = request(urlencoded(parsed_fields()))
    assert email.plugin.switchboard_channel_replay_key(request=req, config=config()) is None


# -- the three POST shapes ------------------------------------------------------------------


def test_body_mime_urlencoded_and_multipart_parse_alike() -> None:
    first, second = parse(mime_request(form="urlencoded")), parse(mime_request(form="multipart"))
    assert first == second
    assert first.text == "Yes, please refund it."
    assert first.thread.ticket_refs == [REF]
    assert first.metadata["envelope_recipients"] == f"support+{REF}@acme.test"


def test_body_mime_keeps_8bit_bytes_of_another_charset() -> None:
    raw = REPLY.replace(b"charset=utf-8", b"charset=gbk").replace(b"Yes, please refund it.", "请退款。".encode("gbk"))
    assert parse(mime_request(raw)).text == "请退款。"
    assert parse(mime_request(raw, form="multipart")).text == "请退款。"


def test_fully_parsed_post_with_an_attachment_and_inline_image() -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    uploads: list[Upload] = [
        ("attachment-1", "invoice.pdf", "application/pdf", PDF),
        ("attachment-2", "logo.png", "image/png", png),
    ]
    cid_map = ("content-id-map", json.dumps({"<logo@x>": "attachment-2"}))
    message = parse(parsed_request([*parsed_fields(), cid_map], uploads))
    pdf, logo = message.attachments
    assert (pdf.filename, pdf.content_type, pdf.content, pdf.inline, pdf.size_bytes) == (
        "invoice.pdf",
        "application/pdf",
        PDF,
        False,
        len(PDF),
    )
    assert (logo.filename, logo.content, logo.inline) == ("logo.png", png, True)


def test_fully_parsed_html_only_uses_body_html() -> None:
    fields = [(n, v) for n, v in parsed_fields() if n not in ("body-plain", "message-headers")]
    headers = [
        ["From", "ada@example.com"],
        ["Subject", "hi"],
        ["Message-ID", "<h1@example.com>"],
        ["Content-Type", "text/html; charset=utf-8"],
    ]
    fields += [
        ("message-headers", json.dumps(headers)),
        ("body-plain", "Mailgun's own rendering"),
        ("body-html", "<p>Hello<br>there</p><script>x()</script>"),
    ]
    assert parse(parsed_request(fields)).text == "Hello\nthere"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([("message-headers", "{not json")], "not JSON"),
        ([("message-headers", '{"From": "a@b.c"}')], "not a JSON list"),
        ([("subject", "no headers, no mime")], "neither body-mime nor message-headers"),
        ([("body-mime", "hello")], "no mail headers"),
    ],
)
def test_unusable_posts_are_bad_payloads(fields: list[Field], message: str) -> None:
    with pytest.raises(BadPayload, match=message):
        parse(request(urlencoded([*signature_fields(), *fields])))


def test_a_json_tracking_webhook_is_refused() -> None:
    req = replace(mime_request(), headers={"content-type": "application/json"}, body=b'{"event-data": {}}')
    with pytest.raises(BadPayload, match="tracking"):
        parse(req)


def test_a_broken_multipart_body_fails_verification_not_the_server() -> None:
    req = replace(mime_request(form="multipart"), body=b"garbage without boundaries")
    with pytest.raises(VerificationFailed):
        verify(req)


# -- SES → S3 -------------------------------------------------------------------------------

SES_EVENT = json.loads((VECTORS / "aws-ses" / "ses-s3-event.json").read_text())["Records"][0]["ses"]


def stored(
    body: bytes, key: str = "inbound/t-acme/email/d6iitobk75ur44p8kdnnp7g2n800", metadata: dict[str, str] | None = None
) -> StoredObject:
    return StoredObject(
        tenant_id="t-acme",
        channel="email",
        bucket="hub-payloads",
        key=key,
        body=body,
        received_at=NOW,
        metadata=metadata or {},
    )


def parse_object(obj: StoredObject, cfg: EmailConfig | None = None) -> list[InboundMessage]:
    result = email.plugin.switchboard_channel_parse_object(obj=obj, config=cfg or config())
    assert isinstance(result, list)
    return result


def test_the_ses_event_names_bucket_and_key_the_hub_reads() -> None:
    action = SES_EVENT["receipt"]["action"]
    assert (action["type"], action["bucketName"], action["objectKey"]) == ("S3", "my-S3-bucket", "email")
    # SES stores the object as <prefix><SES message id>
    assert SES_EVENT["mail"]["messageId"] == "d6iitobk75ur44p8kdnnp7g2n800"


def test_ses_stored_mime_matches_the_event_headers() -> None:
    (message,) = parse_object(stored((VECTORS / "mime" / "ses-stored.eml").read_bytes()))
    common = SES_EVENT["mail"]["commonHeaders"]
    assert message.provider_message_id == common["messageId"].strip("<>")
    assert message.subject == common["subject"]
    assert message.customer is not None
    assert message.customer.identities[0].value == common["from"][0]
    assert message.sent_at == datetime(2015, 9, 11, 20, 32, 32, tzinfo=UTC)
    assert message.text == "Example content"
    assert message.raw_payload_ref == "s3://hub-payloads/inbound/t-acme/email/d6iitobk75ur44p8kdnnp7g2n800"
    assert {k: message.metadata[k] for k in ("ses_spam_verdict", "ses_virus_verdict", "dmarc", "auth_results_by")} == {
        "ses_spam_verdict": "PASS",
        "ses_virus_verdict": "PASS",
        "dmarc": "pass",
        "auth_results_by": "amazonses.com",
    }


def test_ses_virus_fail_withholds_attachment_bytes() -> None:
    raw = (VECTORS / "mime" / "gmail-reply.eml").read_bytes()
    (message,) = parse_object(stored(b"X-SES-Virus-Verdict: FAIL\r\n" + raw))
    assert message.attachments
    assert all(
        a.content is None and a.url == "omitted:virus-verdict-fail" and a.size_bytes for a in message.attachments
    )


def test_the_ses_setup_notification_is_nothing_to_store() -> None:
    assert parse_object(stored(b"anything", key="inbound/t-acme/email/AMAZON_SES_SETUP_NOTIFICATION")) == []


def test_kms_encrypted_objects_are_bad_payloads() -> None:
    obj = stored(b"\x00ciphertext", metadata={"x-amz-key-v2": "AQIDAHh...", "x-amz-cek-alg": "AES/GCM/NoPadding"})
    with pytest.raises(BadPayload, match="KMS"):
        parse_object(obj)


def test_garbage_objects_are_bad_payloads() -> None:
    for body in (b"", b"\x00\x01\x02 not mail", b"%PDF-1.4 binary"):
        with pytest.raises(BadPayload):
            parse_object(stored(body))


# -- both ingress paths agree -----------------------------------------------------------------


def _essence(message: InboundMessage) -> tuple[Any, ...]:
    return (
        message.provider_message_id,
        message.subject,
        message.text,
        message.thread,
        message.customer,
        message.kind,
        message.opens_ticket,
        message.sent_at,
        message.metadata.get("quoted_history"),
    )


def test_every_ingress_path_yields_the_same_message() -> None:
    (from_s3,) = parse_object(stored(REPLY))
    direct = parse_mime(REPLY, tenant_id="t-acme", received_at=NOW, envelope_recipients=[f"support+{REF}@acme.test"])
    paths = [parse(mime_request(form="urlencoded")), parse(mime_request(form="multipart")), parse(parsed_request())]
    for message in [direct, *paths]:
        assert _essence(message) == _essence(from_s3)
    assert from_s3.thread.ticket_refs == [REF]
    assert from_s3.thread.provider_ids == ["out-42@acme.test", "out-41@acme.test"]


# -- answers ------------------------------------------------------------------------------------


def respond(report: IngestReport) -> tuple[int, dict[str, Any], dict[str, str]]:
    answer = email.plugin.switchboard_channel_respond(request=mime_request(), config=config(), report=report)
    return answer.status_code, json.loads(answer.body), answer.headers


def test_stored_and_duplicate_get_the_same_answer() -> None:
    stored_answer = respond(IngestReport(stored=1, message_ids=("m1",)))
    assert stored_answer == respond(IngestReport(duplicates=1, message_ids=("m1",)))
    assert stored_answer == (200, {"status": "accepted"}, {"Content-Type": "application/json"})


def test_quarantine_is_a_200_so_mailgun_does_not_retry() -> None:
    status, body, _ = respond(IngestReport(quarantine_id="q1", quarantine_reason="no usable From"))
    assert status == 200
    assert body == {
        "status": "quarantined",
        "quarantine_id": "q1",
        "error": {"code": "bad_payload", "message": "no usable From"},
    }


# -- config ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"mailgun_signing_key": "   "},
        {"tolerance_seconds": 59},
        {"tolerance_seconds": 86_401},
        {"max_attachment_bytes": -1},
        {"support_address": "support+tag@acme.test"},
        {"support_address": "not-an-address"},
        {"support_address": "a@b@c"},
        {"signing_key": KEY},
    ],
)
def test_config_validation_rejects(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EmailConfig.model_validate(raw)


def test_config_defaults_normalise_and_hide_the_key() -> None:
    cfg = config(support_address=" Support@Acme.TEST ")
    assert (cfg.tolerance_seconds, cfg.max_attachment_bytes) == (32_400, 10 * 1024 * 1024)
    assert cfg.support_address == "support@acme.test"
    assert KEY not in repr(cfg) + cfg.model_dump_json()
    with pytest.raises(ValidationError):
        cfg.tolerance_seconds = 5  # type: ignore[misc]


def test_config_errors_do_not_echo_input() -> None:
    with pytest.raises(ValidationError) as caught:
        EmailConfig.model_validate({"mailgun_signing_key": 12345, "support_address": "TOPSECRET+x@y"})
    assert "TOPSECRET" not in str(caught.value)


def test_support_address_restricts_plus_tokens() -> None:
    other = REPLY.replace(f"support+{REF}@acme.test".encode(), f"someone+{REF}@gmail.test".encode())
    assert parse(mime_request(other)).thread.ticket_refs == [REF]  # subject tag still counts
    cfg = config(support_address="support@acme.test")
    no_tag = other.replace(f"[#{REF}] ".encode(), b"")
    fields = [*signature_fields(), ("body-mime", no_tag)]
    assert parse(request(urlencoded(fields)), cfg).thread.ticket_refs == []
    assert parse(request(urlencoded(fields))).thread.ticket_refs == [REF]
