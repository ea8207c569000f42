"""HTTP to WeChat's Official Account API: one time budget per send, JSON answers,
and WeChat's habit of answering HTTP 200 with an ``errcode`` in the body.

A call that does not succeed raises :class:`Stop` carrying the classified
:class:`SendOutcome` (or :class:`TokenRejected`, which the sender answers by
refreshing the token once); ``send.send`` catches them, so the send logic reads as
the happy path. The ``errcode`` table (WeChat's 全局返回码 and the customer-service
message page)::

    0                        success
    -1, 45009, 45011         retry (system busy; daily / per-minute API quota)
    40001, 40014, 42001      token rejected: refreshed once, then retry
    45015                    window_closed (48 h since the customer's last message)
    45047                    failed: the reply budget of the customer's message is used up
    43004                    failed: the customer unfollowed the account
    40013, 40125, 41002, …   failed, with the configuration step that fixes it
    anything else            failed, quoting WeChat's errcode and errmsg

HTTP statuses other than 200 follow the shared table (:mod:`switchboard_sdk.outcomes`):
408, 425, 429 and 5xx are retried, the rest fail.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from switchboard_sdk import outcomes
from switchboard_sdk.errors import ConnectorError
from switchboard_sdk.models import DeliveryOutcome
from switchboard_sdk.sending import IssuedToken, SendContext, SendOutcome

from .config import WeChatConfig

USER_AGENT = "Switchboard-WeChat/0.1"
TOKEN_PATH = "/cgi-bin/stable_token"  # noqa: S105 - a path, not a secret
SEND_PATH = "/cgi-bin/message/custom/send"
UPLOAD_PATH = "/cgi-bin/media/upload"
TOKEN_REJECTED = frozenset({40001, 40014, 42001})

_RETRIED = {
    -1: "WeChat is busy (errcode -1)",
    45009: "WeChat: the account's daily API quota is used up (errcode 45009)",
    45011: "WeChat: the account's per-minute API quota is used up (errcode 45011)",
}
_RETRY_AFTER = {45009: outcomes.MAX_RETRY_AFTER_SECONDS, 45011: 60.0}
WINDOW_CLOSED_BY_WECHAT = ("WeChat: the 48-hour reply window has closed (or the customer unfollowed the "
                           "account); it opens again when the customer writes")
BUDGET_USED = ("WeChat: the reply budget for the customer's last message is used up; "
               "the account may answer again when the customer writes")
NOT_CONFIGURED = "WeChat: the channel has no app_secret, so it cannot reply; add the account's AppSecret to its config"
_FAILED = {
    # 40001 here answers the token request itself: the secret, not a token, was refused
    40001: "WeChat: the app_secret was refused (or is not this AppID's); copy the AppSecret again",
    45047: BUDGET_USED,
    43004: "WeChat: the customer unfollowed the account",
    40003: "WeChat: the customer's OpenID does not belong to this account",
    45002: "WeChat: the reply is too long",
    40013: "WeChat: the app_id is not a valid AppID; copy it from Basic Configuration",
    40125: "WeChat: the app_secret was refused; copy the AppSecret from Basic Configuration again",
    41002: "WeChat: the request lacked the AppID; check app_id",
    41004: "WeChat: the request lacked the AppSecret; check app_secret",
    40164: ("WeChat: the hub's outbound IP address is not on the account's IP whitelist; add the "
            "delivery workers' egress address in Basic Configuration"),
    48001: "WeChat: the account is not authorised for customer-service messages (a verified service account is)",
    40007: "WeChat: the uploaded image was not found",
    40004: "WeChat refused the image: not a supported type (PNG, JPEG or GIF)",
    40009: "WeChat refused the image: it is too large",
    45001: "WeChat refused the image: it is too large",
}


class Stop(Exception):
    """Ends the send with ``outcome``, from however deep it became known."""

    def __init__(self, outcome: SendOutcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


class TokenRejected(Exception):
    """WeChat refused the access token a call carried (40001, 40014, 42001)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}")
        self.errcode, self.errmsg = errcode, errmsg


def errcode_outcome(errcode: int, errmsg: str) -> SendOutcome:
    """The outcome of a non-zero ``errcode`` (token rejections are the caller's)."""
    detail = f"(errcode {errcode}: {outcomes.snippet(errmsg.encode())})"
    code = str(errcode)
    if errcode in _RETRIED:
        return SendOutcome.retry(f"{_RETRIED[errcode]} {detail}", code=code, after=_RETRY_AFTER.get(errcode))
    if errcode == 45015:
        return SendOutcome.window_closed(f"{WINDOW_CLOSED_BY_WECHAT} {detail}", code=code)
    known = _FAILED.get(errcode, "WeChat refused the request")
    return SendOutcome.failed(f"{known} {detail}", code=code)


@dataclass
class WeChatClient:
    """One send's view of WeChat: every call shares ``context.timeout_seconds``."""

    config: WeChatConfig
    context: SendContext
    deadline: float

    @classmethod
    def start(cls, config: WeChatConfig, context: SendContext) -> WeChatClient:
        # the worker's timeout bounds the whole send (token, uploads, messages), not each call
        return cls(config, context, time.monotonic() + context.timeout_seconds)

    @property
    def secrets(self) -> list[str]:
        """The config's secrets: kept out of every reason."""
        held = [self.config.app_secret, self.config.token, self.config.encoding_aes_key]
        return [secret.get_secret_value() for secret in held if secret is not None]

    def timeout(self) -> float:
        """What is left of the send's time budget, for the next call; :class:`Stop` when spent."""
        # rounded: the transport quotes the timeout in its reason ("no response within 0.2s")
        left = round(self.deadline - time.monotonic(), 2)
        if left <= 0:
            raise Stop(SendOutcome.retry(f"WeChat: no answer within {self.context.timeout_seconds:g}s"))
        return left

    def post(self, path: str, query: dict[str, str], body: bytes, content_type: str) -> dict[str, Any]:
        """One POST; WeChat's JSON answer when its ``errcode`` is 0 or absent.

        Raises :class:`TokenRejected` for a refused token, :class:`Stop` otherwise."""
        url = self.config.api_root + path + ("?" + urlencode(query) if query else "")
        headers = {"content-type": content_type, "accept": "application/json", "user-agent": USER_AGENT}
        try:
            response = self.context.http.request("POST", url, headers=headers, body=body, timeout=self.timeout())
        except ConnectorError as err:  # TransportError: refused, reset, timed out
            raise Stop(unreachable(err)) from err
        # before any excerpt is cut: a secret WeChat (or a proxy) echoed must not survive in part
        body = scrub(response.body, [*self.secrets, query.get("access_token", "")])
        if response.status != 200:
            classified = outcomes.classify(replace(response, body=body), self.context.clock())
            raise Stop(_http_failure(classified))
        data = _json_object(body)
        errcode = data.get("errcode", 0)
        if errcode in (0, None):
            return data
        errmsg = str(data.get("errmsg", ""))
        if not isinstance(errcode, int):
            raise Stop(SendOutcome.failed(f"WeChat answered an unreadable errcode: {outcomes.snippet(body)}"))
        if errcode in TOKEN_REJECTED and "access_token" in query:
            raise TokenRejected(errcode, errmsg)
        raise Stop(errcode_outcome(errcode, errmsg))

    def post_json(self, path: str, query: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
        # ensure_ascii=False: WeChat shows \\uXXXX escapes literally in some clients
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self.post(path, query, body, "application/json; charset=utf-8")

    def fetch_token(self, *, force: bool = False) -> IssuedToken:
        """A stable access token (``/cgi-bin/stable_token``); ``force`` invalidates the current one."""
        secret = self.config.app_secret
        if secret is None:
            raise Stop(SendOutcome.failed(NOT_CONFIGURED))
        payload = {"grant_type": "client_credential", "appid": self.config.app_id,
                   "secret": secret.get_secret_value(), "force_refresh": force}
        data = self.post_json(TOKEN_PATH, {}, payload)  # no token in the query: errcodes raise Stop
        value, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(value, str) or not value or not isinstance(expires_in, int | float):
            raise Stop(SendOutcome.retry("WeChat: the token answer lacked access_token or expires_in"))
        # the lifetime as WeChat gave it: the shared cache drops tokens early itself
        return IssuedToken(value, float(expires_in))


def scrub(body: bytes, secrets: list[str]) -> bytes:
    """``body`` with every secret (6 characters or more, as ``outcomes.redact``) replaced."""
    for secret in secrets:
        if len(secret) >= 6:
            body = body.replace(secret.encode(), b"[redacted]")
    return body


def unreachable(err: ConnectorError, what: str = "WeChat") -> SendOutcome:
    text = f"{what} unreachable: {err.message}"[: outcomes.MAX_REASON_DETAIL + 50]
    return SendOutcome.retry(text) if err.retryable else SendOutcome.failed(text)


def _http_failure(outcome: DeliveryOutcome) -> SendOutcome:
    """The shared table's verdict on a non-200 status, as a send outcome."""
    reason = "WeChat " + outcome.reason.removeprefix("receiver ")
    if outcome.kind == "retry":
        return SendOutcome.retry(reason, status_code=outcome.status_code, after=outcome.retry_after_seconds)
    return SendOutcome.failed(reason, status_code=outcome.status_code)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        # a proxy's HTML page on a 200: nothing to act on, but nothing proves it permanent
        raise Stop(SendOutcome.retry(f"WeChat answered 200 without a JSON object: {outcomes.snippet(body)}"))
    return data
