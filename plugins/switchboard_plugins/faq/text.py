"""Text into terms: the one place that knows English from Chinese.

English gets two views, as scikit-learn's ``TfidfVectorizer`` would build them: the
Snowball stems of its words (unigrams and bigrams, so "top up" differs from "top" and
"up") and the character 2-5-grams inside each word padded with spaces (``char_wb``:
spelling mistakes and inflections still share most of their n-grams). Chinese has no
spaces, so runs of CJK characters give character 1-3-grams instead of words: a word
segmenter (jieba) would add ~20 MB of dictionary and ~1 s of start-up to the
assistant's cold start and makes its own mistakes on short customer messages, while
bigrams over characters already cover most two-character words (docs/assistants/faq.md).

The language of a message is the share of CJK characters among its letters.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+", re.UNICODE)
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+")
CHINESE_SHARE = 0.3  # at least this share of CJK letters makes a message Chinese
CHAR_SIZES = (2, 3, 4, 5)
CJK_SIZES = (1, 2, 3)

# the three blocks of features; each is weighted and normalised on its own
WORDS, CHARS, HANZI = "w", "c", "h"
BLOCKS = (WORDS, CHARS, HANZI)


def normalise(text: str) -> str:
    """Full-width letters and digits folded (NFKC), lower case, one space between words."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def language_of(text: str) -> str | None:
    """``"zh"`` when CJK characters are at least 30% of the letters, ``"en"`` when there are
    other letters, ``None`` for a message without letters ("?", "123")."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    cjk = sum(len(run) for run in CJK_RUN.findall(text))
    return "zh" if cjk / len(letters) >= CHINESE_SHARE else "en"


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    import snowballstemmer  # type: ignore[import-untyped]  # ~30 ms (every language): loaded on first text

    stem_word: Callable[[str], str] = snowballstemmer.stemmer("english").stemWord
    return lru_cache(maxsize=65536)(stem_word)


def terms(text: str) -> dict[str, list[str]]:
    """The terms of each block (repeats kept: they are counted), from raw text."""
    clean = normalise(text)
    latin = CJK_RUN.sub(" ", clean)
    stem = _stemmer()
    words = [stem(word) for word in WORD.findall(latin)]
    word_terms = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    char_terms: list[str] = []
    for token in latin.split():
        padded = f" {token} "
        for size in CHAR_SIZES:
            char_terms.extend(padded[i:i + size] for i in range(len(padded) - size + 1))
    hanzi_terms: list[str] = []
    for run in CJK_RUN.findall(clean):
        for size in CJK_SIZES:
            hanzi_terms.extend(run[i:i + size] for i in range(len(run) - size + 1))
    return {WORDS: word_terms, CHARS: char_terms, HANZI: hanzi_terms}
