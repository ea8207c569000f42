"""The rules API on moto, called as the edge calls it (an ApiCall): create, read, replace
and delete with every version kept and audited, 409 on a stale version, the tenant's
limit, who may do what, /v1/rules/test explaining itself, and tenants kept apart."""

from __future__ import annotations

import json
from typing import Any

import pytest
from switchboard_sdk import Conflict, Forbidden, InvalidInput, NotFound

from chalicelib.api.calls import ApiCall
from chalicelib.api.rules import RuleApi
from chalicelib.hub import Hub
from chalicelib.tenancy.tenants import TenantRecord
from chalicelib.workflow.rules.store import RuleCache, rule_stores
from tools.local.demo import DemoTenant

VIP_RULE = {
    "name": "VIP goes urgent to the VIP group", "trigger": "ticket.created",
    "conditions": {"all": [{"type": "customer_tag", "values": ["vip"]}]},
    "actions": [{"type": "set_priority", "priority": "urgent"}, {"type": "assign_group", "group_id": "grp_vip"},
                {"type": "send_template", "code": "vip_hello"}],
}
REFUND_RULE = {
    "name": "Refunds to billing", "trigger": "ticket.created",
    "conditions": {"all": [{"type": "text", "keywords": ["refund", "退款"]}]},
    "actions": [{"type": "set_category", "category": "billing"}],
}


@pytest.fixture
def api(hub: Hub) -> RuleApi:
    return RuleApi(hub.access, rule_stores(hub.aws.dynamodb, hub.settings.table_name), hub.audit, hub.clock)


def call(key: str, body: Any = None, **query: str) -> ApiCall:
    return ApiCall(authorization=f"Bearer {key}", body=json.dumps(body).encode() if body is not None else b"",
                   query=query)


def test_create_read_replace_delete_with_every_version_kept(api: RuleApi, demo: DemoTenant) -> None:
    key = demo.api_key
    created = api.create_rule(call(key, VIP_RULE))
    assert (created.version, created.position, created.updated_by) == (1, 10, created.updated_by)
    assert created.id.startswith("rul_")
    second = api.create_rule(call(key, REFUND_RULE | {"position": 5}))
    assert [r.id for r in api.list_rules(call(key)).rules] == [second.id, created.id], "in position order"
    assert api.get_rule(call(key), created.id) == created
    changed = api.update_rule(call(key, VIP_RULE | {"name": "VIP", "version": 1}), created.id)
    assert (changed.version, changed.name, changed.position) == (2, "VIP", 10)
    deleted = api.delete_rule(call(key, version="2"), created.id)
    assert (deleted.deleted, deleted.rule.version) == (True, 3)
    with pytest.raises(NotFound):
        api.get_rule(call(key), created.id)
    assert [r.id for r in api.list_rules(call(key)).rules] == [second.id]
    versions = api.rule_versions(call(key), created.id).versions
    assert [(v.rule.version, v.rule.name, v.deleted) for v in versions] == [
        (3, "VIP", True), (2, "VIP", False), (1, VIP_RULE["name"], False)]
    with pytest.raises(NotFound):
        api.rule_versions(call(key), "rul_nothing")


def test_a_stale_version_is_a_conflict_and_changes_nothing(api: RuleApi, demo: DemoTenant) -> None:
    rule = api.create_rule(call(demo.api_key, VIP_RULE))
    api.update_rule(call(demo.api_key, VIP_RULE | {"name": "first", "version": 1}), rule.id)
    with pytest.raises(Conflict):
        api.update_rule(call(demo.api_key, VIP_RULE | {"name": "second", "version": 1}), rule.id)
    with pytest.raises(Conflict):
        api.delete_rule(call(demo.api_key, version="1"), rule.id)
    assert api.get_rule(call(demo.api_key), rule.id).name == "first"


def test_a_race_lost_between_read_and_write_is_a_conflict(hub: Hub, api: RuleApi, demo: DemoTenant) -> None:
    rule = api.create_rule(call(demo.api_key, VIP_RULE))
    store = rule_stores(hub.aws.dynamodb, hub.settings.table_name)("demo")
    moved = rule.model_copy(update={"version": 2, "name": "meanwhile"})
    entry = hub.audit.entry("demo", api_actor(), "rule.update", f"rule/{rule.id}")[1]
    store.update(rule, moved, entry)
    again = rule.model_copy(update={"version": 2, "name": "late"})
    entry = hub.audit.entry("demo", api_actor(), "rule.update", f"rule/{rule.id}")[1]
    with pytest.raises(Conflict):
        store.update(rule, again, entry)
    assert store.rule(rule.id) == moved


def api_actor() -> Any:
    from chalicelib.tenancy.audit import Actor

    return Actor(key_id="test")


def test_every_change_is_audited_with_it(hub: Hub, api: RuleApi, demo: DemoTenant) -> None:
    rule = api.create_rule(call(demo.api_key, VIP_RULE))
    api.update_rule(call(demo.api_key, VIP_RULE | {"enabled": False, "version": 1}), rule.id)
    api.delete_rule(call(demo.api_key), rule.id)
    records = [r for r in hub.audit.list("demo").records if r.action.startswith("rule.")]
    assert [r.action for r in reversed(records)] == ["rule.create", "rule.update", "rule.delete"]
    assert {r.target for r in records} == {f"rule/{rule.id}"}
    create, update, delete = reversed(records)
    assert (create.before, create.after and create.after["version"]) == (None, 1)
    assert (update.before or {}).get("enabled") is True
    assert (update.after or {}).get("enabled") is False
    assert (delete.before or {}).get("version") == 2
    assert delete.after is None


def test_invalid_rules_are_422_with_fields(api: RuleApi, demo: DemoTenant) -> None:
    bad = VIP_RULE | {"conditions": {"all": [{"type": "text", "regex": "(a+)+$"}]}}
    with pytest.raises(InvalidInput) as raised:
        api.create_rule(call(demo.api_key, bad))
    assert any(f["field"].startswith("conditions.all.0") for f in raised.value.fields)
    assert api.list_rules(call(demo.api_key)).rules == []


def test_a_rule_naming_what_the_tenant_has_not_got_is_422_and_not_saved(hub: Hub, demo: DemoTenant) -> None:
    api, key = hub.rules_api, demo.api_key
    naming = {"name": "Route", "trigger": "ticket.created", "actions": [
        {"type": "set_priority", "priority": "high"}, {"type": "assign_group", "group_id": "grp_nowhere"},
        {"type": "assign_agent", "agent_id": "nobody"}, {"type": "apply_sla_policy", "policy_id": "sla_nothing"},
        {"type": "send_template", "code": "no_such_words"}]}
    with pytest.raises(InvalidInput) as refused:
        api.create_rule(call(key, naming))
    assert [d["field"] for d in refused.value.fields] == [
        "actions.1.group_id", "actions.2.agent_id", "actions.3.policy_id", "actions.4.code"]
    assert api.list_rules(call(key)).rules == []
    group = hub.agents_api.create_group(call(key, {"name": "VIP"}))
    policy = hub.sla_api.create_policy(call(key, {"name": "VIP", "targets": {"high": {"first_response_minutes": 30}}}))
    hub.templates_api.create_template(call(key, {"code": "vip_hello", "title": "Hello", "texts": {"en": "Hello!"}}))
    fixed = [naming["actions"][0], {"type": "assign_group", "group_id": group.id},
             {"type": "apply_sla_policy", "policy_id": policy.id}, {"type": "send_template", "code": "vip_hello"}]
    created = api.create_rule(call(key, naming | {"actions": fixed}))
    with pytest.raises(InvalidInput):  # a replace is checked too
        api.update_rule(call(key, naming | {"version": 1}), created.id)
    assert api.get_rule(call(key), created.id).version == 1


def test_a_tenant_has_at_most_its_limit_of_rules(hub: Hub, api: RuleApi, demo: DemoTenant,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("chalicelib.workflow.rules.store.MAX_RULES", 2)
    first = api.create_rule(call(demo.api_key, VIP_RULE))
    api.create_rule(call(demo.api_key, VIP_RULE))
    with pytest.raises(Conflict, match="at most 2"):
        api.create_rule(call(demo.api_key, VIP_RULE))
    api.delete_rule(call(demo.api_key), first.id)
    api.create_rule(call(demo.api_key, VIP_RULE))  # room again
    assert len(api.list_rules(call(demo.api_key)).rules) == 2


def test_who_may_do_what(hub: Hub, api: RuleApi, demo: DemoTenant) -> None:
    reader = hub.api_keys.create("demo", ["read-only"], name="reader")[1]
    rule = api.create_rule(call(demo.api_key, VIP_RULE))
    assert api.list_rules(call(reader)).rules == [rule]
    with pytest.raises(Forbidden):
        api.create_rule(call(reader, VIP_RULE))
    with pytest.raises(Forbidden):
        api.delete_rule(call(reader), rule.id)
    with pytest.raises(Forbidden):
        api.test_rules(call(reader, {"trigger": "ticket.created"}))


def test_a_supervisor_may_test_rules_but_not_change_them(hub: Hub, api: RuleApi, demo: DemoTenant) -> None:
    from tests.agents_support import signed_in

    supervisor = signed_in(hub, "demo", role="supervisor").id_token
    api.create_rule(call(demo.api_key, VIP_RULE))
    assert api.test_rules(call(supervisor, {"trigger": "ticket.created"})).not_fired
    with pytest.raises(Forbidden):
        api.create_rule(call(supervisor, VIP_RULE))


def test_another_tenant_sees_none_of_them(hub: Hub, api: RuleApi, demo: DemoTenant) -> None:
    hub.tenants.put(TenantRecord(id="other", name="Other", created_at=hub.clock().isoformat()))
    other = hub.api_keys.create("other", ["tenant-admin"])[1]
    rule = api.create_rule(call(demo.api_key, VIP_RULE))
    assert api.list_rules(call(other)).rules == []
    for attempt in (lambda: api.get_rule(call(other), rule.id), lambda: api.rule_versions(call(other), rule.id),
                    lambda: api.delete_rule(call(other), rule.id),
                    lambda: api.update_rule(call(other, VIP_RULE | {"version": 1}), rule.id)):
        with pytest.raises(NotFound):
            attempt()
    assert api.test_rules(call(other, {"trigger": "ticket.created"})).not_fired == []
    assert api.get_rule(call(demo.api_key), rule.id) == rule


def test_the_test_route_explains_what_would_fire_and_why_not(api: RuleApi, demo: DemoTenant) -> None:
    vip = api.create_rule(call(demo.api_key, VIP_RULE))
    refund = api.create_rule(call(demo.api_key, REFUND_RULE))
    api.create_rule(call(demo.api_key, REFUND_RULE | {"trigger": "message.created"}))
    sample = {"trigger": "ticket.created", "ticket": {"channel": "wechat", "subject": "order"},
              "customer": {"tags": ["vip"]}, "message": {"text": "where is my parcel"}}
    result = api.test_rules(call(demo.api_key, sample))
    assert [r.rule_id for r in result.fired] == [vip.id]
    assert result.patch == {"priority": "urgent", "group_id": "grp_vip"}
    assert [e.action.type for e in result.side_effects] == ["send_template"]
    assert (result.ticket.priority, result.ticket.channel) == ("urgent", "wechat")
    assert result.chain == [vip.id]
    [missed] = result.not_fired
    assert (missed.rule_id, missed.reason, missed.group, missed.index) == (refund.id, "conditions", "all", 0)
    assert missed.condition is not None
    assert missed.condition.type == "text"


def test_the_test_route_runs_unsaved_rules(api: RuleApi, demo: DemoTenant) -> None:
    api.create_rule(call(demo.api_key, VIP_RULE))
    draft = REFUND_RULE | {"conditions": {"all": [{"type": "text", "keywords": ["refund"]},
                                                  {"type": "within_business_hours", "value": False}]}}
    sample = {"trigger": "ticket.created", "message": {"text": "Refund please"}, "within_business_hours": False,
              "rules": [draft]}
    result = api.test_rules(call(demo.api_key, sample))
    assert [(r.rule_id, r.name) for r in result.fired] == [("draft-1", "Refunds to billing")]
    assert result.patch == {"category": "billing"}
    closed = api.test_rules(call(demo.api_key, sample | {"within_business_hours": True}))
    assert closed.fired == []
    with pytest.raises(InvalidInput):
        api.test_rules(call(demo.api_key, sample | {"rules": [{"name": "x"}]}))
    with pytest.raises(InvalidInput):
        api.test_rules(call(demo.api_key, {"trigger": "ticket.created", "ticket": {"status": "lost"}}))


def test_the_cache_serves_for_thirty_seconds_then_reads_again() -> None:
    now = [100.0]
    reads: list[str] = []

    def load(tenant_id: str) -> list[Any]:
        reads.append(tenant_id)
        return []

    cache = RuleCache(load, monotonic=lambda: now[0])
    cache.rules("demo")
    now[0] += 29.9
    cache.rules("demo")
    assert reads == ["demo"]
    now[0] += 0.2
    cache.rules("demo")
    cache.rules("other")
    cache.forget("demo")
    cache.rules("demo")
    assert reads == ["demo", "demo", "other", "demo"]
