"""KMS data keys, cached per container so sealing costs no KMS call per value.

:class:`DataKeys` holds, per (KMS key, encryption context), the data key values are
sealed under now: made by one ``GenerateDataKey`` and used for at most ``max_age``
seconds and ``max_uses`` seals (then the next seal makes a new one). Opening unwraps a
value's data key with one ``Decrypt`` and keeps it in a bounded LRU keyed by the wrapped
bytes and the context, for at most ``max_age`` seconds too: a key disabled in KMS stops
opening values in a warm container within that time. The clock is injected.

At a steady rate a container therefore calls ``GenerateDataKey`` once per ``max_age``
(or ``max_uses``) and ``Decrypt`` once per data key it meets per ``max_age``. Keys are
never logged; a KMS failure is :class:`~.errors.KeyServiceUnavailable`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .envelope import KEY_BYTES
from .errors import kms_call

MAX_AGE_SECONDS = 300.0
MAX_USES = 100_000
UNWRAPPED_KEYS = 1024  # data keys kept unwrapped per container (the LRU's bound)

Context = tuple[tuple[str, str], ...]


def frozen(context: Mapping[str, str]) -> Context:
    return tuple(sorted(context.items()))


@dataclass
class _Entry:
    plaintext: bytes
    wrapped: bytes
    born: datetime
    uses: int = 0


class DataKeys:
    def __init__(self, kms: Any, clock: Callable[[], datetime], *, max_age_seconds: float = MAX_AGE_SECONDS,
                 max_uses: int = MAX_USES, unwrapped_keys: int = UNWRAPPED_KEYS) -> None:
        self._kms = kms
        self._clock = clock
        self._max_age = max_age_seconds
        self._max_uses = max_uses
        self._bound = unwrapped_keys
        self._current: dict[tuple[str, Context], _Entry] = {}
        self._unwrapped: OrderedDict[tuple[bytes, Context], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def for_sealing(self, key_id: str, context: Mapping[str, str]) -> tuple[bytes, bytes]:
        """``(plaintext key, wrapped key)`` to seal one value under: the cached data key,
        or a new one when it is too old or used up (one ``GenerateDataKey``)."""
        slot = (key_id, frozen(context))
        with self._lock:
            entry = self._current.get(slot)
            if entry is None or not self._fresh(entry) or entry.uses >= self._max_uses:
                entry = self._current[slot] = self._generate(key_id, context)
                self._remember(entry, slot[1])
            entry.uses += 1
            return entry.plaintext, entry.wrapped

    def unwrap(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        """The plaintext of a wrapped data key (cached, else one ``Decrypt``)."""
        slot = (wrapped, frozen(context))
        with self._lock:
            entry = self._unwrapped.get(slot)
            if entry is not None and self._fresh(entry):
                self._unwrapped.move_to_end(slot)
                return entry.plaintext
        result = kms_call("open a data key", lambda: self._kms.decrypt(
            CiphertextBlob=wrapped, EncryptionContext=dict(context)))
        entry = _Entry(bytes(result["Plaintext"]), wrapped, self._clock())
        with self._lock:
            self._remember(entry, slot[1])
        return entry.plaintext

    def generate(self, key_id: str, context: Mapping[str, str]) -> tuple[bytes, bytes]:
        """A new data key, not cached for sealing (index and customer keys: stored wrapped by their owner)."""
        entry = self._generate(key_id, context)
        with self._lock:
            self._remember(entry, frozen(context))
        return entry.plaintext, entry.wrapped

    def forget(self, wrapped: bytes) -> None:
        """Drop an unwrapped key from the cache (a shredded customer key)."""
        with self._lock:
            for slot in [s for s in self._unwrapped if s[0] == wrapped]:
                del self._unwrapped[slot]

    def _generate(self, key_id: str, context: Mapping[str, str]) -> _Entry:
        result = kms_call("make a data key", lambda: self._kms.generate_data_key(
            KeyId=key_id, KeySpec="AES_256", EncryptionContext=dict(context)))
        plaintext = bytes(result["Plaintext"])
        if len(plaintext) != KEY_BYTES:
            raise ValueError("the key service returned a data key of the wrong size")
        return _Entry(plaintext, bytes(result["CiphertextBlob"]), self._clock())

    def _fresh(self, entry: _Entry) -> bool:
        return (self._clock() - entry.born).total_seconds() < self._max_age

    def _remember(self, entry: _Entry, context: Context) -> None:
        self._unwrapped[(entry.wrapped, context)] = entry
        self._unwrapped.move_to_end((entry.wrapped, context))
        while len(self._unwrapped) > self._bound:
            self._unwrapped.popitem(last=False)
