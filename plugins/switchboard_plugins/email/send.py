"""Sending a reply: the message (:mod:`.compose`), then SES v2 or the Mailgun messages API.

**SES** (``SendEmail`` with raw content, through the deployment's own client,
``context.aws("sesv2")``) replaces the ``Message-ID`` we wrote with
``<MessageId@email.amazonses.com>`` (us-east-1) or ``<MessageId@<region>.amazonses.com>``
(other regions); the customer's client answers with that one in ``In-Reply-To``,
so it is the provider id we return (without ``<>``, as :mod:`.threading` reports
ids). AWS does not document the domain: ``ses_message_id_domain`` overrides it,
and the subject tag and Reply-To still thread a reply if it ever changes.

**Mailgun** (``POST /v3/<domain>/messages.mime``, ``multipart/form-data`` with
``to`` and the raw ``message``, Basic auth ``api:<key>``) keeps a Message-ID the
MIME carries and answers ``{"id": "<…>", "message": "Queued. Thank you."}``; its
event webhooks (:mod:`.events`) name the same id.

Neither has an idempotency key. Our Message-ID is the hub's message id, so a
copy sent again after a crash (Mailgun) is the same mail to clients that
de-duplicate on it; SES gives each copy a new one.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from urllib.parse import quote

from switchboard_sdk import outcomes
from switchboard_sdk.sending import OutboundMessage, SendContext, SendOutcome
from switchboard_sdk.transport import HttpResponse, TransportError

from .compose import Composed, ComposeError, compose
from .config import EmailConfig
from .threading import message_ids

SES_DEFAULT_ID_DOMAIN = "email.amazonses.com"  # us-east-1's; other regions use <region>.amazonses.com
MAILGUN_EU_API = "https://api.eu.mailgun.net"
MAX_DETAIL_CHARS = 300

# AWS error codes that pass (throttling, a sending-rate limit, AWS's own trouble)
_SES_RETRY = frozenset({
    "TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalServerError",
    "RequestTimeout", "RequestTimeoutException",
})
_SES_WORDS = {
    "MessageRejected": "SES rejected the message",
    "MailFromDomainNotVerifiedException": "SES: the sending (MAIL FROM) domain is not verified",
    "AccountSuspendedException": "SES: sending is suspended for this AWS account",
    "SendingPausedException": "SES: sending is paused for this account or configuration set",
    "NotFoundException": "SES: not found (check ses_configuration_set)",
    "BadRequestException": "SES refused the request",
    "AccessDeniedException": "SES: the hub may not send from this address",
}


def send(message: OutboundMessage, config: EmailConfig, context: SendContext) -> SendOutcome:
    """One attempt, classified; never raises for a provider's refusal or absence."""
    try:
        composed = compose(message, config, context.clock())
    except ComposeError as err:
        return SendOutcome.failed(f"email: {err}", code="unsendable")
    if config.sender == "mailgun":
        outcome = send_mailgun(composed, config, context)
    else:
        outcome = send_ses(composed, config, context)
    return redact(outcome, config)


def redact(outcome: SendOutcome, config: EmailConfig) -> SendOutcome:
    """``outcome`` without any configured secret a provider may have echoed."""
    text = outcome.reason
    for secret in (config.mailgun_api_key, config.mailgun_signing_key):
        value = secret.get_secret_value() if secret is not None else ""
        if len(value) >= 6 and value in text:
            text = text.replace(value, "[redacted]")
    return outcome if text == outcome.reason else outcome.model_copy(update={"reason": text})


def _detail(text: str) -> str:
    return " ".join(text.split())[:MAX_DETAIL_CHARS]


# -- SES v2 -----------------------------------------------------------------------------


def ses_id_domain(config: EmailConfig, region: str | None) -> str:
    """The domain of the Message-ID SES writes into the mail it sends."""
    if config.ses_message_id_domain:
        return config.ses_message_id_domain
    return SES_DEFAULT_ID_DOMAIN if region in (None, "", "us-east-1") else f"{region}.amazonses.com"


def send_ses(composed: Composed, config: EmailConfig, context: SendContext) -> SendOutcome:
    from botocore.exceptions import BotoCoreError, ClientError  # lazy: only SES senders need botocore

    if context.aws is None:
        return SendOutcome.failed("SES: this deployment gives the email channel no AWS client", code="no_aws_client")
    client = context.aws("sesv2")
    request: dict[str, Any] = {
        "FromEmailAddress": composed.sender,
        "Destination": {"ToAddresses": [composed.recipient]},
        "Content": {"Raw": {"Data": composed.raw}},
    }
    if config.ses_configuration_set:
        request["ConfigurationSetName"] = config.ses_configuration_set
    try:
        answer = client.send_email(**request)
    except (ClientError, BotoCoreError) as err:
        return ses_failure(err)
    ses_id = str(answer.get("MessageId") or "")
    if not ses_id:
        return SendOutcome.retry("SES accepted the call but named no MessageId")
    return SendOutcome.sent(f"{ses_id}@{ses_id_domain(config, getattr(client.meta, 'region_name', None))}")


def ses_failure(err: Exception) -> SendOutcome:
    """A botocore error (``ClientError`` or ``BotoCoreError``) as an outcome."""
    from botocore.exceptions import ClientError, ParamValidationError

    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")[:64]
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        said = _detail(str(error.get("Message") or ""))
        words = _SES_WORDS.get(code, f"SES answered {code}")
        reason = f"{words}: {said}" if said else words
        if code in _SES_RETRY or (isinstance(status, int) and status >= 500):
            return SendOutcome.retry(reason, code=code, status_code=status)
        return SendOutcome.failed(reason, code=code, status_code=status)
    if isinstance(err, ParamValidationError):
        return SendOutcome.failed(f"SES refused the call's parameters: {_detail(str(err))}", code="ParamValidation")
    # no answer: connection, timeout, credentials being refreshed
    return SendOutcome.retry(f"SES: no answer ({type(err).__name__})")


# -- Mailgun --------------------------------------------------------------------------------


def multipart(fields: list[tuple[str, bytes, str | None]]) -> tuple[bytes, str]:
    """``multipart/form-data`` of ``(name, value, filename)`` fields, and its Content-Type.
    The values here are 7-bit MIME and an address, so a random boundary cannot clash."""
    boundary = "switchboard-" + secrets.token_hex(16)
    chunks = []
    for name, value, filename in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        kind = "Content-Type: message/rfc822\r\n" if filename else ""
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode() + value + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def mailgun_domain(config: EmailConfig, composed: Composed) -> str:
    return config.mailgun_domain or composed.sender.rpartition("@")[2]


def send_mailgun(composed: Composed, config: EmailConfig, context: SendContext) -> SendOutcome:
    if config.mailgun_api_key is None:
        return SendOutcome.failed("Mailgun: no mailgun_api_key is configured", code="no_api_key")
    domain = mailgun_domain(config, composed)
    url = f"{config.mailgun_root}/v3/{quote(domain, safe='')}/messages.mime"
    body, content_type = multipart([("to", composed.recipient.encode(), None),
                                    ("message", composed.raw, "message.mime")])
    token = base64.b64encode(f"api:{config.mailgun_api_key.get_secret_value()}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Content-Type": content_type, "Accept": "application/json"}
    try:
        response = context.http.request("POST", url, headers=headers, body=body, timeout=context.timeout_seconds)
    except TransportError as err:
        reason = f"Mailgun: no answer ({_detail(err.message)})"
        return SendOutcome.retry(reason) if err.retryable else SendOutcome.failed(reason, code="unreachable")
    return mailgun_outcome(response, composed, config, context)


def _said(body: bytes) -> str:
    """Mailgun's ``{"message": …}``, else a printable excerpt (a 401 is plain ``Forbidden``)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return _detail(data["message"])
    return outcomes.snippet(body)


def _queued_id(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    ids = message_ids(value) if isinstance(value, str) else []
    return ids[0] if ids else None


def mailgun_outcome(response: HttpResponse, composed: Composed, config: EmailConfig,
                    context: SendContext) -> SendOutcome:
    status, said = response.status, _said(response.body)
    if 200 <= status < 300:
        # no id in a 2xx (not seen): Mailgun kept ours, which its events will name
        return SendOutcome.sent(_queued_id(response.body) or composed.message_id, status_code=status)
    if status in outcomes.RETRY_STATUSES or status >= 500:
        after = outcomes.retry_after(outcomes.header(response.headers, "retry-after"), context.clock())
        reason = f"Mailgun answered {status}" + (f": {said}" if said else "")
        return SendOutcome.retry(reason, code=str(status), status_code=status, after=after)
    if status == 401:
        reason = "Mailgun: the API key was refused"
    elif status == 404:
        hint = "" if config.mailgun_root == MAILGUN_EU_API else f" (an EU domain needs api_base_url {MAILGUN_EU_API})"
        reason = f"Mailgun: {said or 'not found'} — sending domain {mailgun_domain(config, composed)}{hint}"
    else:
        reason = f"Mailgun refused the message ({status})" + (f": {said}" if said else "")
    return SendOutcome.failed(reason, code=str(status), status_code=status)


__all__ = ["multipart", "send", "ses_id_domain"]
