"""One delivery: one composite call (REST API guide, "Composite") through the
session of :mod:`.client`, classified.

Record ids from the composite results are remembered in ``context.external_ids``.
Every reason is redacted of the client secret and the access tokens used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from switchboard_sdk import outcomes, ticket_sync
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.transport import DeliveryContext, HttpResponse

from . import records, responses
from .client import Session
from .config import SalesforceConfig


def deliver(event: EventEnvelope, config: SalesforceConfig, context: DeliveryContext) -> DeliveryOutcome:
    """Upsert the event's Contact and Case (and add the message's comment), classified."""
    try:
        plan = records.plan(event, config, context.external_ids)
    except (KeyError, TypeError, ValidationError):
        return DeliveryOutcome.failed(f"event {event.id} has no valid {event.type} data")
    if plan is None:
        # the comment was created by an earlier delivery, or nothing the org keeps changed
        return DeliveryOutcome.delivered()
    session = Session(config, context)
    outcome = outcomes.settle(lambda: _run(plan, session))
    # after the run: the tokens it used are known only now
    return outcomes.redact(outcome, [*config.secrets(), *session.tokens])


def _run(plan: records.Plan, session: Session) -> DeliveryOutcome:
    response = session.call("POST", records.data_path(session.config, "composite"), plan.body())
    now = session.context.clock()
    if not 200 <= response.status < 300:
        return responses.classify(response, now, "composite request")
    results = _results(response)
    if results is None:
        # allOrNone: either all of it was written or none; the upserts make a retry safe
        return DeliveryOutcome.retry(f"Salesforce answered {response.status} without composite results")
    failure = _failure(results, plan, now)
    if failure is not None:
        return failure
    _remember(results, plan, session.context)
    if plan.ticket is not None:
        ticket_sync.written(session.context.external_ids, plan.ticket)
    return DeliveryOutcome.delivered(response.status)


def _results(response: HttpResponse) -> list[dict[str, Any]] | None:
    body = responses.decode(response.body)
    results = body.get("compositeResponse") if isinstance(body, dict) else None
    if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
        return None
    return results


def _failure(results: list[dict[str, Any]], plan: records.Plan, now: datetime) -> DeliveryOutcome | None:
    failed = [
        (str(result.get("referenceId", "")), responses.subresponse(result))
        for result in results
        if not 200 <= responses.subresponse(result).status < 300
    ]
    if not failed:
        return None
    # allOrNone marks the others PROCESSING_HALTED: report the step that caused it
    ref, response = sorted(failed, key=lambda item: responses.halted(item[1]))[0]
    return responses.classify(response, now, plan.steps.get(ref, ref))


def _remember(results: list[dict[str, Any]], plan: records.Plan, context: DeliveryContext) -> None:
    for result in results:
        body = result.get("body")
        record_id = body.get("id") if isinstance(body, dict) else None
        target = plan.remember.get(str(result.get("referenceId", "")))
        if target is not None and isinstance(record_id, str) and record_id:
            context.external_ids.put(*target, record_id)


__all__ = ["deliver"]
