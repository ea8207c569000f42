"""A tenant's trained model pointer and its latest training job's state, in the table.

The pointer (``MODEL``) names the S3 object of the model in use, the knowledge version
it was trained from and what training measured. It is replaced with one conditional
``PutItem`` that only moves it to a newer knowledge version: a reader sees the old
pointer or the new one, and each names an immutable object, so no reader can ever mix
two models. The state (``TRAINING``) says what the latest job is doing (``queued``,
``training``, ``ready``, ``failed`` with a reason) and moves only forward in version too.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..storage.items import from_item, to_item
from ..storage.table import TenantTable
from . import knowledge_keys as kb_keys

JobState = Literal["queued", "training", "ready", "failed"]
MAX_ERROR = 500


class ModelPointer(BaseModel):
    """The model in use: the plugin that trained it, from which knowledge version, where it is."""

    plugin: str
    knowledge_version: int
    object_key: str
    sha256: str
    threshold: float
    labels: int
    figures: dict[str, float] = Field(default_factory=dict)
    trained_at: str
    size: int = 0


class TrainingState(BaseModel):
    state: JobState
    knowledge_version: int
    at: str
    error: str | None = None


class ModelRecords(TenantTable):
    """The pointer and the state of one tenant (built through :class:`TenantKeys`)."""

    def pointer(self, *, consistent: bool = True) -> ModelPointer | None:
        result = self._db.get_item(TableName=self._table, Key=kb_keys.model(self.keys), ConsistentRead=consistent)
        item = result.get("Item")
        return None if item is None else _pointer(from_item(item))

    def swap(self, pointer: ModelPointer) -> bool:
        """Point at ``pointer``'s model unless one of this version or newer is in place."""
        fields = pointer.model_dump() | {"figures": json.dumps(pointer.figures, sort_keys=True), "type": "kb-model"}
        return self._put_if(kb_keys.model(self.keys) | to_item(_floats(fields)),
                            "attribute_not_exists(pk) OR knowledge_version < :v", {":v": pointer.knowledge_version})

    def state(self) -> TrainingState | None:
        item = self._get(kb_keys.training(self.keys))
        if item is None:
            return None
        return TrainingState.model_validate({k: item.get(k) for k in TrainingState.model_fields})

    def set_state(self, state: TrainingState) -> bool:
        """Record a job's state unless a newer job's is there (``False`` then)."""
        fields = state.model_dump() | {"type": "kb-training"}
        fields["error"] = (state.error or "")[:MAX_ERROR] or None
        return self._put_if(kb_keys.training(self.keys) | to_item(fields),
                            "attribute_not_exists(pk) OR knowledge_version <= :v", {":v": state.knowledge_version})


def _floats(fields: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB numbers are decimals: floats go as strings of their repr (read back exactly)."""
    return {k: repr(v) if isinstance(v, float) else v for k, v in fields.items()}


def _pointer(item: dict[str, Any]) -> ModelPointer:
    data = {k: item.get(k) for k in ModelPointer.model_fields}
    data["threshold"] = float(item["threshold"])
    data["figures"] = json.loads(data.get("figures") or "{}")
    return ModelPointer.model_validate(data)
