"""Patch cells in an .xlsx/.xlsm without disturbing anything else in the package.

openpyxl load+save silently drops or rewrites what it does not model (form controls,
x14 extensions, threaded comments, calcChain...; see shared/excel-notes.md). This
writer changes only the cells it is asked to write (plus <dimension>/<autoFilter> refs)
and copies every other zip entry as its original raw record (local header, compressed
bytes, data descriptor) in the original order, so untouched parts stay byte-identical.

Registers run to tens of thousands of rows, so memory is kept near the size of what
describes the change. Writes across a whole sheet (write_columns: a refresh's computed
columns; replace_rows: the Overdue list) are only recorded, as tuples of the caller's
values, and applied while the sheet's original bytes are inflated and streamed out on
save: a row that gains cells at its end is never split into cells, a rerun's row is
compared and rewritten as bytes, only odd rows are parsed. write_cells (and what the
streamed way does not take: formulas where we write, rows out of order...) edits a held
sheet: its original bytes once, edited rows as splices (original byte ranges + new
bytes). Saving streams the zip into the output file, deflating each part as it is made.

The writer is layered; each module imports only from those listed before it (the
streamer sees the package only through the SheetHost protocol it names):
- xlsx_values: limits, cell references, the _xHHHH_ escape, date serials, value encoding;
- xlsx_zip: reading the archive's records (stored_part) and writing it back (write_zip);
- xml_text: small XML parts (XmlPart) and the text helpers of cells and tags;
- sheet_frame: a row being edited (Row) and what every way of editing a sheet shares (Frame);
- sheet_xml: the held Sheet, edited rows stored as splices of its original bytes;
- stream_base: what streamed sheets share (Streamed, Patch) and the part-reader interface
  they need of the package (SheetHost: PartReader + RowEditor);
- sheet_stream: the recorded whole-sheet writes applied as a sheet streams out (ColumnEdit
  for write_columns, Rebuild for replace_rows);
- package_parts: PackageParts, which opens the archive, resolves sheets and names, reads
  parts and makes the small workbook-level edits;
- cell_edit: CellEdits, how a value goes into a cell of a held or streamed sheet;
- features (with validations_xml, conditional_xml): a worksheet's validations, conditional
  formats and protection, read and set for ``upgrade``;
- sheet_charts (with chart_xml): our own native chart on a sheet, in its drawing (refresh's
  workload chart on the Summary);
- this module: XlsxPackage, the writing API (which way each write is applied, the table
  guards, a sheet added from a template) and saving.
"""

from __future__ import annotations

import io
import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.features import SheetFeatures
from xlcomplaints.workbook.package_parts import DefinedName, SheetRef
from xlcomplaints.workbook.safety import (
    atomic_write,
    atomic_write_stream,
    read_with_stamp,
    stamp_file,
)
from xlcomplaints.workbook.sheet_charts import SheetCharts
from xlcomplaints.workbook.sheet_copy import detached, merge_styles, restyled, style_ids
from xlcomplaints.workbook.sheet_stream import ColumnEdit, NeedsEager, Patch, Rebuild, first_item
from xlcomplaints.workbook.workbook_xml import TableEdge, add_sheet, first_hit
from xlcomplaints.workbook.xlsx_values import (
    MAX_COL,
    MAX_ROW,
    CellValue,
    cell_ref,
    check_cell,
    check_row,
    escape_text,
    excel_serial,
    unescape_text,
    union,
)
from xlcomplaints.workbook.xlsx_zip import Chunks, write_zip

# escape_text, excel_serial and unescape_text are re-exported: callers import them from here.
__all__ = [
    "GENERATED_PROTECTION",
    "CellValue",
    "DefinedName",
    "SheetRef",
    "XlsxPackage",
    "escape_text",
    "excel_serial",
    "unescape_text",
]


#: How the templates protect Overdue and Summary (templates/build.py, _protect(generated=True)):
#: no password; filter, sort and resize allowed; no rows added or deleted.
GENERATED_PROTECTION = (
    'sheet="1" objects="1" scenarios="1" formatColumns="0" formatRows="0" sort="0" autoFilter="0"'
)


class XlsxPackage(SheetCharts, SheetFeatures):
    """An .xlsx/.xlsm held in memory; parts are parsed only when read or patched."""

    # ---- reading
    def part_names(self) -> list[str]:
        """Zip entries in archive order, without parts this package has removed."""
        self._settle()
        return [n for n in self._names if n not in self._removed]

    def read_part(self, name: str) -> bytes:
        """Current bytes of a part (patched parts as they will be saved)."""
        self._settle()
        name = self._entry(name)
        if name in self._removed or name not in self._names:
            raise KeyError(name)
        if name not in self._dirty:
            return self._zip.read(name)
        return b"".join(self._chunks(name))

    def _settle(self) -> None:
        """Scan the recorded writes before saving: what they change, what else must change.

        A write the streamed sheet cannot apply goes to a held sheet instead. Scans are
        kept until the sheet is written again.
        """
        for name, stream in list(self._streams.items()):
            if stream.scanned:
                continue
            self._differs.pop(name, None)
            try:
                stream.scan()
            except NeedsEager:
                self._held(name)
                continue
            if isinstance(stream, Rebuild) and stream.formula:
                self._drop_calc_chain()  # calcChain must not list cells that are gone
        for part in self._filtered:
            self._sync_filter_name(part)

    # ---- writing
    def _refuse_table_cell(self, sheet: str, edge: TableEdge, r: int, c: int) -> None:
        raise WorkbookError("file.table_header", path=self.label, sheet=sheet, table=edge.table,
                            cell=cell_ref(c, r))

    def _guard(self, sheet: str, writes: Iterable[tuple[Iterable[int], Sequence[int]]]) -> None:
        """Refuse, before anything is written, a write (rows, their columns) into a table's
        header or totals row (Excel drops such a table when it repairs the file)."""
        ref = self.sheet(sheet)
        edges = self._table_guards(ref.part) if ref.kind == "worksheet" else []
        for rows, cols in writes if edges else ():
            hit = first_hit(edges, rows, cols)
            if hit is not None:
                self._refuse_table_cell(ref.name, *hit)

    def write_cells(self, sheet: str, cells: Mapping[tuple[int, int], CellValue]) -> None:
        """Set values of (row, col) cells, 1-based; everything else in the sheet stays as is."""
        by_row: dict[int, tuple[list[int], list[CellValue]]] = {}
        prev = 0
        cols: list[int] = []
        values: list[CellValue] = []
        for (r, c), value in cells.items():
            if r != prev:  # callers usually go row by row
                if not 0 < r <= MAX_ROW:
                    check_cell(r, c)
                cols, values = by_row.setdefault(r, ([], []))
                prev = r
            if not 0 < c <= MAX_COL:
                check_cell(r, c)
            cols.append(c)
            values.append(value)
        date1904 = self.date1904
        for _, values in by_row.values():
            check_row(values, date1904)
        self._guard(sheet, (((r,), cols) for r, (cols, _) in by_row.items()))
        sh = self._worksheet(sheet)
        self._edit_rows(sh, {r: sorted(zip(*cv, strict=True), key=first_item) for r, cv in by_row.items()})

    def write_columns(
        self,
        sheet: str,
        columns: Sequence[int],
        rows: Mapping[int, Sequence[CellValue]] | Iterable[tuple[int, Sequence[CellValue]]],
    ) -> None:
        """Set the given columns of the given rows: each row's values align with columns.

        None clears a value (the cell keeps its format), as in write_cells. The write is
        recorded, not applied: its cells are rendered while the sheet streams out on save,
        so tens of thousands of rows cost about what describes them. Values are checked
        now (a bad one fails before anything changes); rows are kept as tuples of the
        caller's (immutable) values.
        """
        cols = [int(c) for c in columns]
        for c in cols:
            check_cell(1, c)
        if len(set(cols)) != len(cols):
            raise ValueError("a column is given twice")
        patch, box = Patch.of(cols, rows, self.date1904)
        if not patch.rows or not cols:
            return
        self._guard(sheet, [(patch.rows, cols)])
        ref = self.sheet(sheet)
        stream = self._streams.get(ref.part)
        if ref.kind == "worksheet" and ref.part not in self._sheets and not isinstance(stream, Rebuild) \
                and ref.part not in self._added:
            try:
                if stream is None:
                    stream = self._streams[ref.part] = ColumnEdit(self, ref.part)
            except NeedsEager:
                pass
            else:
                assert isinstance(stream, ColumnEdit)
                stream.add(patch, box)
                self._touch(ref.part)
                return
        self.apply_patch(self._worksheet(sheet), patch)

    def replace_rows(
        self,
        sheet: str,
        first_row: int,
        rows: Sequence[Sequence[CellValue]],
        *,
        autofilter: bool = True,
        protect: str | None = None,
    ) -> None:
        """Replace everything from first_row down (a sheet the toolkit owns below its header).

        ``protect``: the attributes of a <sheetProtection> the sheet gets unless it has one
        (GENERATED_PROTECTION for Overdue and Summary).

        Like write_columns, the rows are checked now and rendered while the sheet streams
        out on save; they are kept as tuples of the caller's values.
        """
        check_cell(first_row, 1)
        if rows:
            check_cell(first_row + len(rows) - 1, max(1, *(len(r) for r in rows)))
        kept: list[tuple[CellValue, ...]] = []
        box, date1904 = None, self.date1904
        for r, values in enumerate(rows, first_row):
            values = values if type(values) is tuple else tuple(values)
            mask = check_row(values, date1904)
            if mask:
                box = union(box, (r, (mask & -mask).bit_length(), r, mask.bit_length()))
            kept.append(values)
        ref = self.sheet(sheet)
        for g in self._table_guards(ref.part) if ref.kind == "worksheet" else []:
            if g.last_row >= first_row:  # every row from first_row down is replaced
                self._refuse_table_cell(ref.name, g, max(g.first_row, first_row), g.first_col)
        if ref.kind == "worksheet" and ref.part not in self._sheets and ref.part not in self._streams \
                and ref.part not in self._added:
            try:
                self._streams[ref.part] = Rebuild(self, ref.part, first_row, kept, autofilter, box, protect)
            except NeedsEager:
                pass
            else:
                self._touch(ref.part)
                if autofilter:
                    self._filtered.add(ref.part)
                return
        if autofilter:
            self._filtered.add(self.sheet(sheet).part)
        self.replace_into(self._worksheet(sheet), first_row, kept, autofilter, protect)

    def add_sheet_from(self, template: XlsxPackage, name: str, title: str) -> SheetRef:
        """Add the worksheet ``name`` of ``template`` as this workbook's last sheet, ``title``.

        As the template has it: its columns, styles (appended to this workbook's styles.xml),
        conditional formats, protection, print setup, and its sheet-scope names (our stamp,
        filter and print titles). Its header note (a drawing) stays behind. Only new parts
        and entries are added; nothing of this workbook's is renumbered.
        """
        src = template.sheet(name)
        if any(t.casefold() == title.casefold() for t in self._sheet_order):
            raise ValueError(f"a sheet named {title!r} exists")
        has_vba = any(n.lower().endswith("vbaproject.bin") for n in self._names)
        xml = detached(template.read_part(src.part).decode("utf-8"), template._shared_string,
                       keep_code_name=not has_vba)
        styles = self._part_of(self.workbook_part, self._wb_rels, "/styles")
        template_styles = template._part_of(template.workbook_part, template._wb_rels, "/styles")
        if styles is None or template_styles is None:
            raise ValueError("no styles part")
        xfs, dxfs = style_ids(xml)
        xf_map, dxf_map = merge_styles(template._xml(template_styles).root, self._xml(styles).root, xfs, dxfs)
        self._touch(styles)
        n = 1
        while f"xl/worksheets/sheet{n}.xml" in self._folded:
            n += 1
        part = f"xl/worksheets/sheet{n}.xml"
        self._added[part] = restyled(xml, xf_map, dxf_map).encode("utf-8")
        self._names.append(part)
        self._folded[part] = part
        self._touch(part)
        names = [(d.name, d.value, d.hidden) for d in template.defined_names() if d.local_sheet == src.name]
        rid, sheet_id = add_sheet(
            self._xml(self.workbook_part).root, self._xml(self._wb_rels).root, self._xml("[Content_Types].xml").root,
            part=part, target=posixpath.relpath(part, posixpath.dirname(self.workbook_part)), title=title,
            names=names)
        for touched in (self.workbook_part, self._wb_rels, "[Content_Types].xml"):
            self._touch(touched)
        ref = SheetRef(title, sheet_id, rid, part)
        self.sheets.append(ref)
        self._sheet_order.append(title)
        return ref

    # ---- saving
    def _changed(self, name: str) -> bool:
        """Would this dirty part's bytes change? Sheets compare only their edits."""
        differs = self._differs.get(name)
        if name in self._added:
            return True
        if differs is None:
            sheet, stream = self._sheets.get(name), self._streams.get(name)
            if stream is not None:
                differs = stream.differs
            elif sheet is not None:
                differs = sheet.differs(lambda: self._zip.read(name))
            else:
                differs = self._parts[name].serialise() != self._zip.read(name)
            self._differs[name] = differs
        return differs

    def _replaced(self) -> list[str]:
        self._settle()
        return [n for n in self._names if n in self._dirty and n not in self._removed and self._changed(n)]

    def _chunks(self, name: str) -> Chunks:
        stream = self._streams.get(name) or self._sheets.get(name)
        if stream is None and name in self._added:
            return [self._added[name]]
        return stream.chunks() if stream is not None else [self._parts[name].serialise()]

    def changed_parts(self) -> set[str]:
        """Entries whose bytes differ from the original (removed ones included)."""
        return set(self._replaced()) | self._removed

    def write_to(self, out: BinaryIO) -> None:
        """Write the package into a seekable binary file, streaming the patched sheets.

        Patched parts are rendered and deflated a chunk at a time, straight into out, so
        neither a whole sheet's text nor the whole archive is ever held in memory.
        """
        replaced = self._replaced()
        if not replaced and not self._removed:
            out.write(self._data)
            return
        makers = {name: (lambda name=name: self._chunks(name)) for name in replaced}
        added = {name: makers.pop(name) for name in self._added if name in makers}
        write_zip(self._data, makers, self._removed, out, added)

    def to_bytes(self) -> bytes:
        if not self._replaced() and not self._removed:
            return self._data
        buf = io.BytesIO()
        self.write_to(buf)
        return buf.getvalue()

    def save(
        self, path: str | os.PathLike[str] | None = None, *, backup: bool = True
    ) -> Path | None:
        """Write atomically (lock/changed-file checks, backup); returns the backup path if made.

        Saving over the file this package was opened from first checks nobody saved it in
        between. The archive streams into the temporary file; afterwards the package
        continues from the saved file. With no part changed, nothing is rendered at all.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no path given and the package was not opened from a file")
        expected = None
        if self.path is not None and os.path.abspath(target) == os.path.abspath(self.path):
            expected = self.stamp
        if not self.changed_parts():
            made = atomic_write(target, self._data, expected=expected, backup=backup)
            data, stamp = self._data, stamp_file(target)
        else:
            made = atomic_write_stream(target, self.write_to, expected=expected, backup=backup)
            self._sheets.clear()  # let the edits go before the saved file is read back
            self._streams.clear()
            data, stamp = read_with_stamp(target)
        self._load(data)
        self.path, self.stamp = target, stamp
        return made
