"""Who may call what: the scope matrix of the OpenAPI document, route by route.

For every authenticated operation in :data:`chalicelib.api.openapi.OPERATIONS` and
every kind of key (platform-admin, and tenant-admin, agent and read-only keys of
tenant ``demo``), the route is called with ids that exist for ``demo`` and a
minimal valid body. A key whose scope the operation lists must get the
documented success status (and a body of the documented model); any other key
gets 403 and changes nothing. A missing, malformed, unknown, wrongly signed,
revoked or expired key gets 401 on every route, and changes nothing either.

Some operations also list ``supervisor``: a scope only a signed-in agent's role
gives (no key holds it), so on those a tenant-admin key is the only key let in.

The matrix is derived from the document, so a new route is covered without
editing this file (or a test here fails for want of an id or a body to send).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any, get_args
from urllib.parse import urlencode

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.agents.directory import ROLE_SCOPES, Group, new_group_id
from chalicelib.api.openapi import OPERATIONS, PATH_PARAMS, document
from chalicelib.api.openapi_types import Operation
from chalicelib.hub import Hub
from chalicelib.tenancy.apikeys import Scope
from chalicelib.tenancy.audit import Actor
from chalicelib.workflow.template_csv import COLUMNS
from tests.agents_support import ensure_user_pool, signed_in
from tests.conftest import Pipeline, Stage, World, signed_web_headers, web_message
from tests.staged import staged_fixtures
from tests.test_isolation import BODIES, failed_reply, whole_state
from tools.local.demo import DemoTenant

KINDS: tuple[Scope, ...] = ("platform-admin", "tenant-admin", "agent", "read-only", "reply")
KEY_SCOPES: dict[str, Scope] = {kind: kind for kind in KINDS}
# what a signed-in agent's role gives and no key holds (chalicelib/agents/directory.py ROLE_SCOPES)
ROLE_ONLY_SCOPES = frozenset({"supervisor"})
TENANT_SCOPES = (frozenset(KINDS) - {"platform-admin"}) | ROLE_ONLY_SCOPES
# the routes about the signed-in agent itself take no key (tests/test_agents.py); the survey
# links' pages (/csat/{token}) and the providers' webhooks take no key either (op.page, op.provider)
AUTHENTICATED = [op for op in OPERATIONS if op.scopes and not op.provider and not op.session and not op.page]
MATRIX = [(op, kind) for op in AUTHENTICATED for kind in KINDS]

# BODIES (tests/test_isolation.py) name objects no tenant has where a body names a second
# one (the merges), to be refused there; here the merge must be able to succeed, so these
# name a second ticket or customer of demo's
SCOPE_BODIES: dict[str, Any] = BODIES | {
    "merge_ticket": lambda ids: {"into": ids["second_ticket_id"]},
    "merge_customers": lambda ids: {"source_id": ids["second_customer_id"]},
    "unmerge_customer": lambda ids: {"source_id": ids["second_customer_id"]},
}
SECOND_TICKET = frozenset({"merge_ticket", "merge_customers", "unmerge_customer"})
# demo's rules, SLA policies, calendars, templates and macros: made through its own key
WORKFLOW_OBJECTS: dict[str, tuple[str, dict[str, Any], str]] = {
    "rule_id": ("/v1/rules", {"name": "Tag the new ones", "trigger": "ticket.created",
                              "actions": [{"type": "add_tags", "tags": ["scoped"]}]}, "id"),
    "policy_id": ("/v1/sla-policies", {"name": "Demo's policy",
                                       "targets": {"normal": {"resolution_minutes": 60}}}, "id"),
    "calendar_id": ("/v1/calendars", {"name": "Demo's hours", "time_zone": "Europe/Paris",
                                      "week": {"tue": [{"start": "08:00", "end": "12:00"}]}}, "id"),
    "code": ("/v1/templates", {"code": "scope_greeting", "title": "Greeting", "texts": {"en": "Hello there!"}},
             "code"),
    "macro_id": ("/v1/macros", {"name": "Demo's macro", "actions": {"note": "Looked into it"}}, "id"),
}
# demo's knowledge base: two intents with examples (so there is something to train on) and an
# article answering one of them, imported through its own key
DEMO_KNOWLEDGE: dict[str, Any] = {
    "articles": [{"id": "reset-password", "language": "en", "questions": ["How do I reset my password?"],
                  "answer": "Use the link on the sign-in page.", "intent": "reset_password"}],
    "intents": [{"name": "reset_password", "description": "Forgotten passwords",
                 "examples": ["I forgot my password", "How do I reset my password?"]},
                {"name": "track_parcel", "description": "Where a parcel is",
                 "examples": ["Where is my parcel?", "My order has not arrived"]}],
}
DEMO_ID_NAMES = frozenset({"tenant_id", "name", "key_id", "ticket_id", "customer_id", "agent_id", "group_id",
                           "message_id", "article_id", "language", *WORKFLOW_OBJECTS})
# path parameters of operations no key opens: a provider's tenant and channel, a survey link's token
KEYLESS_PARAMS = frozenset({"tenant", "channel", "token"})
# ids that exist nowhere, for the checks made before any id is looked up
UNKNOWN_IDS = {"tenant_id": "demo", "name": "webhook", "key_id": "0" * 16, "platform_key_id": "0" * 16,
               "ticket_id": "tkt_unknown", "customer_id": "cus_unknown", "agent_id": "unknown",
               "group_id": "grp_unknown", "message_id": "msg_unknown", "rule_id": "rul_unknown",
               "policy_id": "slp_unknown", "calendar_id": "cal_unknown", "code": "unknown",
               "macro_id": "mac_unknown", "article_id": "unknown", "language": "en"}
def op_id(op: Operation) -> str:
    return f"{op.method.upper()} {op.path}"


def path_params(op: Operation) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", op.path))


def key_kinds(op: Operation) -> list[Scope]:
    """The kinds of key ``op`` lets in (its scopes but those only an agent's role gives)."""
    return [KEY_SCOPES[scope] for scope in op.scopes if scope in KEY_SCOPES]


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


# Every test here starts from tests/conftest.py's ``world`` (a fresh copy of one saved state)
hub, demo, pipeline = staged_fixtures()


def staged(world: World, client: Client, op: Operation) -> tuple[Stage, dict[str, str]]:
    """A test's starting state for ``op``: demo with the ids :func:`demo_ids` made for it.
    They are made by the first test of ``op`` and saved; the other tests of ``op`` (one per
    kind of key, and the body and 401 checks) start from a fresh copy of that state."""
    stage = world.stage(f"demo ids for {op_id(op)}",
                        lambda made: demo_ids(client, made.hub, made.demo, made.pipeline, op))
    return stage, dict(stage.extra)


def key_of(hub: Hub, kind: Scope, *, name: str = "caller") -> str:
    """A fresh key of ``kind``: the platform's for platform-admin, else tenant demo's."""
    return hub.api_keys.create(None if kind == "platform-admin" else "demo", [kind], name=name)[1]


def needs_ticket(op: Operation) -> bool:
    """Whether ``op`` names a ticket, its customer or a message, or sends a body made of ids (a ticket's)."""
    return (any(f"{{{name}}}" in op.path for name in ("ticket_id", "customer_id", "message_id"))
            or any(q.name == "ticket_id" for q in op.query) or callable(SCOPE_BODIES.get(op.operation_id)))


def as_demo(client: Client, demo: DemoTenant, method: str, path: str, body: dict[str, Any], status: int) -> Any:
    """A call with demo's own (tenant-admin) key, to set things up; its answer."""
    response = client.http.request(method, path, body=json.dumps(body).encode(),
                                   headers={"authorization": f"Bearer {demo.api_key}",
                                            "content-type": "application/json"})
    assert response.status_code == status, f"{method} {path} answered {response.status_code}: {response.body!r}"
    return json.loads(response.body)


def new_ticket(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, n: int) -> tuple[str, str]:
    """A ticket of a new customer of demo's (the ``n``-th), from a web message: its id and its customer's."""
    reads = hub.store.reads("demo")
    before = {t.id for t in reads.list_tickets(status=None, limit=100, before=None)[0]}
    body = web_message("Where is my parcel?", client_id=f"scope-{n}", visitor_id=f"v-scope-{n}",
                       name=f"Customer {n}", email=f"customer{n}@example.com")
    response = client.http.post("/hooks/demo/web", body=body,
                                headers=signed_web_headers(demo.web_secret, body, msg_id=f"wh_scope_{n}"))
    assert response.status_code == 202, response.body
    pipeline.drain()
    [ticket] = [t for t in reads.list_tickets(status=None, limit=100, before=None)[0] if t.id not in before]
    return ticket.id, ticket.customer_id


def demo_ids(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, op: Operation) -> dict[str, str]:
    """Ids that exist for tenant demo (a ticket and its customer, a rule, ..., only when ``op`` names one),
    and what the documented success needs: a second ticket to merge with, a merge to undo, a survey,
    a knowledge base to read, change and train."""
    ids = {
        "tenant_id": demo.tenant_id, "name": "webhook",
        "key_id": hub.api_keys.create("demo", ["read-only"], name="victim")[0].key_id,
        "platform_key_id": hub.api_keys.create(None, ["platform-admin"], name="victim")[0].key_id,
    }
    if op.tag == "agents":  # creating an agent (or reading them) needs the agents' user pool
        ensure_user_pool(hub)
    if "{agent_id}" in op.path:
        ids["agent_id"] = signed_in(hub, "demo", role="agent", name="Victim").agent.id
    if "{group_id}" in op.path:
        group = Group(id=new_group_id(), name="Victims", created_at="2026-11-25T00:00:00Z",
                      updated_at="2026-11-25T00:00:00Z")
        hub.agent_store.of("demo").add_group(group, hub.audit.entry("demo", Actor(key_id="setup"), "group.create",
                                                                    f"group/{group.id}")[1])
        ids["group_id"] = group.id
    if needs_ticket(op):
        ids["ticket_id"], ids["customer_id"] = new_ticket(client, hub, demo, pipeline, 1)
    if op.operation_id in SECOND_TICKET:  # another customer's ticket: merged into, or its customer merged
        ids["second_ticket_id"], ids["second_customer_id"] = new_ticket(client, hub, demo, pipeline, 2)
        assert ids["second_customer_id"] != ids["customer_id"]
    if op.operation_id == "unmerge_customer":  # a merge to undo
        merged = as_demo(client, demo, "POST", f"/v1/customers/{ids['customer_id']}/merge",
                         {"source_id": ids["second_customer_id"]}, 200)
        assert merged["state"] == "done", merged
    if op.operation_id == "get_ticket_survey":  # solved, the workflow schedules the ticket's survey
        as_demo(client, demo, "PATCH", f"/v1/tickets/{ids['ticket_id']}", {"status": "solved"}, 200)
        pipeline.drain()
        assert hub.survey_store.of("demo").get(ids["ticket_id"]) is not None, "no survey for the solved ticket"
    for name, (path, body, field) in WORKFLOW_OBJECTS.items():
        if f"{{{name}}}" in op.path:
            ids[name] = str(as_demo(client, demo, "POST", path, body, 201)[field])
    if "{message_id}" in op.path:
        ids["message_id"] = failed_reply(hub, "demo", ids["ticket_id"], ids["customer_id"], text="Sorry!")
    if op.tag == "knowledge":  # demo's knowledge base; an intent's routes name one of its intents
        imported = as_demo(client, demo, "POST", "/v1/knowledge/import", DEMO_KNOWLEDGE, 200)
        assert imported["intents"] == len(DEMO_KNOWLEDGE["intents"]), imported
        [article], [intent, _] = DEMO_KNOWLEDGE["articles"], DEMO_KNOWLEDGE["intents"]
        ids |= {"article_id": article["id"], "language": article["language"]}
        if op.path.startswith("/v1/knowledge/intents/{name}"):
            ids["name"] = intent["name"]
    return ids


def url_of(op: Operation, ids: dict[str, str]) -> str:
    """``op.path`` with ``ids`` filled in; a key id is the platform's on platform key routes."""
    platform_keys = op.path.startswith("/v1/admin/") and "{tenant_id}" not in op.path
    values = ids | ({"key_id": ids["platform_key_id"]} if platform_keys else {})

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no id of tenant demo for {{{name}}} in {op.path}: add it to demo_ids()"
        return values[name]

    path = re.sub(r"\{(\w+)\}", fill, op.path)
    query = {q.name: ids[q.name] for q in op.query if q.name in ids}
    return path + ("?" + urlencode(query) if query else "")


def body_of(op: Operation, ids: dict[str, str]) -> Any:
    """The body to send to ``op``: SCOPE_BODIES', made of ``ids`` where it needs some."""
    body = SCOPE_BODIES.get(op.operation_id)
    return body(ids) if callable(body) else body


def call(client: Client, op: Operation, ids: dict[str, str], authorization: str | None) -> tuple[int, Any]:
    """The answer's status and body: parsed when JSON, the text when ``op`` documents another media type."""
    body = body_of(op, ids)
    headers = {"content-type": "application/json"} | ({"authorization": authorization} if authorization else {})
    response = client.http.request(op.method.upper(), url_of(op, ids), headers=headers,
                                   body=json.dumps(body).encode() if body is not None else b"")
    if not response.body:
        return response.status_code, None
    content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
    if content_type.startswith("application/json"):
        return response.status_code, json.loads(response.body)
    assert content_type.startswith(op.media_type), \
        f"{op_id(op)} answered {response.status_code} as {content_type!r}: {response.body[:200]!r}"
    return response.status_code, response.body.decode()


def assert_success_body(op: Operation, body: Any) -> None:
    """``body`` is of ``op``'s documented model (a CSV export: the columns the model describes; a 204: none)."""
    if op.status == 204:
        assert body is None, f"{op_id(op)} answered 204 with a body: {body!r}"
    elif isinstance(body, str):  # (only an operation documenting text answers text: see call())
        assert next(csv.reader(io.StringIO(body.removeprefix("\ufeff")))) == list(COLUMNS), body[:200]
    else:
        op.response.model_validate(body)


# -- the document itself ------------------------------------------------------------------


def test_the_keys_tried_are_every_kind_and_role_only_scopes_are_no_kind_of_key() -> None:
    assert set(KINDS) == set(get_args(Scope))
    assert frozenset().union(*ROLE_SCOPES.values()) - set(KINDS) == ROLE_ONLY_SCOPES


@pytest.mark.parametrize("op", AUTHENTICATED, ids=op_id)
def test_platform_routes_take_only_platform_keys_and_tenant_routes_only_tenant_keys(op: Operation) -> None:
    """The rule the matrix checks, as the document states it."""
    if op.path.startswith("/v1/admin/"):
        assert op.scopes == ("platform-admin",)
    else:
        assert set(op.scopes) <= TENANT_SCOPES
        assert "tenant-admin" in op.scopes, "whatever a tenant key may do, its tenant's admin may too"


@pytest.mark.parametrize("op", [op for op in AUTHENTICATED if op.body is not None], ids=op_id)
def test_every_operation_with_a_body_has_one_to_send(request: pytest.FixtureRequest, op: Operation) -> None:
    assert op.body is not None
    assert op.operation_id in SCOPE_BODIES, f"add a minimal valid body for {op.operation_id} to BODIES"
    ids: dict[str, str] = {}
    if callable(SCOPE_BODIES[op.operation_id]):  # made of ids: demo's
        _, ids = staged(request.getfixturevalue("world"), request.getfixturevalue("client"), op)
    op.body.model_validate(body_of(op, ids))


def test_every_path_parameter_has_an_id_to_try() -> None:
    keyed = {name for op in AUTHENTICATED for name in path_params(op)}
    assert keyed <= DEMO_ID_NAMES, f"add ids of tenant demo for {sorted(keyed - DEMO_ID_NAMES)} to demo_ids()"
    assert keyed <= set(UNKNOWN_IDS)
    assert set(PATH_PARAMS) - keyed == KEYLESS_PARAMS, "a path parameter of a route no key opens changed"


# -- the matrix -----------------------------------------------------------------------------


@pytest.mark.parametrize(("op", "kind"), MATRIX, ids=[f"{op_id(op)} as {kind}" for op, kind in MATRIX])
def test_a_key_may_call_exactly_the_routes_its_scope_is_listed_for(
    client: Client, world: World, op: Operation, kind: Scope
) -> None:
    stage, ids = staged(world, client, op)
    hub = stage.hub
    key = key_of(hub, kind)
    before = whole_state(hub)
    status, body = call(client, op, ids, f"Bearer {key}")
    if kind in op.scopes:
        assert status == op.status, f"{op_id(op)} as {kind} answered {status}: {body}"
        assert_success_body(op, body)
    else:
        assert (status, body["error"]["code"]) == (403, "forbidden"), f"{op_id(op)} as {kind} answered {status}"
        assert status in op.errors, f"{op_id(op)} answers 403 but does not document it"
        assert whole_state(hub) == before, f"a refused {op_id(op)} as {kind} changed something"


# -- no usable key --------------------------------------------------------------------------


@pytest.mark.parametrize("op", AUTHENTICATED, ids=op_id)
def test_without_a_valid_key_every_route_answers_401_and_changes_nothing(
    client: Client, world: World, op: Operation
) -> None:
    stage, ids = staged(world, client, op)
    hub = stage.hub
    kind = key_kinds(op)[-1]
    # keys that would be allowed, were they not revoked or expired (or misspelt)
    good = key_of(hub, kind, name="good")
    revoked_info, revoked = hub.api_keys.create(None if kind == "platform-admin" else "demo", [kind])
    hub.api_keys.revoke(None if kind == "platform-admin" else "demo", revoked_info.key_id)
    soon = hub.clock() + timedelta(hours=1)
    expiring = hub.api_keys.create(None if kind == "platform-admin" else "demo", [kind], expires_at=soon)[1]
    assert hub.api_keys.authenticate(f"Bearer {expiring}").scopes == [kind]
    later = soon + timedelta(seconds=1)
    hub.api_keys._clock = lambda: later  # the expiring key is an hour and a second old

    _, good_id, good_secret = good.split("_", 2)
    refused = {
        "no key": None,
        "empty bearer": "Bearer ",
        "another scheme": f"Basic {good}",
        "no scheme": good,
        "malformed": "Bearer sbk_not-hex_secret",
        "no secret": f"Bearer sbk_{good_id}_",
        "unknown key id": f"Bearer sbk_{'0' * 16}_{good_secret}",
        "wrong secret": f"Bearer sbk_{good_id}_{good_secret[::-1]}",
        "revoked": f"Bearer {revoked}",
        "expired": f"Bearer {expiring}",
    }
    before = whole_state(hub)
    for what, authorization in refused.items():
        status, body = call(client, op, ids, authorization)
        assert (status, body["error"]["code"]) == (401, "unauthorized"), f"{what}: {op_id(op)} answered {status}"
        assert status in op.errors, f"{op_id(op)} answers 401 but does not document it"
    assert whole_state(hub) == before, f"{op_id(op)} changed something for a caller without a valid key"
    assert call(client, op, ids, f"Bearer {good}")[0] == op.status, "the key the refused ones imitate works"


def test_a_caller_without_a_key_gets_401_whatever_its_query(client: Client, hub: Hub, demo: DemoTenant) -> None:
    answers = {}
    for op in AUTHENTICATED:
        url = url_of(op, UNKNOWN_IDS)
        response = client.http.request(op.method.upper(), url + ("&" if "?" in url else "?") + "unknown=1",
                                       headers={"content-type": "application/json"}, body=b"")
        answers[op_id(op)] = response.status_code
    assert answers == dict.fromkeys(answers, 401), "the key is checked before the query"


def test_an_unknown_query_parameter_is_a_documented_400_for_a_valid_key(
    client: Client, hub: Hub, demo: DemoTenant
) -> None:
    hub.settings = replace(hub.settings, api_rate=1000.0)  # every route at once: more than 20/s of one key
    platform = hub.api_keys.create(None, ["platform-admin"])[1]
    for op in AUTHENTICATED:
        key = platform if op.path.startswith("/v1/admin/") else demo.api_key
        url = url_of(op, UNKNOWN_IDS)
        response = client.http.request(op.method.upper(), url + ("&" if "?" in url else "?") + "unknown=1",
                                       headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
                                       body=b"")
        assert response.status_code == 400, op_id(op)
        assert "400" in document()["paths"][op.path][op.method]["responses"], f"{op_id(op)}: 400 undocumented"
