"""Words of the report in its language: one place to pick zh or en and to name a code."""

from __future__ import annotations

from xlcomplaints.i18n import pick
from xlcomplaints.spec.vocab import Vocabulary


def t(lang: str, zh: str, en: str) -> str:
    return pick(lang, zh, en)


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


#: Why a complaint is a typical case (``core.metrics.TYPICAL_REASONS``), in zh and en.
REASONS: dict[str, tuple[str, str]] = {
    "major": ("重大投诉", "major"), "escalated": ("投诉升级", "escalated"), "reopened": ("重新处理", "reopened"),
    "repeat": ("重复投诉", "repeat"), "late": ("超时", "late"),
}


def reasons_text(reasons: tuple[str, ...], lang: str) -> str:
    return t(lang, "、", ", ").join(t(lang, *REASONS[r]) for r in reasons)
