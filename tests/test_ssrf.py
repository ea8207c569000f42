"""Outbound calls a tenant can aim never reach the hub's own network (defect 7).

A tenant once pointed its webhook at ``http://127.0.0.1:18003/internal`` and read the
internal service's answer back in ``GET /v1/deliveries``. Now every connector call
goes through ``switchboard_sdk.netguard``: the host is resolved once, every address is
checked, and the connection goes to a checked address. Here: the address policy as a
table; the check when a config is saved; the transport (literal and resolved
addresses, DNS rebinding, redirects, TLS to a checked address); and, per outbound URL
a tenant can set, the whole hub against a real loopback service that records hits.

The hub built here (``hub`` below) has the production policy unless a test names the
operator's allowance; tests/conftest.py's environment allows loopback when configs are
validated, as a config saved before this guard existed would pass. So these tests
show the connect-time check refusing what the configure-time check let through.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from pydantic import ValidationError
from switchboard_plugins.hubspot.config import HubSpotConfig
from switchboard_plugins.odoo.config import OdooConfig
from switchboard_plugins.salesforce import auth as salesforce_auth
from switchboard_plugins.salesforce.config import SalesforceConfig
from switchboard_plugins.webhook.config import WebhookConfig
from switchboard_sdk.netguard import (
    LOOPBACK,
    DestinationRefused,
    NetGuard,
    OutboundPolicy,
    forbidden_reason,
    parse_address,
    url_problem,
    validation_context,
)
from switchboard_sdk.testing import StatusServer
from switchboard_sdk.transport import DeliveryContext, TransportError, Urllib3Transport

import app as app_module
from chalicelib.hub import Hub, build_hub, set_hub
from chalicelib.settings import Settings
from chalicelib.storage.aws import AwsClients
from chalicelib.tenancy.tenants import PluginSetting, TenantRecord
from plugins.tests.fakes.hubspot_server import FakeHubSpot
from plugins.tests.fakes.odoo_server import API_KEY as ODOO_KEY
from plugins.tests.fakes.odoo_server import DATABASE as ODOO_DATABASE
from plugins.tests.fakes.odoo_server import LOGIN as ODOO_LOGIN
from plugins.tests.fakes.odoo_server import FakeOdoo
from plugins.tests.fakes.salesforce_server import CLIENT_ID, CLIENT_SECRET, FakeSalesforce
from tests.conftest import Pipeline, signed_web_headers, web_message
from tests.test_admin import call, new_tenant
from tools.local.demo import new_whsec
from tools.provision import settings_for

PRODUCTION = OutboundPolicy()
ALLOW_LOOPBACK = OutboundPolicy.parse(LOOPBACK)
# what the internal service answers: no byte of it may reach a tenant
SECRET_ANSWER = b'{"internal": "INTERNAL-ANSWER-7f3a", "db_password": "hunter2-internal"}'
HUBSPOT_TOKEN = "pat-na1-99999999-8888-7777-6666-555555555555"  # made up; the fake expects it


# -- servers -----------------------------------------------------------------------------


def recording_service(host: str = "127.0.0.1", port: int = 0, *, status: int = 400, body: bytes = SECRET_ANSWER,
                      headers: dict[str, str] | None = None, tls: ssl.SSLContext | None = None) -> StatusServer:
    """A real HTTP(S) server on a loopback address that records every request it gets;
    by default an internal service whose answer must never reach a tenant."""
    server = StatusServer(status, body, host=host, port=port, tls=tls)
    if headers is not None:
        server.headers = headers
    return server


@pytest.fixture
def internal() -> Iterator[StatusServer]:
    """The internal service a tenant must not reach (an admin endpoint, say)."""
    with recording_service() as service:
        yield service


class Resolver:
    """A DNS stand-in: each call answers the next list of ``answers`` (the last one repeats)."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = [list(a) for a in answers]
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


def send_get(transport: Urllib3Transport, url: str, timeout: float = 2.0) -> Any:
    return transport.request("GET", url, headers={"accept": "application/json"}, body=None, timeout=timeout)


# -- the address policy --------------------------------------------------------------------

REFUSED = [
    ("127.0.0.1", "loopback"), ("127.255.255.254", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private"), ("172.16.0.1", "private"), ("172.31.255.255", "private"), ("192.168.1.1", "private"),
    ("100.64.0.1", "shared address space (CGNAT)"), ("100.127.255.255", "shared address space (CGNAT)"),
    ("169.254.0.1", "link-local"), ("fe80::1", "link-local"), ("fe80::1%eth0", "link-local"),
    ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"),
    ("fc00::1", "unique-local (private)"), ("fd12:3456:789a::1", "unique-local (private)"),
    ("fec0::1", "site-local (private)"),
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("::", "unspecified"),  # noqa: S104 - judged, not bound
    ("255.255.255.255", "reserved"), ("240.0.0.1", "reserved"), ("192.0.2.10", "reserved"),
    ("198.18.0.1", "reserved"), ("2001:db8::1", "reserved"), ("2001::1", "reserved"), ("100::1", "reserved"),
    # IPv6 spellings of IPv4 addresses are judged by the IPv4 address
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:7f00:1", "loopback"), ("::ffff:10.1.2.3", "private"),
    ("::ffff:169.254.169.254", "cloud metadata"), ("::ffff:100.64.0.1", "shared address space (CGNAT)"),
    ("64:ff9b::7f00:1", "loopback, through NAT64"), ("64:ff9b::a9fe:a9fe", "cloud metadata, through NAT64"),
    ("2002:7f00:1::1", "loopback, through 6to4"), ("2002:c0a8:101::1", "private, through 6to4"),
    ("64:ff9b:1::1", "private"),  # local-use NAT64
    ("::127.0.0.1", "reserved"), ("::ffff:0:7f00:1", "reserved"),  # IPv4-compatible, SIIT: not global unicast
]
ALLOWED = [
    "8.8.8.8", "1.1.1.1", "93.184.215.14", "172.32.0.1", "172.15.255.255", "100.128.0.1", "169.253.255.255",
    "2606:4700:4700::1111", "2a00:1450:4001:82b::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_internal_and_special_addresses_are_refused(address: str, reason: str) -> None:
    parsed = ipaddress.ip_address(address)
    assert forbidden_reason(parsed) == reason
    assert PRODUCTION.refusal(parsed) == reason


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None
    assert PRODUCTION.allows(ipaddress.ip_address(address))


@pytest.mark.parametrize("spelling", ["127.0.0.1", "127.1", "0x7f.1", "0x7f000001", "2130706433", "017700000001",
                                      "[::ffff:127.0.0.1]"])
def test_every_spelling_of_loopback_is_recognised(spelling: str) -> None:
    address = parse_address(spelling)
    assert address is not None
    assert PRODUCTION.refusal(address) == "loopback"


def test_the_guard_answers_the_checked_addresses_to_dial() -> None:
    answers = ["2606:4700:4700::1111", "::ffff:93.184.215.14", "93.184.215.14"]
    guard = NetGuard(PRODUCTION, Resolver(answers))
    # an IPv4-mapped answer is dialled as the IPv4 address it is, once
    assert guard.addresses("crm.example", 443) == [ipaddress.ip_address("2606:4700:4700::1111"),
                                                   ipaddress.ip_address("93.184.215.14")]
    assert guard.addresses("93.184.215.14", 443) == [ipaddress.ip_address("93.184.215.14")]


def test_hostnames_are_not_addresses() -> None:
    assert parse_address("crm.example.com") is None
    assert parse_address("0xdead.example") is None


def test_the_operator_allows_loopback_and_networks_and_nothing_else() -> None:
    policy = OutboundPolicy.parse(" loopback , 10.1.0.0/16, 192.168.7.7 ")
    for allowed in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "10.1.200.3", "192.168.7.7", "8.8.8.8"]:
        assert policy.allows(ipaddress.ip_address(allowed)), allowed
    for refused in ["10.2.0.1", "192.168.7.8", "169.254.169.254", "fd00:ec2::254", "fe80::1", "0.0.0.0"]:  # noqa: S104
        assert not policy.allows(ipaddress.ip_address(refused)), refused
    assert OutboundPolicy.parse("") == OutboundPolicy.parse(None) == PRODUCTION


@pytest.mark.parametrize("setting", ["intranet", "10.0.0.1/8", "300.1.1.1", "loopback;10.0.0.0/8"])
def test_a_mistyped_allowance_fails_loudly(setting: str) -> None:
    with pytest.raises(ValueError, match="SWITCHBOARD_OUTBOUND_ALLOW"):
        OutboundPolicy.parse(setting)
    with pytest.raises(ValueError, match="SWITCHBOARD_OUTBOUND_ALLOW"):
        Settings.from_env({"SWITCHBOARD_OUTBOUND_ALLOW": setting})


def test_the_deployment_setting_reaches_the_hubs_transport(aws: AwsClients, outputs: dict[str, str]) -> None:
    assert Settings.from_env({}).outbound_policy == PRODUCTION
    settings = settings_for(outputs, Settings.from_env({"SWITCHBOARD_OUTBOUND_ALLOW": "loopback,10.1.0.0/16"}))
    hub = build_hub(settings)
    hub.aws = aws
    transport = hub.worker.transport
    assert isinstance(transport, Urllib3Transport)
    assert transport.guard.policy == OutboundPolicy.parse("loopback, 10.1.0.0/16")


# -- when a tenant saves a config ------------------------------------------------------------

BAD_URLS = [
    ("http://127.0.0.1:18003/internal", "destination address 127.0.0.1 is not allowed (loopback)"),
    ("http://2130706433/internal", "destination address 127.0.0.1 is not allowed (loopback)"),
    ("http://[::ffff:127.0.0.1]/", "destination address ::ffff:7f00:1 is not allowed (loopback)"),
    ("http://localhost:8080/", "destination address localhost is not allowed (loopback)"),
    ("https://api.localhost/", "destination address api.localhost is not allowed (loopback)"),
    ("http://169.254.169.254/latest/meta-data/", "destination address 169.254.169.254 is not allowed (cloud metadata)"),
    ("http://[fd00:ec2::254]/", "destination address fd00:ec2::254 is not allowed (cloud metadata)"),
    ("https://10.0.0.5/", "destination address 10.0.0.5 is not allowed (private)"),
    ("https://[fe80::1]/", "destination address fe80::1 is not allowed (link-local)"),
    ("ftp://example.com/x", "must be an http or https URL"),
    ("gopher://example.com/", "must be an http or https URL"),
    ("file:///etc/passwd", "must be an http or https URL"),
]


@pytest.mark.parametrize(("url", "problem"), BAD_URLS)
def test_obvious_internal_urls_are_named(url: str, problem: str) -> None:
    found = url_problem(url, PRODUCTION)
    assert found is not None
    assert found.startswith(problem)


def test_hostnames_and_public_addresses_pass_the_cheap_check() -> None:
    for url in ["https://crm.example.com/hook", "https://93.184.215.14/", "http://[2606:4700::1111]:8080/x"]:
        assert url_problem(url, PRODUCTION) is None, url
    assert url_problem("http://127.0.0.1:8001/", ALLOW_LOOPBACK) is None
    assert url_problem("http://localhost:8001/", ALLOW_LOOPBACK) is None


def connector_configs(url: str) -> list[tuple[type[Any], dict[str, Any], str]]:
    """``(config model, raw config, the field holding url)`` for every URL a tenant can set."""
    return [
        (WebhookConfig, {"url": url, "secret": new_whsec()}, "url"),
        (HubSpotConfig, {"access_token": HUBSPOT_TOKEN, "base_url": url}, "base_url"),
        (SalesforceConfig, {"instance_url": url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
         "instance_url"),
        (SalesforceConfig, {"instance_url": "https://acme.my.salesforce.com", "token_url": url + "/token",
                            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, "token_url"),
        (OdooConfig, {"base_url": url, "api_key": ODOO_KEY, "database": ODOO_DATABASE}, "base_url"),
    ]


# https: the CRM connectors refuse plain http off loopback before asking where it goes
@pytest.mark.parametrize("url", ["http://127.0.0.1:18003", "https://169.254.169.254", "https://[fd00:ec2::254]"])
@pytest.mark.parametrize("case", range(5), ids=["webhook", "hubspot", "salesforce-instance", "salesforce-token",
                                                 "odoo"])
def test_every_connector_refuses_an_internal_url_when_saved(url: str, case: int) -> None:
    model, raw, field = connector_configs(url)[case]
    with pytest.raises(ValidationError) as caught:
        model.model_validate(raw, context=validation_context(PRODUCTION))
    errors = caught.value.errors()
    assert (field,) in [error["loc"] for error in errors]  # and token_url, when it defaults to the instance's
    assert all("is not allowed" in error["msg"] for error in errors), errors
    if url.startswith("http://127."):  # and the operator's allowance lets a developer use it
        assert model.model_validate(raw, context=validation_context(ALLOW_LOOPBACK))


def test_the_api_answers_422_naming_the_field(client: Client, hub: Hub) -> None:
    platform = hub.api_keys.create(None, ["platform-admin"])[1]
    admin = new_tenant(client, platform, "acme")
    status, answer = call(client, "PUT", "/v1/plugins/webhook/config", admin,
                          {"config": {"url": "http://169.254.169.254/latest/meta-data/", "secret": new_whsec()}})
    assert status == 422
    (field,) = answer["error"]["fields"]
    assert field["field"] == "config.url"
    assert "destination address 169.254.169.254 is not allowed (cloud metadata)" in field["message"]
    status, answer = call(client, "PUT", "/v1/plugins/hubspot/config", admin,
                          {"config": {"access_token": HUBSPOT_TOKEN, "base_url": "gopher://10.0.0.1/"}})
    assert status == 422
    assert answer["error"]["fields"][0]["field"] == "config.base_url"


# -- the transport ---------------------------------------------------------------------------


def test_a_literal_internal_address_is_refused_before_connecting(internal: StatusServer) -> None:
    with pytest.raises(DestinationRefused) as caught:
        send_get(Urllib3Transport(), internal.url + "/internal")
    assert str(caught.value).startswith("destination address 127.0.0.1 is not allowed (loopback)")
    assert caught.value.retryable is False, "the same URL is refused every time: permanent"
    assert internal.requests == []


def test_a_hostname_resolving_to_an_internal_address_is_refused(internal: StatusServer) -> None:
    resolver = Resolver(["127.0.0.1"])
    with pytest.raises(DestinationRefused) as caught:
        send_get(Urllib3Transport(resolver=resolver), f"http://crm.tenant.example:{internal.port}/internal")
    assert str(caught.value) == "destination host crm.tenant.example resolves to an address that is not allowed " \
                                "(loopback)", "the resolved address of a hostname is not disclosed"
    assert internal.requests == []


def test_one_internal_address_among_public_ones_is_enough_to_refuse(internal: StatusServer) -> None:
    # a client may use any address of the answer: all of them are checked
    resolver = Resolver(["93.184.215.14", "2606:4700:4700::1111", "::ffff:127.0.0.1"])
    with pytest.raises(DestinationRefused, match=r"\(loopback\)"):
        send_get(Urllib3Transport(resolver=resolver), f"http://crm.tenant.example:{internal.port}/")
    assert internal.requests == []


def test_dns_rebinding_cannot_pass_the_host_is_resolved_once_and_the_checked_address_dialled() -> None:
    """The resolver answers an allowed address first and the internal one afterwards, as a
    rebinding DNS server does between a check and a connect. The operator allows only
    127.0.0.2 (standing in for a public address); the internal service listens on
    127.0.0.1 at the same port, so a transport that looked the name up again to connect
    would land there."""
    policy = OutboundPolicy.parse("127.0.0.2/32")
    with (recording_service("127.0.0.1") as internal,
          recording_service("127.0.0.2", internal.port, status=200, body=b"{}") as allowed):
        url = f"http://rebind.attacker.example:{allowed.port}/hook"
        resolver = Resolver(["127.0.0.2"], ["127.0.0.1"])
        transport = Urllib3Transport(policy=policy, resolver=resolver)
        assert send_get(transport, url).status == 200
        assert resolver.calls == [("rebind.attacker.example", allowed.port)], "resolved once"
        assert [request.headers["host"] for request in allowed.requests] == [f"rebind.attacker.example:{allowed.port}"]
        # the next request resolves anew, gets the rebound answer and is refused
        with pytest.raises(DestinationRefused, match=r"\(loopback\)"):
            send_get(transport, url)
        assert len(resolver.calls) == 2
        assert internal.requests == []


def test_each_request_resolves_exactly_once() -> None:
    with recording_service(status=200, body=b"{}") as receiver:
        resolver = Resolver(["127.0.0.1"])
        transport = Urllib3Transport(policy=ALLOW_LOOPBACK, resolver=resolver)
        for _ in range(3):
            assert send_get(transport, f"http://receiver.example:{receiver.port}/").status == 200
        assert resolver.calls == [("receiver.example", receiver.port)] * 3


def test_the_next_address_is_tried_when_one_refuses_the_connection() -> None:
    with recording_service(status=200, body=b"{}") as receiver:
        # nothing listens on 127.0.0.3 at that port: refused at once, then 127.0.0.1 answers
        resolver = Resolver(["127.0.0.3", "127.0.0.1"])
        response = send_get(Urllib3Transport(policy=ALLOW_LOOPBACK, resolver=resolver),
                            f"http://receiver.example:{receiver.port}/")
        assert response.status == 200
        assert len(receiver.requests) == 1


def test_a_refused_connection_is_reported_as_refused_not_as_a_timeout() -> None:
    with recording_service() as service:
        port = service.port
    with pytest.raises(TransportError) as caught:
        send_get(Urllib3Transport(policy=ALLOW_LOOPBACK), f"http://127.0.0.1:{port}/")
    assert (str(caught.value), caught.value.retryable, caught.value.timeout) == (
        "connection failed: connection refused", True, False)


def test_an_unresolvable_host_is_retried_later() -> None:
    def no_such_host(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(TransportError) as caught:
        send_get(Urllib3Transport(resolver=no_such_host), "https://nowhere.example/")
    assert (str(caught.value), caught.value.retryable) == ("could not resolve host nowhere.example", True)


def test_a_redirect_to_an_internal_address_is_not_followed(internal: StatusServer) -> None:
    location = {"Location": internal.url + "/internal", "Content-Type": "text/plain"}
    with recording_service(status=302, body=b"moved", headers=location) as public:
        response = send_get(Urllib3Transport(policy=OutboundPolicy.parse("127.0.0.1/32")), public.url + "/hook")
    assert (response.status, response.body) == (302, b"moved")
    assert internal.requests == []


@pytest.mark.parametrize("scheme", ["ftp", "file", "gopher"])
def test_only_http_and_https_urls_are_called(scheme: str) -> None:
    with pytest.raises(TransportError) as caught:
        send_get(Urllib3Transport(policy=ALLOW_LOOPBACK), f"{scheme}://127.0.0.1/x")
    assert caught.value.retryable is False


# -- TLS to a checked address ------------------------------------------------------------------


def certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def tls_service(tmp_path: Path, name: str) -> tuple[StatusServer, ssl.SSLContext, list[str | None]]:
    """An HTTPS service with a certificate for ``name``, a client context trusting it, and
    the SNI name of each TLS handshake it takes (filled as they happen)."""
    cert_path, key_path = certificate(tmp_path, name)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_path, key_path)
    server_names: list[str | None] = []
    server_context.sni_callback = lambda _sock, sni, _ctx: server_names.append(sni)
    service = recording_service(status=200, body=b"{}", tls=server_context)
    return service, ssl.create_default_context(cafile=str(cert_path)), server_names


def test_tls_to_the_checked_address_keeps_the_hostname_for_sni_and_the_certificate(tmp_path: Path) -> None:
    service, trust, server_names = tls_service(tmp_path, "crm.tenant.example")
    with service:
        transport = Urllib3Transport(policy=ALLOW_LOOPBACK, resolver=Resolver(["127.0.0.1"]), ssl_context=trust)
        response = send_get(transport, f"https://crm.tenant.example:{service.port}/hook")
        assert response.status == 200
        assert server_names == ["crm.tenant.example"]
        assert service.requests[0][2]["host"] == f"crm.tenant.example:{service.port}"


def test_tls_still_refuses_a_certificate_for_another_name(tmp_path: Path) -> None:
    service, trust, _ = tls_service(tmp_path, "someone-else.example")
    with service:
        transport = Urllib3Transport(policy=ALLOW_LOOPBACK, resolver=Resolver(["127.0.0.1"]), ssl_context=trust)
        with pytest.raises(TransportError, match="connection failed"):
            send_get(transport, f"https://crm.tenant.example:{service.port}/hook")
        assert service.requests == []


# -- the whole hub, per URL a tenant can set -------------------------------------------------


@pytest.fixture
def hub(request: pytest.FixtureRequest, aws: AwsClients, outputs: dict[str, str]) -> Iterator[Hub]:
    """The hub with the production policy, or the allowance a test passes (indirect)."""
    allowance = getattr(request, "param", "")
    settings = Settings(max_delivery_attempts=3, delivery_timeout_seconds=2.0,
                        outbound_policy=OutboundPolicy.parse(allowance))
    built = build_hub(settings_for(outputs, settings))
    built.aws = aws
    set_hub(built)
    yield built
    set_hub(None)


@pytest.fixture
def client(hub: Hub) -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _cold_salesforce_tokens() -> Iterator[None]:
    salesforce_auth.clear()  # tokens are cached per container; a cached one would skip the token URL
    yield
    salesforce_auth.clear()


def tenant_with(hub: Hub, connector: str, config: dict[str, Any]) -> tuple[str, str]:
    """A tenant with the web channel and one connector; its (admin key, web secret)."""
    web_secret = new_whsec()
    hub.tenants.put(TenantRecord(
        id="acme", name="Acme", created_at=hub.clock().isoformat(),
        plugins={"web": PluginSetting(config={"secrets": [web_secret]}), connector: PluginSetting(config=config)},
    ))
    return hub.api_keys.create("acme", ["tenant-admin"])[1], web_secret


def deliver_a_message(client: Client, pipeline: Pipeline, web_secret: str) -> None:
    """A customer writes in: ``ticket.created``, ``message.created`` and the workflow's triage
    of the new ticket (new → open, a ``ticket.updated``) go to the connector, in that order."""
    body = web_message("Where is my order?", client_id="ssrf-1")
    assert client.http.post("/hooks/acme/web", body=body, headers=signed_web_headers(web_secret, body)
                            ).status_code == 202
    pipeline.drain()


def delivery_log(client: Client, key: str, connector: str) -> tuple[str, list[dict[str, Any]]]:
    response = client.http.get(f"/v1/deliveries?connector={connector}", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200
    text = response.body.decode()
    return text, json.loads(text)["deliveries"]


def assert_refused_without_a_trace(
    client: Client, pipeline: Pipeline, key: str, connector: str, service: StatusServer, reason: str
) -> None:
    text, deliveries = delivery_log(client, key, connector)
    assert service.requests == [], "the internal service was never contacted"
    assert deliveries, "the refusals are logged"
    assert {d["outcome"] for d in deliveries} == {"failed"}, "permanent: not retried"
    assert all(reason in d["reason"] for d in deliveries), deliveries
    for leak in ("INTERNAL-ANSWER-7f3a", "hunter2-internal"):
        assert leak not in text, "no byte of the internal answer reaches the tenant"
    letters = json.dumps(pipeline.dead_letters())
    assert "INTERNAL-ANSWER" not in letters
    assert reason in letters


REFUSED_REASON = "destination address 127.0.0.1 is not allowed (loopback)"


def test_webhook_url_aimed_at_an_internal_service_is_refused(
    client: Client, hub: Hub, pipeline: Pipeline, internal: StatusServer
) -> None:
    key, web_secret = tenant_with(hub, "webhook", {"url": internal.url + "/internal", "secret": new_whsec()})
    deliver_a_message(client, pipeline, web_secret)
    assert_refused_without_a_trace(client, pipeline, key, "webhook", internal, REFUSED_REASON)


def test_webhook_url_naming_localhost_is_refused(
    client: Client, hub: Hub, pipeline: Pipeline, internal: StatusServer
) -> None:
    url = f"http://localhost:{internal.port}/internal"
    key, web_secret = tenant_with(hub, "webhook", {"url": url, "secret": new_whsec()})
    deliver_a_message(client, pipeline, web_secret)
    assert_refused_without_a_trace(client, pipeline, key, "webhook", internal,
                                   "destination host localhost resolves to an address that is not allowed (loopback)")


def test_hubspot_base_url_aimed_at_an_internal_service_is_refused(
    client: Client, hub: Hub, pipeline: Pipeline, internal: StatusServer
) -> None:
    key, web_secret = tenant_with(hub, "hubspot", {"access_token": HUBSPOT_TOKEN, "base_url": internal.url})
    deliver_a_message(client, pipeline, web_secret)
    assert_refused_without_a_trace(client, pipeline, key, "hubspot", internal, REFUSED_REASON)


def test_salesforce_instance_url_aimed_at_an_internal_service_is_refused(
    client: Client, hub: Hub, pipeline: Pipeline, internal: StatusServer
) -> None:
    config = {"instance_url": internal.url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    key, web_secret = tenant_with(hub, "salesforce", config)  # the token URL defaults to the instance
    deliver_a_message(client, pipeline, web_secret)
    assert_refused_without_a_trace(client, pipeline, key, "salesforce", internal, REFUSED_REASON)


def test_salesforce_token_url_aimed_at_an_internal_service_is_refused(
    client: Client, hub: Hub, pipeline: Pipeline, internal: StatusServer
) -> None:
    config = {"instance_url": "https://acme.my.salesforce.com", "token_url": internal.url + "/services/oauth2/token",
              "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    key, web_secret = tenant_with(hub, "salesforce", config)
    deliver_a_message(client, pipeline, web_secret)
    assert_refused_without_a_trace(client, pipeline, key, "salesforce", internal, REFUSED_REASON)


@pytest.mark.parametrize("hub", ["127.0.0.1/32"], indirect=True)
def test_salesforce_instance_url_is_checked_after_a_good_token(
    client: Client, hub: Hub, pipeline: Pipeline
) -> None:
    """The token comes from an allowed server (the fake org on 127.0.0.1, which this
    deployment allows); the API calls aim at an internal service on 127.0.0.2."""
    with FakeSalesforce() as org, recording_service("127.0.0.2") as internal_service:
        config = {"instance_url": internal_service.url, "token_url": org.url + "/services/oauth2/token",
                  "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        key, web_secret = tenant_with(hub, "salesforce", config)
        deliver_a_message(client, pipeline, web_secret)
        assert org.token_requests, "the token was fetched"
        assert_refused_without_a_trace(client, pipeline, key, "salesforce", internal_service,
                                       "destination address 127.0.0.2 is not allowed (loopback)")


def test_odoo_base_url_aimed_at_an_internal_service_is_refused(
    client: Client, hub: Hub, pipeline: Pipeline, internal: StatusServer
) -> None:
    config = {"base_url": internal.url, "api_key": ODOO_KEY, "database": ODOO_DATABASE, "login": ODOO_LOGIN}
    key, web_secret = tenant_with(hub, "odoo", config)
    deliver_a_message(client, pipeline, web_secret)
    assert_refused_without_a_trace(client, pipeline, key, "odoo", internal, REFUSED_REASON)


def test_a_hostname_rebound_to_an_internal_address_is_refused_by_the_hub(
    aws: AwsClients, outputs: dict[str, str], pipeline: Pipeline, internal: StatusServer
) -> None:
    """The hub's transport with a resolver that answers loopback for the tenant's hostname."""
    settings = settings_for(outputs, Settings(max_delivery_attempts=3, delivery_timeout_seconds=2.0))
    guarded = build_hub(settings, transport=Urllib3Transport(resolver=Resolver(["127.0.0.1"])))
    guarded.aws = aws
    set_hub(guarded)
    with Client(app_module.app) as client:
        url = f"http://crm.tenant.example:{internal.port}/internal"
        key, web_secret = tenant_with(guarded, "webhook", {"url": url, "secret": new_whsec()})
        deliver_a_message(client, pipeline, web_secret)
        assert_refused_without_a_trace(
            client, pipeline, key, "webhook", internal,
            "destination host crm.tenant.example resolves to an address that is not allowed (loopback)")
        text, _ = delivery_log(client, key, "webhook")
        assert "127.0.0.1" not in text, "the resolved address of a hostname is not disclosed"


# -- with the operator's allowance, local development works --------------------------------------


# what deliver_a_message announces, oldest first
FIRST_MESSAGE_EVENTS = ["ticket.created", "message.created", "ticket.updated"]


def assert_delivered(client: Client, key: str, connector: str) -> None:
    """Each of the new ticket's events delivered at the first attempt (the log is newest first)."""
    _, deliveries = delivery_log(client, key, connector)
    assert [(d["event_type"], d["attempt"], d["outcome"]) for d in deliveries] == [
        (kind, 1, "delivered") for kind in reversed(FIRST_MESSAGE_EVENTS)], deliveries


@pytest.mark.parametrize("hub", [LOOPBACK], indirect=True)
def test_with_the_allowance_a_loopback_webhook_receives(client: Client, hub: Hub, pipeline: Pipeline) -> None:
    with recording_service(status=200, body=b"{}") as receiver:
        key, web_secret = tenant_with(hub, "webhook", {"url": receiver.url + "/hook", "secret": new_whsec()})
        deliver_a_message(client, pipeline, web_secret)
        assert [json.loads(r.body)["type"] for r in receiver.requests] == FIRST_MESSAGE_EVENTS
    assert_delivered(client, key, "webhook")


@pytest.mark.parametrize("hub", [LOOPBACK], indirect=True)
def test_with_the_allowance_a_loopback_hubspot_receives(client: Client, hub: Hub, pipeline: Pipeline) -> None:
    with FakeHubSpot(HUBSPOT_TOKEN) as crm:
        key, web_secret = tenant_with(hub, "hubspot", {"access_token": HUBSPOT_TOKEN, "base_url": crm.url})
        deliver_a_message(client, pipeline, web_secret)
        assert crm.records["tickets"]
        assert crm.records["notes"]
    assert_delivered(client, key, "hubspot")


@pytest.mark.parametrize("hub", [LOOPBACK], indirect=True)
def test_with_the_allowance_a_loopback_salesforce_receives(client: Client, hub: Hub, pipeline: Pipeline) -> None:
    with FakeSalesforce() as org:
        config = {"instance_url": org.url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        key, web_secret = tenant_with(hub, "salesforce", config)
        deliver_a_message(client, pipeline, web_secret)
        assert org.token_requests
        assert org.all("Case")
    assert_delivered(client, key, "salesforce")


@pytest.mark.parametrize("hub", [LOOPBACK], indirect=True)
def test_with_the_allowance_a_loopback_odoo_receives(client: Client, hub: Hub, pipeline: Pipeline) -> None:
    with FakeOdoo() as odoo:
        config = {"base_url": odoo.url, "api_key": ODOO_KEY, "database": ODOO_DATABASE, "login": ODOO_LOGIN}
        key, web_secret = tenant_with(hub, "odoo", config)
        deliver_a_message(client, pipeline, web_secret)
        assert odoo.methods()
    assert_delivered(client, key, "odoo")


def test_a_connector_context_defaults_to_the_guarded_transport(internal: StatusServer) -> None:
    """A plugin that builds its own context gets the production policy, not an open transport."""
    context = DeliveryContext()
    with pytest.raises(DestinationRefused):
        context.http.request("POST", internal.url, headers={}, body=b"{}", timeout=1.0)
    assert internal.requests == []
