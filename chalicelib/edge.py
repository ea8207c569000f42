"""The HTTP edge: Chalice requests in, Chalice responses out, errors mapped once.

Every :class:`SwitchboardError` becomes ``{"error": {"code", "message"}}`` with
its status; anything else is logged with its stack and answered as a generic
500 — callers never see a trace.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from chalice.app import Response
from pydantic import BaseModel
from switchboard_sdk import SwitchboardError, WebhookRequest, WebhookResponse

from .api.calls import ApiCall
from .logs import log_context, log_event

log = logging.getLogger(__name__)

JSON = {"Content-Type": "application/json"}
F = TypeVar("F", bound=Callable[..., Any])

def error_response(err: SwitchboardError) -> Response:
    headers: dict[str, str | list[str]] = {**JSON, **err.headers()}
    return Response(body=json.dumps(err.to_body()), status_code=err.status, headers=headers)


def json_response(body: Any, status: int = 200) -> Response:
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    return Response(body=json.dumps(body), status_code=status, headers=dict(JSON))


def tagged_response(body: Any, etag: str) -> Response:
    """An answer with its entity tag (``ETag``); ``body`` ``None``: 304 Not Modified, no body."""
    headers: dict[str, str | list[str]] = {"ETag": etag, "Cache-Control": "no-cache"}
    if body is None:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=json.dumps(body), status_code=200, headers={**JSON, **headers})


def text_response(body: str, content_type: str, *, filename: str | None = None) -> Response:
    """A download (CSV): the text, its type, and a file name to save it under."""
    # spelled as Chalice checks it: "content-type" would get a second, JSON Content-Type beside it
    headers: dict[str, str | list[str]] = {"Content-Type": content_type, "Cache-Control": "no-store"}
    if filename is not None:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body=body, status_code=200, headers=headers)


def page_response(answer: Any) -> Response:
    """A page an API built whole (status, body, headers): a survey link's answer."""
    return Response(body=answer.body, status_code=answer.status, headers=dict(answer.headers))


def api_call(request: Any) -> ApiCall:
    """The parts of a Chalice request the API layer may use."""
    from .api.openapi import query_names

    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    query = dict(request.query_params or {})
    base = public_url(request).split("/v1/", 1)[0]
    return ApiCall(
        authorization=headers.get("authorization"), source_ip=_source_ip(request),
        user_agent=str(headers.get("user-agent", ""))[:200],
        query=query, body=request.raw_body or b"", base_url=base,
        allowed_query=query_names(request.method, request.context.get("resourcePath", "")),
    )


def _source_ip(request: Any) -> str:
    return str((request.context.get("identity") or {}).get("sourceIp", ""))


def guarded(func: F) -> F:
    """Map errors of a route to JSON responses; the route names every line logged meanwhile."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with log_context(route=func.__name__):
            try:
                return func(*args, **kwargs)
            except SwitchboardError as err:
                if err.status >= 500:
                    log.exception("request failed: %s", err.code)
                elif err.status in (401, 403):  # refusals leave a trace (never the key itself)
                    log_event(log, "request.refused", level=logging.WARNING, status=err.status, code=err.code)
                return error_response(err)
            except Exception:
                log.exception("unhandled error")
                return json_response({"error": {"code": "internal_error", "message": "internal error"}}, 500)

    return wrapper  # type: ignore[return-value]


def webhook_from(request: Any, tenant_id: str, channel: str, received_at: datetime) -> WebhookRequest:
    """The parts of a Chalice request a channel plugin may look at."""
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    query = dict(request.query_params or {})
    return WebhookRequest(
        tenant_id=tenant_id, channel=channel, method=request.method, public_url=public_url(request),
        headers=headers, query=query, body=request.raw_body or b"", received_at=received_at,
        source_ip=_source_ip(request),
    )


def public_url(request: Any) -> str:
    """The URL the provider called, rebuilt from what API Gateway passes on.

    ``X-Forwarded-Proto``/``-Port`` give scheme and port (default ports omitted);
    the stage prefix is added only on ``execute-api`` hosts (custom domains map
    it away). Channels whose signature covers the URL may override this with
    the tenant's configured public base URL.
    """
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    scheme = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
    host = headers.get("host", "localhost")
    port = headers.get("x-forwarded-port", "").split(",")[0].strip()
    if port and ":" not in host and (scheme, port) not in {("https", "443"), ("http", "80")}:
        host = f"{host}:{port}"
    path = request.context.get("path") or "/"
    stage = request.context.get("stage") or ""
    if ".execute-api." in host and stage and not path.startswith(f"/{stage}/"):
        path = f"/{stage}{path}"
    query = _query_string(request)
    return f"{scheme}://{host}{path}" + (f"?{query}" if query else "")


def _query_string(request: Any) -> str:
    """The query string as the client sent it, when the event carries it (HTTP API
    events' ``rawQueryString``; the local runtime adds it too). API Gateway's REST
    events pass only the parsed parameters, so then it is rebuilt; URL-signing
    channels must allow for other spellings of it (Twilio's ``query_forms``)."""
    from urllib.parse import urlencode

    original = getattr(request, "to_original_event", None)
    raw = (original() or {}).get("rawQueryString") if callable(original) else None
    if isinstance(raw, str):
        return raw
    params = getattr(request, "query_params", None) or {}
    multi = getattr(params, "getlist", None)
    pairs = [(k, v) for k in params for v in (multi(k) if multi else [params[k]])]
    return urlencode(pairs)


def provider_response(answer: WebhookResponse) -> Response:
    return Response(body=answer.body, status_code=answer.status_code, headers=dict(answer.headers))
