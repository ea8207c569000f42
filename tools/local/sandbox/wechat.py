"""A fake WeChat Official Account API on loopback: the endpoints the ``wechat`` channel's replies call.

* ``POST /cgi-bin/stable_token`` — getStableAccessToken
  (developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken): JSON
  ``grant_type`` (``client_credential``), ``appid``, ``secret``, ``force_refresh``;
  answers ``{"access_token", "expires_in"}``. Normal mode hands out the current token,
  with its remaining lifetime, while it is valid; ``force_refresh`` invalidates it and
  issues another. Wrong grant type 40002, unknown AppID 40013, wrong secret 40125.
* ``POST /cgi-bin/message/custom/send?access_token=…`` — sendCustomMessage
  (…/doc/service/api/customer/message/api_sendcustommessage): ``touser``, ``msgtype``
  ``text`` (``{"content"}``) or ``image`` (``{"media_id"}``; one this fake issued).
* ``POST /cgi-bin/media/upload?access_token=…&type=image`` — uploadTempMedia
  (…/doc/service/api/material/temporary/api_uploadtempmedia): multipart field ``media``
  (PNG, JPEG, GIF); answers ``{"type", "media_id", "created_at"}``.

Like WeChat, every answer is HTTP 200 JSON, errors as ``{"errcode", "errmsg"}``: a
token this fake issued and then expired answers 42001, any other 40001, none 41001.
Switches: :meth:`FakeWeChat.fail` answers the next requests to an endpoint (or those
after the next few) with an errcode (45015, 45047, -1, …); :meth:`FakeWeChat.expire_token` ends the current
token's life early (a token expiring mid-run); ``clock`` (seconds) judges expiry.
``echo=True`` prints one line per request, tokens and secrets left out.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, urlsplit

from switchboard_sdk.fake_http import Recorded, Reply  # not .testing: make run needs no pytest

from .base import FakeProvider

TOKEN_PATH = "/cgi-bin/stable_token"  # noqa: S105 - a path, not a secret
SEND_PATH = "/cgi-bin/message/custom/send"
UPLOAD_PATH = "/cgi-bin/media/upload"
ENDPOINTS = {"token": TOKEN_PATH, "send": SEND_PATH, "upload": UPLOAD_PATH}
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
ERRMSG = {  # WeChat's own wording
    -1: "system error", 40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type", 40003: "invalid openid", 40004: "invalid media type", 40007: "invalid media_id",
    40008: "invalid message type", 40013: "invalid appid", 40125: "invalid appsecret", 41001: "access_token missing",
    41005: "media data missing", 42001: "access_token expired", 43004: "require subscribe",
    44002: "empty post data", 44004: "empty content", 45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled", 45047: "out of response count limit",
    47001: "data format error",
}


class WeChatError(Exception):
    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode


def answer(errcode: int, **data: Any) -> Reply:
    """WeChat's answer: HTTP 200, JSON, ``errmsg`` with a request id as WeChat adds one."""
    if errcode == 0:
        # success answers carry their fields (a token, a media id), else just errcode 0
        return Reply.json(200, data or {"errcode": 0, "errmsg": "ok"})
    rid = f"rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return Reply.json(200, {"errcode": errcode, "errmsg": f"{ERRMSG.get(errcode, 'error')} {rid}"})


@dataclass
class Token:
    value: str
    expires_at: float
    expired: bool = False  # ended early by expire_token()


@dataclass
class Accepted:
    """A customer-service message the fake accepted."""

    touser: str
    msgtype: str
    content: str = ""  # text
    media_id: str = ""  # image
    image: bytes = b""  # the uploaded bytes behind media_id


class FakeWeChat(FakeProvider):
    """WeChat's token, upload and customer-service endpoints for one Official Account."""

    def __init__(self, app_id: str, app_secret: str, *, expires_in: int = 7200, echo: bool = False,
                 clock: Callable[[], float] = time.time, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        super().__init__(echo=echo, host=host, port=port)
        self.expires_in, self.clock = expires_in, clock
        self.accepted: list[Accepted] = []
        self.media: dict[str, bytes] = {}
        self.token_fetches = 0  # answered token requests (normal or forced)
        self.force_refreshes = 0
        self._tokens: list[Token] = []  # issued, newest last
        self._plans: dict[str, list[int | None]] = {}  # per path: the next answers (None: normal)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- switches -------------------------------------------------------------------

    def fail(self, errcode: int, times: int = 1, *, on: str = "send", after: int = 0) -> None:
        """Answer ``times`` requests to ``on`` (``send``, ``token``, ``upload``) with ``errcode``,
        once ``after`` more have been answered normally."""
        if on not in ENDPOINTS:
            raise ValueError(f"on must be one of {sorted(ENDPOINTS)}")
        with self._lock:
            self._plans.setdefault(ENDPOINTS[on], []).extend([None] * after + [errcode] * times)

    def expire_token(self) -> None:
        """End the current token's life now: calls carrying it answer 42001."""
        with self._lock:
            if self._tokens:
                self._tokens[-1].expired = True

    @property
    def current_token(self) -> str | None:
        with self._lock:
            token = self._valid()
            return token.value if token else None

    # -- the endpoints -----------------------------------------------------------------

    def _respond(self, request: Recorded) -> Reply:
        path = urlsplit(request.path).path
        handlers = {TOKEN_PATH: self._stable_token, SEND_PATH: self._custom_send, UPLOAD_PATH: self._upload}
        if request.method != "POST" or path not in handlers:
            self._print(request, "404")
            return Reply(404, b"not found", {"Content-Type": "text/plain"})
        with self._lock:
            try:
                self._injected(path)
                reply, note = handlers[path](request)
            except WeChatError as err:
                reply, note = answer(err.errcode), f"errcode {err.errcode}"
        self._print(request, note)
        return reply

    def _injected(self, path: str) -> None:
        plan = self._plans.get(path)
        errcode = plan.pop(0) if plan else None
        if errcode is not None:
            raise WeChatError(errcode)

    def _stable_token(self, request: Recorded) -> tuple[Reply, str]:
        body = _json_body(request)
        if body.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        if body.get("appid") != self.app_id:
            raise WeChatError(40013)
        if not secrets.compare_digest(str(body.get("secret", "")).encode(), self.app_secret.encode()):
            raise WeChatError(40125)
        force = body.get("force_refresh") is True
        token = None if force else self._valid()
        if token is None:
            if force:
                self.force_refreshes += 1
                for old in self._tokens:
                    old.expires_at = float("-inf")  # invalidated: answers 40001 from now on
            token = Token(f"sbx-{next(self._ids)}-{secrets.token_urlsafe(24)}", self.clock() + self.expires_in)
            self._tokens.append(token)
        self.token_fetches += 1
        remaining = max(1, int(token.expires_at - self.clock()))
        return answer(0, access_token=token.value, expires_in=remaining), "forced" if force else "normal"

    def _custom_send(self, request: Recorded) -> tuple[Reply, str]:
        self._check_token(request)
        body = _json_body(request)
        touser, msgtype = str(body.get("touser") or ""), body.get("msgtype")
        if not touser:
            raise WeChatError(40003)
        if msgtype == "text":
            content = str((body.get("text") or {}).get("content") or "")
            if not content:
                raise WeChatError(44004)
            self.accepted.append(Accepted(touser, "text", content=content))
            return answer(0), f"text to {touser}: {content[:60]!r}"
        if msgtype == "image":
            media_id = str((body.get("image") or {}).get("media_id") or "")
            if media_id not in self.media:
                raise WeChatError(40007)
            self.accepted.append(Accepted(touser, "image", media_id=media_id, image=self.media[media_id]))
            return answer(0), f"image to {touser}: {len(self.media[media_id])} bytes"
        raise WeChatError(40008)

    def _upload(self, request: Recorded) -> tuple[Reply, str]:
        self._check_token(request)
        if _query(request).get("type") != "image":
            raise WeChatError(40004)
        data, content_type = _multipart_file(request, "media")
        if not data:
            raise WeChatError(41005)
        if content_type not in IMAGE_TYPES:
            raise WeChatError(40004)
        media_id = f"sbx-media-{next(self._ids)}"
        self.media[media_id] = data
        return answer(0, type="image", media_id=media_id, created_at=int(self.clock())), f"image {len(data)} bytes"

    # -- helpers --------------------------------------------------------------------------

    def _valid(self) -> Token | None:
        latest = self._tokens[-1] if self._tokens else None
        if latest is None or latest.expired or latest.expires_at <= self.clock():
            return None
        return latest

    def _check_token(self, request: Recorded) -> None:
        value = _query(request).get("access_token")
        if not value:
            raise WeChatError(41001)
        token = next((t for t in self._tokens if t.value == value), None)
        if token is None or token.expires_at == float("-inf"):
            raise WeChatError(40001)
        if token.expired or token.expires_at <= self.clock():
            raise WeChatError(42001)

    def _print(self, request: Recorded, note: str) -> None:
        # the path without its query: the access token must not reach a terminal
        self._say(f"[wechat sandbox] {request.method} {urlsplit(request.path).path} → {note}")


def _query(request: Recorded) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(request.path).query).items()}


def _json_body(request: Recorded) -> dict[str, Any]:
    if not request.body:
        raise WeChatError(44002)
    try:
        data = json.loads(request.body)
    except ValueError:
        raise WeChatError(47001) from None
    if not isinstance(data, dict):
        raise WeChatError(47001)
    return data


def _multipart_file(request: Recorded, field: str) -> tuple[bytes, str]:
    """The bytes and content type of the form's file ``field`` (empty when absent)."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    form = BytesParser(policy=HTTP).parsebytes(head + request.body)
    if not form.is_multipart():
        return b"", ""
    for part in form.iter_parts():
        if part.get_param("name", header="content-disposition") == field and part.get_filename():
            payload = part.get_payload(decode=True)
            return (payload if isinstance(payload, bytes) else b""), part.get_content_type()
    return b"", ""
