"""A plugin in a repository of its own sees the SDK's types: ``mypy --strict`` run
outside this project, on a module that imports switchboard_sdk, resolves it to the
typed package (py.typed), however the SDK was installed here (an editable install
must be a plain path, not an import hook: sdk/pyproject.toml, docs/plugins.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GOOD = '''"""A third party's channel, as small as it gets."""

from pydantic import BaseModel
from switchboard_sdk import PluginInfo, hookimpl


class AcmeConfig(BaseModel):
    token: str


class AcmeChat:
    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="acme-chat", kind="channel", config_model=AcmeConfig, contract_version="1.0")
'''

BAD = '''"""The same mistake a typed SDK lets mypy catch."""

from switchboard_sdk import DeliveryOutcome


def outcome() -> int:
    return DeliveryOutcome.delivered(200)
'''


def test_mypy_strict_in_a_plugin_repo_sees_the_typed_sdk(tmp_path: Path) -> None:
    (tmp_path / "acme_chat.py").write_text(GOOD)
    (tmp_path / "acme_bad.py").write_text(BAD)
    (tmp_path / "mypy.ini").write_text("[mypy]\n")  # none of this project's settings
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", "mypy.ini", "--cache-dir", ".cache",
         "acme_chat.py", "acme_bad.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert errors == [
        'acme_bad.py:7: error: Incompatible return value type (got "DeliveryOutcome", expected "int")  '
        "[return-value]"
    ], result.stdout + result.stderr
