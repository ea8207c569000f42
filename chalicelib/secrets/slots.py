"""Where a plugin's config model keeps its secrets, read from the model itself.

A *slot* is a field typed ``SecretStr`` (also inside ``Annotated`` or ``| None``,
e.g. ``WhsecSecret``) or ``list[SecretStr]``, at the top level or inside nested
config models. Nothing here knows field names: a plugin declares secrets by
their type, and rotation with ``json_schema_extra=rotates_into("other_field")``
(:mod:`switchboard_sdk.secret_fields`).

A secret in a shape the vault cannot seal (``dict[str, SecretStr]``, a list of
models holding secrets, ``SecretBytes``) is a :class:`PluginConfigError`: the
alternative would be storing it in clear.
"""

from __future__ import annotations

import functools
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import MaxLen
from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic.fields import FieldInfo
from switchboard_sdk import PluginConfigError
from switchboard_sdk.secret_fields import SECRET_ROTATION

# characters an SSM parameter name segment may hold
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_MAX_DEPTH = 5


@dataclass(frozen=True)
class SecretSlot:
    """One secret field: where it sits in the raw config and on the model."""

    keys: tuple[str, ...]  # raw-dict keys from the config root
    attrs: tuple[str, ...]  # attribute names on the validated model
    many: bool  # a list of secrets
    max_items: int | None  # the list's max_length, if any
    required: bool
    rotation: tuple[str, ...] | None = None  # keys of the slot keeping a replaced secret

    @property
    def label(self) -> str:
        return ".".join(self.keys)


@functools.cache
def secret_slots(model: type[BaseModel]) -> tuple[SecretSlot, ...]:
    """Every secret slot of ``model`` (cached per model class)."""
    slots = _walk(model, (), (), 0)
    _check_rotations(model, slots)
    return tuple(slots)


def _walk(model: type[BaseModel], keys: tuple[str, ...], attrs: tuple[str, ...], depth: int) -> list[SecretSlot]:
    if depth > _MAX_DEPTH:
        raise PluginConfigError(f"{model.__name__}: config models nest too deeply for the secret store")
    slots: list[SecretSlot] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        shape, inner = _shape(field.annotation)
        if shape == "model":
            assert inner is not None
            slots.extend(_walk(inner, (*keys, key), (*attrs, name), depth + 1))
        elif shape in ("one", "many"):
            slots.append(_slot(model, field, (*keys, key), (*attrs, name), many=shape == "many"))
    return slots


def _slot(
    model: type[BaseModel], field: FieldInfo, keys: tuple[str, ...], attrs: tuple[str, ...], *, many: bool
) -> SecretSlot:
    if not _SEGMENT.fullmatch(keys[-1]):
        raise PluginConfigError(f"{model.__name__}.{attrs[-1]}: a secret field's name must match {_SEGMENT.pattern}")
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    target = extra.get(SECRET_ROTATION)
    if target is not None and target not in model.model_fields:
        raise PluginConfigError(f"{model.__name__}.{attrs[-1]} rotates into {target!r}, which is not a field")
    rotation = None
    if isinstance(target, str):
        sibling = model.model_fields[target]
        rotation = (*keys[:-1], sibling.alias or target)
    max_items = next((m.max_length for m in field.metadata if isinstance(m, MaxLen)), None)
    return SecretSlot(keys, attrs, many, max_items, field.is_required(), rotation)


def _check_rotations(model: type[BaseModel], slots: list[SecretSlot]) -> None:
    by_keys = {slot.keys: slot for slot in slots}
    for slot in slots:
        if slot.rotation is None:
            continue
        target = by_keys.get(slot.rotation)
        if target is None or (not target.many and target.required):
            raise PluginConfigError(
                f"{model.__name__}.{slot.label} must rotate into an optional secret field or a list of secrets"
            )


def _shape(annotation: Any) -> tuple[str, type[BaseModel] | None]:
    """``("one"|"many"|"model"|"plain", nested model)`` for a field's annotation."""
    core = _unwrap(annotation)
    if _is_type(core, SecretStr):
        return "one", None
    if _is_type(core, BaseModel):
        return "model", core
    if get_origin(core) is list and _is_type(_unwrap(get_args(core)[0]), SecretStr):
        return "many", None
    if _mentions_secret(core, frozenset()):
        raise PluginConfigError(f"the secret store cannot hold secrets typed {annotation!r}")
    return "plain", None


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated[...]`` and ``X | None`` down to ``X``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _is_type(annotation: Any, base: type) -> bool:
    return isinstance(annotation, type) and get_origin(annotation) is None and issubclass(annotation, base)


def _mentions_secret(annotation: Any, seen: frozenset[type]) -> bool:
    if _is_type(annotation, SecretStr) or _is_type(annotation, SecretBytes):
        return True
    if _is_type(annotation, BaseModel):
        if annotation in seen:
            return False
        inner = seen | {annotation}
        return any(_mentions_secret(f.annotation, inner) for f in annotation.model_fields.values())
    return any(_mentions_secret(arg, seen) for arg in get_args(annotation))
