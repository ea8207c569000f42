"""Tenant isolation over every route of the OpenAPI document.

Tenant A (``demo``) and tenant B (``other``) each have tickets, messages,
deliveries, keys, plugins and audit records. For each operation, a key of A's is
pointed at B's resources (B's ids in the path, B's id wherever a tenant could be
named): A's tenant-admin key on every route, A's agent and read-only keys on the
routes they can reach, the reads and the writes naming a resource, and a
platform-admin key on every tenant route (which it must be refused: platform
keys own no tenant data). Operations that name a resource must answer 404 or
403; listings must not contain a single id of B's. Afterwards B's items in the
table, B's objects in the bucket and B's secrets are byte-for-byte what they
were. The parametrisation is derived from the document, so a new route is
covered (or the test fails for want of an id to try) without editing this file.

Webhooks: a message signed with A's web secret is refused at B's URL, and B's
secret at A's, before anything is stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.agents.directory import Group, new_group_id
from chalicelib.api.openapi import OPERATIONS
from chalicelib.api.openapi_types import Operation
from chalicelib.hub import Hub
from chalicelib.tenancy.apikeys import Scope
from chalicelib.tenancy.tenants import PluginSetting, TenantRecord
from tests.agents_support import signed_in
from tests.conftest import Pipeline, Stage, World, signed_web_headers, web_message
from tests.staged import staged_fixtures
from tools.local.demo import DemoTenant, new_whsec

B = "other"
PUBLIC = {"/health", "/openapi.json", "/v1/session", "/v1/session/password", "/v1/session/refresh"}
BODIES: dict[str, Any] = {
    "replay_deliveries": {"source": "log", "connector": "webhook"}, "replay_aside": {},
    "enable_plugin": {}, "disable_plugin": {},
    "configure_plugin": {"config": {"url": "https://attacker.example/hook", "secret": new_whsec()}},
    "create_key": {"scopes": ["tenant-admin"]}, "update_settings": {"name": "Taken over"},
    "post_message": {"text": "Injected into B's ticket"},
    "create_tenant": {"id": B, "name": "Taken over"}, "update_tenant": {"status": "suspended"},
    "create_tenant_key": {"scopes": ["tenant-admin"]}, "create_platform_key": {"scopes": ["platform-admin"]},
    "create_agent": {"email": "new.agent@example.com", "name": "New Agent", "role": "admin"},
    "update_agent": {"name": "Taken over", "role": "agent"}, "set_availability": {"availability": "online"},
    "create_group": {"name": "Taken over"}, "update_group": {"name": "Taken over"},
    # the service workflow: valid bodies, so a refusal is about whose resource it is
    "update_ticket": {"priority": "low"}, "merge_ticket": {"into": "tkt_notyours"}, "apply_macro": {},
    "bulk_update_tickets": lambda ids: {"ticket_ids": [ids["ticket_id"]], "update": {"status": "solved"}},
    "create_rule": (rule := {"name": "Taken over", "trigger": "ticket.created",
                             "actions": [{"type": "set_priority", "priority": "low"}]}),
    "update_rule": rule | {"version": 1}, "test_rules": {"trigger": "ticket.created"},
    "create_sla_policy": (policy := {"name": "Taken over", "targets": {"normal": {"first_response_minutes": 5}}}),
    "update_sla_policy": policy | {"version": 1},
    "create_calendar": (calendar := {"name": "Taken over", "time_zone": "UTC",
                                     "week": {"mon": [{"start": "09:00", "end": "17:00"}]}}),
    "update_calendar": calendar | {"version": 1},
    "create_template": (template := {"code": "taken", "title": "Taken over", "texts": {"en": "hi"}}),
    "update_template": {"title": "Taken over", "texts": {"en": "hi"}, "version": 1},
    "render_template": lambda ids: {"ticket_id": ids["ticket_id"]},
    "import_templates": {"csv": "code,title,language,text,tags\ntaken,Taken over,en,hi,\n"},
    "create_macro": (macro := {"name": "Taken over", "actions": {"note": "hi"}}),
    "update_macro": macro | {"version": 1},
    "update_customer": {"add_tags": ["taken"]},
    "merge_customers": {"source_id": "cus_nobody"}, "unmerge_customer": {"source_id": "cus_nobody"},
    # the knowledge base (docs/assistant.md)
    "put_knowledge_article": {"questions": ["Taken over?"], "answer": "Taken over"},
    "put_knowledge_intent": {"description": "Taken over", "examples": ["Taken over", "Taken over again"]},
    "import_knowledge": {"intents": [{"name": "taken_over", "examples": ["Taken over", "Taken over again"]}]},
}
WORKFLOW_IDS = ("rule_id", "policy_id", "calendar_id", "code", "macro_id")
# B's knowledge base: an article (its id and language) and intents (an intent's {name})
KNOWLEDGE_IDS = ("article_id", "language", "intent")
KNOWLEDGE_OF_B: dict[str, Any] = {
    "articles": [{"id": "b-returns", "language": "en", "questions": ["B's private question?"],
                  "answer": "B's private answer", "intent": "b_refunds"}],
    "intents": [{"name": "b_refunds", "description": "B's intent",
                 "examples": ["B's private example: refund me", "B's private example: money back"]},
                {"name": "b_parcels", "description": "B's other intent",
                 "examples": ["B's private example: where is my parcel", "B's private example: late parcel"]}],
}


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


# Every test here starts from tests/conftest.py's ``world`` (a fresh copy of one saved state)
hub, demo, pipeline = staged_fixtures()


def with_tenant_b(world: World, client: Client) -> Stage:
    """Demo and tenant B as :func:`other_tenant` makes it (``Stage.extra``: B's ids), built by
    the first test asking and saved; each test starts from a fresh copy of that state."""
    return world.stage("tenant B", lambda made: other_tenant(client, made.hub, made.pipeline))


def other_tenant(client: Client, hub: Hub, pipeline: Pipeline) -> dict[str, str]:
    """Tenant B with a ticket, messages, deliveries, a key and audit records; returns B's ids."""
    secret = new_whsec()
    hub.tenants.put(TenantRecord(id=B, name="Other Co", created_at="2026-11-25T00:00:00Z", plugins={
        "web": PluginSetting(config={"secrets": [secret]}),
        "webhook": PluginSetting(config={"url": "http://127.0.0.1:9/none", "secret": new_whsec()}),
    }))
    for n in range(2):
        body = web_message(f"B's private message {n}", client_id=f"b-{n}", email="bee@other.example")
        response = client.http.post(f"/hooks/{B}/web", body=body,
                                    headers=signed_web_headers(secret, body, msg_id=f"wh_b_{n}"))
        assert response.status_code == 202
    pipeline.drain()
    ticket = hub.store.reads(B).list_tickets(status=None, limit=1, before=None)[0][0]
    reply = failed_reply(hub, B, ticket.id, ticket.customer_id, text="B's private reply")
    pipeline.drain()  # the workflow takes the reply as the ticket's first response before anyone looks
    info, key = hub.api_keys.create(B, ["tenant-admin"], name="b-admin")
    hub.audit.record(B, _actor(), "key.create", f"key/{info.key_id}")
    agent = signed_in(hub, B, role="admin", name="Bee Admin")
    group = Group(id=new_group_id(), name="B's group", created_at="2026-11-25T00:00:00Z",
                  updated_at="2026-11-25T00:00:00Z")
    hub.agent_store.of(B).add_group(group, hub.audit.entry(B, _actor(), "group.create", f"group/{group.id}")[1])
    response = client.http.post("/v1/knowledge/import", body=json.dumps(KNOWLEDGE_OF_B),
                                headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
    assert response.status_code == 200, response.body
    [article], [intent, _] = KNOWLEDGE_OF_B["articles"], KNOWLEDGE_OF_B["intents"]
    return {"ticket_id": ticket.id, "customer_id": ticket.customer_id, "key_id": info.key_id, "message_id": reply,
            "name": "webhook", "tenant_id": B, "key": key, "web_secret": secret,
            "agent_id": agent.agent.id, "group_id": group.id, "agent_token": agent.id_token,
            "article_id": article["id"], "language": article["language"], "intent": intent["name"]} \
        | workflow_of_b(client, key)


def workflow_of_b(client: Client, key: str) -> dict[str, str]:
    """B's rule, SLA policy, calendar, template and macro (made through B's own key); their ids."""
    made = {}
    for path, body, field, name in (
        ("/v1/rules", {"name": "B's rule", "trigger": "ticket.created",
                       "actions": [{"type": "add_tags", "tags": ["b"]}]}, "id", "rule_id"),
        ("/v1/sla-policies", {"name": "B's policy", "targets": {"normal": {"resolution_minutes": 60}}}, "id",
         "policy_id"),
        ("/v1/calendars", {"name": "B's hours", "time_zone": "Asia/Shanghai",
                           "week": {"mon": [{"start": "09:00", "end": "18:00"}]}}, "id", "calendar_id"),
        ("/v1/templates", {"code": "b_private", "title": "B's template", "texts": {"en": "B's words"}}, "code",
         "code"),
        ("/v1/macros", {"name": "B's macro", "actions": {"note": "B's note"}}, "id", "macro_id"),
    ):
        response = client.http.post(path, body=json.dumps(body), headers={"authorization": f"Bearer {key}",
                                                                          "content-type": "application/json"})
        assert response.status_code == 201, response.body
        made[name] = json.loads(response.body)[field]
    return made


def failed_reply(hub: Hub, tenant_id: str, ticket_id: str, customer_id: str, *, text: str) -> str:
    """A reply that failed on the ticket: what the retry route would send again; its id."""
    from datetime import UTC, datetime

    from switchboard_sdk import Message

    now = datetime(2026, 11, 25, tzinfo=UTC)
    message = Message(id="msg_failedreply", tenant_id=tenant_id, ticket_id=ticket_id, customer_id=customer_id,
                      direction="outbound", channel="web", provider_message_id="out:msg_failedreply",
                      text=text, received_at=now, status="queued", author_name="An Agent")
    replies = hub.store.replies(tenant_id)
    replies.add(message, ticket_subject="")
    replies.mark_failed(message, 0, "400", "refused", at=now)
    return message.id


def _actor() -> Any:
    from chalicelib.tenancy.audit import Actor

    return Actor(key_id="setup")


def snapshot(hub: Hub) -> dict[str, Any]:
    """Everything of B's: table items, bucket objects, secret parameters."""
    return _of_b(_everything(hub))


def _belongs_to_b(item: dict[str, Any]) -> bool:
    pk = str(item["pk"]["S"])
    return pk.startswith((f"T#{B}#", f"TENANT#{B}")) or item.get("tenant_id", {}).get("S") == B


def whole_state(hub: Hub) -> dict[str, Any]:
    """Every table item, bucket object and secret parameter, of every tenant and the platform."""
    return _of_all(_everything(hub))


def snapshot_and_whole_state(hub: Hub) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(snapshot(hub), whole_state(hub))``, from one read of the table, bucket and parameters."""
    everything = _everything(hub)
    return _of_b(everything), _of_all(everything)


Everything = tuple[list[dict[str, Any]], list[tuple[str, str]], list[tuple[str, Any]]]


def _everything(hub: Hub) -> Everything:
    """Every table item; every bucket object's key and ETag; every parameter's name and version."""
    items = []
    for page in hub.aws.dynamodb.get_paginator("scan").paginate(TableName=hub.settings.table_name):
        items += page["Items"]
    objects = []
    for page in hub.aws.s3.get_paginator("list_objects_v2").paginate(Bucket=hub.settings.bucket):
        objects += [(o["Key"], o["ETag"]) for o in page.get("Contents", [])]
    params = []
    for page in hub.aws.ssm.get_paginator("describe_parameters").paginate():
        params += [(p["Name"], p.get("Version")) for p in page["Parameters"]]
    return items, objects, params


def _of_all(everything: Everything) -> dict[str, Any]:
    items, objects, params = everything
    return {"items": sorted(json.dumps(i, sort_keys=True, default=repr) for i in items), "objects": sorted(objects),
            "secrets": sorted(params)}


def _of_b(everything: Everything) -> dict[str, Any]:
    items, objects, params = everything
    return _of_all(([i for i in items if _belongs_to_b(i)], [o for o in objects if f"/{B}/" in o[0]],
                    [p for p in params if f"/{B}/" in p[0]]))


def is_intent(op: Operation) -> bool:
    """Whether ``op``'s ``{name}`` is an intent's (a knowledge base's), not a plugin's."""
    return op.path.startswith("/v1/knowledge/intents/{name}")


def request(client: Client, op: Operation, key: str, ids: dict[str, str]) -> tuple[int, str]:
    path = op.path
    ids = ids | ({"name": ids["intent"]} if is_intent(op) else {})
    for name in ("ticket_id", "customer_id", "key_id", "name", "tenant_id", "tenant", "channel", "agent_id",
                 "group_id", "message_id", *WORKFLOW_IDS, *KNOWLEDGE_IDS):
        path = path.replace(f"{{{name}}}", {"tenant": B, "channel": "web"}.get(name) or ids.get(name, ""))
    assert "{" not in path, f"no id of tenant B to try for {op.path}: add it to other_tenant()"
    query = "?ticket_id=" + ids["ticket_id"] if op.operation_id == "list_deliveries" else ""
    body = BODIES.get(op.operation_id)
    body = body(ids) if callable(body) else body
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    response = client.http.request(op.method.upper(), path + query, headers=headers,
                                   body=json.dumps(body).encode() if body is not None else b"")
    return response.status_code, response.body.decode()


def names_a_resource(op: Operation) -> bool:
    return (any(f"{{{p}}}" in op.path for p in ("ticket_id", "customer_id", "key_id", "tenant_id", "agent_id",
                                                "group_id", *WORKFLOW_IDS, *KNOWLEDGE_IDS)) or is_intent(op))


def names_its_own(op: Operation) -> bool:
    """A PUT of a knowledge article or intent: the caller names the record it creates or replaces,
    in its own base, so B's id there makes a record of A's (B's stays as it was: checked too)."""
    return op.method == "put" and op.path.startswith("/v1/knowledge/")


def is_widget(op: Operation) -> bool:
    """The web chat widget's routes: its script and /widget/{tenant}/... take no key (a visitor
    token, or nothing), like a provider's webhooks; tests/test_widget*.py keep a visitor of one
    tenant's from another's conversation."""
    return op.tag == "widget"


API_ROUTES = [op for op in OPERATIONS if op.path not in PUBLIC and not op.provider and not op.page
              and not is_widget(op)]
TENANT_ROUTES = [op for op in API_ROUTES if not op.path.startswith("/v1/admin/")]
# A's tenant-admin key everywhere; A's lesser keys where they get in (the real test of
# isolation for them), on every read and on every write naming one of B's resources; a
# platform key on every tenant route. Platform routes legitimately reach B with a platform key.
CASES: list[tuple[Operation, Scope]] = (
    [(op, "tenant-admin") for op in API_ROUTES]
    + [(op, kind) for kind in ("agent", "read-only") for op in TENANT_ROUTES
       if kind in op.scopes or op.method == "get" or names_a_resource(op)]
    + [(op, "platform-admin") for op in TENANT_ROUTES]
)


def test_the_routes_left_out_are_those_no_key_opens() -> None:
    """Public routes, providers' webhooks, survey and help pages and the widget's routes take no key
    (so no tenant's key is pointed at them here); every route a key opens is walked."""
    left_out = [op for op in OPERATIONS if op not in API_ROUTES]
    assert [f"{op.method.upper()} {op.path}" for op in left_out if op.scopes] == []


def key_of_a(hub: Hub, demo: DemoTenant, kind: Scope) -> str:
    if kind == "tenant-admin":
        return demo.api_key
    return hub.api_keys.create(None if kind == "platform-admin" else demo.tenant_id, [kind], name=kind)[1]


@pytest.mark.parametrize(("op", "kind"), CASES, ids=[f"{o.method.upper()} {o.path} as {k}" for o, k in CASES])
def test_tenant_a_can_neither_read_nor_change_tenant_b(client: Client, world: World, op: Operation,
                                                     kind: Scope) -> None:
    stage = with_tenant_b(world, client)
    hub, ids = stage.hub, dict(stage.extra)
    key = key_of_a(hub, stage.demo, kind)
    before, everything_before = snapshot_and_whole_state(hub)
    status, body = request(client, op, key, ids)
    where = f"{op.method.upper()} {op.path} as {kind}"
    after, everything_after = snapshot_and_whole_state(hub)
    if kind not in op.scopes:
        assert status == 403, f"{where} answered {status}: {body[:300]}"
        assert everything_after == everything_before, f"a refused {where} changed something"
    elif names_its_own(op):
        assert status == op.status, f"{where} answered {status}: {body[:300]}"
    elif names_a_resource(op) or op.path.startswith("/v1/admin/"):
        assert status in (403, 404), f"{where} answered {status}: {body[:300]}"
    else:
        assert status < 500, body[:300]
    assert_nothing_leaked(op, ids, body, where)
    assert after == before, f"{where} changed tenant B's data"


def assert_nothing_leaked(op: Operation, ids: dict[str, str], body: str, where: str) -> None:
    """No id or text of tenant B's in the answer, unless the caller sent it itself (an id
    echoed back with its error, as a bulk update's per-ticket results do)."""
    template = BODIES.get(op.operation_id)
    sent = json.dumps(template(ids) if callable(template) else template)
    for value in (ids["ticket_id"], ids["customer_id"], ids["key_id"], ids["agent_id"], ids["group_id"],
                  *(ids[name] for name in WORKFLOW_IDS), "B's private message", "B's private reply", "Other Co",
                  "Bee Admin", "B's rule", "B's policy", "B's template", "B's words", "B's macro", "B's note",
                  "B's private question", "B's private answer", "B's intent", "B's other intent",
                  "B's private example"):
        assert value in sent or value not in body, f"{where} leaked {value!r}"


# -- webhooks: a tenant's secret opens only its own URL ------------------------------------


@pytest.mark.parametrize("direction", ["A's secret at B's URL", "B's secret at A's URL"])
def test_a_web_message_signed_with_another_tenants_secret_is_refused(
    client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, direction: str
) -> None:
    # B's webhook points nowhere, so B's deliveries fail and come back after a backoff of a
    # second or more: a loaded machine outlasted it before the drain below, which then retried
    # them (a change, though not the refused message's). Here they wait five minutes or more.
    hub.settings = replace(hub.settings, retry_base_seconds=600.0)
    ids = other_tenant(client, hub, pipeline)
    tenant, secret = (B, demo.web_secret) if direction.startswith("A's") else (demo.tenant_id, ids["web_secret"])
    before = whole_state(hub)
    body = web_message("Forged: refund me", client_id="forged-1", email="mallory@example.com")
    response = client.http.post(f"/hooks/{tenant}/web", body=body,
                                headers=signed_web_headers(secret, body, msg_id="wh_forged"))
    assert response.status_code == 401, response.body
    pipeline.drain()
    assert whole_state(hub) == before, "a refused webhook stored something"
    # and the secret that belongs there still opens the door (the refusal was the signature's)
    right = ids["web_secret"] if tenant == B else demo.web_secret
    response = client.http.post(f"/hooks/{tenant}/web", body=body,
                                headers=signed_web_headers(right, body, msg_id="wh_forged"))
    assert response.status_code == 202, response.body
