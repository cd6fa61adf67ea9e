"""The held worksheet, for the xlsx writer (package.py): original bytes, rows indexed by range.

Past 400 lines because Sheet reads as one unit: its row index, the splices, and rendering them back.
Edited rows are stored as splices of the original bytes. The XML text helpers live in xml_text,
the row and the frame every way of editing a sheet shares in sheet_frame; their names are
re-exported here, where callers have imported them from.
"""

from __future__ import annotations

import codecs
import re
from array import array
from bisect import bisect_left, insort
from collections.abc import Callable, Iterator, Sequence

from xlcomplaints.workbook.sheet_frame import (
    B_R_ATTR,
    B_SHEET_DATA,
    B_START,
    CHUNK,
    Frame,
    Row,
    row_start_style,
    widen_row_spans,
)
from xlcomplaints.workbook.xlsx_values import MAX_ROW, parse_range, union
from xlcomplaints.workbook.xml_text import (
    DROP,
    EXOTIC,
    META_ATTR,
    SHARED_ATTRS,
    SHEET_DATA,
    SI,
    START,
    T_ATTR,
    TAG_END,
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

__all__ = [
    "B_R_ATTR", "B_SHEET_DATA", "B_START", "CHUNK", "DROP", "META_ATTR", "SHARED_ATTRS", "SI", "START",
    "T_ATTR", "TAG_END", "Frame", "Row", "Sheet", "Tail", "XmlPart", "cell_xml", "declared_encoding",
    "inner_xml", "make_tails", "parse_attrs", "plain_text", "row_start_style", "widen_row_spans",
    "xml_escape", "xml_unescape",
]


#: What ``_normalise`` takes out of <sheetData>: a comment, a processing instruction, a CDATA section (group 1,
#: its text kept), or the end of <sheetData> (group 2, where it stops). Markup cannot begin inside an attribute
#: value or a text, so from a tag's end the first of these met is what it looks like.
_NODE = re.compile(r"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[(.*?)\]\]>|(</(?:[\w.-]+:)?sheetData\s*>)", re.S)


#: Comments, processing instructions and CDATA sections a sheet to be written may hold: Excel writes none, and
#: 200 MB of comments among the rows (1.2 MB zipped) took 17 s and 850 MB to take out even in one pass.
MAX_ODD_NODES = 100_000


def _normalise(data: bytes) -> str:
    """Rewrite a sheet whose <sheetData> has comments/CDATA/PIs so rows can be sliced as text: comments and PIs
    dropped, CDATA written as escaped text, in one pass over the text. Never as a tree: 20 MB of comments took
    565 MB as one, and 1 MB of processing instructions 43 s, their whitespace joined one node at a time."""
    if sum(data.count(mark) for mark in _B_EXOTIC) > MAX_ODD_NODES:  # counted at C speed, before any is taken out
        raise ValueError(f"more than {MAX_ODD_NODES:,} comments, processing instructions or CDATA sections")
    text = data.decode(declared_encoding(data))
    m = SHEET_DATA.search(text)
    if m is None or m[2]:  # no <sheetData>, or an empty one: nothing in it to take out
        return text
    out, pos = [text[: m.end()]], m.end()
    for node in _NODE.finditer(text, pos):
        out.append(text[pos : node.start()])
        pos = node.start() if node[2] is not None else node.end()
        if node[2] is not None:
            break
        if node[1] is not None:
            out.append(xml_escape(node[1]))
    out.append(text[pos:])
    return "".join(out)


# A stored row that differs from the original: new bytes (a row this package wrote, no
# lead), or a splice list of the original row: (start, end) byte ranges of the sheet as
# consecutive ints, and bytes, in order. It always begins with the row's lead.
_Stored = bytes | tuple[int | bytes, ...]
_Piece = tuple[int, int] | bytes  # a range of the sheet's original bytes, or new bytes

_B_EXOTIC = tuple(mark.encode() for mark in EXOTIC)
_B_TAG_END = frozenset(TAG_END.encode())


def _text(data: bytes) -> str:
    """Whitespace between rows, decoded: Unicode whitespace counts, as in the text it was."""
    return data.decode("utf-8", "replace")


class Sheet(Frame):
    """A worksheet part as its original bytes, rows indexed by byte range, and edits.

    Untouched rows are never copied or decoded: they are emitted as slices of the original
    bytes. A row is decoded and split into cells only while it is edited (one write_cells
    call), then stored back as a splice list, so pending edits cost about the size of the
    new cells. Before and after <sheetData> (dimension, cols, autoFilter) are small text.
    """

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.encoding = declared_encoding(data)
        # exact: self.base is the part's stored bytes. Other encodings are held as UTF-8 and
        # transcoded on output; a sheet that had to be normalised compares as a whole.
        self.exact = codecs.lookup(self.encoding).name == "utf-8"
        base = data if self.exact else data.decode(self.encoding).encode("utf-8")
        if not self._split(base, strict=False):
            self.exact = False
            self._split(_normalise(data).encode("utf-8"), strict=True)

    def _split(self, base: bytes, *, strict: bool) -> bool:
        m = B_SHEET_DATA.search(base)
        if m is None:
            raise ValueError(f"{self.name} has no <sheetData>")
        pb = m[1] or b""
        p = self._prefix(pb.decode("utf-8"))
        self.base = base
        self.pre, self.pre_end, self.pre_changed = base[: m.start()].decode("utf-8"), m.start(), False
        self.empty_span: tuple[int, int] | None = None  # a self-closing <sheetData/>
        self.open: _Piece
        self.close: _Piece
        if m[2]:
            self.empty_span = (m.start(), m.end())
            self.open, self.close = f"<{p}sheetData>".encode(), f"</{p}sheetData>".encode()
            body, body_end = m.end(), m.end()
            self.post_start = m.end()
        else:
            self.open = (m.start(), m.end())
            end = base.find(b"</" + pb + b"sheetData", m.end())
            close_end = base.find(b">", end) + 1
            if end < 0 or close_end <= 0:
                raise ValueError(f"{self.name}: unterminated <sheetData>")
            self.close, body, body_end, self.post_start = (end, close_end), m.end(), end, close_end
        self.post, self.post_changed = base[self.post_start :].decode("utf-8"), False
        if not strict and any(base.find(mark, body, body_end) >= 0 for mark in _B_EXOTIC):
            return False
        # Original rows in document order: number, start of the whitespace before it (kept
        # with the row), start of <row, end of </row>. Arrays: 50k rows cost ~1.5 MB.
        nums, leads, tags, ends = array("l"), array("q"), array("q"), array("q")
        fixed: dict[int, _Stored] = {}
        seen: set[int] = set()
        open_tag, close_tag = b"<" + pb + b"row", b"</" + pb + b"row>"
        pos, prev = body, 0
        while (start := base.find(open_tag, pos, body_end)) >= 0:
            m = B_START.match(base, start, body_end)
            end = -1
            after = start + len(open_tag)
            if m is not None and after < body_end and base[after] in _B_TAG_END:
                end = m.end() if m[2] else base.find(close_tag, m.end(), body_end)
                end += 0 if m[2] or end < 0 else len(close_tag)
            found = B_R_ATTR.search(m[1]) if m is not None else None
            prev = int(found[1]) if found else prev + 1
            if end < 0 or (start > pos and _text(base[pos:start]).strip()) or prev in seen:
                if strict:
                    raise ValueError(f"{self.name}: unsupported content in <sheetData>")
                return False
            if found is None:  # implicit numbering would break once rows are inserted
                fixed[prev] = (pos, after, f' r="{prev}"'.encode(), after, end)
            seen.add(prev)
            nums.append(prev)
            leads.append(pos)
            tags.append(start)
            ends.append(end)
            pos = end
        self.tail = (pos, body_end)
        if _text(base[pos:body_end]).strip():
            if strict:
                raise ValueError(f"{self.name}: unsupported content in <sheetData>")
            return False
        self._nums, self._leads, self._tags, self._ends = nums, leads, tags, ends
        ordered = all(nums[i] < nums[i + 1] for i in range(len(nums) - 1))
        self._where = None if ordered else {r: i for i, r in enumerate(nums)}
        self._cut = MAX_ROW + 1  # original rows from here down were dropped by replace_rows
        self.stored: dict[int, _Stored | Row] = dict(fixed)  # rows that differ from the original
        self.editing: set[int] = set()  # rows held as Row until end_edit()
        self.row_nums = sorted(nums)
        return True

    # ---- rows
    def _orig(self, r: int) -> int:
        """Index of original row r if it is still in the sheet, else -1."""
        if r >= self._cut:
            return -1
        if self._where is not None:
            return self._where.get(r, -1)
        nums = self._nums
        i = bisect_left(nums, r)
        return i if i < len(nums) and nums[i] == r else -1

    def _read(self, r: int) -> Row | None:
        """Row r split into cells, without keeping it."""
        held = self.stored.get(r)
        if held is None:
            i = self._orig(r)
            if i < 0:
                return None
            tag, end = self._tags[i], self._ends[i]
            text = self.base[tag:end].decode("utf-8")
            row, pieces = self._parse(r, text)
            row.lead = (self._leads[i], tag)
            if pieces is None:
                pieces = tuple(row.pieces())
                if "".join(pieces) != text:  # parsing added something (r= on cells)
                    return row
            row.origin = (tag, end, pieces, text.isascii())
            return row
        if isinstance(held, Row):
            return held
        if isinstance(held, bytes):
            return self._parse(r, held.decode("utf-8"))[0]
        i = self._orig(r)  # a splice list: an original row, edited before
        lead = (self._leads[i], self._tags[i])
        base = self.base
        data = b"".join(x if isinstance(x, bytes) else base[x[0] : x[1]] for x in self._expand(held))
        row = self._parse(r, data[lead[1] - lead[0] :].decode("utf-8"))[0]
        row.lead = lead
        return row

    def row(self, r: int) -> Row | None:
        """Row r split into cells (parsed on first touch, held until end_edit), or None."""
        row = self._read(r)
        if row is not None and r not in self.editing:
            self.stored[r] = row
            self.editing.add(r)
        return row

    def end_edit(self) -> None:
        """Store the rows being edited compactly: ranges of the original for what is unchanged."""
        for r in self.editing:
            row = self.stored[r]
            assert isinstance(row, Row)
            stored = self._splice(row)
            if stored is None:
                del self.stored[r]
            else:
                self.stored[r] = stored
        self.editing.clear()

    def _splice(self, row: Row) -> _Stored | None:
        """The row as new bytes or a splice list of the original; None if it is unchanged."""
        if row.origin is None:
            data = row.render().encode("utf-8")
            return data if row.lead is None else (*row.lead, data)
        assert row.lead is not None
        tag, end, old, ascii = row.origin
        new = row.pieces()
        if len(old) < 2 or len(new) < 2:  # a self-closing <row/> (kept or filled)
            return self._splice_pieces(row)
        # Usually the start tag (spans=) and one stretch of cells changed: cells added at
        # the end, or some overwritten. Find the stretch by identity from both ends: the
        # unchanged pieces are the very objects parsed.
        k, top = 1, min(len(old), len(new))
        while k < top and new[k] is old[k]:
            k += 1
        m, top = 0, top - k
        while m < top and new[-1 - m] is old[-1 - m]:
            m += 1
        gone, added = old[k : len(old) - m], new[k : len(new) - m]
        if gone and {id(p) for p in gone if p} & {id(p) for p in added if p}:
            return self._splice_pieces(row)  # cells moved: not one stretch

        def size(pieces: Sequence[str]) -> int:
            return sum(map(len, pieces)) if ascii else len("".join(pieces).encode("utf-8"))

        out: list[int | bytes] = []
        head = tag + size(old[:1])
        if new[0] is old[0]:
            out += (row.lead[0], head)
        else:
            if tag > row.lead[0]:
                out += (row.lead[0], tag)
            out.append(new[0].encode("utf-8"))
        to = end - size(old[len(old) - m :]) if m else end  # from the end: the tail is short
        at = to - size(gone)
        if at > head:
            if out and not isinstance(out[-1], bytes):
                out[-1] = at
            else:
                out += (head, at)
        data = "".join(added).encode("utf-8")
        if data:
            out.append(data)
        if end > to:
            if not data and not isinstance(out[-1], bytes) and out[-1] == to:
                out[-1] = end
            else:
                out += (to, end)
        if out == [row.lead[0], end]:
            return None
        return tuple(out)

    def _splice_pieces(self, row: Row) -> _Stored | None:
        """General case: every piece that is still the parsed one becomes a range."""
        assert row.lead is not None and row.origin is not None
        tag, _, old, ascii = row.origin
        offsets = [tag]
        for piece in old:
            offsets.append(offsets[-1] + (len(piece) if ascii else len(piece.encode("utf-8"))))
        index = {id(piece): i for i, piece in enumerate(old)}
        out: list[int | bytes] = []
        a, b = row.lead  # the pending range; unchanged pieces extend it
        new: list[str] = []
        for piece in row.pieces():
            if not piece:
                continue
            i = index.get(id(piece))
            if i is None or old[i] is not piece:
                new.append(piece)
                continue
            if new:
                if b > a:
                    out += (a, b)
                out.append("".join(new).encode("utf-8"))
                new = []
                a = b = offsets[i]
            elif offsets[i] != b:
                if b > a:
                    out += (a, b)
                a = b = offsets[i]
            b = offsets[i + 1]
        if b > a:
            out += (a, b)
        if new:
            out.append("".join(new).encode("utf-8"))
        if out == [row.lead[0], offsets[-1]]:
            return None
        return tuple(out)

    @staticmethod
    def _expand(stored: tuple[int | bytes, ...]) -> Iterator[_Piece]:
        i, n = 0, len(stored)
        while i < n:
            x = stored[i]
            if isinstance(x, int):
                yield (x, stored[i + 1])  # type: ignore[misc]
                i += 2
            else:
                yield x
                i += 1

    def new_row(self, r: int) -> Row:
        row = Row(f'<{self.p}row r="{r}">', {}, "", f"</{self.p}row>")
        insort(self.row_nums, r)
        self.stored[r] = row
        self.editing.add(r)
        return row

    def add_row(self, r: int, data: bytes) -> None:
        """Append a rendered row after the last one (replace_rows)."""
        self.row_nums.append(r)
        self.stored[r] = data

    def drop_rows_from(self, first_row: int) -> bool:
        """Remove rows first_row and below; True if any of them held a formula."""
        i = bisect_left(self.row_nums, first_row)
        formula = False
        for r in self.row_nums[i:]:
            held = self.stored.pop(r, None)
            self.editing.discard(r)
            if formula:
                continue
            if held is None:
                j = self._orig(r)
                formula = self.has_f.search(self.base, self._tags[j], self._ends[j]) is not None
            elif isinstance(held, Row):
                formula = self.px.has_f.search(held.render()) is not None
            else:
                for x in [held] if isinstance(held, bytes) else self._expand(held):
                    part = x if isinstance(x, bytes) else self.base[x[0] : x[1]]
                    formula = formula or self.has_f.search(part) is not None
        del self.row_nums[i:]
        self._cut = min(self._cut, first_row)
        return formula

    def extent(self) -> tuple[int, int, int, int] | None:
        """Cells' bounding box. Rows go through row(): like a touch, cells without r= gain it."""
        box = None
        try:
            for r in self.row_nums:
                cols = self.row(r).cols  # type: ignore[union-attr]
                if cols:
                    box = union(box, (r, cols[0], r, cols[-1]))
                if len(self.editing) >= 4096:
                    self.end_edit()
        finally:
            self.end_edit()
        return box

    def dimension(self) -> tuple[int, int, int, int] | None:
        m = self.px.dimension.search(self.pre)
        return parse_range(parse_attrs(m[0]).get("ref")) if m and self.row_nums else None

    # ---- output
    def _items(self) -> Iterator[_Piece]:
        yield self.pre.encode("utf-8") if self.pre_changed else (0, self.pre_end)
        if self.empty_span is not None and not self.row_nums:
            yield self.empty_span
        else:
            yield self.open
            stored, leads, ends, orig = self.stored, self._leads, self._ends, self._orig
            for r in self.row_nums:
                held = stored.get(r)
                if held is None:
                    i = orig(r)
                    yield (leads[i], ends[i])
                elif isinstance(held, bytes):
                    yield held
                elif isinstance(held, tuple):
                    yield from self._expand(held)
                else:  # only if an edit failed half-way
                    if held.lead is not None:
                        yield held.lead
                    yield held.render().encode("utf-8")
            yield self.tail
            yield self.close
        yield self.post.encode("utf-8") if self.post_changed else (self.post_start, len(self.base))

    def pieces(self) -> Iterator[_Piece]:
        """The part in order as ranges of the original bytes and new bytes, ranges merged."""
        a = b = 0
        for x in self._items():
            if isinstance(x, tuple):
                if x[0] == b:
                    b = x[1]
                    continue
                if b > a:
                    yield (a, b)
                a, b = x
            elif x:
                if b > a:
                    yield (a, b)
                a = b = -1
                yield x
        if b > a:
            yield (a, b)

    def chunks(self) -> Iterator[bytes | bytearray | memoryview]:
        """The part's bytes a few hundred kilobytes at a time, in its declared encoding."""
        if not self.exact:
            encoder = codecs.getincrementalencoder(self.encoding)()
            for chunk in self._utf8_chunks():
                yield encoder.encode(str(chunk, "utf-8"))
            yield encoder.encode("", final=True)
            return
        yield from self._utf8_chunks()

    def _utf8_chunks(self) -> Iterator[bytearray | memoryview]:
        view, buf = memoryview(self.base), bytearray()
        for x in self.pieces():
            if isinstance(x, tuple):
                if x[1] - x[0] >= CHUNK:  # long untouched runs go out as they are
                    if buf:
                        yield buf
                        buf = bytearray()
                    yield view[x[0] : x[1]]
                    continue
                buf += view[x[0] : x[1]]
            else:
                buf += x
            if len(buf) >= CHUNK:
                yield buf  # a fresh buffer follows: a consumer may keep this one
                buf = bytearray()
        if buf:
            yield buf

    def render(self) -> bytes:
        return b"".join(self.chunks())

    def differs(self, stored: Callable[[], bytes]) -> bool:
        """Would saving change the part? Only new bytes are compared, not untouched rows."""
        if not self.exact:
            return self.render() != stored()
        base, pos = self.base, 0
        for x in self.pieces():
            if isinstance(x, tuple):
                n = x[1] - x[0]
                if x[0] != pos and base[pos : pos + n] != base[x[0] : x[1]]:
                    return True
            else:
                n = len(x)
                if base[pos : pos + n] != x:
                    return True
            pos += n
        return pos != len(base)
