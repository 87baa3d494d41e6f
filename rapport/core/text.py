"""Text normalisation shared by sorting, search and duplicate checks."""

from __future__ import annotations

import re
import unicodedata

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPLIT = re.compile(r"[^\w]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case and strip accents, keeping non-Latin scripts as they are ("Ștefan" → "stefan")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def words(text: str) -> list[str]:
    """Folded words of a text, splitting on anything that is not a letter or digit."""
    return [w for w in _SPLIT.split(fold(text)) if w and w != "_"]


def pinyin_words(text: str) -> list[str]:
    """Pinyin syllables of the Chinese characters in ``text`` (王小明 → wang, xiao, ming)."""
    if not has_han(text):
        return []
    from pypinyin import lazy_pinyin

    return [s for s in (fold(p) for p in lazy_pinyin("".join(_HAN.findall(text)))) if s.isalpha()]
