"""Email replies through SES v2 (moto): the raw mail SES is given, the id the hub stores, AWS errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from email import policy
from email.parser import BytesParser
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError
from email_replies import CONFIG, NOW, REF
from email_replies import outbound as email_reply
from moto import mock_aws
from switchboard_plugins import email
from switchboard_plugins.email.parse import parse_mime
from switchboard_plugins.email.send import send, ses_failure, ses_id_domain
from switchboard_sdk.models import Identity
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.sending import OutboundMessage, SendContext


class RecordingClient:
    """A real (moto) boto3 client that remembers each ``send_email`` call's arguments."""

    def __init__(self, client: Any) -> None:
        self.client, self.calls = client, []
        self.meta = client.meta

    def send_email(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return self.client.send_email(**kwargs)


@pytest.fixture
def aws() -> Iterator[Callable[[str], RecordingClient]]:
    with mock_aws():
        ses = boto3.client("sesv2", region_name="us-east-1")
        ses.create_email_identity(EmailIdentity="acme.test")  # moto, like SES, sends only from verified identities
        clients: dict[str, RecordingClient] = {}

        def factory(service: str) -> RecordingClient:
            return clients.setdefault(service, RecordingClient(boto3.client(service, region_name="us-east-1")))

        yield factory


def outbound(**overrides: Any) -> OutboundMessage:
    return email_reply(**{"id": "msg_01JSES", **overrides})


def context(aws: Callable[[str], Any] | None) -> SendContext:
    return SendContext(clock=lambda: NOW, aws=aws)


def test_a_reply_goes_out_as_raw_mime_and_keeps_sess_message_id(aws: Callable[[str], RecordingClient]) -> None:
    outcome = send(outbound(), CONFIG, context(aws))
    assert outcome.kind == "sent"
    (call,) = aws("sesv2").calls
    ses_id, _, domain = (outcome.provider_message_id or "").partition("@")
    assert ses_id
    assert domain == "email.amazonses.com"  # us-east-1: what SES writes as <MessageId@email.amazonses.com>
    assert call["FromEmailAddress"] == "support@acme.test"
    assert call["Destination"] == {"ToAddresses": ["ada@example.com"]}
    assert "ConfigurationSetName" not in call
    mail = BytesParser(policy=policy.default).parsebytes(call["Content"]["Raw"]["Data"])
    assert mail["In-Reply-To"] == "<reply-1@example.com>"
    assert mail["Subject"] == f"Re: Order 1042 [#{REF}]"
    assert mail["Reply-To"] == f"Acme Support <support+{REF}@acme.test>"


def test_the_customers_answer_to_the_ses_mail_threads_to_the_stored_id(aws: Callable[[str], Any]) -> None:
    outcome = send(outbound(), CONFIG, context(aws))
    stored = outcome.provider_message_id
    answer = (
        f"From: ada@example.com\r\nTo: support+{REF}@acme.test\r\nSubject: Re: Re: Order 1042 [#{REF}]\r\n"
        f"Message-ID: <a2@example.com>\r\nIn-Reply-To: <{stored}>\r\n\r\nThanks!\r\n"
    ).encode()
    parsed = parse_mime(answer, tenant_id="t-acme", received_at=NOW, config=CONFIG)
    assert parsed.thread.provider_ids == [stored]


def test_a_configuration_set_is_named(aws: Callable[[str], RecordingClient]) -> None:
    aws("sesv2").client.create_configuration_set(ConfigurationSetName="replies")
    config = CONFIG.model_copy(update={"ses_configuration_set": "replies"})
    assert send(outbound(), config, context(aws)).kind == "sent"
    assert aws("sesv2").calls[0]["ConfigurationSetName"] == "replies"


def test_an_unverified_sender_fails_with_ses_words(aws: Callable[[str], Any]) -> None:
    config = CONFIG.model_copy(update={"from_address": "support@unverified.test"})
    outcome = send(outbound(), config, context(aws))
    assert outcome.kind == "failed"
    assert outcome.code == "MessageRejected"
    assert outcome.reason.startswith("SES rejected the message: ")


def test_without_an_aws_client_the_reply_fails_clearly() -> None:
    outcome = send(outbound(), CONFIG, context(None))
    assert outcome.kind == "failed"
    assert outcome.code == "no_aws_client"


def test_an_unsendable_reply_fails_before_calling_ses(aws: Callable[[str], RecordingClient]) -> None:
    outcome = send(outbound(to=Identity(kind="phone", value="+14155550100")), CONFIG, context(aws))
    assert (outcome.kind, outcome.code) == ("failed", "unsendable")
    assert aws("sesv2").calls == []


@pytest.mark.parametrize(
    ("region", "override", "expected"),
    [
        ("us-east-1", None, "email.amazonses.com"),
        ("eu-west-1", None, "eu-west-1.amazonses.com"),
        (None, None, "email.amazonses.com"),
        ("eu-west-1", "mail.example.com", "mail.example.com"),
    ],
)
def test_the_message_id_domain_follows_the_region(region: str | None, override: str | None, expected: str) -> None:
    assert ses_id_domain(CONFIG.model_copy(update={"ses_message_id_domain": override}), region) == expected


def aws_error(code: str, status: int, message: str = "words") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "SendEmail")


@pytest.mark.parametrize(
    ("error", "kind", "code"),
    [
        (aws_error("TooManyRequestsException", 429), "retry", "TooManyRequestsException"),
        (aws_error("Throttling", 400, "Maximum sending rate exceeded."), "retry", "Throttling"),
        (aws_error("LimitExceededException", 400), "retry", "LimitExceededException"),
        (aws_error("ServiceUnavailable", 503), "retry", "ServiceUnavailable"),
        (aws_error("SomethingNew", 502), "retry", "SomethingNew"),
        (aws_error("MessageRejected", 400, "Email address is not verified."), "failed", "MessageRejected"),
        (aws_error("MailFromDomainNotVerifiedException", 400), "failed", "MailFromDomainNotVerifiedException"),
        (aws_error("AccountSuspendedException", 400), "failed", "AccountSuspendedException"),
        (aws_error("SendingPausedException", 400), "failed", "SendingPausedException"),
        (aws_error("BadRequestException", 400), "failed", "BadRequestException"),
        (aws_error("NotFoundException", 404), "failed", "NotFoundException"),
        (EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com"), "retry", None),
        (ParamValidationError(report="bad Content"), "failed", "ParamValidation"),
    ],
)
def test_aws_errors_are_classified(error: Exception, kind: str, code: str | None) -> None:
    outcome = ses_failure(error)
    assert (outcome.kind, outcome.code) == (kind, code)
    assert outcome.reason.startswith("SES")


def test_the_hook_sends_through_ses_when_no_mailgun_key_is_set(aws: Callable[[str], RecordingClient]) -> None:
    registry = build_plugin_manager(extra_plugins=[email.plugin], load_entry_points=False)
    outcome = registry.pm.hook.switchboard_channel_send(message=outbound(), config=CONFIG, context=context(aws))
    assert outcome.kind == "sent"
    assert len(aws("sesv2").calls) == 1


def test_importing_the_plugin_loads_neither_sending_nor_botocore() -> None:
    code = ("import sys, switchboard_plugins.email as e; e.plugin.switchboard_plugin_info(); "
            "print(sorted(m for m in sys.modules if m.startswith('switchboard_plugins.email.')), "
            "'botocore' in sys.modules)")
    run = [sys.executable, "-c", code]
    loaded = subprocess.run(run, capture_output=True, text=True, check=True).stdout  # noqa: S603 -- a constant script
    assert loaded.strip() == "['switchboard_plugins.email.config', 'switchboard_plugins.email.hooks'] False"
