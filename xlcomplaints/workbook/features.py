"""What ``upgrade`` reads and sets on a worksheet besides cells — data validations, conditional formats,
protection — as methods of the package (``XlsxPackage`` takes them from here; the text work is in
``validations_xml`` and ``conditional_xml``). Edits go to the held sheet's text after </sheetData>.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from lxml import etree

from xlcomplaints.workbook import conditional_xml, validations_xml
from xlcomplaints.workbook.port import ConditionalFormat, Validation
from xlcomplaints.workbook.sheet_copy import merge_styles
from xlcomplaints.workbook.sheet_xml import parse_attrs
from xlcomplaints.workbook.xlsx_values import COL_NAMES

if TYPE_CHECKING:
    from xlcomplaints.workbook.sheet_xml import Sheet, XmlPart

#: CT_SheetProtection's defaults: what a <sheetProtection> without the attribute means.
PROTECTION_DEFAULTS = {"sheet": "0", "objects": "0", "scenarios": "0", "selectLockedCells": "0",
                       "selectUnlockedCells": "0", **dict.fromkeys(
                           ("formatCells", "formatColumns", "formatRows", "insertColumns", "insertRows",
                            "insertHyperlinks", "deleteColumns", "deleteRows", "sort", "autoFilter", "pivotTables"),
                           "1")}



_STYLE = re.compile(r"""\ss\s*=\s*["'](\d+)["']""")


def _start(cell: str) -> str:
    """A cell's start tag (cells are held with their leading whitespace)."""
    return cell[: cell.find(">") + 1]


def _restyled(cell: str, xf: int) -> str:
    """The cell with its style ``xf``, everything else as it was."""
    gt = cell.find(">")
    closed = int(cell[gt - 1] == "/")
    head = _STYLE.sub("", cell[: gt - closed]) + f' s="{xf}"'
    return head + cell[gt - closed :]


class SheetFeatures:
    """Validations, conditional formats and protection of a package's worksheets."""

    if TYPE_CHECKING:
        workbook_part: str
        _wb_rels: str

        def _worksheet(self, name: str) -> Sheet: ...

        def _touch(self, name: str) -> None: ...

        def _xml(self, name: str) -> XmlPart: ...

        def _part_of(self, source: str, rels_name: str, kind: str) -> str | None: ...

    def validations(self, sheet: str) -> list[Validation]:
        """The sheet's data validations (``validations_xml``)."""
        sh = self._worksheet(sheet)
        return [validations_xml.parsed(v) for v in validations_xml.read(sh.post, sh.p)]

    def set_validations(self, sheet: str, keep: Callable[[Validation], bool], added: Sequence[Validation]) -> bool:
        """Keep the sheet's validations ``keep`` accepts and add ``added`` (each covering its areas;
        unprefixed elements, as our templates write them); False when that changes nothing."""
        sh = self._worksheet(sheet)
        if sh.p and added:
            raise ValueError(f"{sheet}: a worksheet with a namespace prefix ({sh.p}) takes no new validations")
        new = validations_xml.replaced(sh.post, lambda v: keep(validations_xml.parsed(v)),
                                       [validations_xml.rendered(v) for v in added], sh.p)
        if new == sh.post:
            return False
        sh.post, sh.post_changed = new, True
        self._touch(sh.name)
        return True

    def _dxfs(self) -> list[etree._Element]:
        styles = self._part_of(self.workbook_part, self._wb_rels, "/styles")
        if styles is None:
            return []
        root = self._xml(styles).root
        found = root.find(f"{{{etree.QName(root).namespace}}}dxfs")
        return [] if found is None else [d for d in found if isinstance(d.tag, str)]

    def conditional_formats(self, sheet: str) -> list[ConditionalFormat]:
        """The sheet's conditional formats (``conditional_xml``)."""
        sh = self._worksheet(sheet)
        dxfs = self._dxfs()
        return [conditional_xml.parsed(e, dxfs) for e in conditional_xml.read(sh.post, sh.p)]

    def set_conditional_formats(self, sheet: str, keep: Callable[[ConditionalFormat], bool], source: SheetFeatures,
                                source_sheet: str) -> bool:
        """Keep the sheet's conditional formats ``keep`` accepts and add all of ``source_sheet``'s in
        ``source`` (their formats appended to this workbook's styles), after the kept ones in priority."""
        sh, src = self._worksheet(sheet), source._worksheet(source_sheet)
        if sh.p or src.p:
            raise ValueError(f"{sheet}: a worksheet with a namespace prefix takes no new conditional formats")
        dxfs = self._dxfs()
        kept = [e for e in conditional_xml.read(sh.post) if keep(conditional_xml.parsed(e, dxfs))]
        added = conditional_xml.read(src.post)
        styles = self._part_of(self.workbook_part, self._wb_rels, "/styles")
        source_styles = source._part_of(source.workbook_part, source._wb_rels, "/styles")
        if styles is None or source_styles is None:
            raise ValueError("no styles part")
        _, dxf_map = merge_styles(source._xml(source_styles).root, self._xml(styles).root, (),
                                  conditional_xml.dxf_ids(added))
        self._touch(styles)
        first = max([0, *conditional_xml.priorities(kept)]) + 1
        new = conditional_xml.replaced(sh.post, lambda e: e in kept,
                                       conditional_xml.renumbered(added, dxf_map, first))
        if new == sh.post:
            return False
        sh.post, sh.post_changed = new, True
        self._touch(sh.name)
        return True

    def copy_styles(self, sheet: str, source: SheetFeatures, source_sheet: str,
                    cells: Mapping[tuple[int, int], tuple[int, int]], *, create: bool = False) -> bool:
        """Give cells of the sheet the formats ``source_sheet``'s cells have in ``source`` ((row, col)
        there → (row, col) here; the formats appended to this workbook's styles). Only cells that
        exist here (written first) take one, unless ``create``: then a cell missing here is made, blank
        with its format (a table's empty bordered rows); False when none changed."""
        src = source._worksheet(source_sheet)
        wanted: dict[tuple[int, int], int] = {}
        try:
            for (r, c), to in cells.items():
                row = src.row(r)
                found = _STYLE.search(_start(row.cells.get(c, ""))) if row is not None else None
                if found:
                    wanted[to] = int(found[1])
        finally:
            src.end_edit()
        if not wanted:
            return False
        styles = self._part_of(self.workbook_part, self._wb_rels, "/styles")
        source_styles = source._part_of(source.workbook_part, source._wb_rels, "/styles")
        if styles is None or source_styles is None:
            raise ValueError("no styles part")
        xf_map, _ = merge_styles(source._xml(source_styles).root, self._xml(styles).root, set(wanted.values()), ())
        self._touch(styles)
        sh, changed = self._worksheet(sheet), False
        try:
            for (r, c), xf in wanted.items():
                row = sh.row(r)
                if row is None and create:
                    row = sh.new_row(r)
                cell = row.cells.get(c) if row is not None else None
                if row is not None and cell is None and create:
                    cell = row.cells[c] = f'<{sh.p}c r="{COL_NAMES[c]}{r}"/>'
                    row.cols = sorted(row.cells)
                if row is not None and cell is not None:
                    row.cells[c] = _restyled(cell, xf_map[xf])
                    changed = True
        finally:
            sh.end_edit()
        if changed:
            self._touch(sh.name)
        return changed

    def protection(self, sheet: str) -> dict[str, str] | None:
        """The options of the sheet's <sheetProtection> that differ from the schema's defaults (booleans as
        0/1, so that any program's way of writing compares equal); None when it is not protected."""
        sh = self._worksheet(sheet)
        m = sh.px.protection.search(sh.post)
        if m is None:
            return None
        attrs = {k: {"true": "1", "false": "0"}.get(v, v) for k, v in parse_attrs(m[0]).items()}
        return {k: v for k, v in attrs.items() if PROTECTION_DEFAULTS.get(k) != v}

    def set_protection(self, sheet: str, attrs: Mapping[str, str]) -> bool:
        """The sheet's protection becomes ``attrs`` (it must have one: a sheet the office unprotected
        stays so); False when that changes nothing."""
        sh = self._worksheet(sheet)
        m = sh.px.protection.search(sh.post)
        if m is None or self.protection(sheet) == dict(attrs):
            return False
        new = f"<{sh.p}sheetProtection " + " ".join(f'{k}="{v}"' for k, v in attrs.items()) + "/>"  # as read: escaped
        sh.post, sh.post_changed = sh.post[: m.start()] + new + sh.post[m.end() :], True
        self._touch(sh.name)
        return True
