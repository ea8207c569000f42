"""Salesforce answers → :class:`DeliveryOutcome`: error arrays, composite results, OAuth errors.

Salesforce reports errors as ``[{"message", "errorCode", "fields"}]`` (REST API
guide, "Status Codes and Error Responses"). The shared table in
:mod:`switchboard_sdk.outcomes` decides by status; these codes override it::

    REQUEST_LIMIT_EXCEEDED (403)            retry, after REQUEST_LIMIT_BACKOFF_SECONDS
    UNABLE_TO_LOCK_ROW, SERVER_UNAVAILABLE  retry (another transaction holds the record)
    300 (external id matches many records)  failed
    anything else                           the shared table (5xx retry, 4xx failed)

Reasons read ``Salesforce answered 400 INVALID_FIELD: No such column … (fields: X)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard_sdk import outcomes
from switchboard_sdk.models import DeliveryOutcome
from switchboard_sdk.transport import HttpResponse

RETRY_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})
# the org's API request limit is a rolling 24-hour window: retrying within seconds only burns attempts
REQUEST_LIMIT_BACKOFF_SECONDS = 900.0
# with allOrNone, every subrequest but the failing one reports this: it names no cause
HALTED = "PROCESSING_HALTED"


@dataclass(frozen=True)
class SalesforceError:
    """One entry of a Salesforce error array."""

    code: str
    message: str
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        fields = f" (fields: {', '.join(self.fields)})" if self.fields else ""
        return f"{self.code}: {self.message}{fields}"


def _entry(item: Any) -> SalesforceError | None:
    if not isinstance(item, dict) or not isinstance(item.get("errorCode"), str):
        return None
    fields = item.get("fields")
    names = tuple(str(name) for name in fields) if isinstance(fields, list) else ()
    return SalesforceError(item["errorCode"], str(item.get("message", "")), names)


def parse_errors(body: Any) -> list[SalesforceError]:
    """The errors in a decoded body (an array, or one object); ``[]`` when it is neither."""
    items = body if isinstance(body, list) else [body]
    return [error for error in map(_entry, items) if error is not None]


def decode(body: bytes) -> Any:
    """JSON, or ``None`` when the body is not JSON (an HTML error page, nothing)."""
    try:
        return json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None


def _cause(errors: list[SalesforceError]) -> SalesforceError | None:
    real = [error for error in errors if error.code != HALTED]
    if real:
        return real[0]
    return errors[0] if errors else None


def halted(response: HttpResponse) -> bool:
    """A subresponse that only says it was rolled back because another one failed."""
    errors = parse_errors(decode(response.body))
    return bool(errors) and all(error.code == HALTED for error in errors)


def classify(response: HttpResponse, now: datetime, step: str = "") -> DeliveryOutcome:
    """One Salesforce response (or composite subresponse) as an outcome."""
    if 200 <= response.status < 300:
        return DeliveryOutcome.delivered(response.status)
    errors = parse_errors(decode(response.body))
    cause = _cause(errors)
    prefix = f"{step}: " if step else ""
    if response.status == 300:
        text = f"{prefix}Salesforce answered 300: the external id matches more than one record (make the field Unique)"
        return DeliveryOutcome.failed(text, status_code=300)
    if cause is None:  # not a Salesforce error array: the shared table and a body excerpt
        outcome = outcomes.classify(response, now)
        return outcome.model_copy(update={"reason": prefix + outcome.reason})
    return _by_code(response, now, cause, f"{prefix}Salesforce answered {response.status} {cause}")


def _by_code(response: HttpResponse, now: datetime, cause: SalesforceError, text: str) -> DeliveryOutcome:
    text = outcomes.snippet(text.encode()) if len(text) > outcomes.MAX_REASON_DETAIL else text
    status = response.status
    if cause.code == "REQUEST_LIMIT_EXCEEDED":
        after = outcomes.retry_after(outcomes.header(response.headers, "retry-after"), now)
        return DeliveryOutcome.retry(text, status_code=status, after=after or REQUEST_LIMIT_BACKOFF_SECONDS)
    if cause.code in RETRY_CODES:
        return DeliveryOutcome.retry(text, status_code=status)
    default = outcomes.classify(response, now)
    return default.model_copy(update={"reason": text})


def subresponse(result: Mapping[str, Any]) -> HttpResponse:
    """A composite subrequest result as the response it stands for."""
    status = result.get("httpStatusCode")
    headers = result.get("httpHeaders")
    return HttpResponse(
        status=status if isinstance(status, int) else 500,
        headers={str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
        body=json.dumps(result.get("body")).encode(),
    )


def oauth_error(response: HttpResponse, now: datetime) -> DeliveryOutcome:
    """A token endpoint refusal (RFC 6749 §5.2: ``{"error", "error_description"}``)."""
    outcome = outcomes.classify(response, now)
    body = decode(response.body)
    if outcome.kind != "failed" or not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return outcome.model_copy(update={"reason": "token endpoint: " + outcome.reason})
    detail = str(body.get("error_description", ""))[: outcomes.MAX_REASON_DETAIL]
    text = f"Salesforce token endpoint refused the connected app ({response.status} {body['error']}: {detail})"
    return DeliveryOutcome.failed(text, status_code=response.status)
