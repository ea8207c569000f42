"""Masks never give away the whole value, and keep what an agent needs to tell customers apart."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.api.masking import (
    country_code,
    mask_customer,
    mask_email,
    mask_identity,
    mask_identity_key,
    mask_phone,
)
from chalicelib.tenancy.workflow_settings import WorkflowSettings

e164 = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)
emails = st.builds(lambda local, domain: f"{local}@{domain}",
                   st.text(st.characters(blacklist_characters="@", blacklist_categories=["Cs"]), min_size=1,
                           max_size=64),
                   st.from_regex(r"[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True))
opaque = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=80)
kinds = st.sampled_from(["email", "phone", "visitor", "wechat_openid", "wechat_unionid"])


def test_the_seeds_example() -> None:
    assert mask_phone("+8613812345678") == "+86 138****5678"
    assert mask_email("john@example.com") == "j***@example.com"
    assert mask_identity("wechat_openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o") == "oUp****S6o"


def test_short_numbers_and_ids_give_away_less() -> None:
    assert mask_phone("+14155550100") == "+1 ****0100"
    assert mask_phone("+1234567") == "+1 ****"
    assert mask_email("jo@example.com") == "***@example.com"
    assert mask_identity("visitor", "v_12345") == "v_****"
    assert mask_identity("visitor", "abc") == "****"


def test_country_codes_are_read_by_their_prefix() -> None:
    assert [country_code(d) for d in ("14155550100", "74951234567", "442071234567", "35312345678")] == [
        "1", "7", "44", "353"]


@given(e164)
def test_a_masked_phone_hides_at_least_four_digits_and_keeps_the_country_code(phone: str) -> None:
    masked = mask_phone(phone)
    assert phone not in masked
    code = country_code(phone[1:])
    assert masked.startswith(f"+{code} ")
    shown = sum(c.isdigit() for c in masked) - len(code)
    assert len(phone) - 1 - len(code) - shown >= 4
    if len(phone) - 1 - len(code) >= 8:
        assert masked.endswith(phone[-4:])


@given(emails)
def test_a_masked_email_keeps_only_its_domain_and_maybe_one_letter(email: str) -> None:
    masked = mask_identity("email", email)
    assert email not in masked
    local = email.rpartition("@")[0]
    if "*" not in local:
        assert masked.endswith("***@" + email.rpartition("@")[2])


@given(kinds, opaque)
def test_no_masked_identity_contains_the_whole_value(kind: str, value: str) -> None:
    assert value not in mask_identity(kind, value)


@given(kinds, opaque)
def test_no_masked_identity_key_contains_the_whole_value(kind: str, value: str) -> None:
    assert value not in mask_identity_key(f"{kind}:{value}").partition(":")[2]


@given(st.lists(st.tuples(kinds, opaque), max_size=5))
def test_a_masked_customer_holds_no_identity_value(identities: list[tuple[str, str]]) -> None:
    view = {"id": "cus_1", "display_name": "Li Lei", "identities": [{"kind": k, "value": v} for k, v in identities]}
    masked = mask_customer(view)
    assert masked["display_name"] == "Li Lei"
    assert [i["kind"] for i in masked["identities"]] == [k for k, _ in identities]
    for (_, value), shown in zip(identities, masked["identities"], strict=True):
        assert value not in shown["value"]


def test_the_full_view_setting_names_known_roles_once() -> None:
    assert WorkflowSettings().pii_full_view_roles == ["supervisor", "admin", "api_key"]
    assert WorkflowSettings(pii_full_view_roles=["admin"]).pii_full_view_roles == ["admin"]
    for wrong in (["admin", "admin"], ["owner"]):
        with pytest.raises(ValidationError):
            WorkflowSettings(pii_full_view_roles=wrong)
