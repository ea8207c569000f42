"""The keys of a tenant's knowledge base, its trained model's pointer and its training state.

One partition per tenant, ``T#<t>#KB``: articles (``ART#<id>#<language>``), intents
(``INT#<name>``), the base's version counter (``VERSION``), the trained model's pointer
(``MODEL``) and the latest training job's state (``TRAINING``). One Query reads the whole
base (the trainer's :meth:`~.knowledge_store.KnowledgeStore.load`), never a Scan. Built
on :class:`~chalicelib.storage.keys.TenantKeys`, so no value reaches another tenant's keys.
"""

from __future__ import annotations

from ..storage.keys import Key, TenantKeys, component

ARTICLE = "ART#"
INTENT = "INT#"
VERSION = "VERSION"
MODEL = "MODEL"
TRAINING = "TRAINING"


def partition(keys: TenantKeys) -> str:
    return f"{keys.prefix}KB"


def _key(keys: TenantKeys, sort_key: str) -> Key:
    return {"pk": {"S": partition(keys)}, "sk": {"S": sort_key}}


def article(keys: TenantKeys, article_id: str, language: str) -> Key:
    return _key(keys, f"{ARTICLE}{component(article_id)}#{component(language)}")


def intent(keys: TenantKeys, name: str) -> Key:
    return _key(keys, f"{INTENT}{component(name)}")


def version(keys: TenantKeys) -> Key:
    return _key(keys, VERSION)


def model(keys: TenantKeys) -> Key:
    return _key(keys, MODEL)


def training(keys: TenantKeys) -> Key:
    return _key(keys, TRAINING)


def model_object(tenant_id: str, knowledge_version: int, sha256_hex: str) -> str:
    """Where a trained model's bytes live in the bucket (immutable: a new model, a new key)."""
    TenantKeys(tenant_id)  # validates the id: it is part of an S3 key
    return f"models/{tenant_id}/{knowledge_version}-{sha256_hex[:16]}.bin"
