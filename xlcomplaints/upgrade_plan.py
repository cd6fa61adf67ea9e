"""The planning half of ``upgrade``: each migration operation (``spec/migrations.py``) weighed against
the workbook as read and the current template, as changes to show (``--dry-run``) and to make.

An operation that finds nothing to do plans nothing; one that would write over the office's cells
refuses the whole upgrade (``WorkbookError``), before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import islice
from typing import Any, cast

from xlcomplaints.core import cells
from xlcomplaints.core.problems import a1
from xlcomplaints.core.rows import HEADER_SCAN_ROWS, Layout, find_layout
from xlcomplaints.i18n import pick
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import migrations as M
from xlcomplaints.upgrade_changes import Change, Planned
from xlcomplaints.upgrade_settings import SettingsPlanning, _blank
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.port import (
    MAX_ROW,
    CellValue,
    ConditionalFormat,
    Upgrades,
    Validation,
    WorkbookPort,
)
from xlcomplaints.workbook.reader import find_stamps
from xlcomplaints.workbook.stamp import SHEET_NAME, TEMPLATE_NAME, sheet_stamp, template_stamp

SPECS = {s.kind: s for s in B.BRANCH_SHEETS}

__all__ = ["SPECS", "Change", "Planned", "Planner"]


#: Attributes of a <sheetProtection> that hold a password (legacy hash, or the agile one).
PASSWORD = frozenset({"password", "hashValue", "saltValue", "algorithmName", "spinCount"})


def _head(port: WorkbookPort, sheet: str) -> list[list[object]]:
    return list(islice(port.rows(sheet), HEADER_SCAN_ROWS))


class Planner(SettingsPlanning):
    """Plans each operation against the workbook as read and the template; collects the changes."""

    def __init__(self, port: Upgrades, template: Upgrades, sheets: dict[str, str], template_sheets: dict[str, str],
                 lang: str) -> None:
        self.port, self.template, self.sheets, self.template_sheets, self.lang = (
            port, template, sheets, template_sheets, lang)
        self.changes: list[Planned] = []
        self.added: set[str] = set()  # kinds of sheet this run adds

    def add(self, code: Change, apply: Callable[[], object], **params: Any) -> None:
        self.changes.append(Planned(code, params, apply))

    def writer(self, sheet: str, writes: dict[tuple[int, int], CellValue]) -> Callable[[], None]:
        return lambda: self.port.write_cells(sheet, writes)

    def operation(self, op: M.Operation) -> None:
        match op:
            case M.AddSheet():
                self.add_sheet(op)
            case M.AddColumn():
                self.add_column(op)
            case M.RenameLabel():
                self.rename_label(op)
            case M.ExtendList():
                self.extend_list(op)
            case M.SettingsRows():
                self.settings_rows()
            case M.RefreshValidations():
                self.validations(op.sheet)
            case M.RefreshConditionalFormats():
                self.colouring(op.sheet)
            case M.RefreshProtection():
                self.protection(op.sheet)

    def layouts(self, kind: str) -> tuple[Layout, Layout] | None:
        """Where our columns are in the workbook's sheet and in the template's; None without both."""
        if kind not in self.sheets or kind not in self.template_sheets or kind not in SPECS or kind in self.added:
            return None
        mine, _ = find_layout(_head(self.port, self.sheets[kind]), SPECS[kind], self.sheets[kind])
        theirs, _ = find_layout(_head(self.template, self.template_sheets[kind]), SPECS[kind],
                                self.template_sheets[kind])
        return None if mine is None or theirs is None else (mine, theirs)

    def add_sheet(self, op: M.AddSheet) -> None:
        if op.kind in self.sheets or op.kind not in self.template_sheets:
            return  # the workbook has it, or the template has none (yet)
        title = self.template_sheets[op.kind]

        def apply() -> None:
            self.sheets[op.kind] = self.port.copy_sheet(self.template, op.kind)

        self.add(Change.SHEET_ADDED, apply, sheet=title)
        self.added.add(op.kind)  # copied whole: later operations of the run leave it be

    def add_column(self, op: M.AddColumn) -> None:
        found = self.layouts(op.sheet)
        if found is None or op.key not in found[1].columns or op.key in found[0].columns:
            return
        mine, theirs = found
        col, sheet = theirs.columns[op.key], self.sheets[op.sheet]
        label = SPECS[op.sheet].column(op.key).label(self.lang)
        if any(len(row) >= col and not _blank(row[col - 1]) for row in self.port.rows(sheet)):
            raise WorkbookError("upgrade.column_taken", path=self.port.label, sheet=sheet,
                                cell=a1(mine.header_row, col), column=label)
        def apply() -> None:
            self.port.write_cells(sheet, {(mine.header_row, col): label})
            self.port.copy_styles(sheet, self.template, self.template_sheets[op.sheet],
                                  {(theirs.header_row, col): (mine.header_row, col)})

        self.add(Change.COLUMN_ADDED, apply, sheet=sheet, cell=a1(mine.header_row, col), column=label)

    def rename_label(self, op: M.RenameLabel) -> None:
        found = self.layouts(op.sheet)
        if found is None:
            return
        mine, column, sheet = found[0], SPECS[op.sheet].column(op.key), self.sheets[op.sheet]
        old = {cells.header_key(op.old_zh): column.zh, cells.header_key(op.old_en): column.en}
        header = _head(self.port, sheet)[mine.header_row - 1]
        for c, value in enumerate(header, 1):  # the older label, where the workbook has it (the office's stays)
            new = old.get(cells.header_key(value)) if isinstance(value, str) else None
            if new is not None and (mine.columns.get(op.key) in (None, c)) and value != new:
                self.add(Change.LABEL_RENAMED, self.writer(sheet, {(mine.header_row, c): new}), sheet=sheet,
                         cell=a1(mine.header_row, c), old=value, new=new)
                return

    def extend_list(self, op: M.ExtendList) -> None:
        if op.sheet not in self.sheets or op.sheet not in self.template_sheets or op.sheet in self.added:
            return
        wanted = {cells.header_key(op.header_zh), cells.header_key(op.header_en)}
        mine = _column_under(list(self.port.rows(self.sheets[op.sheet])), wanted)
        theirs = _column_under(list(self.template.rows(self.template_sheets[op.sheet])), wanted)
        if mine is None or theirs is None:
            return
        (col, last, have), (_, _, listed) = mine, theirs
        known = {cells.header_key(v) for v in have}
        new = [v for v in listed if cells.header_key(v) not in known]
        if not new:
            return
        sheet = self.sheets[op.sheet]
        writes = {(last + i, col): cast("CellValue", v) for i, v in enumerate(new, 1)}
        self.add(Change.LIST_EXTENDED, lambda: self.port.write_cells(sheet, writes), sheet=sheet,
                 column=pick(self.lang, op.header_zh, op.header_en), values=", ".join(map(str, new)))

    def validations(self, kind: str) -> None:
        found = self.layouts(kind)
        if found is None:
            return
        mine, theirs = found
        sheet = self.sheets[kind]
        ours = set(mine.columns.values())
        key_at = {c: k for k, c in theirs.columns.items()}
        added = [m for v in self.template.validations(self.template_sheets[kind])
                 if (m := _moved(v, lambda c: mine.columns.get(key_at.get(c, "")),
                                 lambda r: r - theirs.header_row + mine.header_row)) is not None]

        def ours_only(v: Validation) -> bool:
            return bool(v.columns) and v.columns <= ours

        old = {(v.areas, v.meaning): v for v in self.port.validations(sheet) if ours_only(v)}
        new = {(v.areas, v.meaning): v for v in added}
        if old.keys() == new.keys():
            return
        changed = sorted({c for k in old.keys() ^ new.keys() for c in (old | new)[k].columns})
        names = {c: k for k, c in mine.columns.items()}
        spec = SPECS[kind]
        shown = ", ".join(spec.column(names[c]).label(self.lang) for c in changed if c in names)
        self.add(Change.VALIDATIONS, lambda: self.port.set_validations(sheet, lambda v: not ours_only(v), added),
                 sheet=sheet, columns=shown)

    def colouring(self, kind: str) -> None:
        found = self.layouts(kind)
        if found is None:
            return
        mine, theirs = found
        sheet, tsheet = self.sheets[kind], self.template_sheets[kind]
        template = self.template.conditional_formats(tsheet)
        span = set(range(1, max(theirs.columns.values()) + 1))

        def ours(cf: ConditionalFormat) -> bool:
            return bool(cf.columns) and cf.columns <= span

        have = [cf for cf in self.port.conditional_formats(sheet) if ours(cf)]
        if sorted(map(repr, ((cf.areas, cf.meaning) for cf in have))) == sorted(
                map(repr, ((cf.areas, cf.meaning) for cf in template))):
            return
        if mine.columns != theirs.columns or mine.header_row != theirs.header_row:
            self.add(Change.COLOURING_KEPT, lambda: None, sheet=sheet)
            return
        self.add(Change.COLOURING, lambda: self.port.set_conditional_formats(
            sheet, lambda cf: not ours(cf), self.template, tsheet), sheet=sheet)

    def protection(self, kind: str) -> None:
        if kind not in self.sheets or kind not in self.template_sheets or kind in self.added:
            return
        sheet = self.sheets[kind]
        mine, theirs = self.port.protection(sheet), self.template.protection(self.template_sheets[kind])
        if mine is None or theirs is None or mine == theirs or PASSWORD & mine.keys():
            return  # unprotected by the office, or its own password: the office's
        self.add(Change.PROTECTION, lambda: self.port.set_protection(sheet, theirs), sheet=sheet)

    def stamps(self, start: str) -> None:
        end = B.BRANCH_TEMPLATE_VERSION

        def apply() -> None:
            self.port.set_name(TEMPLATE_NAME, _quoted(template_stamp(B.BRANCH_TEMPLATE_KIND, end, B.BRANCH_SHEETS)))
            _, sheets = find_stamps(self.port)  # the sheets added by this run too
            for kind, sheet in sheets.items():
                if kind in SPECS:
                    self.port.set_name(SHEET_NAME, _quoted(sheet_stamp(SPECS[kind])), sheet)

        self.add(Change.STAMP, apply, start=start, end=end)


def _quoted(stamp: str) -> str:
    return f'"{stamp}"'


def _moved(v: Validation, col: Callable[[int], int | None], row: Callable[[int], int]) -> Validation | None:
    """The validation with its columns mapped by ``col`` and rows by ``row``, one column an area (None
    when a column has no place); an area to the sheet's last row still ends there."""
    areas = []
    for r1, c1, r2, c2 in v.areas:
        for c in range(c1, c2 + 1):
            to = col(c)
            if to is None:
                return None
            areas.append((row(r1), to, r2 if r2 == MAX_ROW else row(r2), to))
    return replace(v, areas=tuple(areas)) if areas else None


def _column_under(grid: Sequence[Sequence[object]], wanted: set[str]) -> tuple[int, int, list[object]] | None:
    """The column headed by one of ``wanted`` in the first rows: (column, its last filled row, its values)."""
    for r, row in enumerate(grid[:HEADER_SCAN_ROWS], 1):
        for c, value in enumerate(row, 1):
            if isinstance(value, str) and cells.header_key(value) in wanted:
                values = [(i, g[c - 1]) for i, g in enumerate(grid[r:], r + 1) if len(g) >= c and not _blank(g[c - 1])]
                return c, max([r, *(i for i, _ in values)]), [v for _, v in values]
    return None
