"""How a submitted plugin config merges with the stored one, secret field by field.

Pure functions over raw config dicts (no AWS): which stored secret a marker
keeps, which values are new, and where a replaced secret waits out its grace
period. :class:`chalicelib.secrets.vault.SecretVault` does the reading and writing.
"""

from __future__ import annotations

import copy
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from .refs import SecretRef, is_keep_request, is_reference, marker
from .slots import SecretSlot

MISSING = object()
Keys = tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One secret value on its way in and the stored reference it keeps (if any)."""

    value: str = field(repr=False)
    ref: SecretRef | None = None  # None: the value must be written
    grace_until: str | None = None
    explicit: bool = False  # sent in clear in this request (not kept by a marker)


def dig(node: Any, keys: Keys) -> Any:
    """The value at ``keys`` in nested dicts, or :data:`MISSING`."""
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def put(node: dict[str, Any], keys: Keys, value: Any) -> None:
    """Set the value at ``keys``, creating nested dicts on the way."""
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            return  # not a nested config: validation reports it
        node = child
    node[keys[-1]] = value


def without_slots(incoming: dict[str, Any], slots: Iterable[SecretSlot]) -> dict[str, Any]:
    """A copy with every secret slot emptied (to check the rest for stray references)."""
    rest = copy.deepcopy(incoming)
    for slot in slots:
        if dig(rest, slot.keys) is not MISSING:
            put(rest, slot.keys, None)
    return rest


def stored_items(slot: SecretSlot, stored: dict[str, Any]) -> list[tuple[str, Any]]:
    """(location, stored item) of one slot: references, or values saved before the vault."""
    node = dig(stored, slot.keys)
    if slot.many and isinstance(node, list):
        return [(f"{slot.label}[{i}]", item) for i, item in enumerate(node)]
    return [] if node is MISSING or node is None else [(slot.label, node)]


def incoming_entries(
    slot: SecretSlot, node: Any, held: list[Entry], errors: list[dict[str, str]]
) -> list[Entry] | None:
    """The entries the admin asked for at ``slot``; ``None`` leaves a malformed
    value in place for validation to report."""
    if node is MISSING or node is None:
        return []
    if slot.many and not isinstance(node, list):
        return None
    entries: list[Entry] = []
    for index, item in enumerate(node if slot.many else [node]):
        where = f"config.{slot.label}" + (f"[{index}]" if slot.many else "")
        if is_keep_request(item):
            kept = _kept(item, index, slot, held)
            if kept is None:
                errors.append({"field": where, "message": "nothing stored to keep: send the secret"})
            else:
                entries.append(kept)
        elif isinstance(item, str):
            match = next((e for e in held if same(e.value, item)), None)
            # sent in clear: meant to stay, so a graced value becomes permanent again
            entries.append(replace(match, explicit=True, grace_until=None) if match else Entry(item, explicit=True))
        else:
            return None
    return entries


def _kept(item: Any, index: int, slot: SecretSlot, held: list[Entry]) -> Entry | None:
    """The stored entry a keep request names: by reference name, by the marker's
    ``id`` (list elements), else by position."""
    if is_reference(item):
        matches = [e for e in held if e.ref is not None and e.ref.name == item.get("$secret")]
    elif slot.many and isinstance(item, dict) and "id" in item:
        matches = [e for e in held if e.ref is not None and e.ref.id == item["id"]]
    else:
        position = index if slot.many else 0
        matches = held[position : position + 1]
    return matches[0] if matches else None


def rotate(
    slots: Iterable[SecretSlot],
    entries: dict[Keys, list[Entry] | None],
    held: dict[Keys, list[Entry]],
    until: str | None,
) -> None:
    """Move secrets that left a rotating field into its target, graced until ``until``.

    The target keeps what the admin sent in clear; then come, as room allows, the
    secrets that just left the field (newest), what the target kept by marker, and
    what it held but was not sent. ``until`` ``None`` (no grace) drops the leavers.
    """
    by_keys = {slot.keys: slot for slot in slots}
    for slot in by_keys.values():
        target = by_keys.get(slot.rotation) if slot.rotation else None
        new = entries[slot.keys]
        into = entries[target.keys] if target else None
        if target is None or new is None or into is None:
            continue
        fixed = into if target is slot else [e for e in into if e.explicit]
        kept = [] if target is slot else [e for e in into if not e.explicit]
        others = [] if target is slot else held[target.keys]
        candidates = _graced(held[slot.keys], until) + kept + _graced(others, until)
        chosen = _distinct(candidates, besides=new + fixed)
        room = (target.max_items or len(fixed) + len(chosen)) if target.many else 1
        into[:] = fixed + chosen[: max(room - len(fixed), 0)]


def _graced(entries: list[Entry], until: str | None) -> list[Entry]:
    """Leavers keep an earlier deadline; without a grace period they go at once."""
    return [replace(e, grace_until=e.grace_until or until, explicit=False) for e in entries] if until else []


def _distinct(entries: list[Entry], *, besides: list[Entry]) -> list[Entry]:
    chosen: list[Entry] = []
    for entry in entries:
        if not any(same(entry.value, other.value) for other in besides + chosen):
            chosen.append(entry)
    return chosen


def with_values(
    incoming: dict[str, Any], slots: Iterable[SecretSlot], entries: dict[Keys, list[Entry] | None]
) -> dict[str, Any]:
    """``incoming`` with every secret slot holding the chosen real values."""
    raw = copy.deepcopy(incoming)
    for slot in slots:
        chosen = entries[slot.keys]
        if chosen:
            values = [e.value for e in chosen]
            put(raw, slot.keys, values if slot.many else values[0])
        elif chosen is not None and dig(raw, slot.keys) is not MISSING:
            put(raw, slot.keys, [] if slot.many and isinstance(dig(raw, slot.keys), list) else None)
    return raw


def model_values(config: BaseModel, slot: SecretSlot) -> list[str]:
    """The validated secret values at ``slot``."""
    node: Any = config
    for attr in slot.attrs:
        node = getattr(node, attr, None)
        if node is None:
            return []
    return [secret.get_secret_value() for secret in (node if slot.many else [node])]


def mask_plain(shown: dict[str, Any], slot: SecretSlot) -> None:
    """Hide a secret still stored in clear (a record saved before the vault existed)."""
    node = dig(shown, slot.keys)
    if isinstance(node, str):
        put(shown, slot.keys, marker(None, with_id=False))
    elif slot.many and isinstance(node, list):
        put(shown, slot.keys, [marker(None, with_id=False) if isinstance(i, str) else i for i in node])


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
