"""The stored model: a small, deterministic zip of a JSON header and numpy arrays.

Nothing in it is executable: arrays are read with ``allow_pickle=False``, the header is
plain JSON checked field by field, and a member list, sizes, dtypes and shapes that do
not fit together make :func:`load` raise ``BadPayload``: a model store that someone
else can write to must not be a way to run code in the assistant's function (a pickle
would be). Members:

* ``header.json``: format and version, the intents (labels, sorted), the temperature,
  and the answers (label → ``[language, article id, text]`` in the knowledge base's
  order), so answering reads no knowledge base;
* ``terms.npy``: the vocabulary, UTF-8, one term a line (``uint8``);
* ``idf.npy`` (``float32``), ``weights.npy`` (``float16``, features x intents: half the
  bytes of ``float32``, with the same predictions to three or four decimals of score),
  ``bias.npy`` (``float32``).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from switchboard_sdk.errors import BadPayload

from .features import Vocabulary

FORMAT = "switchboard-faq"
VERSION = 1
MEMBERS = ("header.json", "terms.npy", "idf.npy", "weights.npy", "bias.npy")
MAX_MEMBER_BYTES = 256 * 1024 * 1024  # inflated: a zip bomb stops here, far above any real model
_EPOCH = (1980, 1, 1, 0, 0, 0)  # every member's timestamp: the same model gives the same bytes


class Answer(NamedTuple):
    article_id: str
    text: str


@dataclass(frozen=True)
class ModelData:
    labels: list[str]
    vocabulary: Vocabulary
    weights: npt.NDArray[np.floating[Any]]  # features x labels
    bias: npt.NDArray[np.floating[Any]]
    temperature: float
    answers: dict[str, dict[str, Answer]]  # label → language → answer


def _array(value: npt.NDArray[Any]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, value, allow_pickle=False)
    return buffer.getvalue()


def dump(data: ModelData) -> bytes:
    """The bytes the hub stores."""
    header = {
        "format": FORMAT, "version": VERSION, "labels": data.labels, "temperature": data.temperature,
        # lists, not objects: sort_keys would reorder the languages, whose order is the fallback's
        "answers": {label: [[lang, *answer] for lang, answer in by_language.items()]
                    for label, by_language in data.answers.items()},
    }
    members = {
        "header.json": json.dumps(header, ensure_ascii=False, sort_keys=True).encode(),
        "terms.npy": _array(np.frombuffer("\n".join(data.vocabulary.terms).encode(), dtype=np.uint8)),
        "idf.npy": _array(data.vocabulary.idf.astype(np.float32)),
        "weights.npy": _array(data.weights.astype(np.float16)),
        "bias.npy": _array(data.bias.astype(np.float32)),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in MEMBERS:
            archive.writestr(zipfile.ZipInfo(name, date_time=_EPOCH), members[name],
                             compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return buffer.getvalue()


def load(payload: bytes) -> ModelData:
    """The model in ``payload``; ``BadPayload`` for anything :func:`dump` did not write."""
    try:
        return _read(payload)
    except BadPayload:
        raise
    except (zipfile.BadZipFile, ValueError, KeyError, TypeError, UnicodeDecodeError, EOFError, OSError) as err:
        raise BadPayload(f"not a faq model: {type(err).__name__}: {err}") from None


def _members(payload: bytes) -> dict[str, bytes]:
    if not payload.startswith(b"PK\x03\x04"):  # zipfile would find an archive inside other bytes (a pickle)
        raise BadPayload("not a faq model: not a zip archive")
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        infos = archive.infolist()
        if sorted(info.filename for info in infos) != sorted(MEMBERS):
            raise BadPayload("not a faq model: unexpected members")
        if any(info.file_size > MAX_MEMBER_BYTES for info in infos):
            raise BadPayload("not a faq model: a member is too large")
        return {info.filename: archive.read(info) for info in infos}


def _numeric(raw: bytes, kind: str, dims: int) -> npt.NDArray[Any]:
    value: npt.NDArray[Any] = np.load(io.BytesIO(raw), allow_pickle=False)
    if value.dtype.kind != kind or value.ndim != dims:
        raise BadPayload(f"not a faq model: an array of {value.dtype} in {value.ndim} dimensions")
    return value


def _read(payload: bytes) -> ModelData:
    members = _members(payload)
    header = json.loads(members["header.json"])
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise BadPayload("not a faq model of this version")
    labels, temperature = header["labels"], header["temperature"]
    if not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        raise BadPayload("not a faq model: labels")
    if not isinstance(temperature, float) or not temperature > 0:
        raise BadPayload("not a faq model: temperature")
    vocabulary = Vocabulary(terms=_terms(bytes(_numeric(members["terms.npy"], "u", 1))),
                            idf=_numeric(members["idf.npy"], "f", 1).astype(np.float32))
    weights = _numeric(members["weights.npy"], "f", 2).astype(np.float32)
    bias = _numeric(members["bias.npy"], "f", 1).astype(np.float32)
    if weights.shape != (vocabulary.size, len(labels)) or bias.shape != (len(labels),) \
            or vocabulary.idf.shape != (vocabulary.size,):
        raise BadPayload("not a faq model: the arrays' shapes do not fit together")
    return ModelData(labels=labels, vocabulary=vocabulary, weights=weights, bias=bias, temperature=temperature,
                     answers=_answers(header["answers"], set(labels)))


def _terms(raw: bytes) -> tuple[str, ...]:
    return tuple(raw.decode().split("\n")) if raw else ()


def _answers(raw: object, labels: set[str]) -> dict[str, dict[str, Answer]]:
    if not isinstance(raw, dict):
        raise BadPayload("not a faq model: answers")
    found: dict[str, dict[str, Answer]] = {}
    for label, by_language in raw.items():
        if label not in labels or not isinstance(by_language, list):
            raise BadPayload("not a faq model: answers")
        for triple in by_language:
            if not (isinstance(triple, list) and len(triple) == 3 and all(isinstance(x, str) for x in triple)):
                raise BadPayload("not a faq model: answers")
            found.setdefault(label, {})[triple[0]] = Answer(triple[1], triple[2])
    return found
