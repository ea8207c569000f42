"""Provider tokens shared through the table: one fetch per token lifetime, however
many containers ask at once; one refresh when the provider refuses a token; a
refresh nobody finishes does not block the others for good."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from switchboard_sdk import IssuedToken, Unavailable

from chalicelib.hub import Hub
from chalicelib.outbound.tokens import LEASE_SECONDS, TableTokens
from chalicelib.storage.keys import TenantKeys


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Provider:
    """Issues numbered tokens and counts how often it was asked."""

    def __init__(self, lifetime: float = 7200.0) -> None:
        self.issued = 0
        self.lifetime = lifetime
        self._lock = threading.Lock()

    def fetch(self) -> IssuedToken:
        with self._lock:
            self.issued += 1
            return IssuedToken(f"token-{self.issued}", self.lifetime)


def _container(hub: Hub, clock: Clock, *, sleep: Callable[[float], None] | None = None) -> TableTokens:
    extra = {} if sleep is None else {"sleep": sleep}
    return TableTokens(hub.aws.dynamodb, hub.settings.table_name, TenantKeys("demo"), "wechat", clock, **extra)


def test_many_containers_asking_at_once_cause_one_fetch(hub: Hub, atomic_dynamodb: None) -> None:
    clock, provider = Clock(), Provider()
    containers = [_container(hub, clock) for _ in range(6)]
    got: list[str] = []

    def ask(tokens: TableTokens) -> None:
        for _ in range(20):
            got.append(tokens.get("wx-app", provider.fetch))

    threads = [threading.Thread(target=ask, args=(c,)) for c in containers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert provider.issued == 1
    assert set(got) == {"token-1"}
    assert len(got) == 120


def test_an_expired_token_is_fetched_again_before_the_provider_expires_it(hub: Hub) -> None:
    clock, provider = Clock(), Provider(lifetime=7200)
    tokens = _container(hub, clock)
    assert tokens.get("wx-app", provider.fetch) == "token-1"
    clock.now += timedelta(seconds=7200 - 299)  # within the early margin of its expiry
    assert tokens.get("wx-app", provider.fetch) == "token-2"
    assert _container(hub, clock).get("wx-app", provider.fetch) == "token-2", "another container reuses it"


def test_a_refused_token_is_replaced_once_not_by_every_container(hub: Hub) -> None:
    clock, provider = Clock(), Provider()
    first, second = _container(hub, clock), _container(hub, clock)
    stale = first.get("wx-app", provider.fetch)
    assert first.get("wx-app", provider.fetch, rejected=stale) == "token-2"
    # the second container was refused the same old token a moment later: it takes the new one
    assert second.get("wx-app", provider.fetch, rejected=stale) == "token-2"
    assert provider.issued == 2


def test_a_refresh_that_dies_holds_the_others_back_only_for_its_lease(hub: Hub) -> None:
    clock, provider = Clock(), Provider()
    pauses: list[float] = []

    def sleep(seconds: float) -> None:  # the waiting container's pauses pass on the shared clock
        pauses.append(seconds)
        clock.now += timedelta(seconds=seconds)

    crashed = _container(hub, clock)

    def crash() -> IssuedToken:
        raise RuntimeError("container stopped mid-fetch")

    crashed._claim(crashed.keys.shared_token("wechat", "wx-app"), {}, int(clock().timestamp() * 1000))
    waiting = _container(hub, clock, sleep=sleep)
    assert waiting.get("wx-app", provider.fetch) == "token-1"
    assert sum(pauses) >= LEASE_SECONDS - 0.2, "it waited for the holder, then took over"
    with pytest.raises(RuntimeError):
        _container(hub, clock).get("other-app", crash)
    assert _container(hub, clock).get("other-app", provider.fetch) == "token-2", "a failed fetch frees the lease"


def test_a_holder_that_never_finishes_gives_a_passing_error(hub: Hub) -> None:
    clock = Clock()
    holder = _container(hub, clock)
    key = holder.keys.shared_token("wechat", "wx-app")
    holder._claim(key, {}, int(clock().timestamp() * 1000) + 3_600_000)  # a lease far in the future

    def sleep(seconds: float) -> None:
        clock.now += timedelta(seconds=seconds)

    with pytest.raises(Unavailable):
        _container(hub, clock, sleep=sleep).get("wx-app", Provider().fetch)
