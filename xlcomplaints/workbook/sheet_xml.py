"""XML parts and worksheets as text, for the xlsx writer (package.py).

Small parts (workbook, rels, content types...) are edited with lxml behind their original
declaration bytes (XmlPart). Worksheets are edited as text instead: the patterns, cell
rendering and row splitting every way of editing a sheet shares (Frame), and the held
sheet (Sheet) whose edited rows are stored as splices of its original bytes.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterator, Sequence

from lxml import etree

from xlcomplaints.workbook.xlsx_values import (
    COL_NUMS,
    EPOCH_1900,
    EPOCH_1904,
    MAX_ROW,
    US_PER_DAY,
    CellValue,
    Encoded,
    cell_ref,
    encode,
    escape_text,
    number_text,
    parse_range,
    parse_ref,
    range_ref,
    unescape_text,
    union,
)

# --------------------------------------------------------------------------- XML parts
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([\w.-]+)["']""")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)


def declared_encoding(data: bytes) -> str:
    m = _ENCODING.match(data)
    return m.group(1).decode("ascii") if m else "utf-8"


class XmlPart:
    """A small part edited with lxml; re-serialised behind its original declaration bytes."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.prolog = _PROLOG.match(data).group(0)  # type: ignore[union-attr]
        self.epilog = data[len(data.rstrip()) :]
        self.root = etree.fromstring(data, _parser())

    def serialise(self) -> bytes:
        encoding = self.root.getroottree().docinfo.encoding or "UTF-8"
        body = etree.tostring(self.root, encoding=encoding, xml_declaration=False)
        return self.prolog + body + self.epilog


# --------------------------------------------------------------------------- sheet text
# Worksheets are edited as text: rows are sliced out of <sheetData> and indexed by
# number, a row is split into cells only when touched, and only the cells written are
# rebuilt. Everything else (declaration, namespaces, mc:Ignorable, extLst, controls...)
# keeps its exact bytes, and 1M cells cost seconds instead of a DOM's minutes.
_Q = r"""(?:[^>"']|"[^"]*"|'[^']*')*?"""  # rest of a start tag, quote-aware
START = re.compile(r"""<[\w:.-]+((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>""")
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_R_ATTR = re.compile(r"""\sr\s*=\s*["']([^"']*)["']""")
DROP = re.compile(r"""\s+(?:t|cm|vm)\s*=\s*(?:"[^"]*"|'[^']*')""")
_SHEET_DATA = re.compile(r"<([\w.-]+:)?sheetData\b" + _Q + r"(/?)>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_EXOTIC = ("<!--", "<![CDATA[", "<?")
TAG_END = " \t\r\n/>"
T_ATTR = re.compile(r"""\st\s*=\s*["']([^"']*)["']""")
META_ATTR = re.compile(r"""\s[cv]m\s*=""")
SHARED_ATTRS = re.compile(r"""\s+(?:t|si|ref)\s*=\s*(?:"[^"]*"|'[^']*')""")
# Text runs of an <si>/<is> in any prefix; phonetic guides (<rPh>) are not part of the value.
_RUN_T = re.compile(r"<(?:[\w.-]+:)?t\b" + _Q + r"(?:/>|>(.*?)</(?:[\w.-]+:)?t\s*>)", re.S)
_RPH = re.compile(r"<(?:[\w.-]+:)?rPh\b" + _Q + r"(?:/>|>.*?</(?:[\w.-]+:)?rPh\s*>)", re.S)
SI = re.compile(r"<(?:[\w.-]+:)?si\b" + _Q + r"(?:/>|>(.*?)</(?:[\w.-]+:)?si\s*>)", re.S)


class _Patterns:
    """Element patterns for the prefix the sheet uses for the main namespace (usually none)."""

    def __init__(self, prefix: str) -> None:
        e = re.escape(prefix)

        def element(name: str) -> re.Pattern[str]:
            return re.compile(rf"<{e}{name}\b{_Q}(?:/>|>.*?</{e}{name}\s*>)", re.S)

        self.f, self.inline, self.ext = element("f"), element("is"), element("extLst")
        # Excel writes r= first: one C-level scan then splits a whole row into cells. Same
        # matches as r'\s*<c r="..."(?:[^>]*/>|[^>]*>.*?</c>)', without its backtracking:
        # possessive runs, "/>" seen behind the ">", content taken up to the first </c>.
        self.fast_cell = re.compile(
            rf'\s*+<{e}c r="([A-Z]{{1,3}})[0-9]+"[^>]*+'
            rf"(?:(?<=/)>|>[^<]*+(?:<(?!/{e}c>)[^<]*+)*+</{e}c>)"
        )
        self.fast_cells = re.compile(f"({self.fast_cell.pattern})")  # for findall
        self.v = re.compile(rf"<{e}v\b{_Q}(?:/>|>(.*?)</{e}v\s*>)", re.S)
        self.has_f = re.compile(rf"<{e}f\b")
        self.cell_end = re.compile(rf"</{e}c\s*>")
        self.col = re.compile(rf"<{e}col\b{_Q}/?>")
        self.dimension = re.compile(rf"<{e}dimension\b{_Q}/?>")
        self.autofilter = re.compile(rf"<{e}autoFilter\b{_Q}/?>")
        self.protection = re.compile(rf"<{e}sheetProtection\b{_Q}/?>")
        self.calc_pr = re.compile(rf"<{e}sheetCalcPr\b{_Q}/?>")


def parse_attrs(tag: str) -> dict[str, str]:
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTR.finditer(tag)}


def _set_attr(tag: str, name: str, value: str) -> str:
    """Set one attribute in a start tag's text, leaving the rest of the tag as it was."""
    pat = re.compile(rf"""(\s{re.escape(name)}\s*=\s*)(?:"[^"]*"|'[^']*')""")
    if pat.search(tag):
        return pat.sub(lambda m: f'{m[1]}"{value}"', tag, count=1)
    cut = len(tag) - (2 if tag.endswith("/>") else 1)
    return f'{tag[:cut].rstrip()} {name}="{value}"{tag[cut:]}'


def _first_attr(tag: str, name: str, value: str) -> str:
    """Insert an attribute right after the element name (where Excel puts r=)."""
    m = re.match(r"<[\w:.-]+", tag)
    return f'{tag[: m.end()]} {name}="{value}"{tag[m.end() :]}'  # type: ignore[union-attr]


def plain_text(xml: str) -> str:
    """Value of an <is>/<si>: its runs' text, unescaped twice (XML, then Excel's _xHHHH_)."""
    runs = _RUN_T.finditer(_RPH.sub("", xml) if "rPh" in xml else xml)
    return unescape_text(xml_unescape("".join(m[1] or "" for m in runs)))


def xml_unescape(text: str) -> str:
    if "&" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        ref = m[1]
        if ref[0] != "#":
            return _NAMED[ref]
        return chr(int(ref[2:], 16) if ref[1] == "x" else int(ref[1:]))

    return _ENTITY.sub(one, text)


def xml_escape(text: str) -> str:
    # \r must be a character reference: a literal CR would be read back as \n.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _cell_tail(p: str, enc: Encoded, ext: str = "") -> str:
    """A <c>'s text after its attributes; strings are inline (sharedStrings stays untouched)."""
    if enc is None:
        return f">{ext}</{p}c>" if ext else "/>"
    kind, text = enc
    if kind == "n":
        return f"><{p}v>{text}</{p}v>{ext}</{p}c>"
    if kind == "s":
        space = ""
        if text and (
            text[0] in " \t\n\r"
            or text[-1] in " \t\n\r"
            or "\n" in text
            or "\t" in text
            or "  " in text
        ):
            space = ' xml:space="preserve"'
        body = xml_escape(escape_text(text))
        return f' t="inlineStr"><{p}is><{p}t{space}>{body}</{p}t></{p}is>{ext}</{p}c>'
    t = ' t="b"' if kind == "b" else ""
    return f"{t}><{p}v>{text}</{p}v>{ext}</{p}c>"


def cell_xml(p: str, attrs: str, enc: Encoded, ext: str = "") -> str:
    """A <c> with the given attribute text."""
    return f"<{p}c{attrs}{_cell_tail(p, enc, ext)}"


# Text needing more than the plain inline form: escapes, xml:space="preserve", _xHHHH_.
_NOT_PLAIN = re.compile("[&<>\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x|  |^ | $")


Tail = Callable[[CellValue], str]  # a checked value -> the cell's text after its attributes
_TAILS_LIMIT = 1 << 12  # cached tails per value type


def make_tails(p: str, date1904: bool) -> Tail:
    """Cell tails (see _cell_tail) by value, cached: a register repeats a few statuses and dates.

    A closure (a plain call: it runs for every cell written), one per sheet prefix, shared
    by the package's sheets. Each exact type has its own cache (1, 1.0 and True are equal
    keys); a full one starts over, so it follows what the rows repeat. Values must have
    been checked (see check_row).
    """
    caches: dict[type, dict[CellValue, str]] = {str: {}, float: {}, int: {}, dt.datetime: {}}
    plain, number = (f' t="inlineStr"><{p}is><{p}t>', f"</{p}t></{p}is></{p}c>"), (f"><{p}v>", f"</{p}v></{p}c>")
    get, epoch, leap = caches.get, EPOCH_1904 if date1904 else EPOCH_1900, not date1904

    def miss(value: CellValue, cache: dict[CellValue, str] | None) -> str:
        kind = type(value)
        if kind is str and not _NOT_PLAIN.search(value):  # type: ignore[arg-type]
            tail = f"{plain[0]}{value}{plain[1]}"
        elif kind is dt.datetime:  # excel_serial, inlined: a register has tens of thousands
            delta: dt.timedelta = value - epoch  # type: ignore[operator, assignment]
            days = delta.days + (leap and delta.days >= 60)
            frac = (delta.seconds * 1_000_000 + delta.microseconds) / US_PER_DAY
            tail = f"{number[0]}{number_text(days + frac) if frac else days}{number[1]}"
        else:
            tail = _cell_tail(p, encode(value, date1904))
        if cache is not None:
            if len(cache) >= _TAILS_LIMIT:
                cache.clear()
            cache[value] = tail
        return tail

    def tail(value: CellValue) -> str:
        cache = get(type(value))
        if cache is not None:
            found = cache.get(value)
            if found is not None:
                return found
        return miss(value, cache)

    return tail


def inner_xml(element: str) -> str:
    """Text between an element's start and end tag ('' when self-closing)."""
    m = START.match(element)
    return "" if m is None or m[2] else element[m.end() : element.rindex("<")]


def _normalise(data: bytes) -> str:
    """Rewrite a sheet whose <sheetData> has comments/CDATA/PIs so rows can be sliced as text."""
    part = XmlPart("", data)
    sheet_data = next(part.root.iter("{*}sheetData"), part.root)
    for node in list(sheet_data.iter(etree.Comment, etree.ProcessingInstruction)):
        parent, prev = node.getparent(), node.getprevious()
        if parent is None:
            continue
        if node.tail:
            if prev is not None:
                prev.tail = (prev.tail or "") + node.tail
            else:
                parent.text = (parent.text or "") + node.tail
        parent.remove(node)
    return part.serialise().decode(declared_encoding(data))


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


# A stored row that differs from the original: new bytes (a row this package wrote, no
# lead), or a splice list of the original row: (start, end) byte ranges of the sheet as
# consecutive ints, and bytes, in order. It always begins with the row's lead.
_Stored = bytes | tuple[int | bytes, ...]
_Piece = tuple[int, int] | bytes  # a range of the sheet's original bytes, or new bytes

B_START = re.compile(START.pattern.replace(r"[\w:.-]", r"[\w:.\x80-\xff-]").encode())
B_R_ATTR = re.compile(_R_ATTR.pattern.encode())
B_SHEET_DATA = re.compile(_SHEET_DATA.pattern.replace(r"[\w.-]", r"[\w.\x80-\xff-]").encode())
_B_EXOTIC = tuple(mark.encode() for mark in _EXOTIC)
_B_TAG_END = frozenset(TAG_END.encode())
_SPANS = re.compile(r"""\sspans\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SPAN_BOUNDS: dict[str, tuple[int, int]] = {}  # "1:27" -> (1, 27); a sheet has a handful
CHUNK = 1 << 18


def _text(data: bytes) -> str:
    """Whitespace between rows, decoded: Unicode whitespace counts, as in the text it was."""
    return data.decode("utf-8", "replace")


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
        value = f'"{min(lo, bounds[0])}:{max(hi, bounds[1])}"'  # the quotes _set_attr writes
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
        self.p, self.px = p, _Patterns(p)
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
            self.pre = self.pre[: m.start()] + _set_attr(m[0], "ref", ref) + self.pre[m.end() :]
            self.pre_changed = True

    def extend_autofilter(self, last_row: int) -> None:
        m = self.px.autofilter.search(self.post)
        span = parse_range(parse_attrs(m[0]).get("ref")) if m else None
        if m and span:
            ref = range_ref(span[0], span[1], max(span[0], last_row), span[3])
            self.post = self.post[: m.start()] + _set_attr(m[0], "ref", ref) + self.post[m.end() :]
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
            found = _R_ATTR.search(m[1])
            prev = parse_ref(found[1])[1] if found else prev + 1
            cell = inner[pos:end]
            if found is None:
                cell = inner[pos:start] + _first_attr(inner[start:end], "r", cell_ref(prev, r))
            cells[prev] = cell
            pos = end
        return pos


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
