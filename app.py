"""Switchboard's Chalice edge: routes and event handlers only.

Every function here hands its request or event to ``chalicelib``; the hub behind
it is built once per container, on first use, so importing this module stays
cheap (boto3 loads when the first request needs it).
"""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, CloudWatchEvent, DynamoDBEvent, Request, SQSEvent

from chalicelib.api.calls import ApiCall
from chalicelib.edge import (
    api_call,
    guarded,
    json_response,
    page_response,
    provider_response,
    tagged_response,
    text_response,
    webhook_from,
)
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


def _accept() -> str:
    headers = _request().headers
    return str(headers.get("accept", "")) if headers else ""


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


@app.route("/v1/customers/{customer_id}/export", methods=["GET"])
@guarded
def export_customer(customer_id: str) -> Any:
    return json_response(get_hub().customer_export_api.export(_call(), customer_id))


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


# -- console: the signed-in agent's preferences, and the changes poll ------------------


@app.route("/v1/me/preferences", methods=["PUT"])
@guarded
def set_preferences() -> Any:
    return json_response(get_hub().agents_api.set_preferences(_call()))


@app.route("/v1/changes", methods=["GET"])
@guarded
def list_changes() -> Any:
    headers = _request().headers
    answer = get_hub().changes_api.changes(_call(), headers.get("if-none-match") if headers else None)
    return tagged_response(answer.page, answer.etag)


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


# -- the service workflow: rules, SLA, templates and macros, customers, surveys -------


@app.route("/v1/rules/test", methods=["POST"])
@guarded
def test_rules() -> Any:
    return json_response(get_hub().rules_api.test_rules(_call()))


@app.route("/v1/rules/{rule_id}/versions", methods=["GET"])
@guarded
def rule_versions(rule_id: str) -> Any:
    return json_response(get_hub().rules_api.rule_versions(_call(), rule_id))


@app.route("/v1/templates/export", methods=["GET"])
@guarded
def export_templates() -> Any:
    return text_response(get_hub().templates_api.export_templates(_call()), "text/csv; charset=utf-8",
                         filename="templates.csv")


@app.route("/v1/templates/import", methods=["POST"], content_types=["application/json", "text/csv", "text/plain"])
@guarded
def import_templates() -> Any:
    return json_response(get_hub().templates_api.import_templates(_call()))


@app.route("/v1/templates/{code}/render", methods=["POST"])
@guarded
def render_template(code: str) -> Any:
    return json_response(get_hub().templates_api.render_template(_call(), code))


@app.route("/v1/rules", methods=["GET"])
@guarded
def list_rules() -> Any:
    return json_response(get_hub().rules_api.list_rules(_call()))


@app.route("/v1/rules", methods=["POST"])
@guarded
def create_rule() -> Any:
    return json_response(get_hub().rules_api.create_rule(_call()), 201)


@app.route("/v1/rules/{rule_id}", methods=["GET"])
@guarded
def get_rule(rule_id: str) -> Any:
    return json_response(get_hub().rules_api.get_rule(_call(), rule_id))


@app.route("/v1/rules/{rule_id}", methods=["PUT"])
@guarded
def update_rule(rule_id: str) -> Any:
    return json_response(get_hub().rules_api.update_rule(_call(), rule_id))


@app.route("/v1/rules/{rule_id}", methods=["DELETE"])
@guarded
def delete_rule(rule_id: str) -> Any:
    return json_response(get_hub().rules_api.delete_rule(_call(), rule_id))


@app.route("/v1/sla-policies", methods=["GET"])
@guarded
def list_sla_policies() -> Any:
    return json_response(get_hub().sla_api.list_policies(_call()))


@app.route("/v1/sla-policies", methods=["POST"])
@guarded
def create_sla_policy() -> Any:
    return json_response(get_hub().sla_api.create_policy(_call()), 201)


@app.route("/v1/sla-policies/{policy_id}", methods=["GET"])
@guarded
def get_sla_policy(policy_id: str) -> Any:
    return json_response(get_hub().sla_api.get_policy(_call(), policy_id))


@app.route("/v1/sla-policies/{policy_id}", methods=["PUT"])
@guarded
def update_sla_policy(policy_id: str) -> Any:
    return json_response(get_hub().sla_api.update_policy(_call(), policy_id))


@app.route("/v1/sla-policies/{policy_id}", methods=["DELETE"])
@guarded
def delete_sla_policy(policy_id: str) -> Any:
    return json_response(get_hub().sla_api.delete_policy(_call(), policy_id))


@app.route("/v1/calendars", methods=["GET"])
@guarded
def list_calendars() -> Any:
    return json_response(get_hub().sla_api.list_calendars(_call()))


@app.route("/v1/calendars", methods=["POST"])
@guarded
def create_calendar() -> Any:
    return json_response(get_hub().sla_api.create_calendar(_call()), 201)


@app.route("/v1/calendars/{calendar_id}", methods=["GET"])
@guarded
def get_calendar(calendar_id: str) -> Any:
    return json_response(get_hub().sla_api.get_calendar(_call(), calendar_id))


@app.route("/v1/calendars/{calendar_id}", methods=["PUT"])
@guarded
def update_calendar(calendar_id: str) -> Any:
    return json_response(get_hub().sla_api.update_calendar(_call(), calendar_id))


@app.route("/v1/calendars/{calendar_id}", methods=["DELETE"])
@guarded
def delete_calendar(calendar_id: str) -> Any:
    return json_response(get_hub().sla_api.delete_calendar(_call(), calendar_id))


@app.route("/v1/templates", methods=["GET"])
@guarded
def list_templates() -> Any:
    return json_response(get_hub().templates_api.list_templates(_call()))


@app.route("/v1/templates", methods=["POST"])
@guarded
def create_template() -> Any:
    return json_response(get_hub().templates_api.create_template(_call()), 201)


@app.route("/v1/templates/{code}", methods=["GET"])
@guarded
def get_template(code: str) -> Any:
    return json_response(get_hub().templates_api.get_template(_call(), code))


@app.route("/v1/templates/{code}", methods=["PUT"])
@guarded
def update_template(code: str) -> Any:
    return json_response(get_hub().templates_api.update_template(_call(), code))


@app.route("/v1/templates/{code}", methods=["DELETE"])
@guarded
def delete_template(code: str) -> Any:
    return json_response(get_hub().templates_api.delete_template(_call(), code))


@app.route("/v1/macros", methods=["GET"])
@guarded
def list_macros() -> Any:
    return json_response(get_hub().templates_api.list_macros(_call()))


@app.route("/v1/macros", methods=["POST"])
@guarded
def create_macro() -> Any:
    return json_response(get_hub().templates_api.create_macro(_call()), 201)


@app.route("/v1/macros/{macro_id}", methods=["GET"])
@guarded
def get_macro(macro_id: str) -> Any:
    return json_response(get_hub().templates_api.get_macro(_call(), macro_id))


@app.route("/v1/macros/{macro_id}", methods=["PUT"])
@guarded
def update_macro(macro_id: str) -> Any:
    return json_response(get_hub().templates_api.update_macro(_call(), macro_id))


@app.route("/v1/macros/{macro_id}", methods=["DELETE"])
@guarded
def delete_macro(macro_id: str) -> Any:
    return json_response(get_hub().templates_api.delete_macro(_call(), macro_id))


@app.route("/v1/tickets/{ticket_id}/macros/{macro_id}", methods=["POST"])
@guarded
def apply_macro(ticket_id: str, macro_id: str) -> Any:
    return json_response(get_hub().macros_api.apply(_call(), ticket_id, macro_id))


@app.route("/v1/tickets/{ticket_id}/survey", methods=["GET"])
@guarded
def get_ticket_survey(ticket_id: str) -> Any:
    return json_response(get_hub().surveys_api.get_survey(_call(), ticket_id))


@app.route("/csat/{token}", methods=["GET"])
@guarded
def open_survey_link(token: str) -> Any:
    """A signed survey link: the page shows the score and records it when confirmed
    (mail scanners open every link with GET; only the POST records)."""
    return page_response(get_hub().surveys_api.open_link(_call(), token, _accept()))


@app.route("/csat/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded", "application/json"])
@guarded
def answer_survey_link(token: str) -> Any:
    return page_response(get_hub().surveys_api.answer_link(_call(), token, _accept()))


@app.route("/v1/customers/{customer_id}", methods=["PATCH"])
@guarded
def update_customer(customer_id: str) -> Any:
    return json_response(get_hub().customers_api.update_customer(_call(), customer_id))


@app.route("/v1/customers/{customer_id}/merge", methods=["POST"])
@guarded
def merge_customers(customer_id: str) -> Any:
    return json_response(get_hub().customers_api.merge_customers(_call(), customer_id))


@app.route("/v1/customers/{customer_id}/unmerge", methods=["POST"])
@guarded
def unmerge_customer(customer_id: str) -> Any:
    return json_response(get_hub().customers_api.unmerge_customer(_call(), customer_id))


@app.route("/v1/customers/{customer_id}/merges", methods=["GET"])
@guarded
def list_customer_merges(customer_id: str) -> Any:
    return json_response(get_hub().customers_api.list_merges(_call(), customer_id))


# -- reports: the KPIs of docs/metrics.md (supervisors, tenant admins, read keys; format=csv) --


def _report(answer: Any) -> Any:
    """A report as JSON, or as the CSV download it was asked as."""
    if answer.csv is not None:
        return text_response(answer.csv, "text/csv; charset=utf-8", filename=answer.filename)
    return json_response(answer.body)


@app.route("/v1/reports/summary", methods=["GET"])
@guarded
def report_summary() -> Any:
    return _report(get_hub().reports_api.summary(_call()))


@app.route("/v1/reports/timeseries", methods=["GET"])
@guarded
def report_timeseries() -> Any:
    return _report(get_hub().reports_api.timeseries(_call()))


@app.route("/v1/reports/breakdown", methods=["GET"])
@guarded
def report_breakdown() -> Any:
    return _report(get_hub().reports_api.breakdown(_call()))


@app.route("/v1/reports/flow", methods=["GET"])
@guarded
def report_flow() -> Any:
    return _report(get_hub().reports_api.flow(_call()))


@app.route("/v1/reports/top-issues", methods=["GET"])
@guarded
def report_top_issues() -> Any:
    return _report(get_hub().reports_api.top_issues(_call()))


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


# -- the web chat widget: its script, visitor sessions, messages, uploads, CSAT --
# Each /widget/{tenant}/... path answers its own CORS preflight (OPTIONS): chalice's cors=True
# would allow any origin, the widget only the tenant's (chalicelib/widget/service.py).


def _widget(tenant: str, route: str) -> Any:
    hub = get_hub()
    return provider_response(hub.widget.handle(route, webhook_from(_request(), tenant, "widget",
                                                                   received_at=hub.clock())))


@app.route("/widget.js", methods=["GET"])
@guarded
def widget_script() -> Any:
    headers = _request().headers
    return provider_response(get_hub().widget_script.answer(headers.get("if-none-match") if headers else None))


@app.route("/widget/{tenant}/session", methods=["POST"])
@guarded
def widget_session(tenant: str) -> Any:
    return _widget(tenant, "session")


@app.route("/widget/{tenant}/session", methods=["OPTIONS"])
@guarded
def widget_session_preflight(tenant: str) -> Any:
    return _widget(tenant, "session")


@app.route("/widget/{tenant}/messages", methods=["POST"])
@guarded
def widget_post_message(tenant: str) -> Any:
    return _widget(tenant, "messages")


@app.route("/widget/{tenant}/messages", methods=["GET"])
@guarded
def widget_poll(tenant: str) -> Any:
    return _widget(tenant, "messages")


@app.route("/widget/{tenant}/messages", methods=["OPTIONS"])
@guarded
def widget_messages_preflight(tenant: str) -> Any:
    return _widget(tenant, "messages")


@app.route("/widget/{tenant}/uploads", methods=["POST"])
@guarded
def widget_upload(tenant: str) -> Any:
    return _widget(tenant, "uploads")


@app.route("/widget/{tenant}/uploads", methods=["OPTIONS"])
@guarded
def widget_upload_preflight(tenant: str) -> Any:
    return _widget(tenant, "uploads")


@app.route("/widget/{tenant}/csat", methods=["POST"])
@guarded
def widget_csat(tenant: str) -> Any:
    return _widget(tenant, "csat")


@app.route("/widget/{tenant}/csat", methods=["OPTIONS"])
@guarded
def widget_csat_preflight(tenant: str) -> Any:
    return _widget(tenant, "csat")


@app.route("/widget/{tenant}/feedback", methods=["POST"])
@guarded
def widget_feedback(tenant: str) -> Any:
    return _widget(tenant, "feedback")


@app.route("/widget/{tenant}/feedback", methods=["OPTIONS"])
@guarded
def widget_feedback_preflight(tenant: str) -> Any:
    return _widget(tenant, "feedback")


@app.route("/widget/{tenant}/handoff", methods=["POST"])
@guarded
def widget_handoff(tenant: str) -> Any:
    return _widget(tenant, "handoff")


@app.route("/widget/{tenant}/handoff", methods=["OPTIONS"])
@guarded
def widget_handoff_preflight(tenant: str) -> Any:
    return _widget(tenant, "handoff")


# -- end of the web chat widget --


# -- the assistant: knowledge base API, help centre, training --
# infra/template.json replaces it with the training queue's ARN at package time (like the delivery queue's)
TRAINING_QUEUE_PLACEHOLDER = "switchboard-training"


def _no_content() -> Any:
    from chalice.app import Response

    return Response(body="", status_code=204, headers={"Content-Type": "text/plain"})


@app.route("/v1/knowledge/articles", methods=["GET"])
@guarded
def list_knowledge_articles() -> Any:
    return json_response(get_hub().knowledge_api.list_articles(_call()))


@app.route("/v1/knowledge/articles/{article_id}/{language}", methods=["PUT"])
@guarded
def put_knowledge_article(article_id: str, language: str) -> Any:
    return json_response(get_hub().knowledge_api.put_article(_call(), article_id, language))


@app.route("/v1/knowledge/articles/{article_id}/{language}", methods=["DELETE"])
@guarded
def delete_knowledge_article(article_id: str, language: str) -> Any:
    get_hub().knowledge_api.delete_article(_call(), article_id, language)
    return _no_content()


@app.route("/v1/knowledge/intents", methods=["GET"])
@guarded
def list_knowledge_intents() -> Any:
    return json_response(get_hub().knowledge_api.list_intents(_call()))


@app.route("/v1/knowledge/intents/{name}", methods=["GET"])
@guarded
def get_knowledge_intent(name: str) -> Any:
    return json_response(get_hub().knowledge_api.get_intent(_call(), name))


@app.route("/v1/knowledge/intents/{name}", methods=["PUT"])
@guarded
def put_knowledge_intent(name: str) -> Any:
    return json_response(get_hub().knowledge_api.put_intent(_call(), name))


@app.route("/v1/knowledge/intents/{name}", methods=["DELETE"])
@guarded
def delete_knowledge_intent(name: str) -> Any:
    get_hub().knowledge_api.delete_intent(_call(), name)
    return _no_content()


@app.route("/v1/knowledge/import", methods=["POST"], content_types=["application/json", "text/csv", "text/plain"])
@guarded
def import_knowledge() -> Any:
    return json_response(get_hub().knowledge_api.import_knowledge(_call()))


@app.route("/v1/knowledge/export", methods=["GET"])
@guarded
def export_knowledge() -> Any:
    return json_response(get_hub().knowledge_api.export_knowledge(_call()))


@app.route("/v1/knowledge/model", methods=["GET"])
@guarded
def get_knowledge_model() -> Any:
    return json_response(get_hub().knowledge_api.model_status(_call()))


@app.route("/v1/knowledge/train", methods=["POST"])
@guarded
def train_knowledge() -> Any:
    return json_response(get_hub().knowledge_api.train(_call()), 202)


@app.route("/help/{tenant}", methods=["GET"])
@guarded
def help_centre(tenant: str) -> Any:
    """The tenant's public FAQ page (no key): ``?q=`` searches, ``?lang=`` picks the language."""
    request = _request()
    query = dict(request.query_params or {})
    headers = request.headers
    language = headers.get("accept-language", "") if headers else ""
    return page_response(get_hub().help_centre.page(tenant, query=query.get("q"), lang=query.get("lang"),
                                                    accept_language=str(language)))


@app.on_sqs_message(queue=TRAINING_QUEUE_PLACEHOLDER, batch_size=1)
def train_assistants(event: SQSEvent) -> dict[str, Any]:
    """A knowledge change's training job: the tenant's model trained, stored, swapped in."""
    return get_hub().assistant_trainer.process(event.to_dict()["Records"])


# -- end of the assistant: knowledge base API, help centre, training --


# -- the assistant: answering --
# placeholders like the others: infra/template.json names the real queues at package time
ASSISTANT_QUEUE_PLACEHOLDER = "switchboard-assistant"
ASSISTANT_DEAD_LETTER_PLACEHOLDER = "switchboard-assistant-dead-letters"


@app.on_sqs_message(queue=ASSISTANT_QUEUE_PLACEHOLDER, batch_size=10)
def answer_customers(event: SQSEvent) -> dict[str, Any]:
    """The assistant answers new customer messages (jobs the stream queued); partial batch failures."""
    return get_hub().assistant_responder.process(event.to_dict()["Records"])  # type: ignore[no-any-return]


@app.on_sqs_message(queue=ASSISTANT_DEAD_LETTER_PLACEHOLDER, batch_size=10)
def assistant_dead_letters(event: SQSEvent) -> dict[str, Any]:
    """Answering jobs that kept failing: their tickets go to people instead of waiting."""
    return get_hub().assistant_responder.dead_letters(event.to_dict()["Records"])  # type: ignore[no-any-return]
# -- end of the assistant: answering --


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
