"""The ``email`` channel's answer to Mailgun: always 200 JSON."""

from __future__ import annotations

from typing import Any

from switchboard_sdk.errors import BadPayload
from switchboard_sdk.webhooks import IngestReport, WebhookResponse

_JSON_HEADERS = {"Content-Type": "application/json"}


def _json(body: dict[str, Any]) -> WebhookResponse:
    import json  # lazy: only answers need it

    return WebhookResponse(status_code=200, body=json.dumps(body), headers=dict(_JSON_HEADERS))


def answer(report: IngestReport) -> WebhookResponse:
    """Always 200: Mailgun retries anything but 200 and 406 for 8 hours, and a
    quarantined message is already kept — a retry would only add copies."""
    if report.quarantined:
        error = {"code": BadPayload.code, "message": report.quarantine_reason}
        return _json({"status": "quarantined", "quarantine_id": report.quarantine_id, "error": error})
    return _json({"status": "accepted"})
