"""The OpenAPI 3.1 document of the whole HTTP API, built from the same pydantic
models the routes validate and answer with.

Served at ``/openapi.json`` and kept in ``docs/openapi.json`` (``make openapi``);
tests fail when a Chalice route is missing here, when the copy in docs/ is
stale, and (schemathesis) when a response does not match its schema.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema
from switchboard_sdk import Customer, Message

from ..agents.directory import AgentView, Group
from ..ingest.content_types import WEBHOOK_CONTENT_TYPES
from ..tenancy.apikeys import ApiKeyInfo
from ..tenancy.audit import AuditPage
from .agents import (
    AgentCreated,
    AgentList,
    CreateAgent,
    CreateGroup,
    GroupList,
    Me,
    SetAvailability,
    UpdateAgent,
    UpdateGroup,
)
from .aside import AsidePage, AsideReplayReport, AsideReplayRequest
from .deliveries import ReplayRequest
from .openapi_config import CONFIG_OPERATIONS
from .openapi_console import CONSOLE_OPERATIONS, TICKET_FILTERS
from .openapi_knowledge import KNOWLEDGE_OPERATIONS
from .openapi_reports import REPORT_OPERATIONS
from .openapi_types import CURSOR, LIMIT, Operation, Query
from .openapi_widget import WIDGET_OPERATIONS
from .openapi_workflow import WORKFLOW_OPERATIONS, TicketView
from .platform import CreateKey, CreateTenant, KeyCreated, KeyList, TenantPage, TenantView, UpdateTenant
from .replies import ReplyRequest
from .session import NewPassword, Refresh, SessionTokensView, SignIn, SignInAnswer
from .tenant_admin import ConfigurePlugin, PluginList, PluginView, SettingsUpdate

VERSION = "1.0.0"
REF = "#/components/schemas/"


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: unauthorized, forbidden, not_found, invalid_input, ...")
    message: str
    fields: list[dict[str, str]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class TicketRow(TicketView):
    customer_name: str | None = Field(default=None, description="The customer's display name, else their first "
                                                                "identity (null once erased): for inbox rows.")


class TicketPage(BaseModel):
    tickets: list[TicketRow]
    next_cursor: str | None


class TicketDetail(BaseModel):
    ticket: TicketView
    customer: Customer | None  # null once erased
    messages: list[Message]


class MessageView(BaseModel):
    message: Message


class CustomerDetail(BaseModel):
    customer: Customer
    tickets: list[TicketView]


class ExportedTicket(BaseModel):
    ticket: TicketView
    messages: list[Message]


class CustomerExport(BaseModel):
    """One page of a subject-access export: the profile unmasked, up to 10 tickets with their messages."""

    format: str = Field(description="`switchboard.customer-export/1`")
    customer: Customer
    tickets: list[ExportedTicket]
    total_tickets: int
    next_cursor: str | None = Field(description="The next page's `cursor`; null on the last page.")


class DeliveryAttempt(BaseModel):
    connector: str
    event_id: str
    event_type: str
    ticket_id: str
    attempt: int
    outcome: Literal["delivered", "retry", "failed"]
    status_code: int | None
    reason: str
    latency_ms: int
    at: str


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryAttempt]
    next_cursor: str | None


class ReplayReport(BaseModel):
    requeued: int
    event_ids: list[str]
    scanned: int


class ErasureReport(BaseModel):
    customer_id: str
    erased: dict[str, int] = Field(description="Items and objects removed or redacted, by kind.")


class Health(BaseModel):
    status: Literal["ok"]


class OpenApiDocument(BaseModel):
    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


WEBHOOK_ERRORS = (400, 401, 403, 404, 405, 413, 429)
TENANT_ADMIN = ("tenant-admin",)
REPLY = ("tenant-admin", "reply")
SESSION_ERRORS = (400, 401, 403, 404, 422, 429)
PLATFORM = ("platform-admin",)
OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/health", "health", "Liveness", "meta", Health, scopes=(), errors=()),
    Operation("get", "/openapi.json", "openapi_document", "This document", "meta", OpenApiDocument,
              scopes=(), errors=()),
    Operation("get", "/hooks/{tenant}/{channel}", "provider_handshake", "A provider's URL check (WeChat echostr)",
              "webhooks", Health, scopes=(), errors=WEBHOOK_ERRORS, provider=True),
    Operation("post", "/hooks/{tenant}/{channel}", "provider_webhook", "A provider's signed webhook", "webhooks",
              Health, status=202, scopes=(), errors=WEBHOOK_ERRORS, provider=True),
    Operation("post", "/hooks/{tenant}/{channel}/mime", "provider_webhook_mime", "Mailgun's raw-MIME route",
              "webhooks", Health, status=202, scopes=(), errors=WEBHOOK_ERRORS, provider=True),
    Operation("get", "/v1/tickets", "list_tickets", "List tickets, newest activity first (filters are ANDed)",
              "tickets", TicketPage, query=(*TICKET_FILTERS, LIMIT, CURSOR)),
    Operation("get", "/v1/tickets/{ticket_id}", "get_ticket", "A ticket and its messages", "tickets",
              TicketDetail, errors=(401, 403, 404, 429)),
    Operation("post", "/v1/tickets/{ticket_id}/messages", "post_message",
              "Reply to the customer on the ticket's channel (sent by the worker), or add an internal note",
              "tickets", MessageView, status=202, body=ReplyRequest, scopes=REPLY,
              errors=(400, 401, 403, 404, 422, 429)),
    Operation("post", "/v1/tickets/{ticket_id}/messages/{message_id}/retry", "retry_message",
              "Send a failed reply again", "tickets", MessageView, status=202, scopes=REPLY,
              errors=(401, 403, 404, 409, 429)),
    Operation("get", "/v1/customers/{customer_id}", "get_customer", "A customer: every identity, their tickets",
              "customers", CustomerDetail, errors=(401, 403, 404, 429)),
    Operation("get", "/v1/deliveries", "list_deliveries", "Delivery attempts of a ticket or a connector",
              "deliveries", DeliveryPage,
              query=(Query("ticket_id", {"type": "string", "maxLength": 100}),
                     Query("connector", {"type": "string", "maxLength": 64}), LIMIT, CURSOR)),
    Operation("post", "/v1/deliveries/replay", "replay_deliveries", "Re-queue dead letters or logged events",
              "deliveries", ReplayReport, body=ReplayRequest, scopes=TENANT_ADMIN, errors=(400, 401, 403, 422, 429)),
    Operation("get", "/v1/stream/aside", "list_aside", "Stream records and stored objects set aside, by id",
              "stream", AsidePage, query=(LIMIT, CURSOR)),
    Operation("post", "/v1/stream/aside/replay", "replay_aside", "Run the handlers again on set-aside entries",
              "stream", AsideReplayReport, body=AsideReplayRequest, scopes=TENANT_ADMIN,
              errors=(400, 401, 403, 422, 429)),
    Operation("get", "/v1/plugins", "list_plugins", "Installed plugins, with this tenant's settings",
              "plugins", PluginList, scopes=TENANT_ADMIN),
    Operation("get", "/v1/plugins/{name}", "get_plugin", "One plugin, with this tenant's settings", "plugins",
              PluginView, scopes=TENANT_ADMIN, errors=(401, 403, 404, 429)),
    Operation("post", "/v1/plugins/{name}/enable", "enable_plugin", "Enable (and optionally configure) a plugin",
              "plugins", PluginView, body=ConfigurePlugin, scopes=TENANT_ADMIN, errors=(401, 403, 404, 422, 429)),
    Operation("post", "/v1/plugins/{name}/disable", "disable_plugin", "Disable a plugin (its config is kept)",
              "plugins", PluginView, body=ConfigurePlugin, scopes=TENANT_ADMIN, errors=(401, 403, 404, 422, 429)),
    Operation("put", "/v1/plugins/{name}/config", "configure_plugin", "Replace a plugin's config", "plugins",
              PluginView, body=ConfigurePlugin, scopes=TENANT_ADMIN, errors=(401, 403, 404, 422, 429)),
    Operation("get", "/v1/keys", "list_keys", "This tenant's API keys", "keys", KeyList, scopes=TENANT_ADMIN),
    Operation("post", "/v1/keys", "create_key", "Issue an API key (shown once)", "keys", KeyCreated, status=201,
              body=CreateKey, scopes=TENANT_ADMIN, errors=(401, 403, 422, 429)),
    Operation("delete", "/v1/keys/{key_id}", "revoke_key", "Revoke an API key", "keys", ApiKeyInfo,
              scopes=TENANT_ADMIN, errors=(401, 403, 404, 429)),
    Operation("get", "/v1/settings", "get_settings", "This tenant and its settings", "settings", TenantView,
              scopes=TENANT_ADMIN),
    Operation("patch", "/v1/settings", "update_settings", "Change the tenant's name or settings", "settings",
              TenantView, body=SettingsUpdate, scopes=TENANT_ADMIN, errors=(401, 403, 422, 429)),
    Operation("get", "/v1/audit", "list_audit", "The tenant's audit log, newest first", "audit", AuditPage,
              query=(Query("action", {"type": "string", "maxLength": 64}), LIMIT, CURSOR), scopes=TENANT_ADMIN),
    Operation("get", "/v1/customers/{customer_id}/export", "export_customer",
              "Export everything held about a customer, in pages (admins only; each page audited as pii.export)",
              "customers", CustomerExport, query=(CURSOR,), scopes=TENANT_ADMIN, errors=(400, 401, 403, 404, 429)),
    Operation("delete", "/v1/customers/{customer_id}", "erase_customer", "Erase a customer's personal data",
              "customers", ErasureReport, scopes=TENANT_ADMIN, errors=(401, 403, 404, 429)),
    Operation("post", "/v1/session", "create_session", "Sign in (email and password): tokens, or a challenge",
              "session", SignInAnswer, body=SignIn, scopes=(), errors=SESSION_ERRORS),
    Operation("post", "/v1/session/password", "set_session_password",
              "Answer the first sign-in's challenge with the agent's own password", "session", SessionTokensView,
              body=NewPassword, scopes=(), errors=SESSION_ERRORS),
    Operation("post", "/v1/session/refresh", "refresh_session", "New ID and access tokens for a refresh token",
              "session", SessionTokensView, body=Refresh, scopes=(), errors=SESSION_ERRORS),
    Operation("get", "/v1/me", "get_me", "The signed-in agent", "agents", Me, scopes=("agent",), session=True,
              errors=(401, 403, 429)),
    Operation("put", "/v1/me/availability", "set_availability", "Set the signed-in agent's availability",
              "agents", AgentView, body=SetAvailability, scopes=("agent",), session=True,
              errors=(401, 403, 422, 429)),
    Operation("get", "/v1/agents", "list_agents", "The tenant's agents, by name", "agents", AgentList,
              query=(Query("status", {"type": "string", "enum": ["active", "deactivated", "removed"]},
                           "Default: active and deactivated."),)),
    Operation("post", "/v1/agents", "create_agent", "Create an agent (its temporary password is shown once)",
              "agents", AgentCreated, status=201, body=CreateAgent, scopes=TENANT_ADMIN,
              errors=(401, 403, 404, 409, 422, 429)),
    Operation("get", "/v1/agents/{agent_id}", "get_agent", "One agent", "agents", AgentView,
              errors=(401, 403, 404, 429)),
    Operation("patch", "/v1/agents/{agent_id}", "update_agent", "Rename, change role or groups, deactivate",
              "agents", AgentView, body=UpdateAgent, scopes=TENANT_ADMIN, errors=(401, 403, 404, 409, 422, 429)),
    Operation("delete", "/v1/agents/{agent_id}", "remove_agent", "Remove an agent (its record stays, removed)",
              "agents", AgentView, scopes=TENANT_ADMIN, errors=(401, 403, 404, 409, 429)),
    Operation("get", "/v1/groups", "list_groups", "The tenant's agent groups, by name", "agents", GroupList),
    Operation("post", "/v1/groups", "create_group", "Create a group", "agents", Group, status=201,
              body=CreateGroup, scopes=TENANT_ADMIN, errors=(401, 403, 409, 422, 429)),
    Operation("get", "/v1/groups/{group_id}", "get_group", "One group", "agents", Group,
              errors=(401, 403, 404, 429)),
    Operation("patch", "/v1/groups/{group_id}", "update_group", "Rename or describe a group", "agents", Group,
              body=UpdateGroup, scopes=TENANT_ADMIN, errors=(401, 403, 404, 409, 422, 429)),
    Operation("delete", "/v1/groups/{group_id}", "delete_group", "Delete a group (its agents leave it)", "agents",
              Group, scopes=TENANT_ADMIN, errors=(401, 403, 404, 409, 429)),
    Operation("post", "/v1/admin/tenants", "create_tenant", "Create a tenant", "platform", TenantView, status=201,
              body=CreateTenant, scopes=PLATFORM, errors=(401, 403, 409, 422)),
    Operation("get", "/v1/admin/tenants", "list_tenants", "List tenants by id", "platform", TenantPage,
              query=(LIMIT, CURSOR), scopes=PLATFORM),
    Operation("get", "/v1/admin/tenants/{tenant_id}", "get_tenant", "One tenant", "platform", TenantView,
              scopes=PLATFORM, errors=(401, 403, 404)),
    Operation("patch", "/v1/admin/tenants/{tenant_id}", "update_tenant", "Rename, suspend or resume a tenant",
              "platform", TenantView, body=UpdateTenant, scopes=PLATFORM, errors=(401, 403, 404, 422)),
    Operation("post", "/v1/admin/tenants/{tenant_id}/keys", "create_tenant_key", "Issue a key of a tenant",
              "platform", KeyCreated, status=201, body=CreateKey, scopes=PLATFORM, errors=(401, 403, 404, 422)),
    Operation("get", "/v1/admin/tenants/{tenant_id}/keys", "list_tenant_keys", "A tenant's keys", "platform",
              KeyList, scopes=PLATFORM, errors=(401, 403, 404)),
    Operation("delete", "/v1/admin/tenants/{tenant_id}/keys/{key_id}", "revoke_tenant_key",
              "Revoke a tenant's key", "platform", ApiKeyInfo, scopes=PLATFORM, errors=(401, 403, 404)),
    Operation("get", "/v1/admin/audit", "platform_audit", "Platform-wide audit records, newest first", "platform",
              AuditPage, query=(Query("action", {"type": "string", "maxLength": 64}), LIMIT, CURSOR),
              scopes=PLATFORM, errors=(400, 401, 403)),
    Operation("get", "/v1/admin/keys", "list_platform_keys", "Platform-admin keys", "platform", KeyList,
              scopes=PLATFORM, errors=(401, 403)),
    Operation("post", "/v1/admin/keys", "create_platform_key", "Issue a platform-admin key (shown once)",
              "platform", KeyCreated, status=201, body=CreateKey, scopes=PLATFORM, errors=(401, 403, 422)),
    Operation("delete", "/v1/admin/keys/{key_id}", "revoke_platform_key", "Revoke a platform-admin key",
              "platform", ApiKeyInfo, scopes=PLATFORM, errors=(401, 403, 404)),
    *WORKFLOW_OPERATIONS,
    *CONFIG_OPERATIONS,
    *REPORT_OPERATIONS,
    *CONSOLE_OPERATIONS,
    *KNOWLEDGE_OPERATIONS,
    *WIDGET_OPERATIONS,
)
PATH_PARAMS = {"rule_id": 64, "policy_id": 64, "calendar_id": 64, "code": 40, "macro_id": 64, "token": 600,
               "ticket_id": 100, "name": 64, "key_id": 32, "customer_id": 100, "tenant_id": 63, "tenant": 63,
               "channel": 64, "agent_id": 64, "group_id": 64, "message_id": 64,
               "article_id": 64, "language": 3}
ERROR_TEXT = {400: "Bad request", 401: "No valid API key or signature", 403: "Not allowed, or tenant suspended",
              404: "Not found", 405: "Method not allowed", 409: "Conflict", 413: "Body too large",
              422: "Invalid input (fields listed)", 429: "Rate limited (see Retry-After)"}
AGENT_TOKEN = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "An agent's Cognito ID token (POST /v1/session). Roles give scopes: admin → "
                              "tenant-admin, agent, reply; supervisor → agent, reply, supervisor; "
                              "agent → agent, reply."}
PAGE_ANSWER = {"description": "An HTML page (JSON with `Accept: application/json`); a bad link answers 400/403/404/"
                              "409/429 the same way", "content": {"text/html": {"schema": {"type": "string"}},
                                                              "application/json": {"schema": {"type": "object"}}}}
PAGE_FORM = {"description": "An optional comment (an empty body just confirms the score)", "content": {
    media: {"schema": {"type": "object", "properties": {"comment": {"type": "string", "maxLength": 2000}}}}
    for media in ("application/x-www-form-urlencoded", "application/json")}}
PROVIDER_BODY = {"description": "The provider's own format (JSON, form, XML, MIME, ...), signed its way.",
                 "content": {t: {"schema": {}} for t in WEBHOOK_CONTENT_TYPES}}


@functools.cache
def document() -> dict[str, Any]:
    """The whole OpenAPI document (built once per container)."""
    models = {m for op in OPERATIONS for m in (op.response, op.body)
              if m is not None and not (m is op.response and (op.page or op.media_type != "application/json"))}
    models |= {ErrorBody}
    _, schemas = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                    ref_template=REF + "{model}")
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Switchboard API", "version": VERSION,
                 "description": "Tenant and platform administration, tickets and deliveries. Every request "
                                "but /health, /openapi.json and /v1/session needs `Authorization: Bearer ...`: "
                                "an API key (`sbk_...`) or a signed-in agent's ID token (from POST /v1/session; "
                                "the agent's role gives the scopes). The key or token decides the tenant."},
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {}),
                       "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                                      "description": "sbk_<key id>_<secret>"},
                                           "agentToken": AGENT_TOKEN}},
    }


@functools.cache
def query_names(method: str, path: str) -> frozenset[str]:
    """The query parameters an operation takes (unknown ones are refused)."""
    return frozenset(q.name for op in OPERATIONS if (op.method, op.path) == (method.lower(), path) for q in op.query)


def rendered() -> str:
    """The document as kept in docs/openapi.json."""
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def _operation(op: Operation) -> dict[str, Any]:
    success = _json(op.response.__name__, "Success") if not (op.provider or op.page) else {
        "description": "The answer the provider expects (TwiML, `success`, JSON, ...)",
        "content": {"*/*": {"schema": {}}}} if op.provider else PAGE_ANSWER
    if op.media_type != "application/json":
        success = {"description": " ".join((op.response.__doc__ or "Success").split()),
                   "content": {op.media_type: {"schema": {"type": "string"}}}}
    if op.csv:  # format=csv
        success = _with_csv(success)
    # every keyed route answers 400 to a query parameter it does not take
    errors = sorted(set(op.errors) | ({400} if op.scopes else set()))
    spec: dict[str, Any] = {
        "operationId": op.operation_id, "summary": op.summary, "tags": [op.tag],
        "responses": {str(op.status): success}
        | {str(code): _page_error(code) if op.page else _json("ErrorBody", ERROR_TEXT[code]) for code in errors},
    }
    if op.page and op.method == "post":
        spec["requestBody"] = PAGE_FORM
    if op.provider and op.method == "post":
        spec["requestBody"] = PROVIDER_BODY
        spec["responses"]["200"] = success
    if op.scopes:
        spec["security"] = _security(op)
        spec["description"] = (f"Signed-in agents only (any role holding: {', '.join(op.scopes)})." if op.session
                               else f"Scopes: {', '.join(op.scopes)}.")
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": size}}
              for name, size in PATH_PARAMS.items() if f"{{{name}}}" in op.path]
    # an empty query parameter (``?to=``) is read as an absent one (``Call.param``)
    params += [{"name": q.name, "in": "query", "required": False, "allowEmptyValue": True, "schema": q.schema,
                "description": q.description} for q in op.query]
    if params:
        spec["parameters"] = params
    if op.etag:
        _conditional(spec)
    if op.body is not None:
        spec["requestBody"] = {"required": op.method in ("put", "patch") or op.operation_id.startswith("create"),
                               "content": {"application/json": {"schema": {"$ref": REF + op.body.__name__}}}}
    return spec


def _conditional(spec: dict[str, Any]) -> None:
    """An answer with an ETag, and 304 for a request whose If-None-Match names the current one."""
    etag = {"ETag": {"description": "The answer's cursor, quoted", "schema": {"type": "string"}}}
    spec["responses"]["200"]["headers"] = etag
    spec["responses"]["304"] = {"description": "Nothing changed since the cursor in If-None-Match (no body)",
                                "headers": etag}
    spec.setdefault("parameters", []).append(
        {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
         "description": "The ETag of the previous answer (any other value: the full answer, as HTTP says)."})


def _with_csv(answer: Any) -> dict[str, Any]:
    """A JSON answer that may also come as ``text/csv`` (``format=csv``)."""
    return dict(answer) | {"content": dict(answer["content"]) | {"text/csv": {"schema": {"type": "string"}}}}


def _security(op: Operation) -> list[dict[str, list[str]]]:
    """API keys everywhere (but the agent's own routes); agents' tokens on tenant routes."""
    keys: list[dict[str, list[str]]] = [] if op.session else [{"apiKey": []}]
    return keys + ([] if op.path.startswith("/v1/admin/") else [{"agentToken": []}])


def _page_error(code: int) -> dict[str, Any]:
    """A signed link's refusal: a page saying why (the error body with ``Accept: application/json``)."""
    return {"description": f"{ERROR_TEXT[code]}: a page saying why",
            "content": {"text/html": {"schema": {"type": "string"}},
                        "application/json": {"schema": {"$ref": REF + "ErrorBody"}}}}


def _json(model: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF + model}}}}
