"""Words of the report in its language: one place to pick zh or en and to name a code."""

from __future__ import annotations

from xlcomplaints.spec.vocab import Vocabulary


def t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def label(vocab: Vocabulary | None, code: str | None, lang: str) -> str:
    """A code's label; blank shows as such, and a code not in the vocabulary as itself."""
    if code is None:
        return t(lang, "（未填）", "(blank)")
    if vocab is None:
        return code
    try:
        return vocab.label(code, lang)
    except KeyError:
        return code
