"""Export the SDK models' JSON Schemas (docs/schemas/, checked by a test)."""

from __future__ import annotations

import json
from pathlib import Path

from switchboard_sdk.models import EXPORTED_MODELS


def rendered_schemas() -> dict[str, str]:
    """File name → JSON text, one per exported model."""
    return {
        f"{model.__name__}.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
        for model in EXPORTED_MODELS
    }


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered_schemas().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written
