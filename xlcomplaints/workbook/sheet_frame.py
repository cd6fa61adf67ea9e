"""Worksheets as text, for the xlsx writer (package.py): a row being edited (Row), and what
every way of editing a sheet shares (Frame: the text around <sheetData>, the main
namespace's prefix, how a row is split into cells, spans and dimension kept true); the held
sheet is sheet_xml.Sheet, the streamed ones sheet_stream's.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from xlcomplaints.workbook.xlsx_values import COL_NUMS, cell_ref, parse_range, parse_ref, range_ref
from xlcomplaints.workbook.xml_text import (
    R_ATTR,
    SHEET_DATA,
    START,
    TAG_END,
    Patterns,
    first_attr,
    parse_attrs,
    set_attr,
)


class Row:
    """A row being edited: start tag, cells by column (with any leading whitespace), rest.

    lead: the original whitespace before the row, as a range of the sheet's bytes (None for
    rows this package created). origin: (byte offset, pieces) when the row was parsed from
    the original bytes and its pieces (start tag, cells in text order, rest, end tag) join
    to exactly that text; unchanged pieces are then stored as ranges, not copies.
    """

    __slots__ = ("cells", "cols", "empty", "end", "lead", "origin", "rest", "start")

    def __init__(
        self, start: str, cells: dict[int, str], rest: str, end: str, empty: str = ""
    ) -> None:
        self.start, self.cells, self.rest, self.end = start, cells, rest, end
        self.cols = sorted(cells)
        self.empty = empty  # original text of a self-closing <row/>, kept while it stays empty
        self.lead: tuple[int, int] | None = None
        self.origin: tuple[int, int, tuple[str, ...], bool] | None = None

    def pieces(self) -> list[str]:
        if self.empty and not self.cols:
            return [self.empty]
        cells = self.cells
        return [self.start, *[cells[c] for c in self.cols], self.rest, self.end]

    def render(self) -> str:
        return "".join(self.pieces())


B_START = re.compile(START.pattern.replace(r"[\w:.-]", r"[\w:.\x80-\xff-]").encode())
B_R_ATTR = re.compile(R_ATTR.pattern.encode())
B_SHEET_DATA = re.compile(SHEET_DATA.pattern.replace(r"[\w.-]", r"[\w.\x80-\xff-]").encode())
_SPANS = re.compile(r"""\sspans\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SPAN_BOUNDS: dict[str, tuple[int, int]] = {}  # "1:27" -> (1, 27); a sheet has a handful
CHUNK = 1 << 18


def row_start_style(start: str) -> str | None | bool:
    """A row's style if its start tag has customFormat (None: the default style), else False."""
    if "customFormat" not in start:
        return False
    attrs = parse_attrs(START.match(start)[1])  # type: ignore[index]
    if attrs.get("customFormat") not in ("1", "true"):
        return False
    s = attrs.get("s")
    return s if s and s != "0" else None


def widen_row_spans(start: str, lo: int, hi: int) -> str:
    """A row's start tag with its optional spans="a:b" hint kept true when cells are added."""
    found = _SPANS.search(start) if "spans" in start else None
    group = 0 if found is None else 1 if found[1] is not None else 2
    spans = found and found[group]
    if not spans:
        return start
    bounds = _SPAN_BOUNDS.get(spans)
    if bounds is None:
        try:
            nums = [int(n) for part in spans.split() for n in part.split(":")]
        except ValueError:
            return start
        if len(_SPAN_BOUNDS) > 4096:
            _SPAN_BOUNDS.clear()
        bounds = _SPAN_BOUNDS[spans] = (min(nums), max(nums))
    if lo < bounds[0] or hi > bounds[1]:
        value = f'"{min(lo, bounds[0])}:{max(hi, bounds[1])}"'  # the quotes set_attr writes
        return start[: found.start(group) - 1] + value + start[found.end(group) + 1 :]  # type: ignore[union-attr]
    return start


class Frame:
    """What every way of editing a worksheet shares: the text around <sheetData> (dimension,
    <cols>, autoFilter), the main namespace's prefix, and how a row is split into cells."""

    name: str
    pre: str  # the part before <sheetData>, decoded
    post: str  # the part after </sheetData>, decoded
    pre_changed = False
    post_changed = False

    def _prefix(self, p: str) -> str:
        self.p, self.px = p, Patterns(p)
        self.f_open, self.v_open, self.is_open = f"<{p}f", f"<{p}v", f"<{p}is"
        self.has_f = re.compile(b"<" + re.escape(p.encode()) + rb"f(?![\w\x80-\xff])")
        self._col_styles: tuple[list[int], list[tuple[int, str]]] | None = None
        return p

    @staticmethod
    def row_style(row: Row) -> str | None | bool:
        return row_start_style(row.start)

    def col_style(self, c: int) -> str | None:
        """Style of the <col> covering column c: a new cell should look like its column."""
        if self._col_styles is None:
            spans = []
            for m in self.px.col.finditer(self.pre):
                a = parse_attrs(m[0])
                if a.get("min", "").isdigit() and a.get("max", "").isdigit():
                    spans.append((int(a["min"]), int(a["max"]), a.get("style") or "0"))
            spans.sort()
            self._col_styles = ([s[0] for s in spans], [(s[1], s[2]) for s in spans])
        mins, rest = self._col_styles
        i = bisect_right(mins, c) - 1
        if i >= 0 and c <= rest[i][0] and rest[i][1] != "0":
            return rest[i][1]
        return None

    @staticmethod
    def widen_spans(row: Row, lo: int, hi: int) -> None:
        row.start = widen_row_spans(row.start, lo, hi)

    def set_dimension(self, box: tuple[int, int, int, int] | None) -> None:
        m = self.px.dimension.search(self.pre)
        ref = range_ref(*box) if box else "A1"
        if m and parse_attrs(m[0]).get("ref") != ref:
            self.pre = self.pre[: m.start()] + set_attr(m[0], "ref", ref) + self.pre[m.end() :]
            self.pre_changed = True

    def extend_autofilter(self, last_row: int) -> None:
        m = self.px.autofilter.search(self.post)
        span = parse_range(parse_attrs(m[0]).get("ref")) if m else None
        if m and span:
            ref = range_ref(span[0], span[1], max(span[0], last_row), span[3])
            self.post = self.post[: m.start()] + set_attr(m[0], "ref", ref) + self.post[m.end() :]
            self.post_changed = True

    def ensure_protection(self, attrs: str) -> None:
        """Protect the sheet with ``<sheetProtection attrs/>`` unless it has a protection already;
        it goes first after </sheetData> (after a sheetCalcPr), where the schema puts it."""
        if self.px.protection.search(self.post):
            return
        calc = self.px.calc_pr.search(self.post)
        at = calc.end() if calc else 0
        self.post = self.post[:at] + f"<{self.p}sheetProtection {attrs}/>" + self.post[at:]
        self.post_changed = True

    def _parse(self, r: int, row: str) -> tuple[Row, tuple[str, ...] | None]:
        """The row split into cells, and its pieces when they are known to join to row."""
        m = START.match(row)
        assert m is not None
        if m[2]:  # <row .../>
            return Row(row[: m.start(2)] + ">", {}, "", f"</{self.p}row>", row), None
        inner_end = row.rindex("<")
        inner = row[m.end() : inner_end]
        found = self.px.fast_cells.findall(inner)
        joined = "".join([cell for cell, _ in found])
        # The pattern has no lookaround, so matches that join to the start of the row were
        # contiguous (a gap would have been matched itself): one C-level scan splits the row.
        if inner.startswith(joined):
            cells, pos = {COL_NUMS[col]: cell for cell, col in found}, len(joined)
            if pos == len(inner) and len(cells) == len(found):
                parsed = Row(row[: m.end()], cells, "", row[inner_end:])
                if parsed.cols == list(cells):  # in order: the row is exactly these pieces
                    return parsed, (parsed.start, *cells.values(), "", parsed.end)
                return parsed, None
        else:
            cells, pos = {}, 0
            for cm in self.px.fast_cell.finditer(inner):
                if cm.start() != pos:
                    break
                cells[COL_NUMS[cm[1]]] = cm[0]
                pos = cm.end()
        if pos < len(inner):
            pos = self._slow_cells(inner, pos, cells, r)
        rest = inner[pos:]
        if rest.strip() and not rest.lstrip().startswith(f"<{self.p}extLst"):
            raise ValueError(f"{self.name}: unsupported content in row {r}")
        return Row(row[: m.end()], cells, rest, row[inner_end:]), None

    def _slow_cells(self, inner: str, pos: int, cells: dict[int, str], r: int) -> int:
        """Cells the fast pattern does not take (r= not first, or missing, or odd spacing)."""
        open_tag = f"<{self.p}c"
        prev = max(cells, default=0)
        while (start := inner.find("<", pos)) >= 0 and not inner[pos:start].strip():
            m = START.match(inner, start)
            if (
                m is None
                or not inner.startswith(open_tag, start)
                or inner[start + len(open_tag)] not in TAG_END
            ):
                break
            close = None if m[2] else self.px.cell_end.search(inner, m.end())
            end = m.end() if m[2] else close.end() if close else -1
            if end < 0:
                raise ValueError(f"{self.name}: unterminated cell in row {r}")
            found = R_ATTR.search(m[1])
            prev = parse_ref(found[1])[1] if found else prev + 1
            cell = inner[pos:end]
            if found is None:
                cell = inner[pos:start] + first_attr(inner[start:end], "r", cell_ref(prev, r))
            cells[prev] = cell
            pos = end
        return pos


