"""Agents and groups: tenant admins manage them (a signed-in admin agent, or a
tenant-admin key), roles give scopes, a deactivated agent is refused at once, and
every change is in the audit log naming who made it. Tokens are moto's, real."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Conflict

import app as app_module
from chalicelib.api.access import READ_SCOPES, Access
from chalicelib.api.calls import ApiCall
from chalicelib.hub import Hub
from tests.agents_support import SignedIn, signed_in
from tools.local.demo import DemoTenant

pytestmark = pytest.mark.usefixtures("user_pool")  # agents sign in through the pool


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


@pytest.fixture
def admin(hub: Hub, demo: DemoTenant) -> SignedIn:
    return signed_in(hub, "demo", role="admin", name="Alice Admin")


def call(client: Client, method: str, path: str, auth: str | SignedIn, body: Any = None) -> tuple[int, Any]:
    token = auth.id_token if isinstance(auth, SignedIn) else auth
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    response = client.http.request(method, path, headers=headers,
                                   body=json.dumps(body).encode() if body is not None else b"")
    return response.status_code, json.loads(response.body) if response.body else None


def audit(hub: Hub, action: str) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in hub.audit.list("demo", action=action).records]


def cognito_user(hub: Hub, username: str) -> dict[str, Any] | None:
    try:
        user: dict[str, Any] = hub.aws.client("cognito-idp").admin_get_user(
            UserPoolId=hub.settings.cognito_pool_id, Username=username)
    except Exception as err:
        if "UserNotFound" in type(err).__name__ or "UserNotFound" in str(err):
            return None
        raise
    return user


# -- creating agents ----------------------------------------------------------------------------


def test_an_admin_creates_an_agent_with_a_temporary_password_shown_once(
    client: Client, hub: Hub, admin: SignedIn
) -> None:
    status, body = call(client, "POST", "/v1/agents", admin, {"email": "bob@demo.example", "name": "Bob"})
    assert status == 201, body
    agent, password = body["agent"], body["temporary_password"]
    assert (agent["role"], agent["status"], agent["availability"]) == ("agent", "active", "offline")
    assert len(password) >= 12
    assert all(re.search(p, password) for p in ("[A-Z]", "[a-z]", "[0-9]"))
    user = cognito_user(hub, agent["id"])
    assert user is not None
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert (attributes["custom:tenant_id"], attributes["email"], user["UserStatus"]) == (
        "demo", "bob@demo.example", "FORCE_CHANGE_PASSWORD")
    assert call(client, "GET", f"/v1/agents/{agent['id']}", admin) == (200, agent)
    assert password not in json.dumps(call(client, "GET", "/v1/agents", admin)[1]), "shown once"
    record = audit(hub, "agent.create")[0]  # newest first
    assert record["target"] == f"agent/{agent['id']}"
    assert (record["actor"]["agent_id"], record["actor"]["agent_name"]) == (admin.agent.id, "Alice Admin")
    assert password not in json.dumps(record)


def test_an_email_that_has_a_sign_in_already_is_a_409_and_leaves_nothing(
    client: Client, hub: Hub, admin: SignedIn
) -> None:
    assert call(client, "POST", "/v1/agents", admin, {"email": "bob@demo.example", "name": "Bob"})[0] == 201
    status, body = call(client, "POST", "/v1/agents", admin, {"email": "BOB@demo.example", "name": "Bobby"})
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert sorted(a.name for a in hub.agent_store.of("demo").agents()) == ["Alice Admin", "Bob"]


def test_an_unknown_group_is_a_422_before_any_user_is_created(client: Client, hub: Hub, admin: SignedIn) -> None:
    status, body = call(client, "POST", "/v1/agents", admin,
                        {"email": "carol@demo.example", "name": "Carol", "group_ids": ["grp_nope"]})
    assert (status, body["error"]["fields"][0]["field"]) == (422, "group_ids")
    users = hub.aws.client("cognito-idp").list_users(UserPoolId=hub.settings.cognito_pool_id)["Users"]
    assert [u["Username"] for u in users] == [admin.agent.username]


def test_a_failed_record_write_takes_the_new_sign_in_back(hub: Hub, admin: SignedIn) -> None:
    """The Cognito user is created first; if the agent's record cannot be written, it goes."""
    store = hub.agent_store

    class Refusing:
        def of(self, tenant_id: str) -> Any:
            directory = store.of(tenant_id)

            def refuse(agent: Any, audit: Any) -> None:
                raise Conflict("this agent exists already")

            directory.add_agent = refuse  # type: ignore[method-assign]
            return directory

    api = type(hub.agents_api)(hub.access, Refusing(), hub.user_pool, hub.audit, hub.clock)  # type: ignore[arg-type]
    body = json.dumps({"email": "dan@demo.example", "name": "Dan"}).encode()
    with pytest.raises(Conflict):
        api.create_agent(ApiCall(authorization=f"Bearer {admin.id_token}", body=body))
    users = hub.aws.client("cognito-idp").list_users(UserPoolId=hub.settings.cognito_pool_id)["Users"]
    assert [u["Username"] for u in users] == [admin.agent.username]


# -- roles and scopes ----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "scopes", "admin_routes"), [
    ("admin", ["agent", "reply", "tenant-admin"], 201),
    ("supervisor", ["agent", "reply", "supervisor"], 403),
    ("agent", ["agent", "reply"], 403),
])
def test_the_role_gives_the_scopes(client: Client, hub: Hub, demo: DemoTenant, role: str, scopes: list[str],
                                   admin_routes: int) -> None:
    agent = signed_in(hub, "demo", role=role)
    assert call(client, "GET", "/v1/me", agent)[1]["scopes"] == scopes
    assert call(client, "GET", "/v1/tickets", agent)[0] == 200, "every role reads tickets"
    assert call(client, "GET", "/v1/agents", agent)[0] == 200, "and sees its colleagues"
    assert call(client, "POST", "/v1/groups", agent, {"name": "Billing"})[0] == admin_routes
    assert call(client, "GET", "/v1/keys", agent)[0] == (200 if role == "admin" else 403)


def test_an_admins_role_change_applies_to_the_next_call(client: Client, hub: Hub, admin: SignedIn) -> None:
    bob = signed_in(hub, "demo", role="agent", name="Bob")
    assert call(client, "POST", "/v1/groups", bob, {"name": "Billing"})[0] == 403
    assert call(client, "PATCH", f"/v1/agents/{bob.agent.id}", admin, {"role": "admin"})[0] == 200
    assert call(client, "POST", "/v1/groups", bob, {"name": "Billing"})[0] == 201, "the same token, now an admin"


def test_the_caller_names_its_author_for_agents_and_keys(hub: Hub, demo: DemoTenant, admin: SignedIn) -> None:
    access: Access = hub.access
    agent = access.tenant(ApiCall(authorization=f"Bearer {admin.id_token}"), READ_SCOPES)
    key = access.tenant(ApiCall(authorization=f"Bearer {demo.api_key}"), READ_SCOPES)
    key_id = demo.api_key.split("_")[1]
    assert (agent.tenant_id, agent.author_id, agent.author_name, agent.key) == ("demo", admin.agent.id,
                                                                                "Alice Admin", None)
    assert (key.tenant_id, key.author_id, key.created_by) == ("demo", f"key:{key_id}", key_id)
    assert key.key is not None
    assert key.author_name == key.key.name


def test_a_key_an_agent_issues_names_the_agent_and_keys_may_hold_the_reply_scope(
    client: Client, hub: Hub, admin: SignedIn
) -> None:
    status, key = call(client, "POST", "/v1/keys", admin, {"scopes": ["reply"], "name": "helpdesk bot"})
    assert status == 201, key
    assert (key["scopes"], key["created_by"]) == (["reply"], f"agent:{admin.agent.id}")
    assert call(client, "GET", "/v1/tickets", key["key"])[0] == 403, "reply alone reads nothing"


def test_admins_and_agents_have_their_own_rate_buckets(hub: Hub, admin: SignedIn) -> None:
    buckets: list[tuple[str, str]] = []
    access = Access(hub.api_keys, hub.tenants, limit=lambda tenant, bucket: buckets.append((tenant, bucket)),
                    verify_token=hub.token_verifier.verify,
                    load_agent=lambda tenant, agent_id: hub.agent_store.of(tenant).agent(agent_id))
    bob = signed_in(hub, "demo", role="agent")
    for token in (admin.id_token, bob.id_token):
        access.tenant(ApiCall(authorization=f"Bearer {token}"))
    assert buckets == [("demo", "api-admin"), ("demo", "api")]


# -- deactivation, removal -------------------------------------------------------------------------


def test_a_deactivated_agents_valid_token_is_refused_at_once_and_works_again_when_reactivated(
    client: Client, hub: Hub, admin: SignedIn
) -> None:
    bob = signed_in(hub, "demo", role="agent", name="Bob")
    assert call(client, "GET", "/v1/tickets", bob)[0] == 200
    status, body = call(client, "PATCH", f"/v1/agents/{bob.agent.id}", admin, {"status": "deactivated"})
    assert (status, body["status"]) == (200, "deactivated")
    for path in ("/v1/me", "/v1/tickets", "/v1/agents"):
        status, body = call(client, "GET", path, bob)
        assert (status, body["error"]["message"]) == (403, "this agent is deactivated"), path
    user = cognito_user(hub, bob.agent.username)
    assert user is not None
    assert user["Enabled"] is False
    assert call(client, "PATCH", f"/v1/agents/{bob.agent.id}", admin, {"status": "active"})[0] == 200
    assert call(client, "GET", "/v1/me", bob)[0] == 200
    assert [r["action"] for r in audit(hub, "agent.deactivate") + audit(hub, "agent.activate")] == [
        "agent.deactivate", "agent.activate"]
    assert audit(hub, "agent.deactivate")[0]["before"]["status"] == "active"


def test_a_removed_agent_keeps_its_record_but_loses_its_sign_in(client: Client, hub: Hub, admin: SignedIn) -> None:
    bob = signed_in(hub, "demo", role="agent", name="Bob")
    status, removed = call(client, "DELETE", f"/v1/agents/{bob.agent.id}", admin)
    assert (status, removed["status"], removed["name"]) == (200, "removed", "Bob")
    assert removed["removed_at"] is not None
    status, body = call(client, "GET", "/v1/me", bob)
    assert (status, body["error"]["code"]) == (401, "invalid_token")
    assert cognito_user(hub, bob.agent.username) is None
    assert call(client, "GET", f"/v1/agents/{bob.agent.id}", admin) == (200, removed), "replies still name it"
    assert [a["id"] for a in call(client, "GET", "/v1/agents", admin)[1]["agents"]] == [admin.agent.id]
    assert [a["id"] for a in call(client, "GET", "/v1/agents?status=removed", admin)[1]["agents"]] == [bob.agent.id]
    assert call(client, "PATCH", f"/v1/agents/{bob.agent.id}", admin, {"name": "Back"})[0] == 409
    assert call(client, "DELETE", f"/v1/agents/{bob.agent.id}", admin) == (200, removed), "a repeat is harmless"
    assert len(audit(hub, "agent.remove")) == 1


@pytest.mark.parametrize(("method", "body"), [
    ("PATCH", {"status": "deactivated"}), ("PATCH", {"role": "agent"}), ("DELETE", None),
])
def test_an_admin_cannot_lock_itself_out(client: Client, hub: Hub, admin: SignedIn, method: str,
                                         body: dict[str, Any] | None) -> None:
    status, answer = call(client, method, f"/v1/agents/{admin.agent.id}", admin, body)
    assert (status, answer["error"]["code"]) == (409, "conflict")
    assert call(client, "PATCH", f"/v1/agents/{admin.agent.id}", admin, {"name": "Alice A."})[0] == 200


def test_a_suspended_tenants_agents_are_refused(client: Client, hub: Hub, admin: SignedIn) -> None:
    hub.tenants.update("demo", lambda t: t.model_copy(update={"status": "suspended"}))
    status, body = call(client, "GET", "/v1/me", admin)
    assert (status, body["error"]["message"]) == (403, "this tenant is suspended")


def test_an_update_that_lost_a_race_is_a_conflict_not_an_overwrite(hub: Hub, admin: SignedIn) -> None:
    directory = hub.agent_store.of("demo")
    stale = directory.agent(admin.agent.id)
    assert stale is not None
    directory.save_agent(stale, stale.model_copy(update={"name": "First", "updated_at": "2999-01-01"}), None)
    with pytest.raises(Conflict):
        directory.save_agent(stale, stale.model_copy(update={"name": "Second", "updated_at": "2999-01-02"}), None)
    assert directory.agent(admin.agent.id).name == "First"  # type: ignore[union-attr]


# -- the caller itself: /v1/me -------------------------------------------------------------------


def test_an_agent_sets_its_availability(client: Client, hub: Hub, admin: SignedIn) -> None:
    status, body = call(client, "PUT", "/v1/me/availability", admin, {"availability": "online"})
    assert (status, body["availability"]) == (200, "online")
    me = call(client, "GET", "/v1/me", admin)[1]["agent"]
    assert (me["availability"], me["availability_at"]) == ("online", body["availability_at"])
    assert call(client, "PUT", "/v1/me/availability", admin, {"availability": "busy"})[0] == 422
    assert audit(hub, "agent.update") == [], "availability is not an admin change"


def test_me_is_for_agents_not_keys(client: Client, demo: DemoTenant) -> None:
    status, body = call(client, "GET", "/v1/me", demo.api_key)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert call(client, "PUT", "/v1/me/availability", demo.api_key, {"availability": "online"})[0] == 403


# -- groups ------------------------------------------------------------------------------------------


def test_groups_are_created_changed_joined_and_deleted(client: Client, hub: Hub, admin: SignedIn) -> None:
    status, billing = call(client, "POST", "/v1/groups", admin, {"name": "Billing", "description": "Invoices"})
    assert status == 201, billing
    _, vip = call(client, "POST", "/v1/groups", admin, {"name": "VIP"})
    bob = signed_in(hub, "demo", role="agent", name="Bob")
    status, agent = call(client, "PATCH", f"/v1/agents/{bob.agent.id}", admin,
                         {"group_ids": [vip["id"], billing["id"], vip["id"]]})
    assert (status, agent["group_ids"]) == (200, [vip["id"], billing["id"]])
    status, renamed = call(client, "PATCH", f"/v1/groups/{billing['id']}", admin, {"name": "Accounts"})
    assert (status, renamed["name"], renamed["description"]) == (200, "Accounts", "Invoices")
    assert [g["name"] for g in call(client, "GET", "/v1/groups", bob)[1]["groups"]] == ["Accounts", "VIP"]
    assert call(client, "DELETE", f"/v1/groups/{billing['id']}", admin)[0] == 200
    assert call(client, "GET", f"/v1/groups/{billing['id']}", admin)[0] == 404
    assert call(client, "GET", f"/v1/agents/{bob.agent.id}", admin)[1]["group_ids"] == [vip["id"]]
    [deleted] = audit(hub, "group.delete")
    assert deleted["before"]["agent_ids"] == [bob.agent.id]
    assert [len(audit(hub, a)) for a in ("group.create", "group.update", "agent.update")] == [2, 1, 1]


def test_an_agent_cannot_manage_groups_or_agents(client: Client, hub: Hub, admin: SignedIn) -> None:
    bob = signed_in(hub, "demo", role="supervisor", name="Bob")
    _, group = call(client, "POST", "/v1/groups", admin, {"name": "Billing"})
    refused = [
        call(client, "PATCH", f"/v1/groups/{group['id']}", bob, {"name": "Mine"}),
        call(client, "DELETE", f"/v1/groups/{group['id']}", bob),
        call(client, "POST", "/v1/agents", bob, {"email": "eve@demo.example", "name": "Eve", "role": "admin"}),
        call(client, "PATCH", f"/v1/agents/{bob.agent.id}", bob, {"role": "admin"}),
        call(client, "DELETE", f"/v1/agents/{admin.agent.id}", bob),
    ]
    assert [status for status, _ in refused] == [403] * 5
    assert hub.agent_store.of("demo").agent(bob.agent.id).role == "supervisor"  # type: ignore[union-attr]


@pytest.mark.parametrize("body", [
    {"name": ""}, {"name": "x" * 101}, {"name": "Ok", "tenant_id": "other"}, {"description": "no name"},
])
def test_a_bad_group_is_a_422(client: Client, admin: SignedIn, body: dict[str, Any]) -> None:
    assert call(client, "POST", "/v1/groups", admin, body)[0] == 422


@pytest.mark.parametrize("body", [
    {"email": "x@demo.example", "name": "X", "role": "owner"}, {"email": "nope", "name": "X"},
    {"email": "x@demo.example", "name": "X", "tenant_id": "other"}, {"email": "x@demo.example", "name": ""},
])
def test_a_bad_agent_is_a_422(client: Client, admin: SignedIn, body: dict[str, Any]) -> None:
    assert call(client, "POST", "/v1/agents", admin, body)[0] == 422
