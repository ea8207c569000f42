"""Switchboard's Chalice edge: routes and event handlers only.

Every function here hands its request or event to ``chalicelib``; the hub behind
it is built once per container, on first use, so importing this module stays
cheap (boto3 loads when the first request needs it).
"""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, CloudWatchEvent, DynamoDBEvent, Request, SQSEvent

from chalicelib.edge import (
    WEBHOOK_CONTENT_TYPES,
    guarded,
    json_response,
    provider_response,
    webhook_from,
)
from chalicelib.hub import get_hub

app = Chalice(app_name="switchboard")
app.api.binary_types.append("multipart/form-data")

# Placeholders: infra/template.json replaces both with Fn::GetAtt of the real
# resources at package time (chalice needs literals at import, aws/chalice#1882).
STREAM_ARN_PLACEHOLDER = "arn:aws:dynamodb:us-east-1:000000000000:table/switchboard/stream/placeholder"
DELIVERY_QUEUE_PLACEHOLDER = "switchboard-deliveries.fifo"
# S3 "Object Created" under inbound/ (SES raw MIME); infra/ narrows it to our bucket
STORED_OBJECT_PATTERN_PLACEHOLDER = {
    "source": ["aws.s3"], "detail-type": ["Object Created"],
    "detail": {"object": {"key": [{"prefix": "inbound/"}]}},
}


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it for every route call
    return request


@app.route("/health", methods=["GET"])
def health() -> Any:
    return json_response({"status": "ok"})


@app.route("/hooks/{tenant}/{channel}", methods=["GET", "POST"], content_types=WEBHOOK_CONTENT_TYPES)
@guarded
def provider_webhook(tenant: str, channel: str) -> Any:
    hub = get_hub()
    request = webhook_from(_request(), tenant, channel, received_at=hub.clock())
    return provider_response(hub.ingestor.handle(request))


@app.route("/hooks/{tenant}/{channel}/mime", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def provider_webhook_mime(tenant: str, channel: str) -> Any:
    """The same door: Mailgun posts raw MIME only to URLs that end in ``mime``."""
    return provider_webhook(tenant, channel)


@app.route("/v1/tickets", methods=["GET"])
@guarded
def list_tickets() -> Any:
    request = _request()
    params = dict(request.query_params or {})
    return json_response(get_hub().api.list_tickets(request.headers.get("authorization"), params))


@app.route("/v1/tickets/{ticket_id}", methods=["GET"])
@guarded
def get_ticket(ticket_id: str) -> Any:
    authorization = _request().headers.get("authorization")
    return json_response(get_hub().api.get_ticket(authorization, ticket_id))


@app.route("/v1/deliveries", methods=["GET"])
@guarded
def list_deliveries() -> Any:
    request = _request()
    params = dict(request.query_params or {})
    return json_response(get_hub().deliveries_api.list_deliveries(request.headers.get("authorization"), params))


@app.route("/v1/deliveries/replay", methods=["POST"])
@guarded
def replay_deliveries() -> Any:
    request = _request()
    return json_response(get_hub().deliveries_api.replay(request.headers.get("authorization"), request.raw_body))


@app.on_cw_event(event_pattern=STORED_OBJECT_PATTERN_PLACEHOLDER)
def stored_objects(event: CloudWatchEvent) -> None:
    get_hub().stored_objects.process(event.to_dict())


@app.on_dynamodb_record(stream_arn=STREAM_ARN_PLACEHOLDER, batch_size=100, starting_position="TRIM_HORIZON")
def store_changes(event: DynamoDBEvent) -> dict[str, Any]:
    return get_hub().stream.process(event.to_dict()["Records"])


@app.on_sqs_message(queue=DELIVERY_QUEUE_PLACEHOLDER, batch_size=10)
def deliveries(event: SQSEvent) -> dict[str, Any]:
    return get_hub().worker.process(event.to_dict()["Records"])
