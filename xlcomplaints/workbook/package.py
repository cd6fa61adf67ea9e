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

The writer is layered; each module imports only from those listed before it (sheet_stream
names XlsxPackage in annotations only):
- xlsx_values: limits, cell references, the _xHHHH_ escape, date serials, value encoding;
- xlsx_zip: reading the archive's records and writing it back (write_zip);
- sheet_xml: small XML parts (XmlPart) and worksheets as text: the shared Frame and the
  held Sheet;
- sheet_stream: the recorded whole-sheet writes applied as a sheet streams out (ColumnEdit
  for write_columns, Rebuild for replace_rows);
- features (with validations_xml, conditional_xml): a worksheet's validations, conditional
  formats and protection, read and set for ``upgrade``;
- this module: XlsxPackage, which opens the archive, resolves sheets and names, decides how
  each write is applied, and saves.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from lxml import etree

from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.features import SheetFeatures
from xlcomplaints.workbook.safety import (
    FileStamp,
    atomic_write,
    atomic_write_stream,
    read_with_stamp,
    stamp_file,
)
from xlcomplaints.workbook.sheet_copy import detached, merge_styles, restyled, style_ids
from xlcomplaints.workbook.sheet_stream import (
    EDIT_ROWS,
    ColumnEdit,
    NeedsEager,
    Patch,
    Rebuild,
    Streamed,
    first_item,
    new_head,
    render_row,
)
from xlcomplaints.workbook.sheet_xml import (
    DROP,
    META_ATTR,
    SHARED_ATTRS,
    SI,
    START,
    T_ATTR,
    Frame,
    Row,
    Sheet,
    Tail,
    XmlPart,
    cell_xml,
    declared_encoding,
    inner_xml,
    make_tails,
    parse_attrs,
    plain_text,
    xml_escape,
    xml_unescape,
)
from xlcomplaints.workbook.workbook_xml import (
    TableEdge,
    add_sheet,
    first_hit,
    set_filter_range,
    table_edges,
)
from xlcomplaints.workbook.xlsx_values import (
    COL_NAMES,
    MAX_COL,
    MAX_ROW,
    CellValue,
    Encoded,
    cell_ref,
    check_cell,
    check_row,
    encode,
    escape_text,
    excel_serial,
    parse_range,
    range_ref,
    unescape_text,
    union,
)
from xlcomplaints.workbook.xlsx_zip import (
    Chunks,
    write_zip,
)

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


@dataclass(frozen=True)
class SheetRef:
    """One <sheet> of workbook.xml, resolved to its part. kind: worksheet, chartsheet, ..."""

    name: str
    sheet_id: int
    rel_id: str
    part: str
    state: str = "visible"
    kind: str = "worksheet"


@dataclass(frozen=True)
class DefinedName:
    name: str
    value: str
    local_sheet: str | None
    hidden: bool


#: How the templates protect Overdue and Summary (templates/build.py, _protect(generated=True)):
#: no password; filter, sort and resize allowed; no rows added or deleted.
GENERATED_PROTECTION = (
    'sheet="1" objects="1" scenarios="1" formatColumns="0" formatRows="0" sort="0" autoFilter="0"'
)

def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _resolve(source_part: str, target: str) -> str:
    target = unquote(target)
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _attr(el: etree._Element, local: str) -> str | None:
    """Attribute by local name in any namespace (r:id is transitional or strict)."""
    for key, value in el.attrib.items():
        if key.endswith("}" + local):
            return value
    return None


class XlsxPackage(SheetFeatures):
    """An .xlsx/.xlsm held in memory; parts are parsed only when read or patched."""

    def __init__(
        self, data: bytes, path: Path | None = None, stamp: FileStamp | None = None, label: str | None = None
    ) -> None:
        self.path = path
        self.stamp = stamp
        self.label = label or (path.name if path is not None else "workbook")  # what messages call it
        self._load(data)

    @classmethod
    def open(cls, source: str | os.PathLike[str] | bytes, *, label: str | None = None) -> XlsxPackage:
        """Open a file (stamped, so save() can refuse if someone saved it meanwhile) or bytes.

        Raises WorkbookError for a package whose part names could be read two ways.
        """
        if isinstance(source, bytes | bytearray | memoryview):
            return cls(bytes(source), label=label)
        path = Path(source)
        data, stamp = read_with_stamp(path)
        return cls(data, path, stamp, label)

    def _load(self, data: bytes) -> None:
        self._data = data
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        self._names = self._zip.namelist()
        self._folded = {n.lower(): n for n in self._names}
        self._refuse_ambiguous_names()
        self._parts: dict[str, XmlPart] = {}
        self._sheets: dict[str, Sheet] = {}  # held sheets: original bytes and edited rows
        self._streams: dict[str, Streamed] = {}  # sheets whose writes apply as they stream out
        self._tail_caches: dict[str, Tail] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()
        self._differs: dict[str, bool] = {}  # dirty part -> would its bytes change (cached)
        self._shared: list[str] | None = None  # raw <si> contents
        self._shared_text: dict[int, str] = {}
        self._calc_chain_dropped = False
        self._filtered: set[str] = set()  # sheets whose autoFilter replace_rows resized
        self._guards: dict[str, list[TableEdge]] = {}  # sheet part -> its tables' header and totals rows
        self._added: dict[str, bytes] = {}  # parts not in the archive (a recreated sheet): their bytes
        office = next(
            (
                r.get("Target", "")
                for r in self._xml("_rels/.rels").root
                if r.get("Type", "").endswith("/officeDocument")
            ),
            "xl/workbook.xml",
        )
        self.workbook_part = self._entry(_resolve("", office))
        self._wb_rels = self._entry(_rels_name(self.workbook_part))
        wb = self._xml(self.workbook_part).root
        ns = f"{{{etree.QName(wb).namespace}}}"
        rels = {
            r.get("Id"): r
            for r in self._xml(self._wb_rels).root
            if r.get("TargetMode") != "External"
        }
        self.sheets: list[SheetRef] = []
        self._sheet_order: list[str] = []  # what localSheetId counts, unresolvable sheets too
        for s in wb.iterfind(f"{ns}sheets/{ns}sheet"):
            self._sheet_order.append(s.get("name", ""))
            rid = _attr(s, "id") or ""
            rel = rels.get(rid)
            if rel is None:
                continue
            self.sheets.append(
                SheetRef(
                    name=s.get("name", ""),
                    sheet_id=int(s.get("sheetId", "0")),
                    rel_id=rid,
                    part=self._entry(_resolve(self.workbook_part, rel.get("Target", ""))),
                    state=s.get("state", "visible"),
                    kind=rel.get("Type", "").rsplit("/", 1)[-1],
                )
            )
        pr = wb.find(f"{ns}workbookPr")
        self.date1904 = pr is not None and pr.get("date1904") in ("1", "true")

    def _refuse_ambiguous_names(self) -> None:
        """Part names use "/" and are case-insensitive (OPC): a name with "\\" or two entries for
        one part would be read one way by one reader and another by the next; refuse them whole."""
        odd = next((n for n in self._names if "\\" in n), None)
        if odd is not None:
            raise WorkbookError("file.backslash_names", path=self.label, part=odd)
        if len(self._folded) != len(self._names):
            seen: set[str] = set()
            for name in self._names:
                if name.lower() in seen:
                    raise WorkbookError("file.duplicate_parts", path=self.label, part=name)
                seen.add(name.lower())

    # ---- reading
    def _entry(self, name: str) -> str:
        """Zip entry for a part name (OPC part names are case-insensitive)."""
        return name if name in self._names else self._folded.get(name.lower(), name)

    def _xml(self, name: str) -> XmlPart:
        part = self._parts.get(name)
        if part is None:
            part = self._parts[name] = XmlPart(name, self._zip.read(name))
        return part

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

    def sheet(self, name: str) -> SheetRef:
        """Sheet by name; Excel treats sheet names case-insensitively."""
        for ref in self.sheets:
            if ref.name == name:
                return ref
        for ref in self.sheets:
            if ref.name.casefold() == name.casefold():
                return ref
        raise KeyError(f"no sheet named {name!r}")

    def defined_names(self) -> list[DefinedName]:
        wb = self._xml(self.workbook_part).root
        ns = f"{{{etree.QName(wb).namespace}}}"
        out = []
        for d in wb.iterfind(f"{ns}definedNames/{ns}definedName"):
            local = d.get("localSheetId")
            sheet = None
            if local is not None and local.isdigit() and int(local) < len(self._sheet_order):
                sheet = self._sheet_order[int(local)]
            hidden = d.get("hidden") in ("1", "true")
            out.append(DefinedName(d.get("name", ""), d.text or "", sheet, hidden))
        return out

    def _shared_string(self, index: int) -> str | None:
        """Text of shared string #index, only to tell whether a write would change a value.

        Items are sliced out with one regex and decoded on demand: a register can hold
        hundreds of thousands of them and we usually need a few.
        """
        if self._shared is None:
            self._shared = []
            for rel in self._xml(self._wb_rels).root:
                name = self._entry(_resolve(self.workbook_part, rel.get("Target", "")))
                if rel.get("Type", "").endswith("/sharedStrings") and name in self._names:
                    data = self._zip.read(name)
                    self._shared = SI.findall(data.decode(declared_encoding(data)))
        if not 0 <= index < len(self._shared):
            return None
        text = self._shared_text.get(index)
        if text is None:
            text = self._shared_text[index] = plain_text(self._shared[index])
        return text

    # ---- writing
    def _worksheet(self, name: str) -> Sheet:
        ref = self.sheet(name)
        if ref.kind != "worksheet":
            raise ValueError(f"sheet {ref.name!r} is a {ref.kind}, not a worksheet")
        return self._held(ref.part)

    def _held(self, part: str) -> Sheet:
        """The part as a held sheet; writes recorded for streaming are applied to it first."""
        sheet = self._sheets.get(part)
        if sheet is None:
            sheet = self._sheets[part] = Sheet(part, self._inflate(part))
            stream = self._streams.pop(part, None)
            if stream is not None:
                stream.apply(sheet)
        return sheet

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

    def _sync_filter_name(self, part: str) -> None:
        """The sheet's hidden _xlnm._FilterDatabase name set to its (resized) autoFilter range
        (LibreOffice filters by the name: rows past it would not be filtered after a re-save)."""
        frame: Frame | None = self._streams.get(part) or self._sheets.get(part)
        if frame is None:
            return
        found = frame.px.autofilter.search(frame.post)
        span = parse_range(parse_attrs(found[0]).get("ref") or "") if found else None
        ref = next((s for s in self.sheets if s.part == part), None)
        if span is None or ref is None or ref.name not in self._sheet_order:
            return
        if set_filter_range(self._xml(self.workbook_part).root, self._sheet_order.index(ref.name), span):
            self._touch(self.workbook_part)

    def _inflate(self, name: str) -> bytes:
        """A part's bytes, inflated into one buffer of its size straight from the archive.

        zipfile.read would hold its output blocks and their joined copy at once: twice a
        large sheet. The CRC is checked as zipfile does.
        """
        if name in self._added:
            return self._added[name]
        info = self._zip.getinfo(name)
        start = info.header_offset
        local = self._data[start : start + 30]
        if (
            info.compress_type != zipfile.ZIP_DEFLATED
            or info.flag_bits & 0x1  # encrypted
            or len(local) < 30
            or local[:4] != b"PK\x03\x04"
            or max(info.file_size, info.compress_size) >= 0xFFFFFFFF
        ):
            return self._zip.read(name)
        begin = start + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
        raw = memoryview(self._data)[begin : begin + info.compress_size]
        data = zlib.decompress(raw, -15, max(info.file_size, 1))
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {name!r}")
        return data

    def _touch(self, name: str) -> None:
        self._dirty.add(name)
        self._differs.pop(name, None)

    @property
    def archive(self) -> zipfile.ZipFile:
        """The package's zip, as read (the sheet streamer reads a part's compressed bytes through it)."""
        return self._zip

    @property
    def data(self) -> bytes:
        """The package's bytes, as read."""
        return self._data

    def tails(self, p: str) -> Tail:
        tails = self._tail_caches.get(p)
        if tails is None:
            tails = self._tail_caches[p] = make_tails(p, self.date1904)
        return tails

    def _table_guards(self, part: str) -> list[TableEdge]:
        """The header and totals rows of the tables on a sheet, from its table parts."""
        guards = self._guards.get(part)
        if guards is None:
            guards = self._guards[part] = []
            rels_name = self._entry(_rels_name(part))
            for rel in self._xml(rels_name).root if rels_name in self._names else ():
                target = self._entry(_resolve(part, rel.get("Target", "")))
                if rel.get("Type", "").endswith("/table") and rel.get("TargetMode") != "External" \
                        and target in self._names:
                    guards += table_edges(self._xml(target).root, target)
        return guards

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

    def _part_of(self, source: str, rels_name: str, kind: str) -> str | None:
        """The part a relationship of this type leads to (styles, sharedStrings...), if any."""
        for rel in self._xml(rels_name).root:
            if rel.get("Type", "").endswith(kind) and rel.get("TargetMode") != "External":
                name = self._entry(_resolve(source, rel.get("Target", "")))
                if name in self._names:
                    return name
        return None

    def force_full_calculation(self) -> None:
        """Set calcPr fullCalcOnLoad so Excel recomputes every formula when it opens the file.

        Excel trusts the cached results saved with a formula; values we write do not make
        their dependents dirty, so they would show stale totals until a manual recalc. Opt-in
        because it patches workbook.xml and Excel then asks to save on close.
        """
        part = self._xml(self.workbook_part)
        ns = f"{{{etree.QName(part.root).namespace}}}"
        calc = part.root.find(f"{ns}calcPr")
        if calc is None:
            later = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                     "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")  # fmt: skip
            calc = part.root.makeelement(f"{ns}calcPr", {})
            after = next((ch for ch in part.root if etree.QName(ch).localname in later), None)
            if after is None:
                part.root.append(calc)
            else:
                after.addprevious(calc)
        if calc.get("fullCalcOnLoad") not in ("1", "true"):
            calc.set("fullCalcOnLoad", "1")
            self._touch(self.workbook_part)

    def set_defined_name(self, name: str, value: str, local_sheet: str | None = None, *,
                         hidden: bool = True) -> None:
        """Add a defined name to workbook.xml, or replace the one with the same name and scope
        (workbook scope, or the sheet ``local_sheet``); everything else in the part is kept."""
        part = self._xml(self.workbook_part)
        ns = f"{{{etree.QName(part.root).namespace}}}"
        local = None
        if local_sheet is not None:
            local = str(next(i for i, n in enumerate(self._sheet_order) if n.casefold() == local_sheet.casefold()))
        names = part.root.find(f"{ns}definedNames")
        if names is None:  # after sheets (and the two optional parts that may follow them)
            names = part.root.makeelement(f"{ns}definedNames", {})
            before = [ch for ch in part.root
                      if etree.QName(ch).localname in ("sheets", "functionGroups", "externalReferences")]
            before[-1].addnext(names)
        for d in list(names):
            if d.get("name", "").casefold() == name.casefold() and d.get("localSheetId") == local:
                if d.text == value and (d.get("hidden") in ("1", "true")) == hidden:
                    return
                names.remove(d)
        attrs = {"name": name, **({"localSheetId": local} if local is not None else {}),
                 **({"hidden": "1"} if hidden else {})}
        element = names.makeelement(f"{ns}definedName", attrs)
        element.text = value
        names.append(element)
        self._touch(self.workbook_part)

    def _drop_calc_chain(self) -> None:
        """Excel rebuilds calcChain; a stale one (listing cells without formulas) needs repair."""
        if self._calc_chain_dropped:
            return
        self._calc_chain_dropped = True
        rels = self._xml(self._wb_rels)
        for rel in list(rels.root):
            if rel.get("Type", "").endswith("/calcChain"):
                part = self._entry(_resolve(self.workbook_part, rel.get("Target", "")))
                rels.root.remove(rel)
                self._touch(self._wb_rels)
                if part in self._names:
                    self._removed.add(part)
                types = self._xml("[Content_Types].xml")
                for override in list(types.root):
                    if override.get("PartName", "").lstrip("/").lower() == part.lower():
                        types.root.remove(override)
                        self._touch(types.name)

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
