"""Streamed worksheets, for the xlsx writer (package.py): what every sheet edited while it
streams out on save shares (Streamed: rows split from the inflated bytes as they come),
the recorded column write (Patch), and the part-reader interface a streamed sheet needs of
the package (PartReader, RowEditor: SheetHost). The two kinds of streamed edit are in
sheet_stream.
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

from xlcomplaints.workbook.sheet_frame import B_R_ATTR, B_SHEET_DATA, B_START, CHUNK, Frame, Row
from xlcomplaints.workbook.sheet_xml import Sheet
from xlcomplaints.workbook.xlsx_values import (
    COL_NAMES,
    MAX_ROW,
    CellValue,
    check_cell,
    check_row,
    parse_range,
)
from xlcomplaints.workbook.xlsx_zip import StoredPart
from xlcomplaints.workbook.xml_text import TAG_END, Tail, declared_encoding, parse_attrs


class PartReader(Protocol):
    """What a streamed sheet reads of the package that holds it: a part as the archive stores
    it (its entry and compressed bytes, inflated here a piece at a time) and the cell tails of
    a sheet's namespace prefix."""

    def stored(self, name: str) -> StoredPart: ...
    def tails(self, p: str) -> Tail: ...


class RowEditor(Protocol):
    """The row and sheet edits a streamed sheet hands back to the package (cell_edit.CellEdits)."""

    def edit_row(self, sh: Frame, row: Row, r: int, items: Iterable[tuple[int, CellValue]],
                 heads: dict[int, tuple[str, str]], tails: Tail) -> tuple[bool, int, int]: ...
    def apply_patch(self, sh: Sheet, patch: Patch) -> None: ...
    def replace_into(self, sh: Sheet, first_row: int, rows: list[tuple[CellValue, ...]], autofilter: bool,
                     protect: str | None = None) -> None: ...


class SheetHost(PartReader, RowEditor, Protocol):
    """The package as a streamed sheet sees it (``package.XlsxPackage``). Named here, so that
    the package imports the streamer and not the other way round."""


# A refresh writes some twenty columns of every Register row and rebuilds the Overdue list.
# Held as edited rows that is hundreds of megabytes at 50,000 rows, so such writes are
# recorded instead (the caller's values, by reference) and applied while the sheet's
# original bytes are inflated and streamed out on save.

EDIT_ROWS = 5_000  # rows per batch when a recorded write is applied to a held sheet
_INFLATE = 1 << 14  # compressed bytes inflated at a time
first_item = itemgetter(0)
_B_TAG_ENDS = frozenset(bytes([b]) for b in TAG_END.encode())


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
        info = pkg.stored(name).info
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
        part = self.pkg.stored(self.name)
        info, raw = part.info, part.raw
        if raw is None:
            raise zipfile.BadZipFile(f"bad local header for {self.name!r}")
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


