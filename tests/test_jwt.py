"""Agents' tokens: the hub verifies Cognito's JWTs itself.

Real tokens come from moto's user pool (signed RS256 with moto's fixed key, whose
public JWKS the hub is given). The forgeries are signed with that same private
key where the point is a claim (expired, another pool, another app client), so
only the claim checks can refuse them; the others alter a real token (payload,
signature), switch the algorithm (``none``, HS256 keyed with the public key) or
sign with a key the pool never had. Every one is a 401 with a stable code and one
message, whatever failed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from chalice.test import Client
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from switchboard_sdk import Unavailable

import app as app_module
from chalicelib.agents.tokens import ExpiredToken, InvalidToken, TokenVerifier, looks_like_jwt
from chalicelib.hub import Hub
from tests.agents_support import FakeJwks, SignedIn, claims_of, forge, moto_jwks, signed_in
from tools.local.demo import DemoTenant

pytestmark = pytest.mark.usefixtures("user_pool")  # agents sign in through the pool

ROOT = Path(__file__).resolve().parent.parent
REFUSED = "the session token is not valid; sign in again"


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


@pytest.fixture
def ada(hub: Hub, demo: DemoTenant) -> SignedIn:
    return signed_in(hub, "demo", role="agent")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_with_the_public_key(claims: dict[str, Any]) -> str:
    """The classic confusion attack: HMAC keyed with the RSA public key (PEM), alg HS256."""
    jwk = json.loads(moto_jwks())["keys"][0]
    public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)  # type: ignore[union-attr]
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'kid': 'dummy'}).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())}"


def _tampered(token: str, **changes: Any) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{_b64(json.dumps(claims_of(token) | changes).encode())}.{signature}"


def _forgeries(real: str, hub: Hub) -> dict[str, str]:
    claims, now = claims_of(real), int(hub.clock().timestamp())
    other_pool = claims["iss"].rsplit("/", 1)[0] + "/us-east-1_00000000000000000000000000000000"
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "another pool (issuer)": forge(claims | {"iss": other_pool}),
        "another app client (audience)": forge(claims | {"aud": "someoneelsesclient"}),
        "an access token of another client": forge({k: v for k, v in claims.items() if k != "aud"} | {
            "token_use": "access", "client_id": "someoneelsesclient"}),
        "an unknown token use": forge(claims | {"token_use": "refresh"}),
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": "dummy"}),
        "HS256 keyed with the public key": _hs256_with_the_public_key(claims),
        "tampered payload (another tenant)": _tampered(real, **{"custom:tenant_id": "other"}),
        "tampered payload (another agent)": _tampered(real, sub="00000000-0000-0000-0000-000000000000"),
        "tampered signature": real[:-6] + ("AAAAAA" if not real.endswith("AAAAAA") else "BBBBBB"),
        "a key the pool never had": forge(claims, key=stranger),
        "an unknown kid": forge(claims, kid="rotated-away"),
        "no expiry": forge({k: v for k, v in claims.items() if k != "exp"}),
        "issued in the future": forge(claims | {"iat": now + 3600, "exp": now + 7200}),
        "no subject": forge({k: v for k, v in claims.items() if k != "sub"}),
        "not a JWT at all": "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln",
    }


def test_a_real_id_token_is_accepted_with_its_claims(hub: Hub, ada: SignedIn) -> None:
    claims = hub.token_verifier.verify(ada.id_token)
    assert (claims.sub, claims.tenant_id, claims.email, claims.token_use) == (
        ada.agent.id, "demo", ada.agent.email, "id")


def test_a_real_access_token_verifies_but_names_no_tenant_so_the_api_refuses_it(
    client: Client, hub: Hub, ada: SignedIn
) -> None:
    claims = hub.token_verifier.verify(ada.access_token)
    assert (claims.sub, claims.token_use, claims.tenant_id) == (ada.agent.id, "access", None)
    response = client.http.get("/v1/me", headers={"authorization": f"Bearer {ada.access_token}"})
    assert (response.status_code, json.loads(response.body)["error"]["code"]) == (401, "invalid_token")


def test_every_forgery_is_a_401_that_says_nothing_about_why(client: Client, hub: Hub, ada: SignedIn) -> None:
    assert client.http.get("/v1/tickets", headers=ada.headers).status_code == 200, "the real token works"
    answers = {}
    for what, token in _forgeries(ada.id_token, hub).items():
        response = client.http.get("/v1/tickets", headers={"authorization": f"Bearer {token}"})
        answers[what] = (response.status_code, json.loads(response.body)["error"])
    assert answers == dict.fromkeys(answers, (401, {"code": "invalid_token", "message": REFUSED}))


def test_an_expired_token_is_a_401_token_expired(client: Client, hub: Hub, ada: SignedIn) -> None:
    now = int(hub.clock().timestamp())
    expired = forge(claims_of(ada.id_token) | {"iat": now - 7200, "exp": now - 3600})
    response = client.http.get("/v1/me", headers={"authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "token_expired"


def test_a_forgery_changes_nothing(client: Client, hub: Hub, ada: SignedIn) -> None:
    forged = _tampered(ada.id_token, **{"custom:tenant_id": "other"})
    headers = {"authorization": f"Bearer {forged}", "content-type": "application/json"}
    response = client.http.post("/v1/groups", headers=headers, body=json.dumps({"name": "Forged"}).encode())
    assert response.status_code == 401
    assert hub.agent_store.of("demo").groups() == []


# -- the verifier on its own: clock, leeway, the JWKS cache -----------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _verifier(hub: Hub, clock: Clock, fetch: Any) -> TokenVerifier:
    return TokenVerifier(issuer=hub.settings.token_issuer, client_id=hub.settings.cognito_client_id,
                         jwks_url=hub.settings.token_jwks_url, clock=clock, fetch=fetch)


def test_expiry_is_checked_against_the_hubs_clock_with_a_small_leeway(hub: Hub, ada: SignedIn) -> None:
    clock = Clock()
    verifier = _verifier(hub, clock, FakeJwks())
    exp = claims_of(ada.id_token)["exp"]
    clock.now = datetime.fromtimestamp(exp + 20, UTC)  # 20 s late: within the leeway (clock skew)
    assert verifier.verify(ada.id_token).sub == ada.agent.id
    clock.now = datetime.fromtimestamp(exp + 31, UTC)
    with pytest.raises(ExpiredToken):
        verifier.verify(ada.id_token)


def test_the_jwks_is_fetched_once_and_again_at_most_once_a_minute_for_an_unknown_kid(
    hub: Hub, ada: SignedIn
) -> None:
    clock, fetch = Clock(), FakeJwks()
    verifier = _verifier(hub, clock, fetch)
    for _ in range(3):
        verifier.verify(ada.id_token)
    assert fetch.urls == [hub.settings.token_jwks_url], "one fetch per container, then the cache"
    rotated = forge(claims_of(ada.id_token), kid="new-key")
    with pytest.raises(InvalidToken):
        verifier.verify(rotated)
    assert len(fetch.urls) == 1, "fetched less than a minute ago: a flood of unknown kids fetches nothing"
    clock.now += timedelta(seconds=61)
    for _ in range(3):
        with pytest.raises(InvalidToken):
            verifier.verify(rotated)
    assert len(fetch.urls) == 2, "a minute later an unknown kid fetches again, once"
    assert verifier.verify(ada.id_token).sub == ada.agent.id


def test_keys_cognito_rotates_in_are_picked_up(hub: Hub, ada: SignedIn) -> None:
    before = json.loads(moto_jwks())
    before["keys"][0]["kid"] = "old-key"  # the pool's set before the rotation
    clock, fetch = Clock(), FakeJwks(json.dumps(before).encode())
    verifier = _verifier(hub, clock, fetch)
    with pytest.raises(InvalidToken):
        verifier.verify(ada.id_token)
    fetch.body = moto_jwks()  # Cognito published the new key
    clock.now += timedelta(seconds=61)
    assert verifier.verify(ada.id_token).sub == ada.agent.id


def test_an_unreachable_jwks_is_a_503_on_a_cold_container_and_harmless_once_cached(
    hub: Hub, ada: SignedIn
) -> None:
    clock, answers = Clock(), [OSError("connection refused"), moto_jwks(), OSError("timed out")]

    def fetch(url: str) -> bytes:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    verifier = _verifier(hub, clock, fetch)
    with pytest.raises(Unavailable):
        verifier.verify(ada.id_token)
    assert verifier.verify(ada.id_token).sub == ada.agent.id  # the next call fetches again
    clock.now += timedelta(seconds=61)
    with pytest.raises(InvalidToken):  # an unknown kid while the JWKS is down: refused, keys kept
        verifier.verify(forge(claims_of(ada.id_token), kid="new-key"))
    assert verifier.verify(ada.id_token).sub == ada.agent.id


def test_an_unconfigured_verifier_refuses_every_token(ada: SignedIn) -> None:
    verifier = TokenVerifier(issuer="", client_id="", jwks_url="", clock=Clock(), fetch=FakeJwks())
    with pytest.raises(InvalidToken):
        verifier.verify(ada.id_token)


@pytest.mark.parametrize(("value", "jwt_shaped"), [
    ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", True), ("sbk_0123456789abcdef_secret", False),
    ("eyJ.only-two", False), ("a.b.c", False), ("eyJ a.b.c", False), ("", False),
])
def test_a_jwt_is_told_from_an_api_key_by_its_shape(value: str, jwt_shaped: bool) -> None:
    assert looks_like_jwt(value) is jwt_shaped


def test_the_webhook_path_never_loads_pyjwt() -> None:
    code = ("import sys, app\nimport chalicelib.ingest.ingestor, chalicelib.api.access, chalicelib.agents.tokens\n"
            "print('jwt' in sys.modules)")
    env = os.environ | {"AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "False"), result.stderr
