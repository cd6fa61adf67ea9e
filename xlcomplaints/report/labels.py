"""Words of the report in its language: one place to pick zh or en and to name a code."""

from __future__ import annotations

from xlcomplaints.i18n import pick, register_messages
from xlcomplaints.spec.vocab import Vocabulary

#: The note of an Overdue detail cut at a sheet's last row (``report.workbook.fit_overdue``): on the sheet,
#: the cover and the Issues sheet.
OVERDUE_CUT = "report.overdue_cut"
register_messages({OVERDUE_CUT: (
    "超时明细共 {total} 行，超过 Excel 工作表的行数上限：只列出前 {shown} 行（按严重程度、时限排列），"
    "另有 {left_out} 行未列出；各项统计仍按全部计算。",
    "The Overdue detail has {total} rows, more than an Excel sheet holds: the first {shown} (by severity, then "
    "due time) are listed and {left_out} are left out; every figure still counts them all."),
    f"{OVERDUE_CUT}.cover": ("超时明细另有 {left_out} 行超出 Excel 行数上限，未列出。",
                             "Overdue detail: {left_out} rows past Excel's row limit are not listed.")})


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
