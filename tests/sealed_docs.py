"""Reading sealed fields back in tests: inbound records' and parked follow-ups' ``doc``,
inline ``raw`` bodies (docs/encryption.md). The hub opens them the same way."""

from __future__ import annotations

import json
import re
from typing import Any

from chalicelib.hub import Hub
from chalicelib.storage.keys import key_of, tenant_in
from chalicelib.storage.sealing import SEALED_BINARY, open_blob, open_document

# A sealed value as text: format, then base64url parts joined by dots (chalicelib/crypto/envelope.py).
# A search for a short value in clear (``quux``) must skip these: lower-cased, kilobytes of
# random base64url hold any four letters often enough to fail a test now and then.
CIPHERTEXT = re.compile(r"\bs[bc]1\.[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*")


def opened(hub: Hub, item: dict[str, Any], field: str = "doc") -> str:
    """The text a sealed field of an item (as :func:`tests.conftest.table_items` reads it) holds."""
    return open_document(hub.crypto, str(tenant_in(str(item["pk"]))), key_of(item), field, str(item[field]))


def doc_of(hub: Hub, item: dict[str, Any]) -> dict[str, Any]:
    """An inbound record's or parked follow-up's document, opened and parsed."""
    found: dict[str, Any] = json.loads(opened(hub, item))
    return found


def raw_of(hub: Hub, item: dict[str, Any]) -> bytes:
    """An inbound record's inline raw body, opened."""
    stored = item["raw"]
    return open_blob(hub.crypto, str(tenant_in(str(item["pk"]))), key_of(item), "raw",
                     bytes(getattr(stored, "value", stored)))


def opened_item(hub: Hub, item: dict[str, Any]) -> dict[str, Any]:
    """A message, ticket or history item (as :func:`tests.conftest.table_items` reads it) with
    its sealed text, metadata, file names and subjects opened, as every reader of the hub
    sees it (``chalicelib/storage/message_fields.py``); any other item as it is."""
    tenant_id = tenant_in(str(item.get("pk", "")))
    return item if tenant_id is None else hub.store.fields(tenant_id).open_item(item)


def opened_items(hub: Hub, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [opened_item(hub, item) for item in items]


def without_ciphertexts(text: str) -> str:
    """``text`` with every sealed value in it replaced by ``<sealed>``: what is left is what
    is readable in clear."""
    return CIPHERTEXT.sub("<sealed>", text)


def binary_text(value: bytes) -> str:
    """A binary attribute as a search sees it: ``<sealed>`` when sealed, else its text."""
    return "<sealed>" if value.startswith(SEALED_BINARY) else value.decode("utf-8", "replace")


def clear_in(items: list[dict[str, Any]], values: tuple[str, ...]) -> dict[str, set[str]]:
    """Which of ``values`` (lower case) each kind of item holds in clear (a search of its JSON,
    ciphertexts left out)."""
    found: dict[str, set[str]] = {}
    for item in items:
        text = without_ciphertexts(json.dumps(item, default=_plain, ensure_ascii=False)).lower()
        for value in values:
            if value in text:
                found.setdefault(str(item.get("type")), set()).add(value)
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    raw = getattr(value, "value", value)  # boto3's Binary
    return binary_text(raw) if isinstance(raw, bytes) else repr(value)
