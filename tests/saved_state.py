"""moto's whole in-process state, saved and put back (tests/conftest.py's ``world``).

Deploying the stack and seeding tenants for every test of the long matrices
(tests/test_scopes.py, tests/test_isolation.py) cost more than the calls they check.
Instead the state is made once, saved here as a deep copy of every moto backend in use,
and a test starts from a fresh copy of it: what it reads is exactly what it would read
after building that state itself, and what it writes is gone before the next test.

One ``deepcopy`` covers every backend at once, so objects shared between services (the
stack's resources, the stream behind DynamoDB Streams) stay shared in the copy. moto's
locks and conditions cannot be copied; the copy gets new ones, as a new backend would.
IAM is left out: moto loads AWS's managed policies into it (large), and nothing here
changes IAM.
"""

from __future__ import annotations

import copy
import copyreg
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.base_backend import BackendDict
from moto.ssm.models import ParameterDict

_NOT_SAVED = frozenset({"iam"})

BackendKey = tuple[str, str, str]  # service, account, region
Saved = dict[BackendKey, Any]

# every service's BackendDict that save() saw: moto's reset (a new ``mock_aws()``) unregisters
# them all, and restore() puts a state back into them from there (tests/conftest.py ``outputs``)
_KNOWN: dict[str, BackendDict[Any]] = {}


def _parameter_dict(account_id: str, region_name: str) -> ParameterDict:
    return ParameterDict(account_id, region_name)


# copy.deepcopy consults copyreg.dispatch_table by type: new locks instead of copies, and
# ssm's ParameterDict (a defaultdict whose constructor takes other arguments) rebuilt
_REDUCERS: dict[type, Any] = {
    type(threading.Lock()): lambda _: (threading.Lock, ()),
    type(threading.RLock()): lambda _: (threading.RLock, ()),
    threading.Condition: lambda _: (threading.Condition, ()),
    ParameterDict: lambda d: (_parameter_dict, (d.account_id, d.region_name), dict(d.__dict__), None,
                              iter(d.items())),
}


@contextmanager
def _copyable() -> Iterator[None]:
    table = copyreg.dispatch_table
    added = {cls: reducer for cls, reducer in _REDUCERS.items() if cls not in table}
    table.update(added)
    try:
        yield
    finally:
        for cls in added:
            table.pop(cls, None)


def _backends() -> dict[str, BackendDict[Any]]:
    return {bd.service_name: bd for bd in BackendDict._instances if bd.service_name not in _NOT_SAVED}


def untouched() -> bool:
    """Whether moto holds nothing since its last reset (IAM aside): no backend made yet."""
    return not _backends()


def save() -> Saved:
    """A deep copy of every moto backend in use (but IAM's)."""
    _KNOWN.update(_backends())
    live = {(service, account, region): backend for service, bd in _backends().items()
            for account, region, backend in bd.iter_backends()}
    with _copyable():
        return copy.deepcopy(live)


def restore(saved: Saved) -> None:
    """Put a fresh copy of ``saved`` in moto's place; backends made since are dropped
    (made anew on their next use, as after a fresh start). Also right after moto's reset:
    the saved services are registered again (``BackendDict[account]`` registers its dict)."""
    with _copyable():
        fresh: Saved = copy.deepcopy(saved)
    services = _backends()
    for service, bd in services.items():
        for account, regions in bd.items():
            for region in [r for r in regions if (service, account, r) not in fresh]:
                dict.__delitem__(regions, region)
    for (service, account, region), backend in fresh.items():
        dict.__setitem__(services.get(service, _KNOWN[service])[account], region, backend)
