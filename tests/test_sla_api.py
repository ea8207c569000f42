"""SLA policies and calendars through the API class (chalicelib/api/sla.py) on moto:
create, list, read, replace with optimistic concurrency, delete; audit records
written with each change; validation; scopes; tenant isolation."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from switchboard_sdk import BadPayload, Conflict, Forbidden, InvalidInput, NotFound

from chalicelib.api.access import ApiCall
from chalicelib.api.sla import SlaApi
from chalicelib.hub import Hub
from chalicelib.workflow.sla_store import WorkflowConfigCache, WorkflowConfigStore
from tests.agents_support import signed_in
from tests.helpers import put_webhook_tenant
from tools.local.demo import DemoTenant

OFFICE = {"name": "Office", "time_zone": "Asia/Shanghai",
          "week": {d: [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]
                   for d in ("mon", "tue", "wed", "thu", "fri")},
          "holidays": ["2025-10-01"]}


def standard(calendar_id: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Standard", "position": 10,
                            "conditions": {"channels": ["wechat"], "customer_tags": ["vip"]},
                            "targets": {"urgent": {"first_response_minutes": 30, "resolution_minutes": 240}}}
    if calendar_id:
        body |= {"business_hours": True, "calendar_id": calendar_id}
    return body | extra


@pytest.fixture
def api(hub: Hub) -> SlaApi:
    return SlaApi(hub.access, WorkflowConfigStore(hub.aws.dynamodb, hub.settings.table_name).of, hub.audit,
                  hub.clock)


def call(key: str, body: dict[str, Any] | None = None, **query: str) -> ApiCall:
    return ApiCall(authorization=f"Bearer {key}", body=json.dumps(body).encode() if body is not None else b"",
                   query=query)


def test_policies_are_created_listed_read_replaced_and_deleted(api: SlaApi, hub: Hub, demo: DemoTenant) -> None:
    key = demo.api_key
    calendar = api.create_calendar(call(key, OFFICE))
    created = api.create_policy(call(key, standard(calendar.id)))
    assert created.id.startswith("sla_")
    assert (created.version, created.business_hours, created.calendar_id) == (1, True, calendar.id)
    first = api.create_policy(call(key, standard(name="First", position=1)))
    assert [p.id for p in api.list_policies(call(key)).policies] == [first.id, created.id]
    assert api.get_policy(call(key), created.id) == created

    replaced = api.update_policy(call(key, standard(name="Renamed", position=0) | {"version": 1}), created.id)
    assert (replaced.version, replaced.name, replaced.business_hours, replaced.created_at) == (
        2, "Renamed", False, created.created_at)
    assert [p.id for p in api.list_policies(call(key)).policies] == [created.id, first.id]

    deleted = api.delete_policy(call(key, version="2"), created.id)
    assert deleted == replaced
    with pytest.raises(NotFound):
        api.get_policy(call(key), created.id)
    actions = [r.action for r in hub.audit.list("demo").records]
    assert actions[:5] == ["sla_policy.delete", "sla_policy.update", "sla_policy.create", "sla_policy.create",
                           "calendar.create"]
    update = hub.audit.list("demo", action="sla_policy.update").records[0]
    assert update.target == f"sla-policy/{created.id}"
    assert (update.before or {})["name"] == "Standard"
    assert (update.after or {})["name"] == "Renamed"


def test_a_stale_version_is_a_conflict(api: SlaApi, hub: Hub, demo: DemoTenant) -> None:
    key = demo.api_key
    policy = api.create_policy(call(key, standard()))
    api.update_policy(call(key, standard(name="One") | {"version": 1}), policy.id)
    with pytest.raises(Conflict, match="version 1"):
        api.update_policy(call(key, standard(name="Two") | {"version": 1}), policy.id)
    with pytest.raises(Conflict):
        api.delete_policy(call(key, version="1"), policy.id)
    assert api.get_policy(call(key), policy.id).name == "One"
    assert len(hub.audit.list("demo", action="sla_policy.update").records) == 1  # no record for the refusal


def test_the_store_refuses_a_lost_race(api: SlaApi, hub: Hub, demo: DemoTenant) -> None:
    """Two admins read version 1; the second write's condition fails (and writes no audit record)."""
    key = demo.api_key
    policy = api.create_policy(call(key, standard()))
    store = WorkflowConfigStore(hub.aws.dynamodb, hub.settings.table_name).of("demo")
    later = policy.model_copy(update={"name": "Later", "version": 2})
    entry = hub.audit.entry("demo", hub.access.tenant(call(key)).actor, "sla_policy.update", "x")[1]
    store.put_policy(later, entry, expected_version=1)
    entry = hub.audit.entry("demo", hub.access.tenant(call(key)).actor, "sla_policy.update", "x")[1]
    with pytest.raises(Conflict, match="changed meanwhile"):
        store.put_policy(later.model_copy(update={"name": "Lost"}), entry, expected_version=1)
    assert api.get_policy(call(key), policy.id).name == "Later"
    assert len(hub.audit.list("demo", action="sla_policy.update").records) == 1


def test_calendars_are_created_replaced_and_deleted_when_unused(api: SlaApi, hub: Hub, demo: DemoTenant) -> None:
    key = demo.api_key
    calendar = api.create_calendar(call(key, OFFICE))
    assert calendar.id.startswith("cal_")
    assert api.list_calendars(call(key)).calendars == [calendar]
    night = OFFICE | {"name": "Night", "week": {"sat": [{"start": "22:00", "end": "06:00"}]}, "version": 1}
    replaced = api.update_calendar(call(key, night), calendar.id)
    assert (replaced.version, replaced.name, replaced.week["sat"][0].end) == (2, "Night", "06:00")
    with pytest.raises(Conflict, match="version 1"):
        api.update_calendar(call(key, night), calendar.id)
    policy = api.create_policy(call(key, standard(calendar.id)))
    with pytest.raises(Conflict, match=policy.id):
        api.delete_calendar(call(key), calendar.id)
    api.delete_policy(call(key), policy.id)
    assert api.delete_calendar(call(key), calendar.id) == replaced
    assert api.list_calendars(call(key)).calendars == []
    assert hub.audit.list("demo", action="calendar.delete").records[0].target == f"calendar/{calendar.id}"


@pytest.mark.parametrize(("body", "field"), [
    (standard(targets={"urgent": {"first_response_minutes": 0}}), "targets.urgent.first_response_minutes"),
    (standard(targets={}), "targets"),
    (standard(business_hours=True), "(body)"),
    (standard(unknown=1), "unknown"),
    (standard(calendar_id="cal_missing"), "calendar_id"),
])
def test_invalid_policies_are_422_with_the_field(api: SlaApi, demo: DemoTenant, body: dict[str, Any],
                                                 field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        api.create_policy(call(demo.api_key, body))
    assert raised.value.code == "invalid_input"
    assert field in [f["field"] for f in raised.value.fields]


@pytest.mark.parametrize(("body", "field"), [
    (OFFICE | {"time_zone": "Mars/Olympus"}, "time_zone"),
    (OFFICE | {"week": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}}, "(body)"),
    (OFFICE | {"week": {"mon": [{"start": "9am", "end": "12:00"}]}}, "week.mon.0.start"),
    (OFFICE | {"holidays": [(date(2025, 1, 1) + timedelta(days=n)).isoformat() for n in range(1001)]}, "holidays"),
])
def test_invalid_calendars_are_422(api: SlaApi, hub: Hub, demo: DemoTenant, body: dict[str, Any],
                                   field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        api.create_calendar(call(demo.api_key, body))
    assert field in [f["field"] for f in raised.value.fields]


def test_a_calendar_that_never_opens_is_refused(api: SlaApi, hub: Hub, demo: DemoTenant) -> None:
    today = hub.clock().date()
    mondays = [today + timedelta(days=n) for n in range(800) if (today + timedelta(days=n)).weekday() == 0]
    body = OFFICE | {"week": {"mon": [{"start": "09:00", "end": "10:00"}]},
                     "holidays": [d.isoformat() for d in mondays]}
    with pytest.raises(InvalidInput, match="never opens"):
        api.create_calendar(call(demo.api_key, body))


def test_bad_query_and_missing_records(api: SlaApi, demo: DemoTenant) -> None:
    policy = api.create_policy(call(demo.api_key, standard()))
    with pytest.raises(BadPayload) as raised:
        api.delete_policy(call(demo.api_key, version="two"), policy.id)
    assert raised.value.code == "bad_payload"
    with pytest.raises(NotFound):
        api.update_policy(call(demo.api_key, standard() | {"version": 1}), "sla_nope")
    with pytest.raises(NotFound):
        api.get_calendar(call(demo.api_key), "cal_nope")
    with pytest.raises(InvalidInput):
        api.create_policy(call(demo.api_key, None))


def test_readers_read_and_only_admins_write(api: SlaApi, hub: Hub, demo: DemoTenant) -> None:
    policy = api.create_policy(call(demo.api_key, standard()))
    reader = hub.api_keys.create("demo", ["read-only"])[1]
    assert api.get_policy(call(reader), policy.id) == policy
    with pytest.raises(Forbidden):
        api.create_policy(call(reader, standard()))
    with pytest.raises(Forbidden):
        api.delete_policy(call(reader), policy.id)
    with pytest.raises(Forbidden):
        api.create_calendar(call(reader, OFFICE))
    agent = signed_in(hub, "demo", role="agent")
    assert [p.id for p in api.list_policies(call(agent.id_token)).policies] == [policy.id]
    with pytest.raises(Forbidden):
        api.update_policy(call(agent.id_token, standard() | {"version": 1}), policy.id)


def test_another_tenant_sees_none_of_it(api: SlaApi, hub: Hub, demo: DemoTenant) -> None:
    policy = api.create_policy(call(demo.api_key, standard()))
    calendar = api.create_calendar(call(demo.api_key, OFFICE))
    put_webhook_tenant(hub, "acme", "http://127.0.0.1:9")
    other = hub.api_keys.create("acme", ["tenant-admin"])[1]
    assert api.list_policies(call(other)).policies == []
    assert api.list_calendars(call(other)).calendars == []
    with pytest.raises(NotFound):
        api.get_policy(call(other), policy.id)
    with pytest.raises(NotFound):
        api.update_calendar(call(other, OFFICE | {"version": 1}), calendar.id)
    with pytest.raises(NotFound):
        api.delete_policy(call(other), policy.id)
    with pytest.raises(InvalidInput):  # demo's calendar is no calendar of acme's
        api.create_policy(call(other, standard(calendar.id)))
    assert api.get_policy(call(demo.api_key), policy.id) == policy


def test_the_cache_reads_a_tenant_once_per_30_seconds(api: SlaApi, hub: Hub, demo: DemoTenant) -> None:
    store = WorkflowConfigStore(hub.aws.dynamodb, hub.settings.table_name)
    reads: list[str] = []
    now = [100.0]

    def load(tenant_id: str) -> Any:
        reads.append(tenant_id)
        return store.of(tenant_id).load()

    cache = WorkflowConfigCache(load, monotonic=lambda: now[0], max_tenants=1)
    assert cache.get("demo").policies == []
    policy = api.create_policy(call(demo.api_key, standard()))
    now[0] += 29.9
    assert cache.get("demo").policies == []
    now[0] += 0.1
    snapshot = cache.get("demo")
    assert [p.id for p in snapshot.policies] == [policy.id]
    assert snapshot.calendar_of(policy) is None
    cache.get("acme")  # evicts demo (one tenant kept)
    cache.get("demo")
    cache.forget("demo")
    cache.get("demo")
    assert reads == ["demo", "demo", "acme", "demo", "demo"]
