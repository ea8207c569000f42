"""``GET /widget.js``: the widget's script, from the hub itself (no third-party CDN).

The file is built from ``widget/`` (TypeScript, ``make widget``) into
``chalicelib/widget/static/widget.js``, which ``make package`` stages with the rest of
``chalicelib``: Lambda serves it from its own package, read once per container. Its
URL carries no content hash (sites paste it once), so browsers may keep it five
minutes and then revalidate with its ``ETag`` (a 304 costs no body).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from switchboard_sdk import NotFound, WebhookResponse

from .http import entity_tags

BUILT = Path(__file__).resolve().parent / "static" / "widget.js"
CACHE_CONTROL = "public, max-age=300"


@dataclass
class WidgetScript:
    path: Path = BUILT
    _held: tuple[bytes, str] | None = field(default=None, repr=False)

    def _load(self) -> tuple[bytes, str]:
        if self._held is None:
            if not self.path.is_file():
                raise NotFound("the widget's script is not built: run `make widget` (make run and make package do)")
            body = self.path.read_bytes()
            self._held = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        return self._held

    def answer(self, if_none_match: str | None) -> WebhookResponse:
        body, etag = self._load()
        headers = {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": CACHE_CONTROL, "ETag": etag,
                   "Cross-Origin-Resource-Policy": "cross-origin", "X-Content-Type-Options": "nosniff"}
        if etag in entity_tags(if_none_match):
            return WebhookResponse(304, "", headers)
        return WebhookResponse(200, body.decode("utf-8"), headers)
