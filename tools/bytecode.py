"""Compiled bytecode in the Lambda package (``make package``'s step 4).

Lambda unpacks a function's package into a read-only ``/var/task``, so a package of sources
only is compiled again by every cold start: Python cannot write the ``__pycache__`` it would
read next time. Compiling the hub, the SDK, the plugins and their dependencies here saves
that work on every cold start (``benchmarks/ingest.py`` ``cold_import_ratio`` measures
imports from bytecode for that reason).

The ``.pyc`` files are *unchecked* hash-based (PEP 552): Python loads them without reading
the source's time stamp, which a zip does not keep faithfully anyway; the package is built
once and never edited in place. Their code objects name ``/var/task/<path>``, so tracebacks
in CloudWatch show where the file is in Lambda. They are compiled by the interpreter that
runs the packaging, the version ``chalice package`` sets as the functions' runtime.
"""

from __future__ import annotations

import compileall
import py_compile
import tempfile
import zipfile
from pathlib import Path

TASK_ROOT = "/var/task"  # where Lambda puts the package
# rw-r--r--: Lambda runs the code as a user that does not own the files; a .pyc it may not read
# is skipped without a word and the module compiled from source again
MODE = 0o644


def add_bytecode(package: Path) -> int:
    """Append the ``__pycache__/<module>.<tag>.pyc`` of every module in the zip ``package``
    that has none; returns how many were added. A module that does not compile (a
    dependency's Python 2 example) is left as source, as Python would."""
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        sources = [name for name in names if name.endswith(".py")]
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            for name in sources:
                archive.extract(name, root)
            compileall.compile_dir(root, quiet=2, stripdir=str(root), prependdir=TASK_ROOT, workers=1,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            compiled = {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*.pyc")}
    added = {name: data for name, data in sorted(compiled.items()) if name not in names}
    with zipfile.ZipFile(package, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in added.items():
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # the same bytes every build
            entry.external_attr = (0o100000 | MODE) << 16  # a regular file, MODE
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    if sources and not compiled:
        raise RuntimeError(f"no module of {package} compiled")
    return len(added)
