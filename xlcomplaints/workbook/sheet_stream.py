"""Worksheets edited while they stream out on save, for the xlsx writer (package.py).

Writes across a whole sheet (write_columns, replace_rows) are recorded as the caller's
values (Patch) and applied as the sheet's original bytes are inflated and written out
(ColumnEdit, Rebuild), so a sheet of tens of thousands of rows is never held. What only a
held sheet (sheet_xml.Sheet) handles raises NeedsEager instead. What both kinds share, and
the interface to the package, are in stream_base; their names are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from xlcomplaints.workbook.sheet_frame import Row, row_start_style, widen_row_spans
from xlcomplaints.workbook.sheet_xml import Sheet
from xlcomplaints.workbook.stream_base import (
    EDIT_ROWS,
    NeedsEager,
    PartReader,
    Patch,
    RowEditor,
    SheetHost,
    Streamed,
    first_item,
    new_head,
    render_row,
)
from xlcomplaints.workbook.xlsx_values import COL_NAMES, COL_NUMS, MAX_COL, CellValue, union

__all__ = ["EDIT_ROWS", "ColumnEdit", "NeedsEager", "PartReader", "Patch", "Rebuild", "RowEditor", "SheetHost",
           "Streamed", "first_item", "new_head", "render_row"]

_B_CELL_COL = re.compile(rb"[A-Z]{1,3}(?=[0-9])")

_SAME, _APPEND, _EDIT = 0, 1, 2  # what a column write does to a row: nothing, new cells at
# its end (no need to split it into cells), or anything else (split, edited, joined again)



_WIDENED: dict[tuple[str, int, int], str] = {}  # (spans value, lo, hi) -> the value to write


def _widen_spans_fast(start: str, lo: int, hi: int) -> str:
    """widen_row_spans for the usual start tag (spans="a:b"), from a cache of what it gives."""
    at = start.find(' spans="') + 8
    end = start.find('"', at) if at >= 8 else -1
    if end < 0:
        return widen_row_spans(start, lo, hi)
    key = (start[at:end], lo, hi)
    value = _WIDENED.get(key)
    if value is None:
        if len(_WIDENED) > 4096:
            _WIDENED.clear()
        value = _WIDENED[key] = widen_row_spans(f' spans="{key[0]}"', lo, hi)[8:-1]
    return start if value == key[0] else start[:at] + value + start[end:]



class ColumnEdit(Streamed):
    """write_columns calls on one sheet, applied in order as the sheet streams out."""

    def __init__(self, pkg: SheetHost, name: str) -> None:
        super().__init__(pkg, name)
        self.patches: list[Patch] = []
        self.box: tuple[int, int, int, int] | None = None
        self._written: list[int] = []  # the rows written, in order
        self._heads: dict[int, list[tuple[str, str]]] = {}  # id(patch) -> new cells' heads
        self._targets: dict[int, re.Pattern[bytes]] = {}  # id(patch) -> its cells' start
        pb = self.p.encode()
        self.row_close, self.c_any, self.c_ref = b"</" + pb + b"row>", b"<" + pb + b"c", b"<" + pb + b'c r="'
        # What _refill compares: the start of each cell written as this class writes them
        self._cell_heads = re.compile(b"(" + re.escape(self.c_ref) + rb'[A-Z]{1,3}[0-9]+"(?: s="[0-9]+")?)(?: t="(?:inlineStr|b)")?>')

    def add(self, patch: Patch, box: tuple[int, int, int, int] | None) -> None:
        self.patches.append(patch)
        self.box = union(self.box, box)
        self.scanned = False

    def _covering(self, r: int) -> list[Patch]:
        if len(self.patches) == 1:
            return self.patches if r in self.patches[0].rows else []
        return [patch for patch in self.patches if r in patch.rows]

    def _filled(self, r: int) -> bool:
        return any(v is not None for patch in self._covering(r) for v in patch.rows[r])

    def _walk(self) -> Iterator[tuple[int, bytes | None, int, int]]:
        """The sheet's rows (see _rows) and, in order among them, written rows it lacks (data None)."""
        rows = self._written
        i, n = 0, len(rows)
        for r, data, tag, start_end in self._rows():
            while i < n and rows[i] < r:
                yield rows[i], None, 0, 0
                i += 1
            if i < n and rows[i] == r:
                i += 1
            yield r, data, tag, start_end
        for r in rows[i:]:
            yield r, None, 0, 0

    def scan(self) -> None:
        """Whether the writes change anything (found at the first row they change) and the new
        dimension. Every row is read: a formula where we write raises NeedsEager, as does
        anything _rows does not take."""
        if len(self.patches) == 1:
            self._written = sorted(self.patches[0].rows)
        else:
            self._written = sorted({r for patch in self.patches for r in patch.rows})
        differs, has_rows, has_f = False, False, self.has_f.search
        for r, data, tag, start_end in self._walk():
            if data is None:
                differs = differs or self._filled(r)
                continue
            has_rows = True
            if not self._covering(r):
                continue
            if not differs:
                differs = self._verdict(r, data, tag, start_end) != _SAME
            elif has_f(data, tag) is not None:
                self._edit(r, data, tag, start_end, render=False)  # raises on a formula where we write
        self.differs = differs
        self.pre, self.pre_changed = self.original_pre, False
        if differs:
            self.set_dimension(union(self.dimension(has_rows), self.box))
        self.scanned = True

    def _verdict(self, r: int, data: bytes, tag: int, start_end: int) -> int:
        patches = self._covering(r)
        if len(patches) == 1:
            patch = patches[0]
            if self._last_col(data) < patch.cols[0]:
                values = patch.rows[r]
                return _APPEND if values.count(None) < len(values) else _SAME
            new = self._refill(r, data, tag, start_end, patch)
            if new is not None:
                return _SAME if new == data else _EDIT
        return _SAME if self._edit(r, data, tag, start_end, render=False) is None else _EDIT

    def _body(self) -> Iterator[bytes]:
        for r, data, tag, start_end in self._walk():
            if data is None:
                if self._filled(r):
                    yield self._new_row(r)
                continue
            patches = self._covering(r)
            if not patches:
                yield data
                continue
            if len(patches) == 1:
                patch = patches[0]
                if self._last_col(data) < patch.cols[0]:
                    yield self._append(r, data, tag, start_end, patch)
                    continue
                new = self._refill(r, data, tag, start_end, patch)
                if new is not None:
                    yield new
                    continue
            yield self._edit(r, data, tag, start_end, render=True) or data

    def _edit(self, r: int, data: bytes, tag: int, start_end: int, *, render: bool) -> bytes | None:
        """Row r split into cells with the writes applied; None if that changes nothing.

        Only the row's tail is split when the written cells can be told to start there (see
        _tail_at). Without render, any change gives data back instead of the new row.
        """
        patches = self._covering(r)
        split = self._tail_at(data, start_end, patches[0]) if len(patches) == 1 else -1
        if split < 0:
            text = data[tag:].decode("utf-8")
        else:
            text = data[tag:start_end].decode("utf-8") + data[split:].decode("utf-8")
        row, pieces = self._parse(r, text)
        exact = pieces is not None or "".join(row.pieces()) == text
        if self.has_f.search(data, tag) is not None and any(
            self.px.has_f.search(row.cells.get(c, "")) for patch in patches for c in patch.cols
        ):
            raise NeedsEager  # a formula where we write: a held sheet hands shared formulas on
        changed = False
        for patch in patches:
            changed |= self.pkg.edit_row(self, row, r, patch.items(r), self.heads, self.tails)[0]
        if not changed and exact:
            return None
        if not render:
            return data
        if split < 0:
            return data[:tag] + row.render().encode("utf-8")
        new = row.pieces()
        return b"".join((data[:tag], new[0].encode("utf-8"), data[start_end:split], "".join(new[1:]).encode("utf-8")))

    def _tail_at(self, data: bytes, start_end: int, patch: Patch) -> int:
        """Where the row's first written cell starts, if every cell before it lies left of the
        written columns (so they can stay bytes); else -1."""
        targets = self._targets.get(id(patch))
        if targets is None:
            letters = b"|".join(COL_NAMES[c].encode() for c in patch.cols)
            targets = self._targets[id(patch)] = re.compile(re.escape(self.c_ref) + b"(?:" + letters + b")[0-9]")
        m = targets.search(data, start_end)
        if m is None or self._col_before(data, start_end, m.start()) >= patch.cols[0]:
            return -1
        return m.start()

    def _col_before(self, data: bytes, lo: int, at: int) -> int:
        """Column of the last cell in data[lo:at] (0 if none); past any column when it cannot
        be told from its r=, or whitespace precedes at (new cells would go before it)."""
        if data[at - 1] != 0x3E:
            return MAX_COL + 1
        prev = data.rfind(self.c_any, lo, at)
        if prev < 0:
            return 0
        if not data.startswith(self.c_ref, prev):
            return MAX_COL + 1
        m = _B_CELL_COL.match(data, prev + len(self.c_ref))
        return COL_NUMS.get(m[0].decode(), MAX_COL + 1) if m else MAX_COL + 1

    def _last_col(self, data: bytes) -> int:
        """The row's last column if new cells can go just before </row>; else past any column.

        That is when the row ends in "></row>" and its last cell starts <c r=" (as Excel
        writes cells) with no extLst after it. Cells before it are not looked at: they stay
        exactly as they are (a held sheet would also give any without r= their reference).
        """
        close = self.row_close
        if not data.endswith(close) or data[-len(close) - 1] != 0x3E:
            return MAX_COL + 1
        at = data.rfind(self.c_any)
        if at < 0:
            return MAX_COL + 1 if b"extLst" in data else 0
        if not data.startswith(self.c_ref, at) or data.find(b"extLst", at) >= 0:
            return MAX_COL + 1
        m = _B_CELL_COL.match(data, at + len(self.c_ref))
        return COL_NUMS.get(m[0].decode(), MAX_COL + 1) if m else MAX_COL + 1

    def _fresh_cells(self, r: int, start: str, patch: Patch) -> tuple[str, int, int]:
        """The cells _append adds for row r (with start tag start), and the first and last
        columns among them; ("", 0, 0) when every value is None."""
        row_style = row_start_style(start)
        if row_style is False:  # the <col> style, as Excel gives a new cell
            heads = self._heads.get(id(patch)) or self._col_heads(patch)
        else:
            s = f'" s="{row_style}"' if row_style else '"'
            heads = [(f'<{self.p}c r="{COL_NAMES[c]}', s) for c in patch.cols]
        values, rs, tail = patch.rows[r], str(r), self.tails
        cells = "".join([f"{h0}{rs}{h1}{tail(v)}" for (h0, h1), v in zip(heads, values) if v is not None])  # noqa: B905
        if not cells:
            return "", 0, 0
        first, last = 0, len(values) - 1
        while values[first] is None:
            first += 1
        while values[last] is None:
            last -= 1
        return cells, patch.cols[first], patch.cols[last]

    def _append(self, r: int, data: bytes, tag: int, start_end: int, patch: Patch) -> bytes:
        """The row with new cells after its last one (the Register before its first refresh)."""
        values = patch.rows[r]
        if values.count(None) == len(values):
            return data  # a row that is no longer a record, and had nothing to clear
        start = data[tag:start_end].decode("utf-8")
        cells, first, last = self._fresh_cells(r, start, patch)
        if not cells:
            return data
        cut = len(data) - len(self.row_close)
        new_start = _widen_spans_fast(start, first, last).encode("utf-8")
        return b"".join((data[:tag], new_start, data[start_end:cut], cells.encode("utf-8"), data[cut:]))

    def _refill(self, r: int, data: bytes, tag: int, start_end: int, patch: Patch) -> bytes | None:
        """The row with its written cells rendered afresh, when that is what editing them gives
        (a rerun over cells a run before wrote); None when the row needs splitting into cells.

        That is when the cells from the first written one to </row> start as the new cells
        would, <c r=".." s=".."> (t="inlineStr"/"b" at most besides; no formula, no extLst),
        exactly where the values are not None: each is then rebuilt as <c r s and the value,
        as a new one would be, and no cell is added or cleared.
        """
        split = self._tail_at(data, start_end, patch)
        end = len(data) - len(self.row_close)
        if split < 0 or not data.endswith(self.row_close):
            return None
        tail = data[split:end]
        if b"extLst" in tail or self.has_f.search(tail) is not None:
            return None
        start = data[tag:start_end].decode("utf-8")
        if row_start_style(start) is not False:
            return None  # a row with its own style: left to _edit
        new = self._fresh_cells(r, start, patch)[0].encode("utf-8")
        if new == tail:
            return data
        heads = self._cell_heads.findall(tail)
        if len(heads) != tail.count(self.c_any) or heads != self._cell_heads.findall(new):
            return None
        return b"".join((data[:split], new, data[end:]))

    def _col_heads(self, patch: Patch) -> list[tuple[str, str]]:
        """New cells' text before and after the row number, by the patch's columns."""
        heads = []
        for c in patch.cols:
            head = self.heads.get(c) or new_head(self, self.heads, c)
            heads.append((f"<{self.p}c{head[0]}", head[1]))
        self._heads[id(patch)] = heads
        return heads

    def _new_row(self, r: int) -> bytes:
        row = Row(f'<{self.p}row r="{r}">', {}, "", f"</{self.p}row>")
        for patch in self._covering(r):
            self.pkg.edit_row(self, row, r, patch.items(r), self.heads, self.tails)
        return row.render().encode("utf-8")

    def apply(self, sh: Sheet) -> None:
        for patch in self.patches:
            self.pkg.apply_patch(sh, patch)


class Rebuild(Streamed):
    """replace_rows: rows above first_row stay as they are, the new ones are rendered as the
    sheet streams out."""

    def __init__(
        self,
        pkg: SheetHost,
        name: str,
        first_row: int,
        rows: list[tuple[CellValue, ...]],
        autofilter: bool,
        box: tuple[int, int, int, int] | None,
        protect: str | None = None,
    ) -> None:
        super().__init__(pkg, name)
        self.first_row, self.rows, self.autofilter, self.box = first_row, rows, autofilter, box
        self.protect = protect
        self.formula = False  # did a dropped row hold a formula (calcChain must go)?

    def _new(self) -> Iterator[bytes]:
        heads: list[tuple[str, str]] = []
        for r, values in enumerate(self.rows, self.first_row):
            row = render_row(self, heads, self.tails, r, values)
            if row is not None:
                yield row[1]

    def scan(self) -> None:
        """The kept rows' extent, formulas among the dropped ones, and whether anything changes."""
        kept, formula, same, new = None, False, True, self._new()
        for r, data, tag, _ in self._rows():
            if r < self.first_row:
                text = data[tag:].decode("utf-8")
                row, pieces = self._parse(r, text)
                if pieces is None and "".join(row.pieces()) != text:
                    raise NeedsEager  # a held sheet gives such cells their r=
                if row.cols:
                    kept = union(kept, (r, row.cols[0], r, row.cols[-1]))
            else:
                formula = formula or self.has_f.search(data, tag) is not None
                same = same and next(new, None) == data
        same = same and next(new, None) is None
        self.pre, self.post = self.original_pre, self.post_bytes.decode("utf-8")
        self.pre_changed = self.post_changed = False
        original_post, self.post_bytes = self.post, b""
        self.set_dimension(union(kept, self.box))
        if self.autofilter:
            self.extend_autofilter(self.first_row + len(self.rows) - 1)
        if self.protect is not None:
            self.ensure_protection(self.protect)
        self.formula = formula
        self.differs = not same or self.pre != self.original_pre or self.post != original_post
        self.scanned = True

    def _body(self) -> Iterator[bytes]:
        for r, data, _, _ in self._rows():
            if r < self.first_row:
                yield data
        yield from self._new()

    def apply(self, sh: Sheet) -> None:
        self.pkg.replace_into(sh, self.first_row, self.rows, self.autofilter, self.protect)
