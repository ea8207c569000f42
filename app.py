"""Switchboard's Chalice edge: routes and event handlers only.

Every function here hands its request or event to ``chalicelib``; the hub behind
it is built once per container, on first use, so importing this module stays
cheap (boto3 loads when the first request needs it).
"""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, CloudWatchEvent, DynamoDBEvent, Request, SQSEvent

from chalicelib.api.calls import ApiCall
from chalicelib.edge import api_call, guarded, json_response, provider_response, webhook_from
from chalicelib.hub import get_hub
from chalicelib.ingest.content_types import WEBHOOK_CONTENT_TYPES

app = Chalice(app_name="switchboard")
app.api.binary_types.append("multipart/form-data")

# Placeholders: infra/template.json replaces both with Fn::GetAtt of the real
# resources at package time (chalice needs literals at import, aws/chalice#1882).
STREAM_ARN_PLACEHOLDER = "arn:aws:dynamodb:us-east-1:000000000000:table/switchboard/stream/placeholder"
DELIVERY_QUEUE_PLACEHOLDER = "switchboard-deliveries.fifo"
# the on-failure destinations of the stream mapping and of stored_objects (infra/ names the real queues)
STREAM_FAILURE_QUEUE_PLACEHOLDER = "switchboard-stream-failures"
OBJECT_FAILURE_QUEUE_PLACEHOLDER = "switchboard-object-failures"
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


def _call() -> ApiCall:
    return api_call(_request())


@app.route("/openapi.json", methods=["GET"])
@guarded
def openapi_document() -> Any:
    from chalicelib.api.openapi import document

    return json_response(document())


# -- tickets and deliveries (any tenant key with a read scope) ----------------------


@app.route("/v1/tickets", methods=["GET"])
@guarded
def list_tickets() -> Any:
    return json_response(get_hub().api.list_tickets(_call()))


@app.route("/v1/tickets/{ticket_id}", methods=["GET"])
@guarded
def get_ticket(ticket_id: str) -> Any:
    return json_response(get_hub().api.get_ticket(_call(), ticket_id))


@app.route("/v1/tickets/{ticket_id}", methods=["PATCH"])
@guarded
def update_ticket(ticket_id: str) -> Any:
    return json_response(get_hub().workflow_api.update_ticket(_call(), ticket_id))


@app.route("/v1/tickets/bulk", methods=["POST"])
@guarded
def bulk_update_tickets() -> Any:
    return json_response(get_hub().workflow_api.bulk_update(_call()))


@app.route("/v1/tickets/{ticket_id}/merge", methods=["POST"])
@guarded
def merge_ticket(ticket_id: str) -> Any:
    return json_response(get_hub().workflow_api.merge_ticket(_call(), ticket_id))


@app.route("/v1/tickets/{ticket_id}/history", methods=["GET"])
@guarded
def ticket_history(ticket_id: str) -> Any:
    return json_response(get_hub().workflow_api.history(_call(), ticket_id))


@app.route("/v1/tickets/{ticket_id}/messages", methods=["POST"])
@guarded
def post_message(ticket_id: str) -> Any:
    return json_response(get_hub().replies_api.post(_call(), ticket_id), 202)


@app.route("/v1/tickets/{ticket_id}/messages/{message_id}/retry", methods=["POST"])
@guarded
def retry_message(ticket_id: str, message_id: str) -> Any:
    return json_response(get_hub().replies_api.retry(_call(), ticket_id, message_id), 202)


@app.route("/v1/customers/{customer_id}", methods=["GET"])
@guarded
def get_customer(customer_id: str) -> Any:
    return json_response(get_hub().api.get_customer(_call(), customer_id))


@app.route("/v1/deliveries", methods=["GET"])
@guarded
def list_deliveries() -> Any:
    return json_response(get_hub().deliveries_api.list_deliveries(_call()))


@app.route("/v1/deliveries/replay", methods=["POST"])
@guarded
def replay_deliveries() -> Any:
    return json_response(get_hub().deliveries_api.replay(_call()))


@app.route("/v1/stream/aside", methods=["GET"])
@guarded
def list_aside() -> Any:
    return json_response(get_hub().aside_api.list_entries(_call()))


@app.route("/v1/stream/aside/replay", methods=["POST"])
@guarded
def replay_aside() -> Any:
    return json_response(get_hub().aside_api.replay(_call()))


# -- the tenant's own administration (tenant-admin keys; reads also agent/read-only) --


@app.route("/v1/plugins", methods=["GET"])
@guarded
def list_plugins() -> Any:
    return json_response(get_hub().tenant_admin_api.list_plugins(_call()))


@app.route("/v1/plugins/{name}", methods=["GET"])
@guarded
def get_plugin(name: str) -> Any:
    return json_response(get_hub().tenant_admin_api.get_plugin(_call(), name))


@app.route("/v1/plugins/{name}/enable", methods=["POST"])
@guarded
def enable_plugin(name: str) -> Any:
    return json_response(get_hub().tenant_admin_api.enable_plugin(_call(), name))


@app.route("/v1/plugins/{name}/disable", methods=["POST"])
@guarded
def disable_plugin(name: str) -> Any:
    return json_response(get_hub().tenant_admin_api.disable_plugin(_call(), name))


@app.route("/v1/plugins/{name}/config", methods=["PUT"])
@guarded
def configure_plugin(name: str) -> Any:
    return json_response(get_hub().tenant_admin_api.configure_plugin(_call(), name))


@app.route("/v1/keys", methods=["GET"])
@guarded
def list_keys() -> Any:
    return json_response(get_hub().tenant_admin_api.list_keys(_call()))


@app.route("/v1/keys", methods=["POST"])
@guarded
def create_key() -> Any:
    return json_response(get_hub().tenant_admin_api.create_key(_call()), 201)


@app.route("/v1/keys/{key_id}", methods=["DELETE"])
@guarded
def revoke_key(key_id: str) -> Any:
    return json_response(get_hub().tenant_admin_api.revoke_key(_call(), key_id))


@app.route("/v1/settings", methods=["GET"])
@guarded
def get_settings() -> Any:
    return json_response(get_hub().tenant_admin_api.get_settings(_call()))


@app.route("/v1/settings", methods=["PATCH"])
@guarded
def update_settings() -> Any:
    return json_response(get_hub().tenant_admin_api.update_settings(_call()))


@app.route("/v1/audit", methods=["GET"])
@guarded
def list_audit() -> Any:
    return json_response(get_hub().tenant_admin_api.list_audit(_call()))


@app.route("/v1/customers/{customer_id}", methods=["DELETE"])
@guarded
def erase_customer(customer_id: str) -> Any:
    return json_response(get_hub().tenant_admin_api.erase_customer(_call(), customer_id))


# -- agents: sign-in (no key), the caller itself, and the tenant's agents and groups -----


@app.route("/v1/session", methods=["POST"])
@guarded
def create_session() -> Any:
    return json_response(get_hub().session_api.sign_in(_call()))


@app.route("/v1/session/password", methods=["POST"])
@guarded
def set_session_password() -> Any:
    return json_response(get_hub().session_api.set_password(_call()))


@app.route("/v1/session/refresh", methods=["POST"])
@guarded
def refresh_session() -> Any:
    return json_response(get_hub().session_api.refresh(_call()))


@app.route("/v1/me", methods=["GET"])
@guarded
def get_me() -> Any:
    return json_response(get_hub().agents_api.me(_call()))


@app.route("/v1/me/availability", methods=["PUT"])
@guarded
def set_availability() -> Any:
    return json_response(get_hub().agents_api.set_availability(_call()))


@app.route("/v1/agents", methods=["GET"])
@guarded
def list_agents() -> Any:
    return json_response(get_hub().agents_api.list_agents(_call()))


@app.route("/v1/agents", methods=["POST"])
@guarded
def create_agent() -> Any:
    return json_response(get_hub().agents_api.create_agent(_call()), 201)


@app.route("/v1/agents/{agent_id}", methods=["GET"])
@guarded
def get_agent(agent_id: str) -> Any:
    return json_response(get_hub().agents_api.get_agent(_call(), agent_id))


@app.route("/v1/agents/{agent_id}", methods=["PATCH"])
@guarded
def update_agent(agent_id: str) -> Any:
    return json_response(get_hub().agents_api.update_agent(_call(), agent_id))


@app.route("/v1/agents/{agent_id}", methods=["DELETE"])
@guarded
def remove_agent(agent_id: str) -> Any:
    return json_response(get_hub().agents_api.remove_agent(_call(), agent_id))


@app.route("/v1/groups", methods=["GET"])
@guarded
def list_groups() -> Any:
    return json_response(get_hub().agents_api.list_groups(_call()))


@app.route("/v1/groups", methods=["POST"])
@guarded
def create_group() -> Any:
    return json_response(get_hub().agents_api.create_group(_call()), 201)


@app.route("/v1/groups/{group_id}", methods=["GET"])
@guarded
def get_group(group_id: str) -> Any:
    return json_response(get_hub().agents_api.get_group(_call(), group_id))


@app.route("/v1/groups/{group_id}", methods=["PATCH"])
@guarded
def update_group(group_id: str) -> Any:
    return json_response(get_hub().agents_api.update_group(_call(), group_id))


@app.route("/v1/groups/{group_id}", methods=["DELETE"])
@guarded
def delete_group(group_id: str) -> Any:
    return json_response(get_hub().agents_api.delete_group(_call(), group_id))


# -- the platform operator (platform-admin keys) --------------------------------------


@app.route("/v1/admin/tenants", methods=["POST"])
@guarded
def create_tenant() -> Any:
    return json_response(get_hub().platform_api.create_tenant(_call()), 201)


@app.route("/v1/admin/tenants", methods=["GET"])
@guarded
def list_tenants() -> Any:
    return json_response(get_hub().platform_api.list_tenants(_call()))


@app.route("/v1/admin/tenants/{tenant_id}", methods=["GET"])
@guarded
def get_tenant(tenant_id: str) -> Any:
    return json_response(get_hub().platform_api.get_tenant(_call(), tenant_id))


@app.route("/v1/admin/tenants/{tenant_id}", methods=["PATCH"])
@guarded
def update_tenant(tenant_id: str) -> Any:
    return json_response(get_hub().platform_api.update_tenant(_call(), tenant_id))


@app.route("/v1/admin/tenants/{tenant_id}/keys", methods=["POST"])
@guarded
def create_tenant_key(tenant_id: str) -> Any:
    return json_response(get_hub().platform_api.create_tenant_key(_call(), tenant_id), 201)


@app.route("/v1/admin/tenants/{tenant_id}/keys", methods=["GET"])
@guarded
def list_tenant_keys(tenant_id: str) -> Any:
    return json_response(get_hub().platform_api.list_tenant_keys(_call(), tenant_id))


@app.route("/v1/admin/tenants/{tenant_id}/keys/{key_id}", methods=["DELETE"])
@guarded
def revoke_tenant_key(tenant_id: str, key_id: str) -> Any:
    return json_response(get_hub().platform_api.revoke_tenant_key(_call(), tenant_id, key_id))


@app.route("/v1/admin/audit", methods=["GET"])
@guarded
def platform_audit() -> Any:
    return json_response(get_hub().platform_api.platform_audit(_call()))


@app.route("/v1/admin/keys", methods=["GET"])
@guarded
def list_platform_keys() -> Any:
    return json_response(get_hub().platform_api.list_platform_keys(_call()))


@app.route("/v1/admin/keys", methods=["POST"])
@guarded
def create_platform_key() -> Any:
    return json_response(get_hub().platform_api.create_platform_key(_call()), 201)


@app.route("/v1/admin/keys/{key_id}", methods=["DELETE"])
@guarded
def revoke_platform_key(key_id: str) -> Any:
    return json_response(get_hub().platform_api.revoke_platform_key(_call(), key_id))


@app.on_cw_event(event_pattern=STORED_OBJECT_PATTERN_PLACEHOLDER)
def stored_objects(event: CloudWatchEvent) -> None:
    get_hub().stored_objects.process(event.to_dict())


@app.schedule("rate(1 minute)")
def workflow_timers(event: CloudWatchEvent) -> dict[str, Any]:
    """SLA warnings and breaches, solved tickets closing, surveys going out: the timers come due."""
    return get_hub().scheduler.tick().as_dict()


@app.on_dynamodb_record(stream_arn=STREAM_ARN_PLACEHOLDER, batch_size=100, starting_position="TRIM_HORIZON")
def store_changes(event: DynamoDBEvent) -> dict[str, Any]:
    return get_hub().stream.process(event.to_dict()["Records"])


@app.on_sqs_message(queue=DELIVERY_QUEUE_PLACEHOLDER, batch_size=10)
def deliveries(event: SQSEvent) -> dict[str, Any]:
    return get_hub().worker.process(event.to_dict()["Records"])


@app.on_sqs_message(queue=STREAM_FAILURE_QUEUE_PLACEHOLDER, batch_size=10)
def stream_failures(event: SQSEvent) -> dict[str, Any]:
    return get_hub().stream_failures.process(event.to_dict()["Records"])


@app.on_sqs_message(queue=OBJECT_FAILURE_QUEUE_PLACEHOLDER, batch_size=10)
def object_failures(event: SQSEvent) -> dict[str, Any]:
    return get_hub().object_failures.process(event.to_dict()["Records"])
