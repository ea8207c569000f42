"""The console's ticket list filters (GET /v1/tickets) and the signed-in agent's
tenant and preferences (GET /v1/me, PUT /v1/me/preferences)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.hub import Hub
from chalicelib.storage.items import to_item
from chalicelib.storage.keys import TenantKeys
from chalicelib.tenancy.tenants import PluginSetting, TenantRecord
from tests.agents_support import SignedIn, signed_in
from tests.conftest import Pipeline
from tests.console_support import World, build_world, call, ok, send, set_visibility
from tools.local.demo import DemoTenant, new_whsec


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


@pytest.fixture
def agent(hub: Hub, demo: DemoTenant, user_pool: None) -> SignedIn:
    return signed_in(hub, demo.tenant_id, role="agent", name="Ada")


@pytest.fixture
def world(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline, user_pool: None) -> World:
    return build_world(client, hub, demo, pipeline)


def listed(client: Client, headers: dict[str, str], query: str) -> list[str]:
    """Every ticket id the list answers for ``query``, page after page (newest first)."""
    ids: list[str] = []
    cursor = ""
    for _ in range(50):
        answer = ok(client, "get", f"/v1/tickets?{query}{cursor}", headers)
        ids += [t["id"] for t in answer["tickets"]]
        if answer["next_cursor"] is None:
            return ids
        cursor = f"&cursor={answer['next_cursor']}"
    raise AssertionError("the cursor never ran out")


def test_each_filter_and_their_combinations_list_what_they_name(client: Client, world: World, hub: Hub) -> None:
    hub.settings = replace(hub.settings, api_rate=1000.0)  # dozens of lists at once: more than 20/s of one tenant
    t0, t1, t2, t3 = world.tickets
    admin, ada = world.admin, world.ada.headers
    expected = {
        "status=pending": {t2}, "status=open": {t0, t1, t3},
        f"assignee={world.bob.agent.id}": {t2}, "assignee=none": {t1, t3},
        f"group={world.groups['sales']}": {t1}, f"group={world.groups['billing']}": {t0},
        "stage=triage": {t1, t3}, "stage=handle": {t0, t2}, "stage=resolve": set(), "stage=accept": set(),
        "priority=high": {t0}, "priority=low": {t1}, "priority=normal": {t2, t3},
        "channel=web": {t0, t1, t2, t3}, "channel=wechat": set(),
        "tag=vip": {t0}, "tag=VIP": {t0}, "tag=other": set(),
        f"ids={t0},{t3}": {t0, t3}, f"ids={t3},{t3}": {t3},
    }
    for query, ids in expected.items():
        assert set(listed(client, admin, query + "&limit=1")) == ids, query
    assert set(listed(client, ada, "assignee=me")) == {t0}
    assert set(listed(client, ada, "group=mine")) == {t0}
    assert set(listed(client, world.bob.headers, "group=mine")) == {t1}
    # combined: AND
    assert set(listed(client, admin, "stage=handle&priority=high")) == {t0}
    assert set(listed(client, admin, f"assignee=none&group={world.groups['sales']}")) == {t1}
    assert set(listed(client, admin, "status=open&stage=resolve")) == set()
    assert set(listed(client, admin, "status=open&stage=triage&priority=normal")) == {t3}
    assert set(listed(client, admin, f"ids={t0},{t1},{t2}&assignee=none")) == {t1}
    assert set(listed(client, world.ada.headers, "assignee=me&tag=vip&channel=web&group=mine")) == {t0}
    assert set(listed(client, world.ada.headers, "assignee=me&status=pending")) == set()
    # a page at a time: newest first, nothing twice
    everything = listed(client, world.admin, "limit=100")
    assert len(everything) == 4
    for query in ("assignee=none", "channel=web", "priority=normal", "stage=handle"):
        one_by_one = listed(client, world.admin, f"{query}&limit=1")
        assert one_by_one == [t for t in everything if t in set(one_by_one)], query
        assert len(one_by_one) == len(set(one_by_one))


BAD_QUERIES = [
    "status=bogus", "status=", "stage=done", "sla=late", "priority=critical", "assignee=", "assignee=a%20b",
    "group=no/such", "channel=Web!", "tag=%23x", "ids=", "ids=a,,b", "ids=" + ",".join(f"t{n}" for n in range(101)),
    "assignee=00000000-0000-0000-0000-000000000000", "group=grp_nosuchgroup", "colour=red",
]


def test_a_bad_or_unknown_value_is_a_clear_400(client: Client, hub: Hub, demo: DemoTenant) -> None:
    admin = {"authorization": f"Bearer {demo.api_key}"}
    for query in BAD_QUERIES:
        status, body = call(client, "get", f"/v1/tickets?{query}", admin)
        assert status == 400, (query, body)
        assert body["error"]["code"] == "bad_payload", query  # the project's 400 (BadPayload)
        assert query.split("=")[0] in body["error"]["message"], (query, body)
    for query in ("assignee=me", "group=mine"):  # a key is nobody
        status, body = call(client, "get", f"/v1/tickets?{query}", admin)
        assert status == 400
        assert "signed-in agents" in body["error"]["message"]


def test_sla_states_are_filters(client: Client, hub: Hub, world: World) -> None:
    t0, t1, t2, _ = world.tickets
    now = datetime.now(UTC)
    target = {"metric": "first_response", "policy_id": "pol_1", "started_at": (now - timedelta(hours=2)).isoformat(),
              "target_minutes": 60}
    with_targets = {
        t0: [target | {"state": "active", "due_at": (now - timedelta(minutes=5)).isoformat()}],  # due: breached
        t1: [target | {"state": "warning", "due_at": (now + timedelta(minutes=10)).isoformat(),
                       "warn_at": (now - timedelta(minutes=1)).isoformat()}],
        t2: [target | {"state": "paused", "remaining_seconds": 60},
             target | {"metric": "resolution", "state": "breached", "done_at": now.isoformat()}],  # finished
    }
    keys = TenantKeys("demo")
    for ticket_id, targets in with_targets.items():  # as the workflow's planner would have left them
        hub.aws.dynamodb.update_item(TableName=hub.settings.table_name, Key=keys.ticket(ticket_id),
                                     UpdateExpression="SET sla = :s",
                                     ExpressionAttributeValues=to_item({":s": targets}))
    assert listed(client, world.admin, "sla=breached&limit=1") == [t0]
    assert listed(client, world.admin, "sla=at_risk&limit=1") == [t1]
    assert listed(client, world.admin, f"sla=at_risk&ids={t0},{t1},{t2}") == [t1]
    assert listed(client, world.admin, "sla=breached&priority=low") == []


def test_an_agent_sees_through_no_filter_what_its_scope_hides(client: Client, hub: Hub, demo: DemoTenant,
                                                             pipeline: Pipeline, world: World) -> None:
    t0, t1, t2, t3 = world.tickets
    other = _other_tenant_ticket(client, hub, demo, pipeline)
    set_visibility(client, world.admin, "assigned")
    queries = ["", "assignee=none", f"assignee={world.bob.agent.id}", f"group={world.groups['sales']}",
               "stage=triage", "stage=handle", "status=pending", "channel=web", "priority=normal",
               f"ids={t0},{t1},{t2},{t3},{other}", f"ids={other}", "group=mine", "sla=breached"]
    for query in queries:
        assert set(listed(client, world.ada.headers, query)) <= {t0}, query
    assert set(listed(client, world.ada.headers, f"ids={t0},{other}")) == {t0}
    assert set(listed(client, world.admin, f"ids={t0},{other}")) == {t0}  # keys see their own tenant only
    set_visibility(client, world.admin, "groups")
    assert set(listed(client, world.bob.headers, "")) == {t1, t2}
    assert set(listed(client, world.bob.headers, f"ids={t0},{t3}")) == set()


def _other_tenant_ticket(client: Client, hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> str:
    secret = new_whsec()
    hub.tenants.put(TenantRecord(id="other-co", name="Other", created_at=hub.clock().isoformat(),
                                 plugins={"web": PluginSetting(config={"secrets": [secret]})}))
    send(client, demo, 9, "elsewhere", tenant_id="other-co", secret=secret)
    pipeline.drain()
    [ticket] = hub.store.reads("other-co").list_tickets()[0]
    return ticket.id


# -- the signed-in agent ----------------------------------------------------------


def test_me_names_the_tenant_and_saves_the_agents_preferences(client: Client, hub: Hub, demo: DemoTenant,
                                                               agent: SignedIn) -> None:
    admin = {"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"}
    me = ok(client, "get", "/v1/me", agent.headers)
    assert me["tenant"] == {"name": "Demo Company", "time_zone": "UTC", "language": "en"}
    assert me["preferences"] == {"language": None, "views": []}
    ok(client, "patch", "/v1/settings", admin, {"language": "zh-CN", "time_zone": "Asia/Shanghai"})
    me = ok(client, "get", "/v1/me", agent.headers)
    assert me["tenant"] == {"name": "Demo Company", "time_zone": "Asia/Shanghai", "language": "zh"}

    view = {"id": "mine-open", "name": "我的处理中", "filters": {"assignee": "me", "stage": "handle"}}
    saved = ok(client, "put", "/v1/me/preferences", agent.headers, {"language": "zh", "views": [view]})
    assert saved == {"language": "zh", "views": [view]}
    assert ok(client, "get", "/v1/me", agent.headers)["preferences"] == saved
    other = signed_in(hub, demo.tenant_id, role="agent", name="Bob")
    assert ok(client, "get", "/v1/me", other.headers)["preferences"] == {"language": None, "views": []}
    kept = ok(client, "put", "/v1/me/preferences", agent.headers, {"language": None})
    assert kept == {"language": None, "views": [view]}  # what the request leaves out stays
    assert ok(client, "put", "/v1/me/preferences", agent.headers, {"views": []})["views"] == []
    status, body = call(client, "put", "/v1/me/preferences", admin, {"language": "en"})
    assert status == 403, body  # an API key has no preferences


def views(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"v{i}", "name": f"View {i}", "filters": {}} | extra for i in range(n)]


BAD_PREFERENCES: list[Any] = [
    {"views": views(21)},
    {"views": views(1, name="")},
    {"views": views(1, name="x" * 61)},
    {"views": views(1, filters={"limit": "5"})},
    {"views": views(1, filters={"status": "bogus"})},
    {"views": views(1, filters={"assignee": "a b"})},
    {"views": views(1, filters={"ids": ""})},
    {"views": views(1, filters={"priority": 1})},
    {"views": views(1, colour="red")},
    {"views": [*views(1), *views(1)]},  # the same id twice
    {"views": views(1, id="has space")},
    {"language": "fr"},
    {"language": 5},
    {"theme": "dark"},
    [],
]


def test_bad_preferences_are_refused_and_change_nothing(client: Client, agent: SignedIn) -> None:
    for body in BAD_PREFERENCES:
        status, answer = call(client, "put", "/v1/me/preferences", agent.headers, body)
        assert status == 422, (body, answer)
        assert answer["error"]["code"] == "invalid_input"
    assert ok(client, "get", "/v1/me", agent.headers)["preferences"] == {"language": None, "views": []}
    every = {"status": "open", "assignee": "none", "group": "mine", "stage": "triage", "sla": "at_risk",
             "priority": "urgent", "channel": "web", "tag": "vip", "ids": ",".join(f"tkt_{n}" for n in range(100))}
    saved = ok(client, "put", "/v1/me/preferences", agent.headers, {"views": views(20, filters=every)})
    assert len(saved["views"]) == 20
    assert saved["views"][0]["filters"] == every


def test_list_rows_name_their_customer(client: Client, hub: Hub, world: World) -> None:
    """The inbox shows who wrote without a customer read per row; an erased customer reads null."""
    rows = ok(client, "get", "/v1/tickets?limit=10", world.admin)["tickets"]
    assert {row["customer_name"] for row in rows} == {"Ada"}  # web_message's visitor name
    customer_id = next(row["customer_id"] for row in rows if row["id"] == world.tickets[3])
    assert client.http.delete(f"/v1/customers/{customer_id}", headers=world.admin).status_code == 200
    rows = ok(client, "get", "/v1/tickets?limit=10", world.admin)["tickets"]
    names = {row["id"]: row["customer_name"] for row in rows}
    assert names.get(world.tickets[3]) is None
    assert names[world.tickets[0]] == "Ada"
