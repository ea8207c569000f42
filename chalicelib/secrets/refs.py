"""The shape of a sealed config: secret references and the walks over them.

A sealed config is the tenant's raw plugin config with every secret replaced by
a reference to an SSM parameter version::

    {"$secret": "/switchboard/tenants/acme/twilio/auth_token", "version": 3,
     "updated_at": "2025-01-02T03:04:05.000000Z"}

plus ``"grace_until"`` on a secret being rotated out. API reads show a
:func:`marker` instead, which a client may send back unchanged to keep the secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard_sdk import InvalidInput, PluginConfigError

REF_KEY = "$secret"
MARKER = "**********"  # what pydantic prints for a SecretStr; any run of "*" counts
_REF_FIELDS = frozenset({REF_KEY, "version", "updated_at", "grace_until"})


class _Drop:
    """Returned by a swap to remove the node (an expired secret)."""


DROP = _Drop()
Swap = Callable[[dict[str, Any], str], Any]


@dataclass(frozen=True)
class SecretRef:
    name: str
    version: int
    updated_at: str
    grace_until: str | None = None

    @property
    def selector(self) -> str:
        """``name:version`` for GetParameters: reads exactly the sealed version."""
        return f"{self.name}:{self.version}"

    @property
    def id(self) -> str:
        """The last name segment: a list element's stable id."""
        return self.name.rsplit("/", 1)[-1]

    def expired(self, now: datetime) -> bool:
        return self.grace_until is not None and datetime.fromisoformat(self.grace_until) <= now

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {REF_KEY: self.name, "version": self.version, "updated_at": self.updated_at}
        if self.grace_until is not None:
            body["grace_until"] = self.grace_until
        return body

    @classmethod
    def from_json(cls, node: dict[str, Any], where: str) -> SecretRef:
        """Parse a stored reference; :class:`PluginConfigError` naming ``where`` if malformed."""
        name, version = node.get(REF_KEY), node.get("version")
        updated, grace = node.get("updated_at", ""), node.get("grace_until")
        if (
            set(node) - _REF_FIELDS
            or not isinstance(name, str)
            or type(version) is not int
            or version < 1
            or not isinstance(updated, str)
            or not (grace is None or (isinstance(grace, str) and _is_timestamp(grace)))
        ):
            raise PluginConfigError(f"config field {where or '(config)'} holds a malformed secret reference")
        return cls(name, version, updated, grace)


def _is_timestamp(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def marker(ref: SecretRef | None, *, with_id: bool) -> dict[str, Any]:
    """What an API read shows for a secret (``ref`` ``None``: a value not yet sealed)."""
    shown: dict[str, Any] = {"secret": MARKER}
    if ref is not None:
        shown["updated_at"] = ref.updated_at
        if with_id:
            shown["id"] = ref.id
        if ref.grace_until is not None:
            shown["grace_until"] = ref.grace_until
    return shown


def is_reference(node: Any) -> bool:
    return isinstance(node, dict) and REF_KEY in node


def is_keep_request(node: Any) -> bool:
    """A marker string, a marker object or a reference: "keep the stored secret"."""
    if isinstance(node, str):
        return bool(node) and node.strip("*") == ""
    return is_reference(node) or (isinstance(node, dict) and node.get("secret") == MARKER)


def rebuild(node: Any, swap: Swap, where: str = "") -> Any:
    """A copy of ``node`` with every reference replaced by ``swap(reference, where)``;
    a swap returning :data:`DROP` removes the key or list element."""
    if is_reference(node):
        return swap(node, where)
    if isinstance(node, dict):
        copied = {key: rebuild(value, swap, _join(where, str(key))) for key, value in node.items()}
        return {key: value for key, value in copied.items() if value is not DROP}
    if isinstance(node, list):
        items = [rebuild(value, swap, f"{where}[{index}]") for index, value in enumerate(node)]
        return [value for value in items if value is not DROP]
    return node


def references(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every reference in ``node`` with its location (``secrets[1]``)."""
    found: list[tuple[str, dict[str, Any]]] = []

    def record(ref: dict[str, Any], where: str) -> dict[str, Any]:
        found.append((where, ref))
        return ref

    rebuild(node, record)
    return iter(found)


def refuse_references(node: Any, *, where: str) -> None:
    """:class:`InvalidInput` if ``node`` (a config minus its secret fields) holds a reference."""
    fields = [{"field": _join(where, path), "message": "secret references belong in secret fields only"}
              for path, _ in references(node)]
    if fields:
        raise InvalidInput("a secret reference outside a secret field", fields=fields)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
