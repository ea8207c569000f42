"""The ``web`` channel's answer: 202 JSON, the same for a first delivery and a duplicate."""

from __future__ import annotations

from typing import Any

from switchboard_sdk.errors import BadPayload
from switchboard_sdk.webhooks import IngestReport, WebhookResponse

_JSON_HEADERS = {"Content-Type": "application/json"}


def _json(status: int, body: dict[str, Any]) -> WebhookResponse:
    import json  # lazy: only answers need it

    return WebhookResponse(status_code=status, body=json.dumps(body), headers=dict(_JSON_HEADERS))


def answer(report: IngestReport) -> WebhookResponse:
    """202 either way; stored and duplicate look identical so a resend learns nothing."""
    if report.quarantined:
        error = {"code": BadPayload.code, "message": report.quarantine_reason}
        return _json(202, {"status": "quarantined", "quarantine_id": report.quarantine_id, "error": error})
    return _json(202, {"status": "accepted", "message_ids": list(report.message_ids)})
