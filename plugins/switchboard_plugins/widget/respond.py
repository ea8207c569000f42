"""The ``widget`` channel's answer: 202 JSON with the message's id, the same for a resend."""

from __future__ import annotations

import json

from switchboard_sdk.errors import BadPayload
from switchboard_sdk.webhooks import IngestReport, WebhookResponse


def answer(report: IngestReport) -> WebhookResponse:
    """``{"id", "status"}``: ``accepted`` whether stored now or before (a resend learns
    nothing new), ``quarantined`` when the hub kept the body aside (never expected: the
    hub built it)."""
    if report.quarantined:
        body = {"id": None, "status": "quarantined", "quarantine_id": report.quarantine_id,
                "error": {"code": BadPayload.code, "message": report.quarantine_reason}}
    else:
        body = {"id": report.message_ids[0] if report.message_ids else None, "status": "accepted"}
    return WebhookResponse(status_code=202, body=json.dumps(body), headers={"Content-Type": "application/json"})
