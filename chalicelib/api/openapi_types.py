"""The shapes the OpenAPI document is built from: an operation and its query parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Query:
    name: str
    schema: dict[str, Any]
    description: str = ""


LIMIT = Query("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size (default 50).")
CURSOR = Query("cursor", {"type": "string", "maxLength": 200}, "`next_cursor` of the previous page.")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    response: type[BaseModel]
    status: int = 200
    body: type[BaseModel] | None = None
    query: tuple[Query, ...] = ()
    scopes: tuple[str, ...] = ("tenant-admin", "agent", "read-only")
    errors: tuple[int, ...] = field(default=(400, 401, 403, 429))
    provider: bool = False  # a provider's webhook: its own body formats and answers
    page: bool = False  # answers an HTML page (or JSON when asked), no key: a signed link
    session: bool = False  # about the signed-in agent itself: an agent's ID token, never an API key
    media_type: str = "application/json"  # another (text/csv): the success answer is text, described by response
    csv: bool = False  # also answers text/csv (``format=csv``): the reports
    etag: bool = False  # answers an ETag; If-None-Match naming it → 304, no body
