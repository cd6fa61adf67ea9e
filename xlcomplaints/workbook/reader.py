"""Read a branch workbook through the port: find our sheets by stamp, then read them.

The result keeps, next to the records, where each sheet's columns really are, so a
refresh writes computed cells exactly where the office's layout has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from xlcomplaints.core.models import (
    BranchData,
    CalendarEntry,
    CallbackAttempt,
    Complaint,
    Record,
    Settings,
    TrackingStep,
)
from xlcomplaints.core.policy import default_policy
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.core.rows import Layout, looked_for, read_table
from xlcomplaints.core.settings import read_settings
from xlcomplaints.core.validation import COMPUTED_KEYS, DigestTap
from xlcomplaints.spec import branch as B
from xlcomplaints.spec.model import Column, Need, SheetSpec
from xlcomplaints.workbook.adopt import stamp_lost
from xlcomplaints.workbook.errors import WorkbookError, wrong_kind
from xlcomplaints.workbook.port import WorkbookPort
from xlcomplaints.workbook.stamp import SHEET_NAME, TEMPLATE_NAME, Stamp, version_tuple

SPECS: dict[str, SheetSpec] = {s.kind: s for s in B.BRANCH_SHEETS}
SETTINGS_MISSING = "settings.missing"
FORMULA_ERROR = "cell.formula_error"
MESSAGES = {
    SETTINGS_MISSING: (
        "找不到“{sheet}”工作表（已删除，或它隐藏的模板标记丢失了），已按默认设置计算：网点代码 {branch_code}、"
        "默认时限规则。在“{sheet}”表恢复之前不会自动编号。请从备份恢复该表，或从 xlcomplaints new 新建的"
        "工作簿中整表复制过来后填好。",
        "No '{sheet}' sheet (deleted, or its hidden template mark lost): the defaults were used — branch code "
        "{branch_code}, the default SLA limits. No complaint numbers are assigned until '{sheet}' is back: restore "
        "it from a backup, or copy the whole sheet from a workbook made with xlcomplaints new and fill it in."),
    FORMULA_ERROR: (
        "“{column}”显示错误值 {value}（公式出错），按空白处理。请改正公式，或直接填入内容。",
        "'{column}' shows the error value {value} (a formula that failed); it is read as blank. Correct the "
        "formula, or type the value in."),
}
register_messages(MESSAGES)
_M = TypeVar("_M", bound=Record)


@dataclass(frozen=True)
class MissingColumn:
    """A column a flow needs (``Column.needed_for``) that a sheet of ours does not have under any
    of its headers: the sheet's name as found, and the column."""

    sheet: str
    column: Column

    def describe(self, lang: str) -> str:
        if lang == "zh":
            return f"“{self.sheet}”表的“{self.column.zh}”列（查找了表头：{looked_for(self.column)}）"
        return f"the '{self.column.en}' column of sheet '{self.sheet}' (looked for headers: {looked_for(self.column, 'en')})"


@dataclass
class BranchRead:
    """A branch workbook as read: records, where they sit, and what was wrong."""

    data: BranchData
    stamp: Stamp
    sheets: dict[str, str]  # kind → actual sheet name
    layouts: dict[str, Layout] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    missing: list[MissingColumn] = field(default_factory=list)
    #: The checksum of the computed cells as read (core.validation.DigestTap), all sheets together,
    #: and whether any of them holds something.
    computed_digest: int | None = None
    computed_filled: bool = True

    def missing_for(self, need: Need) -> list[MissingColumn]:
        return [m for m in self.missing if need in m.column.needed_for]


def supported_range(current: str) -> str:
    major = current.split(".")[0]
    return f"{major}.0.0 – {current}"


def check_version(stamp: Stamp, kind: str, current: str, label: str) -> None:
    if stamp.kind != kind:
        raise wrong_kind(label, stamp.kind, kind)
    have, want = version_tuple(stamp.version), version_tuple(current)
    if have[:1] != want[:1] or have > want:
        newer = have > want
        raise WorkbookError(
            "file.version_unsupported", path=label, version=stamp.version, supported=supported_range(current),
            hint=("请升级 xlcomplaints。" if newer else "请用 xlcomplaints new 新建后迁移数据。"),
        )


def find_stamps(port: WorkbookPort) -> tuple[Stamp, dict[str, str]]:
    """The template stamp and our sheets by kind (a sheet the office renamed is still found)."""
    template: Stamp | None = None
    sheets: dict[str, str] = {}
    existing = set(port.sheet_names())
    for n in port.names():
        if n.name.lower() == TEMPLATE_NAME and n.local_sheet is None:
            template = Stamp.parse(n.value)
        elif n.name.lower() == SHEET_NAME and n.local_sheet in existing:
            s = Stamp.parse(n.value)
            if s is not None:
                sheets.setdefault(s.kind, n.local_sheet)
    if template is None:
        raise WorkbookError("file.not_ours", path=port.label)
    return template, sheets


def read_branch(port: WorkbookPort, *, lang: str = "zh") -> BranchRead:
    """Read every input sheet; raises WorkbookError only when the file as a whole is unusable."""
    try:
        stamp, sheets = find_stamps(port)
    except WorkbookError as e:  # no stamp: ours all the same (a round trip through .xls)? Say to adopt it.
        raise (stamp_lost(port) or e) if e.code == "file.not_ours" else e from None
    check_version(stamp, B.BRANCH_TEMPLATE_KIND, B.BRANCH_TEMPLATE_VERSION, port.label)
    if "register" not in sheets:
        raise stamp_lost(port) or WorkbookError("file.sheet_missing", path=port.label, sheet=B.REGISTER.title(lang))
    problems: list[Problem] = []
    layouts: dict[str, Layout] = {}
    missing: list[MissingColumn] = []
    date1904 = port.date1904

    if "settings" in sheets:
        settings, p = read_settings(port.values(sheets["settings"]), sheets["settings"], date1904=date1904,
                                    lang=lang)
        problems += p
    else:  # deleted, or its hidden stamp lost: the template's defaults, said out loud
        settings = Settings(policy=default_policy(lang))
        title = B.SETTINGS.title(lang)
        problems.append(Problem(level=Level.WARNING, code=SETTINGS_MISSING, sheet=title,
                                params={"sheet": title, "branch_code": settings.branch_code}))

    taps: dict[str, DigestTap] = {}

    def table(kind: str, model: type[_M]) -> list[_M]:
        if kind not in sheets:
            return []
        def tap(layout: Layout) -> DigestTap:
            taps[kind] = DigestTap(layout, COMPUTED_KEYS[kind])
            return taps[kind]

        layout, records, p = read_table(port.rows(sheets[kind]), SPECS[kind], sheets[kind], model,
                                        date1904=date1904, tap=tap if kind in COMPUTED_KEYS else None)
        problems.extend(_formula_errors(port, sheets[kind], p))
        if layout is not None:
            layouts[kind] = layout
        missing.extend(MissingColumn(sheets[kind], c) for c in SPECS[kind].columns
                       if c.needed_for and (layout is None or c.key not in layout.columns))
        return records

    complaints = table("register", Complaint)
    tracking = table("tracking", TrackingStep)
    callbacks = table("callbacks", CallbackAttempt)
    calendar = table("calendar", CalendarEntry)
    for kind in ("overdue", "summary"):
        if kind not in sheets:
            problems.append(Problem(level=Level.WARNING, code="file.sheet_missing", sheet=SPECS[kind].title(lang),
                                    params={"path": port.label, "sheet": SPECS[kind].title(lang)}))
    data = BranchData(settings=settings, complaints=tuple(complaints), tracking=tuple(tracking),
                      callbacks=tuple(callbacks), calendar=tuple(calendar))
    digest = sum(t.digest() for t in taps.values()) if taps else None
    return BranchRead(data=data, stamp=stamp, sheets=sheets, layouts=layouts, problems=problems, missing=missing,
                      computed_digest=digest, computed_filled=any(t.filled() for t in taps.values()))


def _formula_errors(port: WorkbookPort, sheet: str, problems: list[Problem]) -> list[Problem]:
    """Required cells read as blank that show an error value (``#N/A``) say so: the clerk sees
    ``#N/A`` there, not an empty cell. Looked up only when a required cell is blank."""
    if not any(q.code == "required" for q in problems):
        return problems
    try:
        errors = port.error_cells(sheet)
    except Exception:  # the values were read; the second look is only for a better message
        return problems
    out = []
    for q in problems:
        shown = errors.get(q.cell) if q.code == "required" and q.cell else None
        out.append(q if shown is None else q.model_copy(
            update={"code": FORMULA_ERROR, "value": shown, "params": {**q.params, "value": shown}}))
    return out
