"""What the webhook door accepts: the route's content types (app.py) and the
OpenAPI document's request bodies (:mod:`chalicelib.api.openapi`) share this list.

A leaf, loaded at cold start by the edge without the rest of the ingest path.
"""

from __future__ import annotations

# Every body a provider might send; Chalice answers 415 to anything not listed.
WEBHOOK_CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "application/xml",
    "text/xml",
    "text/plain",
    "multipart/form-data",
    "application/octet-stream",
]
