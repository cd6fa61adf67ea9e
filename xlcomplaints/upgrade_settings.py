"""The Settings half of ``upgrade``'s planning (``migrations.SettingsRows``): new setting rows, the titled
blocks (the office's stages, "more settings") and our rule table's dropdowns, nothing of the office's shifted
or written over; the rule is docs/sheets.md's (Settings: "Setting rows are read above the rule table…")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, cast

from xlcomplaints.core import cells
from xlcomplaints.core.problems import a1
from xlcomplaints.i18n import pick
from xlcomplaints.spec import branch as B
from xlcomplaints.upgrade_changes import Change
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.port import MAX_ROW, CellValue, Upgrades, Validation


class SettingsPlanning:
    """Planner's Settings operation (a mixin: the planner has the workbook, the template and ``add``)."""

    port: Upgrades
    template: Upgrades
    sheets: dict[str, str]
    template_sheets: dict[str, str]
    lang: str

    def add(self, code: Change, apply: Callable[[], object], **params: Any) -> None:
        raise NotImplementedError

    def settings_rows(self) -> None:
        """Settings rows the template has and the workbook lacks (``migrations.SettingsRows``), nothing
        shifted: new setting rows into the free rows above the rule table when all fit, else all of them
        under a titled "more settings" block; then the template's blocks the workbook lacks (the office's
        stages), as far below the rule table's header as the template has them (or under the sheet's last
        row); our rule table's dropdowns end above the first block added."""
        if "settings" not in self.sheets or "settings" not in self.template_sheets:
            return
        sheet, grid = self.sheets["settings"], self.port.values(self.sheets["settings"])
        tgrid = self.template.values(self.template_sheets["settings"])
        blocks = _blocks(tgrid)
        if not blocks:
            return
        (top, bottom), rest = blocks[0], blocks[1:]
        present = {cells.header_key(row[0]) for row in grid if row and isinstance(row[0], str)}
        fields = {cells.header_key(x): f.key for f in B.SETTINGS_FIELDS for x in (f.zh, f.en, f.key)}
        have = {fields.get(k, k) for k in present}
        missing = [r for r in range(top + 1, bottom + 1) if tgrid[r - 1] and isinstance(tgrid[r - 1][0], str)
                   and fields.get(cells.header_key(tgrid[r - 1][0]), cells.header_key(tgrid[r - 1][0])) not in have]
        titles = {cells.header_key(tgrid[b[0] - 1][0]) for b in rest}
        stop = next((r for r in range(2, len(grid) + 1) if grid[r - 1] and cells.header_key(grid[r - 1][0]) in titles),
                    None)
        end = stop or len(grid) + 1
        last = max([1, *(r for r in range(1, end) if not _blank_row(grid[r - 1]))])
        free = [r for r in range(last + 1, end) if _blank_row(grid[r - 1])]
        if stop is None:
            free += range(end, end + len(missing))
        fits = len(free) >= len(missing)
        template_dvs = self.template.validations(self.template_sheets["settings"])
        for r, at in zip(missing if fits else [], free, strict=False):
            self._copy_rows(sheet, tgrid, template_dvs, r, r, at, Change.SETTING_ADDED, row=at,
                            label=tgrid[r - 1][0])
        added = [b for b in rest[1:] if cells.header_key(tgrid[b[0] - 1][0]) not in present]
        if fits and not added:
            return
        bottom_row = max([0, *(r for r in range(1, len(grid) + 1) if not _blank_row(grid[r - 1]))])
        for first, last_row in rest[1:]:  # a table of the office's rows ends below its rows to fill in
            t = next((r for r in range(2, len(grid) + 1) if grid[r - 1]
                      and cells.header_key(grid[r - 1][0]) == cells.header_key(tgrid[first - 1][0])), None)
            if t is not None:
                bottom_row = max(bottom_row, t + last_row - first + B.CUSTOM_STAGE_ROWS)
        at = bottom_row + 2
        if stop is not None and rest[1:]:  # as far below the rule table's header as the template's next block
            theirs = rest[0][0] + _header_below(tgrid, rest[0][0])
            at = max(at, stop + _header_below(grid, stop) + rest[1][0] - theirs)
        need = at + (len(missing) + 1 if not fits else 0) + sum(b[1] - b[0] + 2 + B.CUSTOM_STAGE_ROWS for b in added)
        if need > MAX_ROW:
            raise WorkbookError("upgrade.settings_full", path=self.port.label, sheet=sheet, last=need,
                                labels="、".join(str(tgrid[r - 1][0]) for r in missing) or "—")
        if stop is not None:
            theirs = rest[0][0] + _header_below(tgrid, rest[0][0])
            below = titles | {cells.header_key(t) for t in B.MORE_SETTINGS_TITLE}  # the next block's title
            nxt = next((r for r in range(stop + 1, len(grid) + 1) if grid[r - 1]
                        and cells.header_key(grid[r - 1][0]) in below), at)
            self._rule_dropdowns(sheet, stop + _header_below(grid, stop), theirs, template_dvs, nxt - 2)
        if not fits:
            at = self._more_settings(sheet, tgrid, template_dvs, missing, at) + 2
        for first, last_row in added:
            self._copy_rows(sheet, tgrid, template_dvs, first, last_row, at, Change.SETTINGS_BLOCK_ADDED,
                            extra=B.CUSTOM_STAGE_ROWS, first=at, last=at + last_row - first + B.CUSTOM_STAGE_ROWS,
                            label=tgrid[first - 1][0])
            at += last_row - first + B.CUSTOM_STAGE_ROWS + 2

    def _rule_dropdowns(self, sheet: str, header: int, theirs: int, dvs: list[Validation], last: int) -> None:
        """Our rule table's dropdowns (header at row ``header``; the template's at ``theirs``) become the
        template's (the office's lists: ``=Lists_…``), from its first row down to row ``last``, above the
        blocks added below it."""
        old = [v for v in self.port.validations(sheet) if v.areas and all(a[0] == header + 1 for a in v.areas)]
        new = [replace(v, areas=tuple((header + 1, c1, last, c2) for _, c1, _, c2 in v.areas))
               for v in dvs if v.areas and all(a[0] == theirs + 1 for a in v.areas)]
        if not new or sorted(repr((v.areas, v.meaning)) for v in old) == sorted(repr((v.areas, v.meaning)) for v in new):
            return
        self.add(Change.VALIDATIONS, lambda: self.port.set_validations(sheet, lambda v: v not in old, new),
                 sheet=sheet, columns=f"{a1(header + 1, 1)}:{a1(last, max(a[3] for v in new for a in v.areas))}")

    def _more_settings(self, sheet: str, tgrid: Sequence[Sequence[object]], dvs: list[Validation],
                       rows: list[int], at: int) -> int:
        """The setting rows (template rows ``rows``) under the "more settings" title at row ``at``; its last row."""
        zh, en = B.MORE_SETTINGS_TITLE
        title = pick(self.lang, zh, en)
        note = pick(self.lang, *B.MORE_SETTINGS_NOTE)
        source = self.template_sheets["settings"]
        policy_title = _blocks(tgrid)[1][0]  # the rule table's title: its formats for ours
        writes: dict[tuple[int, int], CellValue] = {(at, 1): title, (at, 2): note}
        styles = {(policy_title, 1): (at, 1), (policy_title, 2): (at, 2)}
        cells_map: dict[tuple[int, int], tuple[int, int]] = {}
        for i, r in enumerate(rows, 1):
            for c, v in enumerate(tgrid[r - 1], 1):
                cells_map[(r, c)] = (at + i, c)
                if not _blank(v):
                    writes[(at + i, c)] = cast("CellValue", v)
        moved = _for_cells(dvs, cells_map)

        def apply() -> None:
            self.port.write_cells(sheet, writes)
            self.port.copy_styles(sheet, self.template, source, {**styles, **cells_map}, create=True)
            if moved:
                self.port.set_validations(sheet, lambda v: True, moved)

        for i, r in enumerate(rows, 1):
            self.add(Change.SETTING_ADDED, apply if i == 1 else (lambda: None), sheet=sheet, row=at + i,
                     label=tgrid[r - 1][0])
        return at + len(rows)

    def _copy_rows(self, sheet: str, tgrid: Sequence[Sequence[object]], dvs: list[Validation], top: int, bottom: int,
                   at: int, code: Change, extra: int = 0, **params: Any) -> None:
        """Template rows ``top``–``bottom`` copied (values, and the validations of their cells) to row ``at`` on;
        the ``extra`` rows below them too, blank with their formats (a table's rows to fill in)."""
        writes: dict[tuple[int, int], CellValue] = {
            (at + r - top, c): cast("CellValue", v) for r in range(top, bottom + 1)
            for c, v in enumerate(tgrid[r - 1], 1) if not _blank(v)}
        width = max(len(tgrid[r - 1]) for r in range(top, bottom + 1))
        placed = {(r, c): (at + r - top, c) for r in range(top, bottom + 1 + extra) for c in range(1, width + 1)}
        moved = _for_cells(dvs, placed)
        source = self.template_sheets["settings"]

        def apply() -> None:
            self.port.write_cells(sheet, writes)
            self.port.copy_styles(sheet, self.template, source, placed, create=True)  # blank cells too
            if moved:
                self.port.set_validations(sheet, lambda v: True, moved)

        self.add(code, apply, sheet=sheet, **params)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _for_cells(validations: Sequence[Validation], cells: dict[tuple[int, int], tuple[int, int]]) -> list[Validation]:
    """Validations of single cells copied elsewhere: each covering a cell of ``cells`` ((row, col) →
    (row, col)) becomes one at the cells' new places."""
    out = []
    for v in validations:
        targets = tuple((r, c, r, c) for r, c in (cells[k] for k in cells if any(
            a[0] <= k[0] <= a[2] and a[1] <= k[1] <= a[3] for a in v.areas)))
        if targets:
            out.append(replace(v, areas=targets))
    return out


def _header_below(grid: Sequence[Sequence[object]], title: int) -> int:
    """How many rows below a block's title its table's header is (the first row after it whose cells
    are all filled across two or more columns; 1 when none)."""
    for r in range(title + 1, min(len(grid), title + 4) + 1):
        if sum(not _blank(v) for v in grid[r - 1]) >= 3:
            return r - title
    return 1


def _blank_row(row: Sequence[object]) -> bool:
    return all(_blank(v) for v in row)


def _blocks(grid: Sequence[Sequence[object]]) -> list[tuple[int, int]]:
    """Runs of non-blank rows (first, last; 1-based), as blank rows separate them."""
    out: list[tuple[int, int]] = []
    start = None
    for r, row in enumerate(grid, 1):
        if _blank_row(row):
            if start is not None:
                out.append((start, r - 1))
            start = None
        elif start is None:
            start = r
    if start is not None:
        out.append((start, len(grid)))
    return out
