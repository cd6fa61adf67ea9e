"""How a value goes into a cell, for the xlsx writer (package.py): rows of a held sheet
(sheet_xml.Sheet) or of a streamed one (sheet_stream) edited cell by cell, an existing cell
rebuilt keeping its attributes, a shared formula handed on when its anchor is overwritten,
and whole rows replaced from a row down. These are the row edits the sheet streamer calls
back (sheet_stream.RowEditor).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.package_parts import PackageParts
from xlcomplaints.workbook.sheet_frame import Frame, Row
from xlcomplaints.workbook.sheet_xml import Sheet
from xlcomplaints.workbook.stream_base import EDIT_ROWS, NeedsEager, Patch, new_head, render_row
from xlcomplaints.workbook.xlsx_values import (
    COL_NAMES,
    MAX_COL,
    MAX_ROW,
    CellValue,
    Encoded,
    cell_ref,
    encode,
    parse_range,
    range_ref,
    unescape_text,
    union,
)
from xlcomplaints.workbook.xml_text import (
    DROP,
    META_ATTR,
    SHARED_ATTRS,
    START,
    T_ATTR,
    Tail,
    cell_xml,
    inner_xml,
    parse_attrs,
    plain_text,
    xml_escape,
    xml_unescape,
)


class CellEdits(PackageParts):
    """The cell and row edits of a package (see the module's docstring)."""

    def _worksheet(self, name: str) -> Sheet:
        ref = self.sheet(name)
        if ref.kind != "worksheet":
            raise ValueError(f"sheet {ref.name!r} is a {ref.kind}, not a worksheet")
        return self._held(ref.part)

    def _held(self, part: str) -> Sheet:
        """The part as a held sheet; writes recorded for streaming are applied to it first."""
        sheet = self._sheets.get(part)
        if sheet is None:
            try:
                sheet = self._sheets[part] = Sheet(part, self._inflate(part))
            except ValueError as e:  # text among the rows, a row number twice: readable, not safely writable
                raise WorkbookError("file.rows_unwritable", path=self.label, part=part) from e
            stream = self._streams.pop(part, None)
            if stream is not None:
                stream.apply(sheet)
        return sheet

    def apply_patch(self, sh: Sheet, patch: Patch) -> None:
        """A column write applied to a held sheet, a few thousand rows at a time."""
        rows = sorted(patch.rows)
        for start in range(0, len(rows), EDIT_ROWS):
            self._edit_rows(sh, {r: patch.items(r) for r in rows[start : start + EDIT_ROWS]})

    def _edit_rows(self, sh: Sheet, by_row: dict[int, list[tuple[int, CellValue]]]) -> None:
        """Write checked values, row by row; items are (col, value) in column order."""
        box = sh.dimension()
        changed = False
        top, left, bottom, right = MAX_ROW + 1, MAX_COL + 1, 0, 0  # written cells' box
        heads: dict[int, tuple[str, str]] = {}  # column -> new cells' attributes around the row
        tails = self.tails(sh.p)
        try:
            for r in sorted(by_row):
                items = by_row.pop(r)
                row = sh.row(r)
                if row is None:
                    if all(value is None for _, value in items):
                        continue
                    row = sh.new_row(r)
                edited, first, last = self.edit_row(sh, row, r, items, heads, tails)
                changed |= edited
                if first:
                    top, bottom = min(top, r), max(bottom, r)
                    left, right = min(left, first), max(right, last)
        finally:
            sh.end_edit()  # rows go back to compact storage, also after a failure half-way
            if changed:
                sh.set_dimension(union(box, (top, left, bottom, right) if bottom else None))
                self._touch(sh.name)

    def edit_row(
        self,
        sh: Frame,
        row: Row,
        r: int,
        items: Iterable[tuple[int, CellValue]],
        heads: dict[int, tuple[str, str]],
        tails: Tail,
    ) -> tuple[bool, int, int]:
        """Write (col, value) items into a parsed row; (changed?, first and last col written)."""
        p, row_style, cells_, added, rs = sh.p, sh.row_style(row), row.cells, [], str(r)
        changed, first, last = False, 0, 0
        for c, value in items:
            if value is not None:
                first = first or c
                last = c
            old = cells_.get(c)
            if old is not None:
                if old[0] == "<":  # _overwrite's first check, inlined: a rerun meets this most
                    tail = tails(value) if value is not None else "/>"
                    if old.endswith(tail):
                        attrs = old[: len(old) - len(tail)]
                        if ">" not in attrs and "t" not in attrs and "m" not in attrs:
                            continue
                changed |= self._overwrite(sh, row, r, c, old, value, tails)
            elif value is not None:
                if row_style is False:  # the <col> style, as Excel gives a new cell
                    head = heads.get(c) or new_head(sh, heads, c)
                else:
                    head = (f' r="{COL_NAMES[c]}', f'" s="{row_style}"' if row_style else '"')
                cells_[c] = f"<{p}c{head[0]}{rs}{head[1]}{tails(value)}"
                added.append(c)
        if added:
            changed = True
            if row.cols and added[0] < row.cols[-1]:
                row.cols = sorted(cells_)
            else:
                row.cols += added
            sh.widen_spans(row, added[0], added[-1])
        return changed, first, last

    def replace_into(
        self, sh: Sheet, first_row: int, rows: list[tuple[CellValue, ...]], autofilter: bool,
        protect: str | None = None,
    ) -> None:
        """replace_rows on a held sheet: new rows are kept as their UTF-8 bytes only."""
        heads: list[tuple[str, str]] = []
        tails = self.tails(sh.p)
        new = [row for r, values in enumerate(rows, first_row) if (row := render_row(sh, heads, tails, r, values))]
        if sh.drop_rows_from(first_row):
            self._drop_calc_chain()  # calcChain must not list cells that are gone
        box = sh.extent()
        for r, data, first, last in new:
            sh.add_row(r, data)
            box = union(box, (r, first, r, last))
        del new
        sh.set_dimension(box)
        if autofilter:
            sh.extend_autofilter(first_row + len(rows) - 1)
        if protect is not None:
            sh.ensure_protection(protect)
        self._touch(sh.name)

    def _overwrite(
        self, sh: Frame, row: Row, r: int, c: int, old: str, value: CellValue, tails: Tail
    ) -> bool:
        """Rebuild an existing cell keeping its attributes (s=, ...) and extLst; False if same."""
        body = old if old[0] == "<" else old.lstrip()
        tail = tails(value) if value is not None else "/>"
        if body.endswith(tail):  # what a rerun meets: the value we wrote last time
            head = body[: len(body) - len(tail)]
            if ">" not in head and "t" not in head and "m" not in head:
                return False  # head holds no t=, cm=, vm=: rebuilding gives head + tail, the same
        gt = body.find(">")  # c's attributes (r s t cm vm ph) never contain ">"
        closed = int(body[gt - 1] == "/")
        attrs = body[len(sh.p) + 2 : gt - closed]
        content = "" if closed else body[gt + 1 : body.rindex("<")]
        ext = ""
        if "extLst" in content:
            found = sh.px.ext.search(content)
            ext = found[0] if found else ""
        clean = DROP.sub("", attrs) if "t" in attrs or "m" in attrs else attrs
        new = cell_xml(sh.p, clean, encode(value, self.date1904), ext) if ext else f"<{sh.p}c{clean}{tail}"
        if new == body or self._holds(sh, attrs, content, encode(value, self.date1904)):
            return False
        formula = sh.px.f.search(content) if sh.f_open in content else None
        if formula is not None:
            if not isinstance(sh, Sheet):
                raise NeedsEager  # streamed sheets are checked for this before they are written
            fa = parse_attrs(START.match(formula[0])[1])  # type: ignore[index]
            if fa.get("t") == "shared" and fa.get("ref") and "si" in fa:
                self._promote_shared(sh, r, c, fa, xml_unescape(inner_xml(formula[0])))
            self._drop_calc_chain()
        row.cells[c] = old[: len(old) - len(body)] + new
        return True

    def _holds(self, sh: Frame, attrs: str, content: str, enc: Encoded) -> bool:
        """Does the cell already hold this value (e.g. same text as a shared string)?"""
        px = sh.px
        if sh.f_open in content and px.has_f.search(content):
            return False
        if "m" in attrs and META_ATTR.search(attrs):
            return False
        if enc is None:
            return sh.v_open not in content and sh.is_open not in content
        i = attrs.find(' t="')  # how Excel writes it; anything else goes to the regex
        found = None if i >= 0 or "t" not in attrs else T_ATTR.search(attrs)
        t = attrs[i + 4 : attrs.find('"', i + 4)] if i >= 0 else found[1] if found else "n"
        kind, text = enc
        if t != ("b" if kind == "b" else "n") and (
            kind != "s" or t not in ("s", "inlineStr", "str")
        ):
            return False
        if t == "inlineStr":
            inline = px.inline.search(content)
            return inline is not None and plain_text(inline[0]) == text
        v_el = px.v.search(content) if sh.v_open in content else None
        if v_el is None:
            return False
        v = xml_unescape(v_el[1] or "")
        if t == "s":
            return v.strip().isdigit() and self._shared_string(int(v)) == text
        if t == "str":
            return unescape_text(v) == text
        try:
            return float(v) == float(text)
        except ValueError:
            return v.strip() == ("true" if text == "1" else "false")

    def _promote_shared(
        self, sh: Sheet, r0: int, c0: int, fa: dict[str, str], formula: str
    ) -> None:
        """The overwritten cell anchored a shared formula: hand it to the next cell, translated."""
        span = parse_range(fa["ref"])
        if span is None:
            return
        r1, c1, r2, c2 = span
        followers = []
        for r in sh.row_nums[bisect_left(sh.row_nums, r1) : bisect_right(sh.row_nums, r2)]:
            row = sh.row(r)
            assert row is not None
            for c in row.cols[bisect_left(row.cols, c1) : bisect_right(row.cols, c2)]:
                found = sh.px.f.search(row.cells[c])
                if found is None or (r, c) == (r0, c0):
                    continue
                a = parse_attrs(START.match(found[0])[1])  # type: ignore[index]
                if a.get("t") == "shared" and a.get("si") == fa["si"] and "ref" not in a:
                    followers.append((r, c, found))
        if not followers:
            return
        rows, cols = [f[0] for f in followers], [f[1] for f in followers]
        r, c, found = followers[0]
        if (r, c) != (min(rows), min(cols)):
            # No follower can anchor the rest from their top-left corner: give each its own formula.
            for r, c, found in followers:
                attrs = SHARED_ATTRS.sub("", START.match(found[0])[1])  # type: ignore[index]
                self._set_formula(sh, r, c, found, attrs, self._translate(formula, r0, c0, r, c))
            return
        attrs = START.match(found[0])[1]  # type: ignore[index]
        ref = range_ref(min(rows), min(cols), max(rows), max(cols))
        self._set_formula(
            sh, r, c, found, f'{attrs} ref="{ref}"', self._translate(formula, r0, c0, r, c)
        )

    @staticmethod
    def _translate(formula: str, r0: int, c0: int, r: int, c: int) -> str:
        from openpyxl.formula.translate import Translator

        return Translator("=" + formula, origin=cell_ref(c0, r0)).translate_formula(cell_ref(c, r))[1:]

    @staticmethod
    def _set_formula(
        sh: Sheet, r: int, c: int, found: re.Match[str], attrs: str, formula: str
    ) -> None:
        row = sh.row(r)
        assert row is not None
        f = f"<{sh.p}f{attrs}>{xml_escape(formula)}</{sh.p}f>"
        row.cells[c] = row.cells[c][: found.start()] + f + row.cells[c][found.end() :]

