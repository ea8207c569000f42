"""Assignment with many Lambdas at once: 8 threads assign the same 30 tickets to 3
agents of capacity 5, in different orders, and agents' drains race the assigners.
Each ticket is assigned at most once, no agent ends above its capacity, each load
item equals the tickets its agent holds, and the rest wait in the backlog.

``atomic_dynamodb`` makes moto apply each call atomically, as DynamoDB does; the
threads still race between calls (reads, then conditional transactions)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib.hub import Hub
from chalicelib.workflow.assignment import Assigner
from tests.test_assignment import T0, TENANT, Desk
from tools.local.demo import DemoTenant

AGENTS = ("agt_a", "agt_b", "agt_c")
CAPACITY = 5
TICKETS = 30
THREADS = 8


@pytest.fixture
def desk(atomic_dynamodb: None, hub: Hub, demo: DemoTenant) -> Desk:
    desk = Desk(hub)
    desk.group("billing")
    for agent_id in AGENTS:
        desk.agent(agent_id, ["billing"], capacity=CAPACITY)
    # every Lambda's clock tells a different time: the same cause at two instants is two history keys,
    # so only the ticket's own conditions can stop a second assignment
    ticks = itertools.count(1)
    desk.assigner = Assigner(hub.store, hub.agent_store, desk.service,
                             lambda: T0 + timedelta(hours=1, microseconds=next(ticks)))
    return desk


def tickets(desk: Desk) -> list[str]:
    return [desk.ticket(f"tkt_{n:02}", group="billing", customer=f"cus_{n:02}", waited=n) for n in range(TICKETS)]


def race(work: list[Callable[[], list[str]]]) -> list[list[str]]:
    with ThreadPoolExecutor(THREADS) as pool:
        return [future.result() for future in [pool.submit(job) for job in work]]


def assert_consistent(desk: Desk, ticket_ids: list[str], assigned: list[str]) -> None:
    assert len(assigned) == len(set(assigned)) == len(AGENTS) * CAPACITY  # each ticket at most once, all room used
    held = desk.held(ticket_ids)
    assert held == dict.fromkeys(AGENTS, CAPACITY)  # nobody above capacity
    assert {a: desk.open_tickets(a) for a in AGENTS} == held  # loads equal the tickets held
    assert sorted(desk.backlog("billing")) == sorted(set(ticket_ids) - set(assigned))
    for ticket_id in assigned:  # one assignment in each assigned ticket's history
        history = desk.hub.store.tickets(TENANT).history(ticket_id)
        assert len([e for e in history if e["cause"].startswith("assign:")]) == 1


def test_concurrent_assigners_never_assign_twice_nor_overfill(desk: Desk) -> None:
    ticket_ids = tickets(desk)

    def assigner(seed: int) -> Callable[[], list[str]]:
        def run() -> list[str]:
            # half the threads go down the backlog together (they collide on every ticket), half at random
            order = ticket_ids if seed % 2 else random.Random(seed).sample(ticket_ids, len(ticket_ids))
            return [t for t in order if desk.assigner.assign(TENANT, t) is not None]

        return run

    results = race([assigner(seed) for seed in range(THREADS)])
    assert_consistent(desk, ticket_ids, [t for result in results for t in result])


def test_drains_racing_assigners_stay_consistent(desk: Desk) -> None:
    ticket_ids = tickets(desk)

    def drain(agent_id: str) -> Callable[[], list[str]]:
        return lambda: desk.assigner.agent_available(TENANT, agent_id, limit=10)

    def assign(seed: int) -> Callable[[], list[str]]:
        order = random.Random(seed).sample(ticket_ids, 12)
        return lambda: [t for t in order if desk.assigner.assign(TENANT, t) is not None]

    results = race([drain(a) for a in AGENTS] + [assign(seed) for seed in range(THREADS - len(AGENTS))])
    while True:  # drains are bounded: whatever room is left is filled by draining again
        more = desk.assigner.drain_backlog(TENANT, "billing")
        if not more:
            break
        results.append(more)
    assert_consistent(desk, ticket_ids, [t for result in results for t in result])
