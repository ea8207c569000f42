"""The admin CLI's HTTP client against real loopback servers: it never follows a
redirect (urllib would re-send the API key to the new ``Location``), it refuses
to send a key over plain http anywhere but loopback, and its exit codes say who
is at fault: 0 done, 1 refused (4xx, redirect), 2 usage, 3 unreachable or 5xx."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from switchboard_sdk.testing import StatusServer

from tools.admin_cli import ApiClient, HubUnavailable, client, is_loopback
from tools.admin_commands import plugins

pytestmark = pytest.mark.timeout(60)
KEY = "sbk_0123456789ab_not-a-real-secret"


def answering(status: int, data: object = None, **headers: str) -> StatusServer:
    """A loopback server answering every request with ``status``, JSON ``data`` and ``headers``."""
    server = StatusServer(status, b"" if data is None else json.dumps(data).encode())
    server.headers |= headers
    return server


def authorizations(server: StatusServer) -> list[str | None]:
    return [headers.get("authorization") for _, _, headers, _ in server.requests]


def closed_port_url() -> str:
    with StatusServer() as server:  # bound, then closed: nothing listens there afterwards
        return server.url


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(plugins, [*args, "--api-key", KEY], catch_exceptions=False)
    return result.exit_code, result.output


# -- redirects ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_error_and_the_key_never_reaches_its_target(status: int) -> None:
    with StatusServer(200, b'{"stolen": true}') as target:
        location = target.url.replace("127.0.0.1", "localhost") + "/v1/plugins"  # another host
        with answering(status, Location=location) as hub, pytest.raises(click.ClickException) as refused:
            ApiClient(hub.url, KEY).call("POST", "/v1/plugins/web/enable", {"config": {}})
    assert type(refused.value) is click.ClickException
    assert refused.value.exit_code == 1
    assert f"{status} redirect to {location}" in refused.value.format_message()
    assert authorizations(hub) == [f"Bearer {KEY}"]
    assert target.requests == [], "the redirect target must get no request at all, least of all the key"


def test_a_redirect_through_the_cli_exits_1_naming_the_location() -> None:
    with StatusServer(200, b'{"plugins": []}') as target:
        location = target.url.replace("127.0.0.1", "localhost") + "/elsewhere"
        with answering(302, Location=location) as hub:
            code, output = run_cli("list", "--api-url", hub.url)
    assert code == 1
    assert location in output
    assert target.requests == []


# -- plain http only on loopback (checked before any request) ----------------------------


@pytest.mark.parametrize("url", ["http://hub.example.com", "http://hub.example.com:8000/dev/", "http://10.0.0.7",
                                 "http://[2001:db8::1]:80", "http://[::ffff:127.0.0.1]", "http://localhost.example.com",
                                 "http://127.0.0.1.nip.io", "http://0.0.0.0:8000"])
def test_plain_http_to_anything_but_loopback_is_a_usage_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(click.UsageError) as refused:
        client(url, KEY, tmp_path)
    assert refused.value.exit_code == 2
    assert "use https://" in refused.value.format_message()
    with pytest.raises(click.UsageError):
        ApiClient(url, KEY)


@pytest.mark.parametrize("url", ["ftp://hub.example.com", "file:///etc/passwd", "hub.example.com", "https://"])
def test_a_hub_url_that_is_not_http_or_https_is_a_usage_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(click.UsageError) as refused:
        client(url, KEY, tmp_path)
    assert refused.value.exit_code == 2
    assert "https://" in refused.value.format_message()


@pytest.mark.parametrize("url", ["https://hub.example.com/dev/", "https://10.0.0.7:8443", "http://127.0.0.1:8000",
                                 "http://127.45.6.7", "http://[::1]:8000/", "http://localhost:8000", "http://LocalHost"])
def test_https_anywhere_and_plain_http_on_loopback_are_accepted(url: str, tmp_path: Path) -> None:
    assert client(url, KEY, tmp_path).url == url


@pytest.mark.parametrize(("host", "loopback"), [("localhost", True), ("127.0.0.1", True), ("127.255.0.9", True),
                                                ("::1", True), ("128.0.0.1", False), ("::2", False),
                                                ("localhost.localdomain", False), ("", False)])
def test_loopback_means_localhost_127_slash_8_or_ipv6_one(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_cli_refuses_plain_http_to_a_remote_hub_with_exit_2() -> None:
    code, output = run_cli("list", "--api-url", "http://hub.example.com/dev")
    assert code == 2
    assert "use https://" in output


# -- the exit-code contract ----------------------------------------------------------------


def test_a_call_sends_the_key_and_returns_the_json() -> None:
    with answering(200, {"plugins": [], "next": None}) as hub:
        result = ApiClient(hub.url + "/", KEY).call("PUT", "/v1/plugins/web/config", {"config": {"x": 1}},
                                                    query={"dry": "1"})
    assert result == {"plugins": [], "next": None}
    [(method, path, headers, body)] = hub.requests
    assert (method, path, body) == ("PUT", "/v1/plugins/web/config?dry=1", b'{"config": {"x": 1}}')
    assert headers["authorization"] == f"Bearer {KEY}"


def test_a_4xx_is_refused_with_exit_1_and_names_the_field() -> None:
    error = {"error": {"code": "invalid_input", "message": "bad config",
                       "fields": [{"field": "config.url", "message": "not a URL"}]}}
    with answering(422, error) as hub, pytest.raises(click.ClickException) as refused:
        ApiClient(hub.url, KEY).call("GET", "/v1/plugins")
    assert type(refused.value) is click.ClickException
    assert refused.value.exit_code == 1
    assert refused.value.format_message() == "422 invalid_input: bad config\n  config.url: not a URL"


def test_a_5xx_is_exit_3() -> None:
    with StatusServer(503, b"upstream down") as hub, pytest.raises(HubUnavailable) as failed:
        ApiClient(hub.url, KEY).call("GET", "/v1/plugins")
    assert failed.value.exit_code == 3
    assert failed.value.format_message() == "503 upstream down"


def test_an_unreachable_hub_is_exit_3() -> None:
    url = closed_port_url()
    with pytest.raises(HubUnavailable) as failed:
        ApiClient(url, KEY).call("GET", "/v1/plugins")
    assert failed.value.exit_code == 3
    assert f"cannot reach {url}" in failed.value.format_message()


def test_the_cli_exits_0_1_and_3_as_the_hub_answers() -> None:
    listing = {"plugins": [{"name": "web", "kind": "channel", "enabled": True, "configured": True, "summary": "-"}]}
    with answering(200, listing) as hub:
        code, output = run_cli("list", "--api-url", hub.url)
    assert (code, output.split()[:5]) == (0, ["NAME", "KIND", "ENABLED", "CONFIGURED", "SUMMARY"])
    with answering(403, {"error": {"code": "forbidden", "message": "no"}}) as hub:
        assert run_cli("list", "--api-url", hub.url) == (1, "Error: 403 forbidden: no\n")
    with answering(500, {"error": {"code": "internal_error", "message": "boom"}}) as hub:
        assert run_cli("list", "--api-url", hub.url) == (3, "Error: 500 internal_error: boom\n")
