"""Recognise a branch workbook whose hidden stamps were lost, and restamp it (``xlcomplaints adopt``).

A round trip through ``.xls`` or another program drops hidden defined names, our template
stamp among them; an office may also have made its register by hand from our column names.
Such a workbook is recognised by its sheets and headers: the Register by a header row holding
the columns deadlines count from (受理时间, 严重程度, 有效性 — or the headers offices use for
them) and at least ``MIN_REGISTER_COLUMNS`` of its columns; the other sheets by their title, or
for Tracking, Callbacks and Calendar by a header row with all their required columns. Adopting
writes the stamps through the lossless package writer (backup kept) and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from xlcomplaints.core import cells
from xlcomplaints.core.problems import register_messages
from xlcomplaints.core.rows import HEADER_SCAN_ROWS, find_layout
from xlcomplaints.i18n import pick
from xlcomplaints.spec import branch as B
from xlcomplaints.spec.model import Need, SheetSpec
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.package import XlsxPackage
from xlcomplaints.workbook.port import WorkbookPort
from xlcomplaints.workbook.safety import save_refusals
from xlcomplaints.workbook.stamp import (
    SHEET_NAME,
    TEMPLATE_NAME,
    Stamp,
    sheet_stamp,
    template_stamp,
)

#: A header row is a register's when it has the columns deadlines need and this many of its columns.
MIN_REGISTER_COLUMNS = 5
#: Sheets found by a header row when their title is not ours (the others only by title).
BY_HEADERS: tuple[SheetSpec, ...] = (B.REGISTER, B.TRACKING, B.CALLBACKS, B.CALENDAR)

MESSAGES = {
    "file.stamp_lost": (
        "{path} 看起来是 xlcomplaints 的网点工作簿（找到了{found}），但隐藏的模板标记丢失了（另存为 .xls 或用其他程序"
        "保存过）。请运行 xlcomplaints adopt {path} 重新标记（会保留备份），然后再试。",
        "{path} looks like an xlcomplaints branch workbook ({found_en} found), but its hidden template stamp was "
        "lost (saved as .xls or by another program). Run xlcomplaints adopt {path} to restamp it (a backup is "
        "kept), then try again."),
    "adopt.not_ours": (
        "{path} 不能认作 xlcomplaints 网点工作簿：没有哪张工作表的表头含有{columns}等列（或其常用别名），"
        "未写入任何内容。请用 xlcomplaints new 新建工作簿，再把数据复制进去。",
        "{path} cannot be recognised as an xlcomplaints branch workbook: no sheet has a header row with "
        "{columns_en} (or the other headers offices use for them); nothing was written. Create one with "
        "xlcomplaints new and copy the data in."),
}
register_messages(MESSAGES)


@dataclass
class Recognised:
    """Our sheets in a workbook, by kind, and how each was found ("stamp", "title", "headers")."""

    sheets: dict[str, str] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, sheet: str, how: str) -> None:
        if kind not in self.sheets and sheet not in self.sheets.values():
            self.sheets[kind], self.how[kind] = sheet, how

    def titles(self, lang: str) -> str:
        specs = {s.kind: s for s in B.BRANCH_SHEETS}
        quoted, lang = pick(lang, ("“{}”", "zh"), ("'{}'", "en"))
        return pick(lang, "、", ", ").join(quoted.format(specs[k].title(lang)) for k in self.sheets)


class _Heads:
    """The first rows of each sheet, read once (a sheet is tried against several specs)."""

    def __init__(self, port: WorkbookPort) -> None:
        self.port = port
        self.rows: dict[str, list[list[object]]] = {}

    def __call__(self, sheet: str) -> list[list[object]]:
        if sheet not in self.rows:
            try:
                self.rows[sheet] = list(islice(self.port.rows(sheet), HEADER_SCAN_ROWS))
            except WorkbookError:  # a chart sheet, a damaged one: not a table of ours
                self.rows[sheet] = []
        return self.rows[sheet]


def _table_like(head: list[list[object]], sheet: str, spec: SheetSpec) -> bool:
    """A header row of ``spec`` in the first rows: the Register's with the columns deadlines
    need and ``MIN_REGISTER_COLUMNS`` of its columns, another sheet's with its required ones."""
    layout, _ = find_layout(head, spec, sheet)
    if layout is None:
        return False
    if spec is B.REGISTER:
        needed = [c.key for c in spec.columns if Need.DEADLINES in c.needed_for]
        return all(k in layout.columns for k in needed) and len(layout.columns) >= MIN_REGISTER_COLUMNS
    return all(c.key in layout.columns for c in spec.columns if c.required)


def recognise(port: WorkbookPort) -> Recognised:
    """Which sheets are ours: by the stamps that survived, by title, then by header row."""
    found = Recognised()
    names = port.sheet_names()
    heads = _Heads(port)
    kinds = {spec.kind for spec in B.BRANCH_SHEETS}
    for n in port.names():
        stamp = Stamp.parse(n.value) if n.name.lower() == SHEET_NAME and n.local_sheet in names else None
        if stamp is not None and stamp.kind in kinds and n.local_sheet is not None:
            found.add(stamp.kind, n.local_sheet, "stamp")
    titles = {cells.header_key(t): spec for spec in B.BRANCH_SHEETS for t in (spec.zh, spec.en, spec.kind)}
    for sheet in names:
        spec = titles.get(cells.header_key(sheet))
        if spec is not None and (spec not in BY_HEADERS or _table_like(heads(sheet), sheet, spec)):
            found.add(spec.kind, sheet, "title")
    for spec in BY_HEADERS:
        for sheet in names:
            if spec.kind in found.sheets:
                break
            if sheet not in found.sheets.values() and _table_like(heads(sheet), sheet, spec):
                found.add(spec.kind, sheet, "headers")
    return found


def stamp_lost(port: WorkbookPort) -> WorkbookError | None:
    """The error that says to run ``adopt``, when a workbook without its stamp is recognisably ours."""
    found = recognise(port)
    if "register" not in found.sheets:
        return None
    return WorkbookError("file.stamp_lost", path=port.label, found=found.titles("zh"), found_en=found.titles("en"))


@dataclass
class Adopted:
    sheets: dict[str, str]
    how: dict[str, str]
    missing: list[str]  # kinds not found (refresh, Settings…: what the caller should say)
    changed: bool
    backup: Path | None = None


def adopt(path: Path) -> Adopted:
    """Stamp the workbook at ``path`` as a branch workbook of the current template. Raises
    ``adopt.not_ours``, writing nothing, when no Register is recognised; the save refuses if the
    file changes meanwhile (the package is opened first, so its check covers what was read)."""
    from xlcomplaints.workbook.file import FileWorkbook

    package = XlsxPackage.open(path)
    port = FileWorkbook(path)
    found = recognise(port)
    if "register" not in found.sheets:
        needed = [c for c in B.REGISTER.columns if Need.DEADLINES in c.needed_for]
        raise WorkbookError("adopt.not_ours", path=port.label, columns="".join(f"“{c.zh}”" for c in needed),
                            columns_en=", ".join(f"'{c.en}'" for c in needed))
    package.set_defined_name(TEMPLATE_NAME, _quoted(template_stamp(B.BRANCH_TEMPLATE_KIND, B.BRANCH_TEMPLATE_VERSION,
                                                                   B.BRANCH_SHEETS)))
    specs = {s.kind: s for s in B.BRANCH_SHEETS}
    for kind, sheet in found.sheets.items():
        package.set_defined_name(SHEET_NAME, _quoted(sheet_stamp(specs[kind])), sheet)
    changed = bool(package.changed_parts())
    backup = _save(package, path) if changed else None
    missing = [s.kind for s in B.BRANCH_SHEETS if s.kind not in found.sheets]
    return Adopted(found.sheets, found.how, missing, changed, backup)


def _save(package: XlsxPackage, path: Path) -> Path | None:
    """Save as refresh does (atomic, backup kept), its refusals said as refresh says them."""
    with save_refusals(path):
        return package.save()


def _quoted(stamp: str) -> str:
    """A stamp as the templates store it: a text constant (``"branch|1.0.0|…"``)."""
    return f'"{stamp}"'


def kinds_titles(kinds: Sequence[str], lang: str) -> str:
    specs = {s.kind: s for s in B.BRANCH_SHEETS}
    return pick(lang, "、", ", ").join(specs[k].title(lang) for k in kinds)
