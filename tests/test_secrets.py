"""The tenant secret store (chalicelib/secrets/vault.py) against moto's SSM."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from pydantic import BaseModel, ConfigDict, Field, SecretBytes, SecretStr
from switchboard_sdk import InvalidInput, PluginConfigError
from switchboard_sdk.secret_fields import rotates_into

from chalicelib.secrets.refs import MARKER
from chalicelib.secrets.slots import secret_slots
from chalicelib.secrets.vault import SecretVault

TENANT, PLUGIN = "acme", "sample"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOKEN_A, TOKEN_B, TOKEN_C = "tok-alpha-0001", "tok-bravo-0002", "tok-charlie-0003"
KEY_1, KEY_2, KEY_3, KEY_4 = "key-one-1111", "key-two-2222", "key-three-3333", "key-four-4444"
OAUTH = "oauth-client-secret-9999"


class OAuth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str
    client_secret: SecretStr


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    url: str
    token: SecretStr = Field(min_length=1, json_schema_extra=rotates_into("previous_token"))
    previous_token: SecretStr | None = None
    keys: list[SecretStr] = Field(default_factory=list, max_length=3, json_schema_extra=rotates_into("keys"))
    optional: SecretStr | None = None
    oauth: OAuth | None = None


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class CountingSSM:
    """An SSM client that records each operation it is asked for."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            return attribute(**kwargs)

        return call


@pytest.fixture
def ssm() -> Iterator[CountingSSM]:
    with mock_aws():
        yield CountingSSM(boto3.client("ssm", region_name="us-east-1"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def vault(ssm: CountingSSM, clock: Clock) -> SecretVault:
    return SecretVault(ssm, clock=clock)


@dataclass
class Saver:
    vault: SecretVault

    def __call__(self, incoming: dict[str, Any], stored: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return self.vault.submit(TENANT, PLUGIN, Sample, incoming, stored, Sample.model_validate, **kw)

    def unseal(self, sealed: dict[str, Any]) -> Sample:
        return Sample.model_validate(self.vault.unseal(TENANT, PLUGIN, sealed))


@pytest.fixture
def save(vault: SecretVault) -> Saver:
    return Saver(vault)


def full_config() -> dict[str, Any]:
    return {"url": "https://crm.example.com", "token": TOKEN_A, "keys": [KEY_1, KEY_2], "optional": None,
            "oauth": {"client_id": "cid", "client_secret": OAUTH}}


ALL_SECRETS = (TOKEN_A, TOKEN_B, TOKEN_C, KEY_1, KEY_2, KEY_3, KEY_4, OAUTH)


def assert_no_secret(document: Any) -> None:
    text = json.dumps(document)
    for value in ALL_SECRETS:
        assert value not in text


def version(ssm: CountingSSM, name: str) -> int:
    return int(ssm.client.get_parameter(Name=name)["Parameter"]["Version"])


def names(ssm: CountingSSM, path: str = "/switchboard") -> list[str]:
    pages = ssm.client.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True)
    return sorted(p["Name"] for page in pages for p in page["Parameters"])


# -- finding secrets in a model -------------------------------------------------------


def test_secret_fields_are_found_from_the_types() -> None:
    slots = {slot.label: slot for slot in secret_slots(Sample)}
    assert list(slots) == ["token", "previous_token", "keys", "optional", "oauth.client_secret"]
    assert slots["keys"].many
    assert slots["keys"].max_items == 3
    assert slots["token"].rotation == ("previous_token",)
    assert slots["keys"].rotation == ("keys",)
    assert slots["oauth.client_secret"].attrs == ("oauth", "client_secret")


class DictOfSecrets(BaseModel):
    tokens: dict[str, SecretStr]


class ListOfModels(BaseModel):
    clients: list[OAuth]


class Bytes(BaseModel):
    key: SecretBytes


class Mixed(BaseModel):
    key: SecretStr | int


@pytest.mark.parametrize("model", [DictOfSecrets, ListOfModels, Bytes, Mixed])
def test_a_secret_in_a_shape_the_store_cannot_hold_is_refused(model: type[BaseModel]) -> None:
    with pytest.raises(PluginConfigError, match="cannot hold secrets"):
        secret_slots(model)


class RotatesIntoRequired(BaseModel):
    token: SecretStr = Field(json_schema_extra=rotates_into("other"))
    other: SecretStr


class RotatesNowhere(BaseModel):
    token: SecretStr = Field(json_schema_extra=rotates_into("missing"))


class RotatesIntoPlain(BaseModel):
    token: SecretStr = Field(json_schema_extra=rotates_into("note"))
    note: str | None = None


@pytest.mark.parametrize("model", [RotatesIntoRequired, RotatesNowhere, RotatesIntoPlain])
def test_a_rotation_needs_an_optional_secret_field(model: type[BaseModel]) -> None:
    with pytest.raises(PluginConfigError, match="rotate"):
        secret_slots(model)


# -- sealing and unsealing -------------------------------------------------------------


def test_secrets_round_trip(save: Saver) -> None:
    sealed = save(full_config())
    config = save.unseal(sealed)
    assert config.token.get_secret_value() == TOKEN_A
    assert [k.get_secret_value() for k in config.keys] == [KEY_1, KEY_2]
    assert config.oauth is not None
    assert config.oauth.client_secret.get_secret_value() == OAUTH
    assert config.optional is None
    assert config.previous_token is None
    assert config.url == "https://crm.example.com"


def test_the_sealed_config_holds_references_and_no_secret(save: Saver, ssm: CountingSSM) -> None:
    sealed = save(full_config())
    assert_no_secret(sealed)
    assert sealed["token"] == {"$secret": "/switchboard/tenants/acme/sample/token", "version": 1,
                               "updated_at": "2026-03-01T12:00:00.000000Z"}
    assert sealed["oauth"]["client_secret"]["$secret"] == "/switchboard/tenants/acme/sample/oauth/client_secret"
    assert sealed["oauth"]["client_id"] == "cid"
    assert [k["$secret"].rsplit("/", 2)[1] for k in sealed["keys"]] == ["keys", "keys"]
    assert sealed["optional"] is None
    stored = ssm.client.get_parameter(Name="/switchboard/tenants/acme/sample/token", WithDecryption=True)
    assert stored["Parameter"]["Type"] == "SecureString"
    assert stored["Parameter"]["Value"] == TOKEN_A


def test_redacted_reads_hold_no_secret_and_say_what_is_set(save: Saver, vault: SecretVault) -> None:
    shown = vault.redact(Sample, save(full_config()))
    assert_no_secret(shown)
    assert shown["token"] == {"secret": MARKER, "updated_at": "2026-03-01T12:00:00.000000Z"}
    assert [set(k) for k in shown["keys"]] == [{"secret", "updated_at", "id"}] * 2
    assert shown["optional"] is None
    assert shown["url"] == "https://crm.example.com"


def test_the_draft_does_not_show_its_values(vault: SecretVault) -> None:
    draft = vault.merge_kept(TENANT, PLUGIN, Sample, full_config(), None)
    assert draft.raw["token"] == TOKEN_A
    assert_no_secret(repr(draft))


# -- re-submitting without the secrets ------------------------------------------------------


@pytest.mark.parametrize("keep", ["marker", "redacted", "reference", "plain"])
def test_resubmitting_keeps_the_secret_without_a_new_version(
    save: Saver, vault: SecretVault, ssm: CountingSSM, clock: Clock, keep: str
) -> None:
    sealed = save(full_config())
    clock.advance(hours=1)
    again = {
        "marker": full_config() | {"token": MARKER, "keys": [MARKER, "***"]},
        "redacted": vault.redact(Sample, sealed) | {"url": "https://new.example.com"},
        "reference": sealed | {"url": "https://new.example.com"},
        "plain": full_config(),
    }[keep]
    if keep == "marker":
        again["oauth"] = {"client_id": "cid", "client_secret": MARKER}
    ssm.calls.clear()
    resealed = save(again, sealed)
    assert "put_parameter" not in ssm.calls
    assert {k: v for k, v in resealed.items() if k != "url"} == {k: v for k, v in sealed.items() if k != "url"}
    assert version(ssm, "/switchboard/tenants/acme/sample/token") == 1
    assert save.unseal(resealed).token.get_secret_value() == TOKEN_A


def test_keeping_a_secret_that_was_never_stored_is_refused(save: Saver) -> None:
    with pytest.raises(InvalidInput) as caught:
        save({"url": "https://x.example.com", "token": MARKER, "keys": [{"secret": MARKER, "id": "nope"}]})
    assert caught.value.fields == [
        {"field": "config.token", "message": "nothing stored to keep: send the secret"},
        {"field": "config.keys[0]", "message": "nothing stored to keep: send the secret"},
    ]


def test_list_elements_are_kept_by_their_id_in_any_order(save: Saver, vault: SecretVault) -> None:
    sealed = save(full_config())
    first, second = vault.redact(Sample, sealed)["keys"]
    resealed = save(full_config() | {"keys": [second, KEY_3, first]}, sealed, grace=timedelta(0))
    assert [k.get_secret_value() for k in save.unseal(resealed).keys] == [KEY_2, KEY_3, KEY_1]
    assert resealed["keys"][0] == sealed["keys"][1]
    assert resealed["keys"][2] == sealed["keys"][0]


def test_changing_a_secret_writes_a_new_version(save: Saver, ssm: CountingSSM) -> None:
    sealed = save(full_config())
    resealed = save(full_config() | {"token": TOKEN_B}, sealed)
    assert version(ssm, "/switchboard/tenants/acme/sample/token") == 2
    assert resealed["token"]["version"] == 2
    assert save.unseal(resealed).token.get_secret_value() == TOKEN_B
    assert_no_secret(resealed)


def test_a_reference_reads_its_own_version(save: Saver, ssm: CountingSSM) -> None:
    sealed = save(full_config())
    # a later write that never reached the table (a failed save) must not leak into reads
    ssm.client.put_parameter(Name=sealed["token"]["$secret"], Value=TOKEN_C, Type="SecureString", Overwrite=True)
    assert save.unseal(sealed).token.get_secret_value() == TOKEN_A


# -- rotation ----------------------------------------------------------------------------


def test_a_replaced_secret_stays_valid_during_the_grace_period(save: Saver, clock: Clock) -> None:
    sealed = save(full_config() | {"token": TOKEN_B}, save(full_config()))
    assert sealed["previous_token"]["grace_until"] == "2026-03-02T12:00:00.000000Z"
    clock.advance(hours=23, minutes=59)
    config = save.unseal(sealed)
    assert config.token.get_secret_value() == TOKEN_B
    assert config.previous_token is not None
    assert config.previous_token.get_secret_value() == TOKEN_A
    clock.advance(minutes=1)
    assert save.unseal(sealed).previous_token is None
    assert "previous_token" not in save.vault.redact(Sample, sealed)


def test_redacted_reads_sent_back_keep_the_grace_deadline(save: Saver, vault: SecretVault, clock: Clock) -> None:
    sealed = save(full_config() | {"token": TOKEN_B}, save(full_config()))
    clock.advance(hours=12)
    shown = vault.redact(Sample, sealed)
    assert shown["previous_token"]["grace_until"] == "2026-03-02T12:00:00.000000Z"
    resealed = save(shown, sealed)
    assert resealed["previous_token"] == sealed["previous_token"]
    clock.advance(hours=12)
    assert save.unseal(resealed).previous_token is None


def test_a_second_rotation_keeps_only_the_latest_previous_secret(save: Saver, vault: SecretVault) -> None:
    first = save(full_config() | {"token": TOKEN_B}, save(full_config()))
    # what an admin UI sends: the read, with a new token typed in
    second = save(vault.redact(Sample, first) | {"token": TOKEN_C}, first)
    config = save.unseal(second)
    assert config.token.get_secret_value() == TOKEN_C
    assert config.previous_token is not None
    assert config.previous_token.get_secret_value() == TOKEN_B


def test_a_previous_secret_sent_in_clear_wins_and_stays(save: Saver, clock: Clock) -> None:
    sealed = save(full_config() | {"token": TOKEN_B, "previous_token": TOKEN_C}, save(full_config()))
    assert "grace_until" not in sealed["previous_token"]
    clock.advance(days=30)
    previous = save.unseal(sealed).previous_token
    assert previous is not None
    assert previous.get_secret_value() == TOKEN_C


def test_no_grace_drops_the_replaced_secret_at_once(save: Saver) -> None:
    sealed = save(full_config() | {"token": TOKEN_B}, save(full_config()), grace=timedelta(0))
    assert sealed.get("previous_token") is None
    assert save.unseal(sealed).previous_token is None


def test_a_list_keeps_removed_secrets_at_its_end_until_the_grace_ends(
    save: Saver, vault: SecretVault, clock: Clock
) -> None:
    sealed = save(full_config() | {"keys": [KEY_3]}, save(full_config()))
    assert [k.get_secret_value() for k in save.unseal(sealed).keys] == [KEY_3, KEY_1, KEY_2]
    assert [("grace_until" in k) for k in vault.redact(Sample, sealed)["keys"]] == [False, True, True]
    # room for three: a fourth key pushes the oldest leaver out
    clock.advance(hours=1)
    shown = vault.redact(Sample, sealed)
    again = save(shown | {"keys": [KEY_4, shown["keys"][0]]}, sealed)
    assert [k.get_secret_value() for k in save.unseal(again).keys] == [KEY_4, KEY_3, KEY_1]
    clock.advance(hours=23)
    assert [k.get_secret_value() for k in save.unseal(again).keys] == [KEY_4, KEY_3]


def test_the_vaults_grace_period_is_configurable(ssm: CountingSSM, clock: Clock) -> None:
    save = Saver(SecretVault(ssm, clock=clock, grace=timedelta(hours=2)))
    sealed = save(full_config() | {"token": TOKEN_B}, save(full_config()))
    assert sealed["previous_token"]["grace_until"] == "2026-03-01T14:00:00.000000Z"


# -- tenant scoping and failures -------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "/switchboard/tenants/other/sample/token",
        "/switchboard/tenants/acme/twilio/auth_token",  # another plugin of the same tenant
        "/switchboard/tenants/acme-2/sample/token",
        "/switchboard/tenants/acme/sample/../../other/sample/token",
        "/elsewhere/token",
    ],
)
def test_a_reference_outside_the_tenant_is_refused(save: Saver, vault: SecretVault, name: str) -> None:
    sealed = save(full_config())
    forged = sealed | {"token": {"$secret": name, "version": 1, "updated_at": ""}}
    with pytest.raises(PluginConfigError, match="config field token refers to a secret outside"):
        vault.unseal(TENANT, PLUGIN, forged)
    with pytest.raises(PluginConfigError):
        save(full_config(), forged)


def test_an_admin_cannot_point_a_secret_at_another_tenants_parameter(save: Saver) -> None:
    save.vault.submit("other", PLUGIN, Sample, full_config() | {"token": TOKEN_C}, None, Sample.model_validate)
    stolen = {"$secret": "/switchboard/tenants/other/sample/token", "version": 1}
    with pytest.raises(InvalidInput) as caught:
        save(full_config() | {"token": stolen}, save(full_config()))
    assert caught.value.fields[0]["field"] == "config.token"
    with pytest.raises(InvalidInput, match="outside a secret field"):
        save(full_config() | {"url": stolen})


def test_a_missing_parameter_names_the_field_and_not_the_value(save: Saver, ssm: CountingSSM) -> None:
    sealed = save(full_config())
    ssm.client.delete_parameter(Name=sealed["oauth"]["client_secret"]["$secret"])
    with pytest.raises(PluginConfigError) as caught:
        save.unseal(sealed)
    assert "oauth.client_secret" in caught.value.message
    assert OAUTH not in caught.value.message


@pytest.mark.parametrize(
    "reference",
    [{"$secret": "/switchboard/tenants/acme/sample/token"}, {"$secret": 3, "version": 1},
     {"$secret": "/switchboard/tenants/acme/sample/token", "version": 1, "grace_until": "soon"},
     {"$secret": "/switchboard/tenants/acme/sample/token", "version": True, "updated_at": ""}],
)
def test_a_malformed_reference_is_a_config_error(vault: SecretVault, reference: dict[str, Any]) -> None:
    with pytest.raises(PluginConfigError, match="token holds a malformed secret reference"):
        vault.unseal(TENANT, PLUGIN, {"url": "x", "token": reference})


class FailingPuts(CountingSSM):
    def put_parameter(self, **kwargs: Any) -> Any:
        message = f"Value '{kwargs['Value']}' at 'value' failed to satisfy constraint"
        raise ClientError({"Error": {"Code": "ValidationException", "Message": message}}, "PutParameter")


def test_a_refused_write_never_carries_the_value(ssm: CountingSSM, clock: Clock) -> None:
    save = Saver(SecretVault(FailingPuts(ssm.client), clock=clock))
    with pytest.raises(PluginConfigError) as caught:
        save(full_config())
    assert caught.value.message == "the secret store refused config field token (ValidationException)"
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_secret_too_long_for_ssm_is_invalid_input(save: Saver) -> None:
    with pytest.raises(InvalidInput) as caught:
        save(full_config() | {"optional": "x" * 4097})
    assert caught.value.fields == [{"field": "config.optional", "message": "longer than 4096 bytes"}]


def test_reads_are_batched_ten_names_a_call(ssm: CountingSSM, clock: Clock) -> None:
    class Many(BaseModel):
        keys: list[SecretStr] = Field(max_length=25)

    vault = SecretVault(ssm, clock=clock)
    values = [f"key-{i:02d}-secret" for i in range(23)]
    sealed = vault.submit(TENANT, "many", Many, {"keys": values}, None, Many.model_validate)
    ssm.calls.clear()
    assert vault.unseal(TENANT, "many", sealed) == {"keys": values}
    assert ssm.calls == ["get_parameters"] * 3


def test_records_saved_before_the_vault_still_read_and_get_sealed(save: Saver, vault: SecretVault) -> None:
    legacy = full_config()
    assert save.unseal(legacy).token.get_secret_value() == TOKEN_A
    assert_no_secret(vault.redact(Sample, legacy))
    sealed = save(vault.redact(Sample, legacy), legacy)
    assert_no_secret(sealed)
    assert save.unseal(sealed).keys[1].get_secret_value() == KEY_2


# -- pruning and erasing -------------------------------------------------------------------------


def test_prune_deletes_what_the_new_config_no_longer_references(
    save: Saver, vault: SecretVault, ssm: CountingSSM
) -> None:
    before = save(full_config() | {"optional": "opt-secret-77"})
    after = save(full_config() | {"keys": [KEY_1]}, before, grace=timedelta(0))
    dropped = {before["optional"]["$secret"], before["keys"][1]["$secret"]}
    assert vault.prune(TENANT, PLUGIN, before, after) == 2
    assert not dropped & set(names(ssm))
    assert save.unseal(after).keys[0].get_secret_value() == KEY_1


def test_erase_removes_one_plugin_or_the_whole_tenant(ssm: CountingSSM, clock: Clock) -> None:
    vault = SecretVault(ssm, clock=clock)
    for tenant, plugin in [("acme", "sample"), ("acme", "other"), ("acme2", "sample")]:
        vault.submit(tenant, plugin, Sample, full_config(), None, Sample.model_validate)
    assert vault.erase("acme", "sample") == 4
    assert not [n for n in names(ssm) if n.startswith("/switchboard/tenants/acme/sample/")]
    assert vault.erase("acme") == 4
    assert names(ssm) == names(ssm, "/switchboard/tenants/acme2")
    assert len(names(ssm)) == 4


def test_erase_pages_through_many_parameters(ssm: CountingSSM, clock: Clock) -> None:
    class Many(BaseModel):
        keys: list[SecretStr]

    vault = SecretVault(ssm, clock=clock)
    vault.submit(TENANT, "many", Many, {"keys": [f"k-{i}-secret" for i in range(23)]}, None, Many.model_validate)
    assert vault.erase(TENANT) == 23
    assert names(ssm) == []


@pytest.mark.parametrize(("tenant", "plugin"), [("Acme", "sample"), ("acme", "../x"), ("a#b", None)])
def test_ids_are_checked_before_any_path_is_built(vault: SecretVault, tenant: str, plugin: str | None) -> None:
    with pytest.raises(InvalidInput):
        vault.erase(tenant, plugin)


# -- the real plugins ------------------------------------------------------------------------------


def whsec(seed: bytes) -> str:
    return "whsec_" + base64.b64encode(seed * 32).decode()


@pytest.fixture(scope="module")
def registry() -> Any:
    from switchboard_sdk import build_plugin_manager

    return build_plugin_manager()


def _write_only(schema: dict[str, Any]) -> bool:
    nested = [*schema.get("anyOf", []), *([schema["items"]] if "items" in schema else [])]
    return bool(schema.get("writeOnly")) or any(_write_only(s) for s in nested)


def test_every_installed_plugins_secret_fields_are_found(registry: Any) -> None:
    # cross-check against the JSON Schema pydantic emits for SecretStr (writeOnly)
    found = 0
    for name, info in registry.infos.items():
        schema = info.config_model.model_json_schema()
        write_only = {field for field, prop in schema["properties"].items() if _write_only(prop)}
        assert {slot.label for slot in secret_slots(info.config_model)} == write_only, name
        found += len(write_only)
    assert found >= 8  # twilio, web, webhook, email, wechat, hubspot, odoo, salesforce


def plugin_saver(registry: Any, vault: SecretVault, name: str) -> Any:
    model = registry.infos[name].config_model

    def save(incoming: dict[str, Any], stored: dict[str, Any] | None = None) -> dict[str, Any]:
        sealed = vault.submit(TENANT, name, model, incoming, stored, lambda raw: registry.validate_config(name, raw))
        assert_no_secret_in(sealed, incoming)
        return sealed

    return save


def assert_no_secret_in(sealed: dict[str, Any], incoming: dict[str, Any]) -> None:
    text = json.dumps(sealed)
    for value in json.dumps(incoming).split('"'):
        if value.startswith("whsec_") or value.startswith("twilio-token"):
            assert value not in text


def test_twilio_rotation_through_the_registry(registry: Any, vault: SecretVault, clock: Clock) -> None:
    save = plugin_saver(registry, vault, "twilio")
    first = save({"auth_token": "twilio-token-old", "voice_mode": "voicemail"})
    shown = vault.redact(registry.infos["twilio"].config_model, first)
    rotated = save(shown | {"auth_token": "twilio-token-new"}, first)
    config = registry.validate_config("twilio", vault.unseal(TENANT, "twilio", rotated))
    assert config.auth_tokens() == ["twilio-token-new", "twilio-token-old"]
    clock.advance(days=1)
    config = registry.validate_config("twilio", vault.unseal(TENANT, "twilio", rotated))
    assert config.auth_tokens() == ["twilio-token-new"]


def test_web_rotation_through_the_registry(registry: Any, vault: SecretVault, clock: Clock) -> None:
    from switchboard_plugins.web.verify import verify_request
    from switchboard_sdk import VerificationFailed, WebhookRequest
    from switchboard_sdk import standard_webhooks as sw

    save = plugin_saver(registry, vault, "web")
    old, new = whsec(b"o"), whsec(b"n")
    first = save({"secrets": [old], "tolerance_seconds": 300})
    rotated = save({"secrets": [new], "tolerance_seconds": 300}, first)
    body = b'{"visitor_id": "v", "client_message_id": "c", "text": "hi"}'

    def request_signed_with(secret: str) -> WebhookRequest:
        headers = sw.signed_headers(secret, "msg_1", int(clock.now.timestamp()), body)
        return WebhookRequest(tenant_id=TENANT, channel="web", method="POST", public_url="https://hub/hooks/acme/web",
                              headers=headers, query={}, body=body, received_at=clock.now)

    config = registry.validate_config("web", vault.unseal(TENANT, "web", rotated))
    verify_request(request_signed_with(old), config)  # senders not yet switched still verify
    verify_request(request_signed_with(new), config)
    clock.advance(hours=25)
    config = registry.validate_config("web", vault.unseal(TENANT, "web", rotated))
    verify_request(request_signed_with(new), config)
    with pytest.raises(VerificationFailed):
        verify_request(request_signed_with(old), config)


def test_webhook_rotation_signs_with_both_secrets(registry: Any, vault: SecretVault, clock: Clock) -> None:
    from switchboard_plugins.webhook.client import build_request
    from switchboard_sdk import standard_webhooks as sw
    from switchboard_sdk.testing import sample_event

    save = plugin_saver(registry, vault, "webhook")
    old, new = whsec(b"o"), whsec(b"n")
    first = save({"url": "https://crm.example.com/in", "secret": old})
    rotated = save({"url": "https://crm.example.com/in", "secret": new}, first)
    config = registry.validate_config("webhook", vault.unseal(TENANT, "webhook", rotated))
    headers, body = build_request(sample_event(), config, clock.now)
    for receiver_secret in (old, new):  # receivers switch over at their own pace
        assert sw.verify([receiver_secret], headers, body, now=clock.now)
    clock.advance(days=2)
    config = registry.validate_config("webhook", vault.unseal(TENANT, "webhook", rotated))
    headers, body = build_request(sample_event(), config, clock.now)
    assert headers["webhook-signature"].count("v1,") == 1
    assert sw.verify([new], headers, body, now=clock.now)
