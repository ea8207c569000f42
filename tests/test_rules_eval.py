"""Rules in isolation: every condition and action kind, the order rules run in and what
each sees, the loop guard and the chain limit, the regex guard, and the rules that
validation refuses."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from switchboard_sdk import Customer, Message, SlaTarget, Ticket

from chalicelib.workflow.changes import MAX_RULE_CHAIN, ChangeActor, FieldChange, apply_patch
from chalicelib.workflow.rules.conditions import MAX_SCANNED, compile_pattern, keyword_pattern, repeat_cost
from chalicelib.workflow.rules.evaluate import RuleContext, RuleRun, evaluate
from chalicelib.workflow.rules.models import Rule, RuleBody

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def ticket(**fields: Any) -> Ticket:
    return Ticket.model_validate({"id": "tkt_1", "tenant_id": "demo", "customer_id": "cus_1", "channel": "web",
                                  "created_at": NOW - timedelta(hours=1), "last_activity_at": NOW} | fields)


def customer(**fields: Any) -> Customer:
    return Customer.model_validate({"id": "cus_1", "tenant_id": "demo", "identities": [],
                                    "created_at": NOW} | fields)


def message(text: str) -> Message:
    return Message(id="m1", tenant_id="demo", ticket_id="tkt_1", customer_id="cus_1", channel="web",
                   provider_message_id="p1", text=text, received_at=NOW)


def rule(conditions: list[dict[str, Any]] | None = None, actions: list[dict[str, Any]] | None = None, *,
         id: str = "r1", position: int = 1, trigger: str = "ticket.created", any_of: list[dict[str, Any]] | None = None,
         **extra: Any) -> Rule:
    return Rule.model_validate({
        "id": id, "name": f"rule {id}", "position": position, "trigger": trigger, "version": 1,
        "updated_at": NOW, "updated_by": "test",
        "conditions": {"all": conditions or [], "any": any_of or []},
        "actions": actions or [{"type": "add_tags", "tags": ["fired"]}]} | extra)


def run(rules: list[Rule], *, trigger: str = "ticket.created", **context: Any) -> RuleRun:
    context.setdefault("ticket", ticket())
    return evaluate(rules, RuleContext(trigger=trigger, now=NOW, **context), explain=True)  # type: ignore[arg-type]


def fires(condition: dict[str, Any], *, trigger: str = "ticket.created", **context: Any) -> bool:
    return bool(run([rule([condition], trigger=trigger)], trigger=trigger, **context).matched)


# -- conditions ------------------------------------------------------------------------


def test_channel() -> None:
    assert fires({"type": "channel", "values": ["web", "sms"]})
    assert not fires({"type": "channel", "values": ["wechat"]})


@pytest.mark.parametrize(("match", "tags", "expected"), [
    ("any", ["vip", "new"], True), ("any", ["new"], False), ("all", ["vip", "risk"], True),
    ("all", ["vip", "other"], False), ("none", ["other"], True), ("none", ["VIP"], False),
])
def test_customer_tags(match: str, tags: list[str], expected: bool) -> None:
    who = customer(tags=["vip", "risk"])
    assert fires({"type": "customer_tag", "match": match, "values": tags}, customer=who) is expected


def test_customer_tags_without_a_customer_are_none() -> None:
    assert not fires({"type": "customer_tag", "values": ["vip"]})
    assert fires({"type": "customer_tag", "match": "none", "values": ["vip"]})


@pytest.mark.parametrize(("condition", "expected"), [
    ({"op": "equals", "values": ["gold"]}, True), ({"op": "equals", "values": ["silver"]}, False),
    ({"op": "in", "values": ["silver", "gold"]}, True), ({"op": "exists"}, True),
    ({"op": "missing"}, False),
])
def test_customer_attribute(condition: dict[str, Any], expected: bool) -> None:
    who = customer(attributes={"tier": "gold"})
    assert fires({"type": "customer_attribute", "key": "tier"} | condition, customer=who) is expected
    assert fires({"type": "customer_attribute", "key": "other", "op": "missing"}, customer=who)


@pytest.mark.parametrize(("condition", "text", "expected"), [
    ({"keywords": ["refund"]}, "I want a REFUND now", True),
    ({"keywords": ["refund"]}, "refunds are late", False),  # whole words by default
    ({"keywords": ["refund"], "match": "substring"}, "refunds are late", True),
    ({"keywords": ["退款"]}, "我要退款谢谢", True),  # CJK: no spaces between words
    ({"keywords": ["order #"]}, "my order #12", True),
    ({"regex": r"order\s{0,3}#?\d{4,12}"}, "Order #123456 is late", True),
    ({"regex": r"order\s{0,3}#?\d{4,12}", "case_sensitive": True}, "Order #123456", False),
    ({"regex": r"^urgent"}, "not urgent", False),
])
def test_text(condition: dict[str, Any], text: str, expected: bool) -> None:
    assert fires({"type": "text"} | condition, message=message(text)) is expected


def test_text_looks_at_the_subject_and_the_fields_chosen() -> None:
    condition = {"type": "text", "keywords": ["invoice"]}
    assert fires(condition, ticket=ticket(subject="Invoice missing"))
    assert not fires(condition | {"fields": ["message"]}, ticket=ticket(subject="Invoice missing"),
                     message=message("hello"))


def test_text_scans_only_the_first_characters() -> None:
    late = "x " * MAX_SCANNED + "refund"
    assert not fires({"type": "text", "keywords": ["refund"]}, message=message(late))


def test_language_matches_the_primary_subtag() -> None:
    assert fires({"type": "language", "values": ["zh"]}, ticket=ticket(language="zh-CN"))
    assert not fires({"type": "language", "values": ["zh"]}, ticket=ticket(language="zu"))
    assert not fires({"type": "language", "values": ["en"]})


def test_category() -> None:
    assert fires({"type": "category", "empty": True})
    assert not fires({"type": "category", "empty": True}, ticket=ticket(category="billing"))
    assert fires({"type": "category", "values": ["billing"]}, ticket=ticket(category="billing"))


@pytest.mark.parametrize(("kind", "value", "values"), [("priority", "urgent", ["urgent", "high"]),
                                                        ("status", "pending", ["pending", "on_hold"])])
def test_priority_and_status_in_and_not_in(kind: str, value: str, values: list[str]) -> None:
    subject = ticket(**{kind: value})
    assert fires({"type": kind, "values": values}, ticket=subject)
    assert not fires({"type": kind, "op": "not_in", "values": values}, ticket=subject)
    assert fires({"type": kind, "op": "not_in", "values": values})  # normal / new


def test_business_hours_ask_the_calendar_with_the_run_time() -> None:
    asked: list[datetime] = []

    def is_open(at: datetime) -> bool:
        asked.append(at)
        return False

    assert fires({"type": "within_business_hours", "value": False}, is_open=is_open)
    assert not fires({"type": "within_business_hours"}, is_open=is_open)
    assert asked == [NOW, NOW]
    assert fires({"type": "within_business_hours"}), "no calendar: open around the clock"


def test_sla_state() -> None:
    target = SlaTarget(metric="first_response", policy_id="p", state="warning", started_at=NOW, target_minutes=30)
    late = ticket(sla=[target])
    assert fires({"type": "sla_state", "metric": "first_response", "states": ["warning", "breached"]}, ticket=late)
    assert not fires({"type": "sla_state", "metric": "resolution", "states": ["warning"]}, ticket=late)
    assert fires({"type": "sla_state", "states": ["warning"]}, ticket=late)
    assert not fires({"type": "sla_state", "states": ["warning"]})


def test_ticket_tags() -> None:
    tagged = ticket(tags=["billing", "vip"])
    assert fires({"type": "ticket_tag", "values": ["vip"]}, ticket=tagged)
    assert not fires({"type": "ticket_tag", "match": "none", "values": ["vip"]}, ticket=tagged)
    assert fires({"type": "ticket_tag", "match": "all", "values": ["vip", "billing"]}, ticket=tagged)


def test_changed_and_actor_look_at_the_change_that_started_the_run() -> None:
    changes = [FieldChange(field="status", before="open", after="solved"),
               FieldChange(field="tags", before=["a"], after=["a", "refund"])]
    agent = ChangeActor(kind="agent", id="ag_1")
    context = {"trigger": "ticket.updated", "changes": changes, "actor": agent}
    assert fires({"type": "changed", "fields": ["status"]}, **context)
    assert fires({"type": "changed", "fields": ["status"], "to": "solved"}, **context)
    assert not fires({"type": "changed", "fields": ["status"], "to": "closed"}, **context)
    assert fires({"type": "changed", "fields": ["tags"], "to": "refund"}, **context)
    assert not fires({"type": "changed", "fields": ["tags"], "to": "a"}, **context)
    assert not fires({"type": "changed", "fields": ["priority"]}, **context)
    assert fires({"type": "actor", "kinds": ["agent"]}, **context)
    assert not fires({"type": "actor", "kinds": ["customer", "rule"]}, **context)


def test_any_needs_one_and_all_needs_every_one() -> None:
    vip = {"type": "customer_tag", "values": ["vip"]}
    sms = {"type": "channel", "values": ["sms"]}
    who = customer(tags=["vip"])
    assert run([rule(any_of=[vip, sms])], customer=who).matched
    assert not run([rule([vip, sms])], customer=who).matched
    missed = run([rule([vip], any_of=[sms])], customer=who).missed[0]
    assert (missed.reason, missed.group) == ("conditions", "any")


def test_a_miss_names_the_first_failing_condition() -> None:
    missed = run([rule([{"type": "channel", "values": ["web"]}, {"type": "priority", "values": ["low"]}])]).missed
    assert [(m.reason, m.group, m.index, m.condition.type if m.condition else None) for m in missed] == [
        ("conditions", "all", 1, "priority")]


# -- time rules ------------------------------------------------------------------------


@pytest.mark.parametrize(("since", "context", "due"), [
    ("created", {}, False),  # created an hour ago, rule wants 2
    ("created", {"ticket": ticket(created_at=NOW - timedelta(hours=3))}, True),
    ("updated", {"updated_at": NOW - timedelta(hours=2)}, True),
    ("updated", {}, False),  # last activity: now
    ("status_changed", {"status_changed_at": NOW - timedelta(hours=2, seconds=1)}, True),
    ("awaiting_since", {}, False),  # not awaiting anyone
    ("awaiting_since", {"ticket": ticket(awaiting_since=NOW - timedelta(hours=5))}, True),
])
def test_time_rules_fire_hours_after_their_moment(since: str, context: dict[str, Any], due: bool) -> None:
    timed = rule(trigger="time", hours_since=2, since=since)
    result = run([timed], trigger="time", **context)
    assert bool(result.matched) is due
    assert due or result.missed[0].reason == "too_early"


# -- actions ---------------------------------------------------------------------------


def test_every_action_kind() -> None:
    actions = [
        {"type": "set_priority", "priority": "urgent"}, {"type": "set_status", "status": "open"},
        {"type": "set_category", "category": "billing"}, {"type": "add_tags", "tags": ["VIP", "refund"]},
        {"type": "remove_tags", "tags": ["old"]}, {"type": "assign_group", "group_id": "grp_vip"},
        {"type": "assign_agent", "agent_id": "ag_1"}, {"type": "apply_sla_policy", "policy_id": "vip"},
        {"type": "send_template", "code": "greet"}, {"type": "add_note", "text": "VIP customer"},
        {"type": "notify_connector", "connector": "hubspot"},
        {"type": "set_customer_tags", "add": ["complained"], "remove": ["happy"]},
        {"type": "set_customer_attribute", "key": "tier", "value": "gold"},
    ]
    result = run([rule(actions=actions)], ticket=ticket(tags=["old", "x"]), customer=customer(tags=["happy"]))
    after = result.ticket
    assert (after.priority, after.status, after.category, after.group_id, after.assignee_id) == (
        "urgent", "open", "billing", "grp_vip", "ag_1")
    assert after.tags == ["x", "vip", "refund"]
    assert apply_patch(ticket(tags=["old", "x"]), result.patch)[0] == after
    assert [e.action.type for e in result.side_effects] == [
        "apply_sla_policy", "send_template", "add_note", "notify_connector", "set_customer_tags",
        "set_customer_attribute"]
    assert {e.rule_id for e in result.side_effects} == {"r1"}
    assert result.customer is not None
    assert (result.customer.tags, result.customer.attributes) == (["complained"], {"tier": "gold"})


def test_set_category_null_clears_it() -> None:
    result = run([rule(actions=[{"type": "set_category", "category": None}])], ticket=ticket(category="x"))
    assert result.ticket.category is None
    assert result.patch.model_dump(exclude_unset=True)["category"] is None


# -- order, sequence, loop guard -------------------------------------------------------


def test_rules_run_in_position_order_and_each_sees_the_ticket_as_the_ones_before_left_it() -> None:
    urgent_to_vip = rule([{"type": "priority", "values": ["urgent"]}],
                         [{"type": "assign_group", "group_id": "grp_vip"}], id="b", position=20)
    vip_is_urgent = rule([{"type": "customer_tag", "values": ["vip"]}],
                         [{"type": "set_priority", "priority": "urgent"}], id="a", position=10)
    result = run([urgent_to_vip, vip_is_urgent], customer=customer(tags=["vip"]))
    assert [m.rule_id for m in result.matched] == ["a", "b"]
    assert result.patch.model_dump(exclude_unset=True) == {"priority": "urgent", "group_id": "grp_vip"}
    assert result.chain == ("a", "b")
    reversed_order = run([urgent_to_vip.model_copy(update={"position": 1}), vip_is_urgent],
                         customer=customer(tags=["vip"]))
    assert [m.rule_id for m in reversed_order.matched] == ["a"], "b ran first, before priority was urgent"


def test_a_customer_change_is_seen_by_later_rules() -> None:
    tag = rule(actions=[{"type": "set_customer_tags", "add": ["vip"]}], id="a", position=1)
    seen = rule([{"type": "customer_tag", "values": ["vip"]}], id="b", position=2)
    assert [m.rule_id for m in run([tag, seen], customer=customer()).matched] == ["a", "b"]


def test_tags_removed_then_added_again_stay() -> None:
    remove = rule(actions=[{"type": "remove_tags", "tags": ["x"]}], id="a", position=1)
    add = rule(actions=[{"type": "add_tags", "tags": ["x"]}], id="b", position=2)
    result = run([remove, add], ticket=ticket(tags=["x"]))
    assert apply_patch(ticket(tags=["x"]), result.patch)[0].tags == ["x"]


def test_other_triggers_are_not_run_and_disabled_rules_are_named() -> None:
    result = run([rule(id="a", trigger="message.created"), rule(id="b", enabled=False)])
    assert result.matched == []
    assert [(m.rule_id, m.reason) for m in result.missed] == [("b", "disabled")]


def test_a_rule_does_not_fire_on_its_own_change() -> None:
    on_change = rule([{"type": "changed", "fields": ["priority"]}], [{"type": "set_priority", "priority": "high"}],
                     id="a", trigger="ticket.updated")
    other = rule([{"type": "changed", "fields": ["priority"]}], id="b", trigger="ticket.updated", position=2)
    first = run([on_change, other], trigger="ticket.updated", changes=[FieldChange(field="priority", after="low")],
                actor=ChangeActor(kind="agent", id="ag"))
    assert [m.rule_id for m in first.matched] == ["a", "b"]
    again = run([on_change, other], trigger="ticket.updated", changes=[FieldChange(field="priority", after="high")],
                actor=first.actor())
    assert again.matched == []
    assert {m.rule_id: m.reason for m in again.missed} == {"a": "loop_guard", "b": "loop_guard"}
    assert first.actor().kind == "rule"
    assert first.actor().rule_chain == ("a", "b")


def test_a_chain_stops_at_its_limit() -> None:
    chained = ChangeActor(kind="rule", rule_chain=tuple(f"x{n}" for n in range(MAX_RULE_CHAIN)))
    result = run([rule(trigger="ticket.updated")], trigger="ticket.updated", actor=chained)
    assert [m.reason for m in result.missed] == ["chain_limit"]
    almost = ChangeActor(kind="rule", rule_chain=tuple(f"x{n}" for n in range(MAX_RULE_CHAIN - 1)))
    two = [rule(id="a", trigger="ticket.updated"), rule(id="b", trigger="ticket.updated", position=2)]
    result = run(two, trigger="ticket.updated", actor=almost)
    assert [m.rule_id for m in result.matched] == ["a"]
    assert len(result.chain) == MAX_RULE_CHAIN
    assert [(m.rule_id, m.reason) for m in result.missed] == [("b", "chain_limit")]


# -- regex guard -----------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [r"a+b", r"a*", r"\d{2,}", r"(a{1,5}){1,9}", r"(?:x?){2,3}", r"(a)\1",
                                     r"(?P<n>a)(?P=n)", r"[a-z]{1,50}\s{0,5}\d{1,10}", "(", "a" * 501])
def test_dangerous_or_broken_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        compile_pattern(pattern)
    with pytest.raises(ValidationError):
        rule([{"type": "text", "regex": pattern}])


@pytest.mark.parametrize(("pattern", "cost"), [
    (r"refund", 1), (r"\d{1,20}", 21), (r"(?:ab|a){1,30}c", 62), (r"(https?://){0,1}x", 4),
    (r"[+*?{]\{x}", 1), (r"a{3}", 4), (r"[]a]{0,9}", 10),
])
def test_bounded_patterns_are_accepted_with_their_cost(pattern: str, cost: int) -> None:
    compile_pattern(pattern)
    assert repeat_cost(pattern) == cost


def test_an_accepted_pattern_stays_fast_on_hostile_text() -> None:
    condition = {"type": "text", "regex": r"\w{1,30}\d{1,30}z"}  # the worst shape the budget admits
    started = time.perf_counter()
    assert not fires(condition, message=message("1" * 100_000))
    assert time.perf_counter() - started < 2.0


def test_keywords_are_literals() -> None:
    assert keyword_pattern(["a.b", "(x"], whole_words=True).search("(x here")
    assert not keyword_pattern(["a.b"], whole_words=True).search("axb")


# -- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "complaint"), [
    ({"actions": []}, "actions"),
    ({"trigger": "time"}, "hours_since"),
    ({"trigger": "time", "hours_since": 0, "since": "created"}, "hours_since"),
    ({"hours_since": 2, "since": "created"}, "time trigger"),
    ({"conditions": {"all": [{"type": "changed", "fields": ["status"]}]}}, "ticket.updated"),
    ({"conditions": {"all": [{"type": "nope"}]}}, "nope"),
    ({"conditions": {"all": [{"type": "text"}]}}, "keywords or regex"),
    ({"conditions": {"all": [{"type": "category"}]}}, "empty"),
    ({"conditions": {"all": [{"type": "customer_attribute", "key": "k", "op": "equals"}]}}, "values"),
    ({"actions": [{"type": "set_status", "status": "merged"}]}, "status"),
    ({"actions": [{"type": "add_tags", "tags": ["no spaces"]}]}, "tags"),
    ({"actions": [{"type": "set_customer_tags"}]}, "add or remove"),
    ({"surprise": 1}, "surprise"),
])
def test_invalid_rules_are_refused(body: dict[str, Any], complaint: str) -> None:
    valid = {"name": "r", "trigger": "ticket.created", "actions": [{"type": "add_note", "text": "n"}]}
    with pytest.raises(ValidationError, match=complaint):
        RuleBody.model_validate(valid | body)


def test_fifty_rules_evaluate_in_well_under_a_millisecond_each() -> None:
    rules = [rule([{"type": "channel", "values": ["web"]}, {"type": "text", "keywords": [f"word{n}", "refund"]},
                   {"type": "customer_tag", "values": ["vip"]}], id=f"r{n}", position=n) for n in range(50)]
    context = RuleContext(ticket=ticket(), trigger="ticket.created", now=NOW, customer=customer(tags=["x"]),
                          message=message("Hello, where is my order? " * 20))
    evaluate(rules, context)
    started = time.perf_counter()
    for _ in range(20):
        evaluate(rules, context)
    assert (time.perf_counter() - started) / 20 < 0.05
