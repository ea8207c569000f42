"""Agents sign in through the hub (``/v1/session``), against moto's Cognito user pool:
the temporary password's challenge, the agent's own password, refresh, and the
refusals (one answer for a wrong password and an unknown email)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.api.calls import ApiCall
from chalicelib.api.session import SessionApi
from chalicelib.hub import Hub
from tests.agents_support import PASSWORD
from tools.local.demo import DemoTenant

pytestmark = pytest.mark.usefixtures("user_pool")  # agents sign in through the pool

JSON = {"content-type": "application/json"}
WRONG = {"error": {"code": "unauthorized", "message": "email or password is wrong"}}


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


def post(client: Client, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
    response = client.http.post(path, headers=JSON | (headers or {}), body=json.dumps(body).encode())
    return response.status_code, json.loads(response.body)


@pytest.fixture
def invited(client: Client, demo: DemoTenant) -> dict[str, Any]:
    """An agent an admin just created: its id, email and temporary password."""
    status, body = post(client, "/v1/agents", {"email": "Grace@Demo.Example", "name": "Grace", "role": "agent"},
                        {"authorization": f"Bearer {demo.api_key}"})
    assert status == 201, body
    return {"id": body["agent"]["id"], "email": "grace@demo.example", "password": body["temporary_password"]}


def first_sign_in(client: Client, invited: dict[str, Any]) -> dict[str, Any]:
    status, challenge = post(client, "/v1/session", {"email": invited["email"], "password": invited["password"]})
    assert (status, challenge["challenge"]) == (200, "NEW_PASSWORD_REQUIRED"), challenge
    status, tokens = post(client, "/v1/session/password", {"email": invited["email"], "session": challenge["session"],
                                                           "new_password": PASSWORD})
    assert status == 200, tokens
    return tokens


def test_the_first_sign_in_sets_the_agents_own_password_then_the_tokens_open_the_api(
    client: Client, invited: dict[str, Any]
) -> None:
    tokens = first_sign_in(client, invited)
    assert set(tokens) == {"id_token", "access_token", "refresh_token", "expires_in", "token_type"}
    assert (tokens["token_type"], tokens["expires_in"]) == ("Bearer", 3600)
    me = client.http.get("/v1/me", headers={"authorization": f"Bearer {tokens['id_token']}"})
    assert me.status_code == 200
    assert json.loads(me.body)["agent"]["id"] == invited["id"]
    # from now on the agent's own password signs in, without a challenge
    status, again = post(client, "/v1/session", {"email": invited["email"], "password": PASSWORD})
    assert status == 200
    assert "id_token" in again


def test_a_new_password_the_policy_refuses_is_a_422_naming_the_rule(
    client: Client, invited: dict[str, Any]
) -> None:
    _, challenge = post(client, "/v1/session", {"email": invited["email"], "password": invited["password"]})
    status, body = post(client, "/v1/session/password", {"email": invited["email"], "session": challenge["session"],
                                                         "new_password": "short"})
    assert status == 422
    assert body["error"]["fields"][0]["field"] == "new_password"
    assert "short" not in json.dumps(body), "the refused password is never echoed"


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    client: Client, invited: dict[str, Any]
) -> None:
    first_sign_in(client, invited)
    wrong_password = post(client, "/v1/session", {"email": invited["email"], "password": "Not-the-password-1"})
    unknown_email = post(client, "/v1/session", {"email": "nobody@demo.example", "password": PASSWORD})
    assert wrong_password == unknown_email == (401, WRONG)


def test_the_email_is_not_case_sensitive(client: Client, invited: dict[str, Any]) -> None:
    first_sign_in(client, invited)
    status, _ = post(client, "/v1/session", {"email": "GRACE@demo.EXAMPLE", "password": PASSWORD})
    assert status == 200


def test_a_refresh_gives_new_tokens_without_a_new_refresh_token(client: Client, invited: dict[str, Any]) -> None:
    tokens = first_sign_in(client, invited)
    status, fresh = post(client, "/v1/session/refresh", {"refresh_token": tokens["refresh_token"]})
    assert status == 200, fresh
    assert set(fresh) == {"id_token", "access_token", "expires_in", "token_type"}
    me = client.http.get("/v1/me", headers={"authorization": f"Bearer {fresh['id_token']}"})
    assert me.status_code == 200


def test_a_bad_refresh_token_or_challenge_session_is_a_401(client: Client, invited: dict[str, Any]) -> None:
    assert post(client, "/v1/session/refresh", {"refresh_token": "not-a-refresh-token"})[0] == 401
    status, body = post(client, "/v1/session/password", {"email": invited["email"], "session": "made-up" * 4,
                                                         "new_password": PASSWORD})
    assert (status, body["error"]["code"]) == (401, "unauthorized")


def test_a_deactivated_agent_can_neither_sign_in_nor_refresh(
    client: Client, demo: DemoTenant, invited: dict[str, Any]
) -> None:
    tokens = first_sign_in(client, invited)
    admin = {"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"}
    response = client.http.patch(f"/v1/agents/{invited['id']}", headers=admin,
                                 body=json.dumps({"status": "deactivated"}).encode())
    assert response.status_code == 200
    assert post(client, "/v1/session", {"email": invited["email"], "password": PASSWORD}) == (401, WRONG)
    assert post(client, "/v1/session/refresh", {"refresh_token": tokens["refresh_token"]})[0] == 401


@pytest.mark.parametrize(("body", "status"), [
    ({"email": "grace@demo.example"}, 422),
    ({"email": "not an email", "password": "x"}, 422),
    ({"email": "grace@demo.example", "password": "x", "tenant_id": "other"}, 422),
    ({"email": "grace@demo.example", "password": ""}, 422),
])
def test_a_malformed_sign_in_is_refused_before_cognito(client: Client, hub: Hub, body: dict[str, Any],
                                                        status: int) -> None:
    assert post(client, "/v1/session", body)[0] == status


def test_an_unknown_query_parameter_is_a_400(client: Client, hub: Hub) -> None:
    response = client.http.post("/v1/session?tenant=other", headers=JSON,
                                body=json.dumps({"email": "a@b.example", "password": "x"}).encode())
    assert response.status_code == 400


def test_a_hub_without_a_user_pool_says_sign_in_is_not_set_up() -> None:
    call = ApiCall(body=json.dumps({"email": "a@b.example", "password": "x"}).encode())
    with pytest.raises(Exception, match="not set up") as refused:
        SessionApi(None).sign_in(call)
    assert getattr(refused.value, "status", None) == 404
