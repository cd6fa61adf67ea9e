"""Worksheets edited while they stream out on save, for the xlsx writer (package.py).

Writes across a whole sheet (write_columns, replace_rows) are recorded as the caller's
values (Patch) and applied as the sheet's original bytes are inflated and written out
(ColumnEdit, Rebuild), so a sheet of tens of thousands of rows is never held. What only a
held sheet (sheet_xml.Sheet) handles raises NeedsEager instead.
"""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Protocol

from xlcomplaints.workbook.sheet_xml import (
    B_R_ATTR,
    B_SHEET_DATA,
    B_START,
    CHUNK,
    TAG_END,
    Frame,
    Row,
    Sheet,
    Tail,
    declared_encoding,
    parse_attrs,
    row_start_style,
    widen_row_spans,
)
from xlcomplaints.workbook.xlsx_values import (
    COL_NAMES,
    COL_NUMS,
    MAX_COL,
    MAX_ROW,
    CellValue,
    check_cell,
    check_row,
    parse_range,
    union,
)


class SheetHost(Protocol):
    """What a streamed sheet needs of the package that holds it (``package.XlsxPackage``): the
    archive as read, the cell tails of a part, and the row and sheet edits. Named here, so that
    the package imports the streamer and not the other way round."""

    @property
    def archive(self) -> zipfile.ZipFile: ...
    @property
    def data(self) -> bytes: ...
    def tails(self, p: str) -> Tail: ...
    def edit_row(self, sh: Frame, row: Row, r: int, items: Iterable[tuple[int, CellValue]],
                 heads: dict[int, tuple[str, str]], tails: Tail) -> tuple[bool, int, int]: ...
    def apply_patch(self, sh: Sheet, patch: Patch) -> None: ...
    def replace_into(self, sh: Sheet, first_row: int, rows: list[tuple[CellValue, ...]], autofilter: bool,
                     protect: str | None = None) -> None: ...

# A refresh writes some twenty columns of every Register row and rebuilds the Overdue list.
# Held as edited rows that is hundreds of megabytes at 50,000 rows, so such writes are
# recorded instead (the caller's values, by reference) and applied while the sheet's
# original bytes are inflated and streamed out on save.

EDIT_ROWS = 5_000  # rows per batch when a recorded write is applied to a held sheet
_INFLATE = 1 << 14  # compressed bytes inflated at a time
first_item = itemgetter(0)
_B_CELL_COL = re.compile(rb"[A-Z]{1,3}(?=[0-9])")
_B_TAG_ENDS = frozenset(bytes([b]) for b in TAG_END.encode())


_SAME, _APPEND, _EDIT = 0, 1, 2  # what a column write does to a row: nothing, new cells at
# its end (no need to split it into cells), or anything else (split, edited, joined again)


class NeedsEager(Exception):
    """Something only a held sheet (Sheet) handles: the write is applied to one instead."""


def new_head(sh: Frame, heads: dict[int, tuple[str, str]], c: int) -> tuple[str, str]:
    """A new cell's attributes around its row number, styled like its <col> (as Excel does)."""
    style = sh.col_style(c)
    head = heads[c] = (f' r="{COL_NAMES[c]}', f'" s="{style}"' if style else '"')
    return head


def _row_heads(sh: Frame, heads: list[tuple[str, str]], width: int) -> list[tuple[str, str]]:
    """New cells' text before and after the row number, from column A, styled like their <col>."""
    for c in range(len(heads) + 1, width + 1):
        style = sh.col_style(c)
        heads.append((f'<{sh.p}c r="{COL_NAMES[c]}', f'" s="{style}"' if style else '"'))
    return heads


def render_row(
    sh: Frame, heads: list[tuple[str, str]], tail: Tail, r: int, values: Sequence[CellValue]
) -> tuple[int, bytes, int, int] | None:
    """A new row of values from column A (replace_rows): (r, bytes, first, last col), None if empty."""
    if len(heads) < len(values):
        _row_heads(sh, heads, len(values))
    rs = str(r)
    cells = [f"{h0}{rs}{h1}{tail(v)}" for (h0, h1), v in zip(heads, values) if v is not None]  # noqa: B905
    if not cells:
        return None
    first, last = 0, len(values) - 1
    while values[first] is None:
        first += 1
    while values[last] is None:
        last -= 1
    return r, f'<{sh.p}row r="{r}">{"".join(cells)}</{sh.p}row>'.encode(), first + 1, last + 1


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


@dataclass(frozen=True)
class Patch:
    """One write_columns call: its columns in ascending order, each row's values in that order."""

    cols: list[int]
    rows: dict[int, tuple[CellValue, ...]]

    @classmethod
    def of(
        cls,
        cols: list[int],
        rows: Mapping[int, Sequence[CellValue]] | Iterable[tuple[int, Sequence[CellValue]]],
        date1904: bool,
    ) -> tuple[Patch, tuple[int, int, int, int] | None]:
        """The checked patch, and the box of the values it writes (None: it only clears)."""
        width, kept = len(cols), {}
        used, top, bottom = 0, MAX_ROW + 1, 0
        order: list[int] | None = sorted(range(width), key=cols.__getitem__)
        if order == list(range(width)):
            order = None  # the usual case: the caller's tuples are kept as they are
        for r, values in rows.items() if isinstance(rows, Mapping) else rows:
            if len(values) != width:
                raise ValueError(f"row {r} has {len(values)} values for {width} columns")
            if order is not None:
                values = tuple([values[i] for i in order])
            elif type(values) is not tuple:
                values = tuple(values)
            if not 0 < r <= MAX_ROW:
                check_cell(r, 1)
            mask = check_row(values, date1904)
            if mask:
                used |= mask
                top, bottom = min(top, r), max(bottom, r)
            kept[r] = values
        cols = sorted(cols)
        filled = [cols[i] for i in range(width) if used >> i & 1]
        box = (top, min(filled), bottom, max(filled)) if filled else None
        return cls(cols, kept), box

    def items(self, r: int) -> list[tuple[int, CellValue]]:
        """Row r's (col, value) pairs in column order."""
        return list(zip(self.cols, self.rows[r], strict=True))


class Streamed(Frame):
    """A worksheet edited while its original bytes stream out of the archive.

    Nothing of the sheet is held: each pass inflates the part from the package's compressed
    bytes and splits rows as they come. scan() runs once before anything is written (what
    changes, and whether other parts must change too); chunks() then renders the part.
    What only a held sheet handles (rows without r= or out of order, comments in
    <sheetData>, another encoding, a formula where we write) raises NeedsEager, and the
    package applies the recorded write to a held sheet instead.
    """

    differs = False

    def __init__(self, pkg: SheetHost, name: str) -> None:
        self.pkg, self.name, self.scanned = pkg, name, False
        info = pkg.archive.getinfo(name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
            raise NeedsEager
        head, m = b"", None
        for chunk in self._inflated(check=False):
            head += chunk
            m = B_SHEET_DATA.search(head)
            if m is not None:
                break
        try:
            if m is None or codecs.lookup(declared_encoding(head)).name != "utf-8":
                raise NeedsEager
            self.pre = self.original_pre = head[: m.start()].decode("utf-8")
        except (LookupError, UnicodeDecodeError) as e:
            raise NeedsEager from e
        self.open, self.empty, self._body_at = head[m.start() : m.end()], bool(m[2]), m.end()
        self._prefix((m[1] or b"").decode("utf-8"))
        self.tails = pkg.tails(self.p)
        self.heads: dict[int, tuple[str, str]] = {}
        self.tail = self.close = self.post_bytes = b""

    def _inflated(self, check: bool = True) -> Iterator[bytes]:
        """The part's original bytes, a few hundred kilobytes at a time; CRC checked at the end."""
        info = self.pkg.archive.getinfo(self.name)
        data, start = self.pkg.data, info.header_offset
        local = data[start : start + 30]
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {self.name!r}")
        begin = start + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
        raw = memoryview(data)[begin : begin + info.compress_size]
        inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        crc = size = 0
        for at in range(0, len(raw), _INFLATE):
            piece: memoryview | bytes = raw[at : at + _INFLATE]
            while piece:
                out = bytes(piece) if inflate is None else inflate.decompress(piece, CHUNK)
                piece = b"" if inflate is None else inflate.unconsumed_tail
                if out:
                    crc, size = zlib.crc32(out, crc), size + len(out)
                    yield out
        out = inflate.flush() if inflate is not None else b""
        if out:
            crc, size = zlib.crc32(out, crc), size + len(out)
            yield out
        if check and (size != info.file_size or crc != info.CRC):
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {self.name!r}")

    def _rows(self) -> Iterator[tuple[int, bytes, int, int]]:
        """(number, bytes from the whitespace before the row to its end, where '<row' starts and
        its start tag ends in them).

        Rows come in document order, which must be ascending. Once they are through, tail,
        close and post_bytes hold what follows them.
        """
        src = self._inflated()
        buf, pos = b"", self._body_at
        for chunk in src:
            buf += chunk
            if len(buf) >= pos:
                break
        if self.empty:
            self.post_bytes = buf[pos:] + b"".join(src)
            return
        pb = self.p.encode()
        row_open, row_close, data_close = b"<" + pb + b"row", b"</" + pb + b"row>", b"</" + pb + b"sheetData"
        row_at = re.compile(rb"(\s*+)<" + re.escape(pb) + rb'row r="([0-9]+)"[^>]*+>')  # r= first
        after, n_close, prev, eof = len(row_open), len(row_close), 0, False
        while True:
            m = row_at.match(buf, pos)  # the usual row, in one step
            if m is not None:
                end = m.end() if buf[m.end() - 2] == 0x2F else buf.find(row_close, m.end())
                if end >= 0:
                    end += 0 if buf[m.end() - 2] == 0x2F else n_close
                    r = int(m[2])
                    if r <= prev:
                        raise NeedsEager  # out of order
                    yield r, buf[pos:end], m.end(1) - pos, m.end() - pos
                    prev, pos = r, end
                    continue
            lt = buf.find(b"<", pos)
            if lt >= 0 and (eof or len(buf) - lt > 64):
                if lt > pos and not buf[pos:lt].isspace():
                    raise NeedsEager
                if buf.startswith(row_open, lt) and buf[lt + after : lt + after + 1] in _B_TAG_ENDS:
                    m = B_START.match(buf, lt)
                    end = -1 if m is None else m.end() if m[2] else buf.find(row_close, m.end())
                    if m is not None and end >= 0:
                        end += 0 if m[2] else len(row_close)
                        found = B_R_ATTR.search(m[1])
                        r = int(found[1]) if found is not None and found[1].isdigit() else 0
                        if r <= prev:
                            raise NeedsEager  # no r=, or out of order
                        yield r, buf[pos:end], lt - pos, m.end() - pos
                        prev, pos = r, end
                        continue
                elif buf.startswith(data_close, lt):
                    gt = buf.find(b">", lt)
                    if gt >= 0:
                        self.tail, self.close = buf[pos:lt], buf[lt : gt + 1]
                        self.post_bytes = buf[gt + 1 :] + b"".join(src)
                        return
                else:
                    raise NeedsEager  # a comment, CDATA, a processing instruction...
            if eof:
                raise NeedsEager  # unterminated: the held sheet says what is wrong
            more = next(src, None)
            if more is None:
                eof = True
            else:
                buf, pos = buf[pos:] + more, 0

    def _body(self) -> Iterator[bytes]:
        raise NotImplementedError

    def scan(self) -> None:
        raise NotImplementedError

    def apply(self, sh: Sheet) -> None:
        """Apply the recorded write to a held sheet of the same part."""
        raise NotImplementedError

    def chunks(self) -> Iterator[bytes | bytearray]:
        """The part as it will be saved, a few hundred kilobytes at a time."""
        pb = self.p.encode()
        out = bytearray(self.pre.encode("utf-8"))
        body = self._body()
        first = next(body, None)
        if first is None and self.empty:
            out += self.open
        else:
            out += b"<" + pb + b"sheetData>" if self.empty else self.open
            if first is not None:
                out += first
                for piece in body:
                    out += piece
                    if len(out) >= CHUNK:
                        yield out  # a fresh buffer follows: a consumer may keep this one
                        out = bytearray()
            out += self.tail
            out += b"</" + pb + b"sheetData>" if self.empty else self.close
        out += self.post.encode("utf-8") if self.post_changed else self.post_bytes
        self.post_bytes = b""
        yield out

    def dimension(self, has_rows: bool) -> tuple[int, int, int, int] | None:
        m = self.px.dimension.search(self.pre)
        return parse_range(parse_attrs(m[0]).get("ref")) if m and has_rows else None


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
