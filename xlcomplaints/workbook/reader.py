"""Read a branch workbook through the port: find our sheets by stamp, then read them.

The result keeps, next to the records, where each sheet's columns really are, so a
refresh writes computed cells exactly where the office's layout has them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from xlcomplaints.core.custom_stages import check_office_columns, find_columns, wanted_columns
from xlcomplaints.core.lists import BUILT_IN, OfficeLists, read_lists, specs_with
from xlcomplaints.core.models import (
    BranchData,
    CalendarEntry,
    CallbackAttempt,
    Complaint,
    OfficeColumn,
    Record,
    Settings,
    TrackingStep,
)
from xlcomplaints.core.policy import default_policy
from xlcomplaints.core.problems import Level, Problem, register_messages
from xlcomplaints.core.rows import HEADER_SCAN_ROWS, Layout, looked_for, read_table
from xlcomplaints.core.settings import read_settings
from xlcomplaints.core.validation import COMPUTED_KEYS, DigestTap
from xlcomplaints.i18n import pick, say
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import migrations
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
_DESCRIBE = ("“{sheet}”表的“{column}”列（查找了表头：{looked}）",
             "the '{column}' column of sheet '{sheet}' (looked for headers: {looked})")
_M = TypeVar("_M", bound=Record)


@dataclass(frozen=True)
class MissingColumn:
    """A column a flow needs (``Column.needed_for``) that a sheet of ours does not have under any
    of its headers: the sheet's name as found, and the column."""

    sheet: str
    column: Column

    def describe(self, lang: str) -> str:
        return say(_DESCRIBE, lang, sheet=self.sheet, column=pick(lang, self.column.zh, self.column.en),
                   looked=looked_for(self.column, pick(lang, "zh", "en")))


@dataclass
class BranchRead:
    """A branch workbook as read: records, where they sit, and what was wrong."""

    data: BranchData
    stamp: Stamp
    #: The office's lists (its Lists sheet; the built-in ones without it, or a head office's given).
    lists: OfficeLists
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


#: What to do about a workbook this program does not read: (zh, en) by case.
VERSION_HINTS = {
    "newer": ("请升级 xlcomplaints。", "Install a newer xlcomplaints."),
    "upgrade": ("请运行 xlcomplaints upgrade {path} 升级该工作簿（会保留备份）。",
                "Run xlcomplaints upgrade {path} to bring the workbook up to date (a backup is kept)."),
    "new": ("请用 xlcomplaints new 新建后迁移数据。", "Create one with xlcomplaints new and move the data over."),
}


def readable(have: str, current: str) -> bool:
    """Semver as the README states it: the same major version, and a minor no newer than ours;
    a patch-newer workbook (1.1.1 read by 1.1.0) changed looks only, and is read as well."""
    h, w = version_tuple(have), version_tuple(current)
    return h[:1] == w[:1] and h[:2] <= w[:2] and h[0] >= 0


def check_version(stamp: Stamp, kind: str, current: str, label: str) -> None:
    """Refuse a workbook of another kind, or of a template version this program does not read,
    saying what to do: a newer one needs a newer xlcomplaints, an older one ``upgrade`` (when a
    chain of migration steps leads from it) or a new workbook."""
    if stamp.kind != kind:
        raise wrong_kind(label, stamp.kind, kind)
    if readable(stamp.version, current):
        return
    if version_tuple(stamp.version) > version_tuple(current):
        case = "newer"
    elif kind == B.BRANCH_TEMPLATE_KIND and migrations.path(stamp.version, current) is not None:
        case = "upgrade"
    else:
        case = "new"
    zh, en = VERSION_HINTS[case]
    raise WorkbookError("file.version_unsupported", path=label, version=stamp.version,
                        supported=supported_range(current), hint_zh=zh.format(path=label),
                        hint_en=en.format(path=label))


def upgrade_available(stamp: Stamp, current: str = B.BRANCH_TEMPLATE_VERSION) -> bool:
    """A readable workbook of an older minor version: ``upgrade`` would bring it up to date."""
    return version_tuple(stamp.version)[:2] < version_tuple(current)[:2] and readable(stamp.version, current)


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


def read_branch(port: WorkbookPort, *, lang: str = "zh", lists: OfficeLists | None = None,
                digest: bool = True) -> BranchRead:
    """Read every input sheet; raises WorkbookError only when the file as a whole is unusable.

    The office's lists come from its Lists sheet (the built-in ones without it); ``lists`` (a head
    office's, from ``--policy``) replace those it gives. ``digest``: take the computed cells' checksum
    (``BranchRead.computed_digest``, what refresh and validate compare); a consolidation, which never
    looks at it, reads without (a blake2b of every row's grey cells: 32 M instructions, 5 % of a 500-complaint
    bench file's read in a worker, docs/benchmarks.md)."""
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

    own = BUILT_IN
    if "lists" in sheets:
        own, p = read_lists(port.values(sheets["lists"]), sheets["lists"])
        problems += p
    office = lists.over(own) if lists is not None else own
    specs = specs_with({**SPECS, "policy": B.POLICY}, office)
    if "settings" in sheets:
        settings, p = read_settings(port.values(sheets["settings"]), sheets["settings"], date1904=date1904,
                                    lang=lang, policy_spec=specs["policy"])
        problems += p
    else:  # deleted, or its hidden stamp lost: the template's defaults, said out loud
        settings = Settings(policy=default_policy(lang))
        title = B.SETTINGS.title(lang)
        problems.append(Problem(level=Level.WARNING, code=SETTINGS_MISSING, sheet=title,
                                params={"sheet": title, "branch_code": settings.branch_code}))

    taps: dict[str, DigestTap] = {}
    wanted = wanted_columns(settings)
    office_columns: dict[str, OfficeColumn] = {}

    def table(kind: str, model: type[_M]) -> list[_M]:
        if kind not in sheets:
            return []
        rows: Iterable[Sequence[object]] = port.rows(sheets[kind])
        head: list[Sequence[object]] = []
        if kind == "register" and wanted:  # the office's own columns the Settings name: kept as typed, per row
            rows = _kept(rows, head)

        def tap(layout: Layout) -> Callable[[int, Sequence[object]], None] | None:
            check: Callable[[int, Sequence[object]], None] | None = None
            if digest:
                taps[kind] = check = DigestTap(layout, COMPUTED_KEYS[kind])
            if not head:
                return check
            at = find_columns(head[layout.header_row - 1], wanted)
            found = {w: OfficeColumn(header=w, column=c) for w, c in at.items()}
            office_columns.update(found)
            cols = [(c.column - 1, c.values) for c in found.values()]

            def visit(r: int, row: Sequence[object]) -> None:
                if check is not None:
                    check(r, row)
                for i, values in cols:
                    if i < len(row) and row[i] is not None and row[i] != "":
                        values[r] = row[i]
            return visit

        layout, records, p = read_table(rows, specs[kind], sheets[kind], model,
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
                      callbacks=tuple(callbacks), calendar=tuple(calendar), office_columns=office_columns)
    if wanted:
        checked, p = check_office_columns(data, sheets["register"], date1904=date1904, lang=lang)
        problems += p
        data = replace(data, settings=checked)
    total = sum(t.digest() for t in taps.values()) if taps else None
    return BranchRead(data=data, stamp=stamp, lists=office, sheets=sheets, layouts=layouts, problems=problems, missing=missing,
                      computed_digest=total, computed_filled=any(t.filled() for t in taps.values()))


def _kept(rows: Iterable[Sequence[object]], head: list[Sequence[object]]) -> Iterator[Sequence[object]]:
    """``rows``, the first ``HEADER_SCAN_ROWS`` also kept in ``head`` (where the header row is found)."""
    for i, row in enumerate(rows):
        if i < HEADER_SCAN_ROWS:
            head.append(row)
        yield row


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
