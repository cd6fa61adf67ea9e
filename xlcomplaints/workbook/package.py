"""Patch cells in an .xlsx/.xlsm without disturbing anything else in the package.

openpyxl load+save silently drops or rewrites what it does not model (form controls,
x14 extensions, threaded comments, calcChain...; see shared/excel-notes.md). This
writer changes only the cells it is asked to write (plus <dimension>/<autoFilter> refs)
and copies every other zip entry as its original raw record (local header, compressed
bytes, data descriptor) in the original order, so untouched parts stay byte-identical.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import posixpath
import re
import struct
import zipfile
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from xlcomplaints.workbook.safety import FileStamp, atomic_write, read_with_stamp, stamp_file

__all__ = ["CellValue", "DefinedName", "SheetRef", "XlsxPackage"]

CellValue = str | int | float | bool | dt.datetime | dt.date | None

MAX_ROW = 1_048_576
MAX_COL = 16_384
MAX_TEXT = 32_767  # Excel's limit on characters in a cell
_COL_NAMES = [""]
for _i in range(1, MAX_COL + 1):
    _n, _s = _i, ""
    while _n:
        _n, _r = divmod(_n - 1, 26)
        _s = chr(65 + _r) + _s
    _COL_NAMES.append(_s)
_COL_NUMS = {name: i for i, name in enumerate(_COL_NAMES) if i}


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


# --------------------------------------------------------------------------- values
# Excel's escape for characters XML 1.0 cannot carry (ST_Xstring): _xHHHH_. A literal
# "_xHHHH_" in the data must have its underscore escaped, or readers would decode it.
_TO_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")
_SURROGATE = re.compile("[\ud800-\udfff]")
_Encoded = tuple[str, str] | None  # ("n"|"b"|"s", text) or None for "clear"


def escape_text(text: str) -> str:
    """Encode a string the way Excel stores it in <t> (only what XML cannot hold)."""
    if _TO_ESCAPE.search(text) is None:
        return text
    return _TO_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def unescape_text(text: str) -> str:
    """Inverse of escape_text (as Excel and calamine read it)."""
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def excel_serial(value: dt.date, date1904: bool = False) -> float | int:
    """Date/datetime -> Excel serial number (1900 system keeps Excel's fake 1900-02-29)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError("timezone-aware datetime: convert to local wall time first")
        day = value.date()
        frac = (value - dt.datetime.combine(day, dt.time())) / dt.timedelta(days=1)
    else:
        day, frac = value, 0.0
    if date1904:
        days = (day - dt.date(1904, 1, 1)).days
    else:
        days = (day - dt.date(1899, 12, 31)).days
        days += days >= 60  # serial 60 is the non-existent 1900-02-29
    if days < (0 if date1904 else 1):
        raise ValueError(f"date {value!r} is before the workbook's epoch")
    return days + frac if frac else days


def _number(value: float | int) -> str:
    if isinstance(value, int):
        return str(int(value))
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be stored in a cell")
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _encode(value: CellValue, date1904: bool) -> _Encoded:
    """Validate and encode one value up front, so a bad value fails before any edit."""
    if value is None:
        return None
    kind = type(value)
    if kind is float or kind is int:  # the common cases first: this runs once per cell
        return ("n", _number(value))
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"string of {len(value)} characters exceeds Excel's {MAX_TEXT}")
        if not value.isascii() and _SURROGATE.search(value):
            raise ValueError("string contains a lone surrogate")
        return ("s", value)
    if isinstance(value, bool):
        return ("b", "1" if value else "0")
    if isinstance(value, int | float):
        return ("n", _number(value))
    if isinstance(value, dt.date):
        return ("n", _number(excel_serial(value, date1904)))
    raise TypeError(f"unsupported cell value type: {type(value).__name__}")


def _ref(col: int, row: int) -> str:
    return f"{_COL_NAMES[col]}{row}"


def _parse_ref(ref: str) -> tuple[int, int]:
    """'AB12' -> (12, 28); '$' signs allowed."""
    ref = ref.replace("$", "").upper()
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters) :]), _COL_NUMS[letters]


def _parse_range(ref: str | None) -> tuple[int, int, int, int] | None:
    try:
        first, _, last = (ref or "").partition(":")
        r1, c1 = _parse_ref(first)
        r2, c2 = _parse_ref(last) if last else (r1, c1)
    except (KeyError, ValueError):
        return None
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _range(r1: int, c1: int, r2: int, c2: int) -> str:
    return _ref(c1, r1) if (r1, c1) == (r2, c2) else f"{_ref(c1, r1)}:{_ref(c2, r2)}"


def _union(
    a: tuple[int, int, int, int] | None, b: tuple[int, int, int, int] | None
) -> tuple[int, int, int, int] | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _check_cell(row: int, col: int) -> None:
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        raise ValueError(f"cell ({row}, {col}) is outside the sheet (1-based row, col)")


# --------------------------------------------------------------------------- zip layer
_EOCD = struct.Struct("<4s4H2LH")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_LOCAL = struct.Struct("<4s5H3L2H")


@dataclass
class _Entry:
    name: str
    central: bytes  # the raw central-directory record
    start: int  # local header ... end of data (+ descriptor): copied verbatim
    end: int


def _scan_zip(data: bytes) -> tuple[list[_Entry], bytes] | None:
    """Raw records of a plain (non-zip64, single-disk) archive; None means "use zipfile"."""
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if eocd < 20 or data[eocd - 20 : eocd - 16] == b"PK\x06\x07":
        return None
    _, disk, cd_disk, n_disk, n_total, cd_size, cd_off, clen = _EOCD.unpack_from(data, eocd)
    if disk or cd_disk or n_disk != n_total or cd_off + cd_size != eocd:
        return None
    entries, pos = [], cd_off
    for _ in range(n_total):
        f = _CENTRAL.unpack_from(data, pos)
        if f[0] != b"PK\x01\x02" or f[13] or 0xFFFFFFFF in (f[8], f[9], f[16]):
            return None  # zip64 fields live in extra data we would have to rewrite
        size = 46 + f[10] + f[11] + f[12]
        raw = data[pos : pos + size]
        name = raw[46 : 46 + f[10]].decode("utf-8" if f[3] & 0x800 else "cp437")
        entries.append(_Entry(name, raw, f[16], 0))
        pos += size
    starts = sorted(e.start for e in entries)
    if len(set(starts)) != len(starts) or len({e.name for e in entries}) != len(entries):
        return None
    bounds = [*starts, cd_off]
    for e in entries:
        e.end = bounds[bisect_right(bounds, e.start)]
    return entries, data[eocd + 22 : eocd + 22 + clen]


def _new_record(entry: _Entry, content: bytes, offset: int) -> tuple[bytes, bytes]:
    """Local + central records for rewritten content; keeps name, timestamp, attributes."""
    f = _CENTRAL.unpack_from(entry.central)
    name = entry.central[46 : 46 + f[10]]
    comment = entry.central[46 + f[10] + f[11] :]
    packer = zlib.compressobj(3, zlib.DEFLATED, -15)  # 3x faster than 6, ~10% larger
    body = packer.compress(content) + packer.flush()
    crc, flags = zlib.crc32(content), f[3] & 0x800
    local = _LOCAL.pack(
        b"PK\x03\x04", 20, flags, 8, f[5], f[6], crc, len(body), len(content), len(name), 0
    )
    central = _CENTRAL.pack(
        b"PK\x01\x02", f[1], 20, flags, 8, f[5], f[6], crc, len(body), len(content),
        len(name), 0, len(comment), 0, f[14], f[15], offset,
    )  # fmt: skip
    return local + name + body, central + name + comment


def _write_zip(data: bytes, replaced: Mapping[str, bytes], removed: set[str]) -> bytes:
    scanned = _scan_zip(data)
    if scanned is not None:
        entries, comment = scanned
        out = bytearray(data[: min((e.start for e in entries), default=0)])
        central: dict[str, bytes] = {}
        for e in sorted(entries, key=lambda e: e.start):
            if e.name in removed:
                continue
            offset = len(out)
            if e.name in replaced:
                local, central[e.name] = _new_record(e, replaced[e.name], offset)
                out += local
            else:
                out += memoryview(data)[e.start : e.end]
                central[e.name] = e.central[:42] + struct.pack("<L", offset) + e.central[46:]
        cd_off = len(out)
        for e in entries:
            out += central.get(e.name, b"")
        n = len(central)
        if len(out) < 0xFFFFFFFF and n < 0xFFFF:
            eocd = _EOCD.pack(b"PK\x05\x06", 0, 0, n, n, len(out) - cd_off, cd_off, len(comment))
            return bytes(out + eocd + comment)
    # zip64 or unusual archives: same names, order, timestamps and decompressed bytes.
    src, buf = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            if info.filename not in removed:
                copy = zipfile.ZipInfo(info.filename, info.date_time)  # no stale zip64 extras
                copy.compress_type, copy.external_attr = info.compress_type, info.external_attr
                copy.create_system, copy.comment = info.create_system, info.comment
                content = replaced.get(info.filename)
                dst.writestr(copy, src.read(info) if content is None else content)
        dst.comment = src.comment
    return buf.getvalue()


# --------------------------------------------------------------------------- XML parts
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([\w.-]+)["']""")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)


def _declared_encoding(data: bytes) -> str:
    m = _ENCODING.match(data)
    return m.group(1).decode("ascii") if m else "utf-8"


class _XmlPart:
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
_START = re.compile(r"""<[\w:.-]+((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>""")
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_R_ATTR = re.compile(r"""\sr\s*=\s*["']([^"']*)["']""")
_DROP = re.compile(r"""\s+(?:t|cm|vm)\s*=\s*(?:"[^"]*"|'[^']*')""")
_SHEET_DATA = re.compile(r"<([\w.-]+:)?sheetData\b" + _Q + r"(/?)>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_EXOTIC = ("<!--", "<![CDATA[", "<?")
_TAG_END = " \t\r\n/>"
_T_ATTR = re.compile(r"""\st\s*=\s*["']([^"']*)["']""")
_META_ATTR = re.compile(r"""\s[cv]m\s*=""")
_SHARED_ATTRS = re.compile(r"""\s+(?:t|si|ref)\s*=\s*(?:"[^"]*"|'[^']*')""")
# Text runs of an <si>/<is> in any prefix; phonetic guides (<rPh>) are not part of the value.
_RUN_T = re.compile(r"<(?:[\w.-]+:)?t\b" + _Q + r"(?:/>|>(.*?)</(?:[\w.-]+:)?t\s*>)", re.S)
_RPH = re.compile(r"<(?:[\w.-]+:)?rPh\b" + _Q + r"(?:/>|>.*?</(?:[\w.-]+:)?rPh\s*>)", re.S)
_SI = re.compile(r"<(?:[\w.-]+:)?si\b" + _Q + r"(?:/>|>(.*?)</(?:[\w.-]+:)?si\s*>)", re.S)


class _Patterns:
    """Element patterns for the prefix the sheet uses for the main namespace (usually none)."""

    def __init__(self, prefix: str) -> None:
        e = re.escape(prefix)

        def element(name: str) -> re.Pattern[str]:
            return re.compile(rf"<{e}{name}\b{_Q}(?:/>|>.*?</{e}{name}\s*>)", re.S)

        self.f, self.inline, self.ext = element("f"), element("is"), element("extLst")
        # Excel writes r= first: one C-level scan then splits a whole row into cells.
        self.fast_cell = re.compile(
            rf'\s*<{e}c r="([A-Z]{{1,3}})[0-9]+"(?:[^>]*/>|[^>]*>.*?</{e}c>)', re.S
        )
        self.v = re.compile(rf"<{e}v\b{_Q}(?:/>|>(.*?)</{e}v\s*>)", re.S)
        self.has_f = re.compile(rf"<{e}f\b")
        self.cell_end = re.compile(rf"</{e}c\s*>")
        self.col = re.compile(rf"<{e}col\b{_Q}/?>")
        self.dimension = re.compile(rf"<{e}dimension\b{_Q}/?>")
        self.autofilter = re.compile(rf"<{e}autoFilter\b{_Q}/?>")


def _attrs(tag: str) -> dict[str, str]:
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


def _plain_text(xml: str) -> str:
    """Value of an <is>/<si>: its runs' text, unescaped twice (XML, then Excel's _xHHHH_)."""
    runs = _RUN_T.finditer(_RPH.sub("", xml) if "rPh" in xml else xml)
    return unescape_text(_xml_unescape("".join(m[1] or "" for m in runs)))


def _xml_unescape(text: str) -> str:
    if "&" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        ref = m[1]
        if ref[0] != "#":
            return _NAMED[ref]
        return chr(int(ref[2:], 16) if ref[1] == "x" else int(ref[1:]))

    return _ENTITY.sub(one, text)


def _xml_escape(text: str) -> str:
    # \r must be a character reference: a literal CR would be read back as \n.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _cell_xml(p: str, attrs: str, enc: _Encoded, ext: str = "") -> str:
    """A <c> with the given attribute text; strings are inline (sharedStrings stays untouched)."""
    if enc is None:
        return f"<{p}c{attrs}>{ext}</{p}c>" if ext else f"<{p}c{attrs}/>"
    kind, text = enc
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
        body = _xml_escape(escape_text(text))
        return f'<{p}c{attrs} t="inlineStr"><{p}is><{p}t{space}>{body}</{p}t></{p}is>{ext}</{p}c>'
    t = ' t="b"' if kind == "b" else ""
    return f"<{p}c{attrs}{t}><{p}v>{text}</{p}v>{ext}</{p}c>"


def _inner(element: str) -> str:
    """Text between an element's start and end tag ('' when self-closing)."""
    m = _START.match(element)
    return "" if m is None or m[2] else element[m.end() : element.rindex("<")]


def _normalise(data: bytes) -> str:
    """Rewrite a sheet whose <sheetData> has comments/CDATA/PIs so rows can be sliced as text."""
    part = _XmlPart("", data)
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
    return part.serialise().decode(_declared_encoding(data))


class _Row:
    """A touched row: its start tag, cells by column (with any leading whitespace), rest."""

    __slots__ = ("cells", "cols", "empty", "end", "rest", "start")

    def __init__(
        self, start: str, cells: dict[int, str], rest: str, end: str, empty: str = ""
    ) -> None:
        self.start, self.cells, self.rest, self.end = start, cells, rest, end
        self.cols = sorted(cells)
        self.empty = empty  # original text of a self-closing <row/>, kept while it stays empty

    def render(self) -> str:
        if self.empty and not self.cols:
            return self.empty
        cells = self.cells
        return self.start + "".join([cells[c] for c in self.cols]) + self.rest + self.end


class _Sheet:
    """A worksheet part as text: before/after <sheetData>, and rows indexed by number."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.encoding = _declared_encoding(data)
        text = data.decode(self.encoding)
        if not self._split(text, strict=False):
            self._split(_normalise(data), strict=True)
        self._col_styles: tuple[list[int], list[tuple[int, str]]] | None = None

    def _split(self, text: str, *, strict: bool) -> bool:
        m = _SHEET_DATA.search(text)
        if m is None:
            raise ValueError(f"{self.name} has no <sheetData>")
        p = self.p = m[1] or ""
        self.px = _Patterns(p)
        self.f_open, self.v_open, self.is_open = f"<{p}f", f"<{p}v", f"<{p}is"
        self.pre, self.close = text[: m.start()], f"</{p}sheetData>"
        if m[2]:
            self.empty, self.open, body, self.post = m[0], f"<{p}sheetData>", "", text[m.end() :]
        else:
            self.empty, self.open = None, m[0]
            end = text.find(f"</{p}sheetData", m.end())
            close_end = text.find(">", end) + 1
            if end < 0 or close_end <= 0:
                raise ValueError(f"{self.name}: unterminated <sheetData>")
            self.close, body, self.post = text[end:close_end], text[m.end() : end], text[close_end:]
        if not strict and any(mark in body for mark in _EXOTIC):
            return False
        self.rows: dict[int, str | _Row] = {}
        self.lead: dict[int, str] = {}  # whitespace before a row (pretty-printed files)
        open_tag, close_tag = f"<{p}row", f"</{p}row>"
        pos = prev = 0
        while (start := body.find(open_tag, pos)) >= 0:
            m = _START.match(body, start)
            end = -1
            if m is not None and body[start + len(open_tag)] in _TAG_END:
                end = m.end() if m[2] else body.find(close_tag, m.end())
                end += 0 if m[2] or end < 0 else len(close_tag)
            found = _R_ATTR.search(m[1]) if m is not None else None
            prev = int(found[1]) if found else prev + 1
            gap = body[pos:start]
            if end < 0 or gap.strip() or prev in self.rows:
                if strict:
                    raise ValueError(f"{self.name}: unsupported content in <sheetData>")
                return False
            row = body[start:end]
            if found is None:  # implicit numbering would break once rows are inserted
                row = _first_attr(row, "r", str(prev))
            if gap:
                self.lead[prev] = gap
            self.rows[prev] = row
            pos = end
        self.body_tail = body[pos:]
        if self.body_tail.strip():
            if strict:
                raise ValueError(f"{self.name}: unsupported content in <sheetData>")
            return False
        self.row_nums = sorted(self.rows)
        return True

    def row(self, r: int) -> _Row | None:
        """Row r split into cells (parsed on first touch), or None if absent."""
        row = self.rows.get(r)
        if row is None or isinstance(row, _Row):
            return row
        m = _START.match(row)
        assert m is not None
        if m[2]:  # <row .../>
            parsed = _Row(row[: m.start(2)] + ">", {}, "", f"</{self.p}row>", row)
        else:
            inner_end = row.rindex("<")
            inner, cells, pos = row[m.end() : inner_end], {}, 0
            for cm in self.px.fast_cell.finditer(inner):
                if cm.start() != pos:
                    break
                cells[_COL_NUMS[cm[1]]] = cm[0]
                pos = cm.end()
            pos = self._slow_cells(inner, pos, cells, r)
            rest = inner[pos:]
            if rest.strip() and not rest.lstrip().startswith(f"<{self.p}extLst"):
                raise ValueError(f"{self.name}: unsupported content in row {r}")
            parsed = _Row(row[: m.end()], cells, rest, row[inner_end:])
        self.rows[r] = parsed
        return parsed

    def _slow_cells(self, inner: str, pos: int, cells: dict[int, str], r: int) -> int:
        """Cells the fast pattern does not take (r= not first, or missing, or odd spacing)."""
        open_tag = f"<{self.p}c"
        prev = max(cells, default=0)
        while (start := inner.find("<", pos)) >= 0 and not inner[pos:start].strip():
            m = _START.match(inner, start)
            if (
                m is None
                or not inner.startswith(open_tag, start)
                or inner[start + len(open_tag)] not in _TAG_END
            ):
                break
            close = None if m[2] else self.px.cell_end.search(inner, m.end())
            end = m.end() if m[2] else close.end() if close else -1
            if end < 0:
                raise ValueError(f"{self.name}: unterminated cell in row {r}")
            found = _R_ATTR.search(m[1])
            prev = _parse_ref(found[1])[1] if found else prev + 1
            cell = inner[pos:end]
            if found is None:
                cell = inner[pos:start] + _first_attr(inner[start:end], "r", _ref(prev, r))
            cells[prev] = cell
            pos = end
        return pos

    def new_row(self, r: int) -> _Row:
        row = _Row(f'<{self.p}row r="{r}">', {}, "", f"</{self.p}row>")
        self.row_nums.insert(bisect_left(self.row_nums, r), r)
        self.rows[r] = row
        return row

    def drop_rows_from(self, first_row: int) -> list[str | _Row]:
        i = bisect_left(self.row_nums, first_row)
        gone = [self.rows.pop(r) for r in self.row_nums[i:]]
        for r in self.row_nums[i:]:
            self.lead.pop(r, None)
        del self.row_nums[i:]
        return gone

    def row_style(self, row: _Row) -> str | None | bool:
        """The row's style if it has customFormat (None: formatted as default), else False."""
        attrs = _attrs(_START.match(row.start)[1])  # type: ignore[index]
        if attrs.get("customFormat") not in ("1", "true"):
            return False
        s = attrs.get("s")
        return s if s and s != "0" else None

    def col_style(self, c: int) -> str | None:
        """Style of the <col> covering column c: a new cell should look like its column."""
        if self._col_styles is None:
            spans = []
            for m in self.px.col.finditer(self.pre):
                a = _attrs(m[0])
                if a.get("min", "").isdigit() and a.get("max", "").isdigit():
                    spans.append((int(a["min"]), int(a["max"]), a.get("style") or "0"))
            spans.sort()
            self._col_styles = ([s[0] for s in spans], [(s[1], s[2]) for s in spans])
        mins, rest = self._col_styles
        i = bisect_right(mins, c) - 1
        if i >= 0 and c <= rest[i][0] and rest[i][1] != "0":
            return rest[i][1]
        return None

    def widen_spans(self, row: _Row, lo: int, hi: int) -> None:
        """Keep the optional spans="a:b" hint true when cells are added outside it."""
        spans = _attrs(row.start).get("spans")
        if not spans:
            return
        try:
            nums = [int(n) for part in spans.split() for n in part.split(":")]
        except ValueError:
            return
        if lo < min(nums) or hi > max(nums):
            row.start = _set_attr(row.start, "spans", f"{min(lo, *nums)}:{max(hi, *nums)}")

    def extent(self, rows: Sequence[int]) -> tuple[int, int, int, int] | None:
        box = None
        for r in rows:
            cols = self.row(r).cols  # type: ignore[union-attr]
            if cols:
                box = _union(box, (r, cols[0], r, cols[-1]))
        return box

    def dimension(self) -> tuple[int, int, int, int] | None:
        m = self.px.dimension.search(self.pre)
        return _parse_range(_attrs(m[0]).get("ref")) if m and self.rows else None

    def set_dimension(self, box: tuple[int, int, int, int] | None) -> None:
        m = self.px.dimension.search(self.pre)
        ref = _range(*box) if box else "A1"
        if m and _attrs(m[0]).get("ref") != ref:
            self.pre = self.pre[: m.start()] + _set_attr(m[0], "ref", ref) + self.pre[m.end() :]

    def extend_autofilter(self, last_row: int) -> None:
        m = self.px.autofilter.search(self.post)
        span = _parse_range(_attrs(m[0]).get("ref")) if m else None
        if m and span:
            ref = _range(span[0], span[1], max(span[0], last_row), span[3])
            self.post = self.post[: m.start()] + _set_attr(m[0], "ref", ref) + self.post[m.end() :]

    def render(self) -> bytes:
        if self.empty and not self.rows and not self.body_tail:
            middle = self.empty
        else:
            parts, lead = [self.open], self.lead
            for r in self.row_nums:
                if lead and r in lead:
                    parts.append(lead[r])
                row = self.rows[r]
                parts.append(row if isinstance(row, str) else row.render())
            parts += (self.body_tail, self.close)
            middle = "".join(parts)
        return (self.pre + middle + self.post).encode(self.encoding)


# --------------------------------------------------------------------------- package
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


class XlsxPackage:
    """An .xlsx/.xlsm held in memory; parts are parsed only when read or patched."""

    def __init__(
        self, data: bytes, path: Path | None = None, stamp: FileStamp | None = None
    ) -> None:
        self.path = path
        self.stamp = stamp
        self._load(data)

    @classmethod
    def open(cls, source: str | os.PathLike[str] | bytes) -> XlsxPackage:
        """Open a file (stamped, so save() can refuse if someone saved it meanwhile) or bytes."""
        if isinstance(source, bytes | bytearray | memoryview):
            return cls(bytes(source))
        path = Path(source)
        data, stamp = read_with_stamp(path)
        return cls(data, path, stamp)

    def _load(self, data: bytes) -> None:
        self._data = data
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        self._names = self._zip.namelist()
        self._folded = {n.lower(): n for n in self._names}
        self._parts: dict[str, _XmlPart] = {}
        self._sheets: dict[str, _Sheet] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()
        self._rendered: dict[str, bytes] = {}
        self._shared: list[str] | None = None  # raw <si> contents
        self._shared_text: dict[int, str] = {}
        self._calc_chain_dropped = False
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

    # ---- reading
    def _entry(self, name: str) -> str:
        """Zip entry for a part name (OPC part names are case-insensitive)."""
        return name if name in self._names else self._folded.get(name.lower(), name)

    def _xml(self, name: str) -> _XmlPart:
        part = self._parts.get(name)
        if part is None:
            part = self._parts[name] = _XmlPart(name, self._zip.read(name))
        return part

    def part_names(self) -> list[str]:
        """Zip entries in archive order, without parts this package has removed."""
        return [n for n in self._names if n not in self._removed]

    def read_part(self, name: str) -> bytes:
        """Current bytes of a part (patched parts as they will be saved)."""
        name = self._entry(name)
        if name in self._removed or name not in self._names:
            raise KeyError(name)
        return self._current(name) if name in self._dirty else self._zip.read(name)

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
                    self._shared = _SI.findall(data.decode(_declared_encoding(data)))
        if not 0 <= index < len(self._shared):
            return None
        text = self._shared_text.get(index)
        if text is None:
            text = self._shared_text[index] = _plain_text(self._shared[index])
        return text

    # ---- writing
    def _worksheet(self, name: str) -> _Sheet:
        ref = self.sheet(name)
        if ref.kind != "worksheet":
            raise ValueError(f"sheet {ref.name!r} is a {ref.kind}, not a worksheet")
        sheet = self._sheets.get(ref.part)
        if sheet is None:
            sheet = self._sheets[ref.part] = _Sheet(ref.part, self._zip.read(ref.part))
        return sheet

    def _touch(self, name: str) -> None:
        self._dirty.add(name)
        self._rendered.pop(name, None)

    def write_cells(self, sheet: str, cells: Mapping[tuple[int, int], CellValue]) -> None:
        """Set values of (row, col) cells, 1-based; everything else in the sheet stays as is."""
        by_row: dict[int, list[tuple[int, _Encoded]]] = {}
        date1904 = self.date1904
        for (r, c), value in cells.items():
            if not (0 < r <= MAX_ROW and 0 < c <= MAX_COL):
                _check_cell(r, c)
            items = by_row.get(r)
            if items is None:
                items = by_row[r] = []
            items.append((c, _encode(value, date1904)))
        sh = self._worksheet(sheet)
        box = sh.dimension()
        changed = False
        col_styles: dict[int, str | None] = {}
        for r in sorted(by_row):
            items = sorted(by_row[r])  # (col, ...) tuples: cols are unique
            written = [c for c, enc in items if enc is not None]
            row = sh.row(r)
            if row is None:
                if not written:
                    continue
                row = sh.new_row(r)
            if written:
                box = _union(box, (r, written[0], r, written[-1]))
            row_style, cells, added = sh.row_style(row), row.cells, []
            for c, enc in items:
                old = cells.get(c)
                if old is not None:
                    changed |= self._overwrite(sh, row, r, c, old, enc)
                elif enc is not None:
                    style = row_style
                    if style is False:
                        if c not in col_styles:
                            col_styles[c] = sh.col_style(c)
                        style = col_styles[c]
                    ref = _COL_NAMES[c] + str(r)
                    cells[c] = _cell_xml(
                        sh.p, f' r="{ref}" s="{style}"' if style else f' r="{ref}"', enc
                    )
                    added.append(c)
            if added:
                changed = True
                if row.cols and added[0] < row.cols[-1]:
                    row.cols = sorted(cells)
                else:
                    row.cols += added
                sh.widen_spans(row, added[0], added[-1])
        if changed:
            sh.set_dimension(box)
            self._touch(sh.name)

    def replace_rows(
        self,
        sheet: str,
        first_row: int,
        rows: Sequence[Sequence[CellValue]],
        *,
        autofilter: bool = True,
    ) -> None:
        """Replace everything from first_row down (a sheet the toolkit owns below its header)."""
        _check_cell(first_row, 1)
        if rows:
            _check_cell(first_row + len(rows) - 1, max(1, *(len(r) for r in rows)))
        encoded = [[_encode(v, self.date1904) for v in row] for row in rows]
        sh = self._worksheet(sheet)
        for old in sh.drop_rows_from(first_row):
            text = old if isinstance(old, str) else old.render()
            if sh.px.has_f.search(text):
                self._drop_calc_chain()  # calcChain must not list cells that are gone
        box = sh.extent(sh.row_nums)
        p, styles = sh.p, {}
        for r, values in enumerate(encoded, first_row):
            parts, rs = [f'<{p}row r="{r}">'], str(r)
            for c, enc in enumerate(values, 1):
                if enc is not None:
                    if c not in styles:
                        styles[c] = sh.col_style(c)
                    s = styles[c]
                    attrs = (
                        f' r="{_COL_NAMES[c]}{rs}" s="{s}"' if s else f' r="{_COL_NAMES[c]}{rs}"'
                    )
                    parts.append(_cell_xml(p, attrs, enc))
            if len(parts) > 1:
                cols = [c for c, enc in enumerate(values, 1) if enc is not None]
                box = _union(box, (r, cols[0], r, cols[-1]))
                parts.append(f"</{p}row>")
                sh.rows[r] = "".join(parts)
                sh.row_nums.append(r)
        sh.set_dimension(box)
        if autofilter:
            sh.extend_autofilter(first_row + len(rows) - 1)
        self._touch(sh.name)

    def _overwrite(self, sh: _Sheet, row: _Row, r: int, c: int, old: str, enc: _Encoded) -> bool:
        """Rebuild an existing cell keeping its attributes (s=, ...) and extLst; False if same."""
        body = old if old[0] == "<" else old.lstrip()
        gt = body.find(">")  # c's attributes (r s t cm vm ph) never contain ">"
        closed = int(body[gt - 1] == "/")
        attrs = body[len(sh.p) + 2 : gt - closed]
        content = "" if closed else body[gt + 1 : body.rindex("<")]
        ext = ""
        if "extLst" in content:
            found = sh.px.ext.search(content)
            ext = found[0] if found else ""
        clean = _DROP.sub("", attrs) if "t" in attrs or "m" in attrs else attrs
        new = _cell_xml(sh.p, clean, enc, ext)
        if new == body or self._holds(sh, attrs, content, enc):
            return False
        formula = sh.px.f.search(content) if sh.f_open in content else None
        if formula is not None:
            fa = _attrs(_START.match(formula[0])[1])  # type: ignore[index]
            if fa.get("t") == "shared" and fa.get("ref") and "si" in fa:
                self._promote_shared(sh, r, c, fa, _xml_unescape(_inner(formula[0])))
            self._drop_calc_chain()
        row.cells[c] = old[: len(old) - len(body)] + new
        return True

    def _holds(self, sh: _Sheet, attrs: str, content: str, enc: _Encoded) -> bool:
        """Does the cell already hold this value (e.g. same text as a shared string)?"""
        px = sh.px
        if sh.f_open in content and px.has_f.search(content):
            return False
        if "m" in attrs and _META_ATTR.search(attrs):
            return False
        if enc is None:
            return sh.v_open not in content and sh.is_open not in content
        i = attrs.find(' t="')  # how Excel writes it; anything else goes to the regex
        found = None if i >= 0 or "t" not in attrs else _T_ATTR.search(attrs)
        t = attrs[i + 4 : attrs.find('"', i + 4)] if i >= 0 else found[1] if found else "n"
        kind, text = enc
        if t != ("b" if kind == "b" else "n") and (
            kind != "s" or t not in ("s", "inlineStr", "str")
        ):
            return False
        if t == "inlineStr":
            inline = px.inline.search(content)
            return inline is not None and _plain_text(inline[0]) == text
        v_el = px.v.search(content) if sh.v_open in content else None
        if v_el is None:
            return False
        v = _xml_unescape(v_el[1] or "")
        if t == "s":
            return v.strip().isdigit() and self._shared_string(int(v)) == text
        if t == "str":
            return unescape_text(v) == text
        try:
            return float(v) == float(text)
        except ValueError:
            return v.strip() == ("true" if text == "1" else "false")

    def _promote_shared(
        self, sh: _Sheet, r0: int, c0: int, fa: dict[str, str], formula: str
    ) -> None:
        """The overwritten cell anchored a shared formula: hand it to the next cell, translated."""
        span = _parse_range(fa["ref"])
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
                a = _attrs(_START.match(found[0])[1])  # type: ignore[index]
                if a.get("t") == "shared" and a.get("si") == fa["si"] and "ref" not in a:
                    followers.append((r, c, found))
        if not followers:
            return
        rows, cols = [f[0] for f in followers], [f[1] for f in followers]
        r, c, found = followers[0]
        if (r, c) != (min(rows), min(cols)):
            # No follower can anchor the rest from their top-left corner: give each its own formula.
            for r, c, found in followers:
                attrs = _SHARED_ATTRS.sub("", _START.match(found[0])[1])  # type: ignore[index]
                self._set_formula(sh, r, c, found, attrs, self._translate(formula, r0, c0, r, c))
            return
        attrs = _START.match(found[0])[1]  # type: ignore[index]
        ref = _range(min(rows), min(cols), max(rows), max(cols))
        self._set_formula(
            sh, r, c, found, f'{attrs} ref="{ref}"', self._translate(formula, r0, c0, r, c)
        )

    @staticmethod
    def _translate(formula: str, r0: int, c0: int, r: int, c: int) -> str:
        from openpyxl.formula.translate import Translator

        return Translator("=" + formula, origin=_ref(c0, r0)).translate_formula(_ref(c, r))[1:]

    @staticmethod
    def _set_formula(
        sh: _Sheet, r: int, c: int, found: re.Match[str], attrs: str, formula: str
    ) -> None:
        row = sh.row(r)
        assert row is not None
        f = f"<{sh.p}f{attrs}>{_xml_escape(formula)}</{sh.p}f>"
        row.cells[c] = row.cells[c][: found.start()] + f + row.cells[c][found.end() :]

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
    def _current(self, name: str) -> bytes:
        data = self._rendered.get(name)
        if data is None:
            sheet = self._sheets.get(name)
            data = sheet.render() if sheet is not None else self._parts[name].serialise()
            self._rendered[name] = data
        return data

    def _replaced(self) -> dict[str, bytes]:
        out = {}
        for name in self._dirty - self._removed:
            data = self._current(name)
            if data != self._zip.read(name):
                out[name] = data
        return out

    def changed_parts(self) -> set[str]:
        """Entries whose bytes differ from the original (removed ones included)."""
        return set(self._replaced()) | self._removed

    def to_bytes(self) -> bytes:
        replaced = self._replaced()
        if not replaced and not self._removed:
            return self._data
        return _write_zip(self._data, replaced, self._removed)

    def save(
        self, path: str | os.PathLike[str] | None = None, *, backup: bool = True
    ) -> Path | None:
        """Write atomically (lock/changed-file checks, backup); returns the backup path if made.

        Saving over the file this package was opened from first checks nobody saved it in
        between. Afterwards the package continues from the saved bytes.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no path given and the package was not opened from a file")
        expected = None
        if self.path is not None and os.path.abspath(target) == os.path.abspath(self.path):
            expected = self.stamp
        data = self.to_bytes()
        made = atomic_write(target, data, expected=expected, backup=backup)
        self._load(data)
        self.path, self.stamp = target, stamp_file(target)
        return made
