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
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import math
import os
import posixpath
import re
import shutil
import struct
import zipfile
import zlib
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from lxml import etree

from xlcomplaints.workbook.safety import (
    FileStamp,
    atomic_write,
    atomic_write_stream,
    read_with_stamp,
    stamp_file,
)

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


_EPOCH_1900 = dt.datetime(1899, 12, 31)
_EPOCH_1904 = dt.datetime(1904, 1, 1)
_US_PER_DAY = 86_400_000_000


def excel_serial(value: dt.date, date1904: bool = False) -> float | int:
    """Date/datetime -> Excel serial number (1900 system keeps Excel's fake 1900-02-29)."""
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError("timezone-aware datetime: convert to local wall time first")
        if type(value) is dt.datetime:  # one subtraction: whole days + integer microseconds
            delta = value - epoch
            days = delta.days
            frac = (delta.seconds * 1_000_000 + delta.microseconds) / _US_PER_DAY
        else:  # subclasses (pandas) may carry more precision in their subtraction
            day = value.date()
            days = (day - epoch.date()).days
            frac = (value - dt.datetime.combine(day, dt.time())) / dt.timedelta(days=1)
    else:
        days, frac = (value - epoch.date()).days, 0.0
    if not date1904:
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
    if kind is float:  # the common cases first: this runs once per cell
        if value.is_integer() and abs(value) < 1e15:  # type: ignore[union-attr,arg-type]
            return ("n", str(int(value)))  # type: ignore[arg-type]
        if math.isfinite(value):  # type: ignore[arg-type]
            return ("n", repr(value))
        raise ValueError(f"{value!r} cannot be stored in a cell")
    if kind is int:
        return ("n", str(value))
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"string of {len(value)} characters exceeds Excel's {MAX_TEXT}")
        if not value.isascii() and _SURROGATE.search(value):
            raise ValueError("string contains a lone surrogate")
        return ("s", value)
    if kind is dt.datetime:
        return ("n", _number(excel_serial(value, date1904)))  # type: ignore[arg-type]
    if isinstance(value, bool):
        return ("b", "1" if value else "0")
    if isinstance(value, int | float):
        return ("n", _number(value))
    if isinstance(value, dt.date):
        return ("n", _number(excel_serial(value, date1904)))
    raise TypeError(f"unsupported cell value type: {type(value).__name__}")


_LOWEST = {False: dt.datetime(1900, 1, 1), True: dt.datetime(1904, 1, 1)}  # serial 1 and 0


def _check_row(values: Sequence[CellValue], date1904: bool) -> int:
    """Check values as _encode would (raising its errors) without encoding them.

    Returns a mask with bit i set where values[i] is not None. Only the common exact types
    are checked inline; anything else goes through _encode.
    """
    mask, lowest = 0, _LOWEST[date1904]
    for i, value in enumerate(values):
        if value is None:
            continue
        mask |= 1 << i
        kind = type(value)
        if (
            (kind is str and len(value) <= MAX_TEXT and (value.isascii() or not _SURROGATE.search(value)))  # type: ignore[arg-type,union-attr]
            or (kind is float and math.isfinite(value))  # type: ignore[arg-type]
            or (kind is dt.datetime and value.tzinfo is None and value >= lowest)  # type: ignore[union-attr,operator]
            or kind is int
            or kind is bool
        ):
            continue
        _encode(value, date1904)
    return mask


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


_Chunks = Iterable[bytes | bytearray | memoryview]


class _TooLarge(Exception):
    """Offsets or sizes past 4 GiB: the archive needs zip64, which the raw copier does not write."""


def _deflate(chunks: _Chunks, out: BinaryIO) -> tuple[int, int, int]:
    """Deflate chunks into out as they come; returns (crc, size, compressed size).

    With a spare core a chunk is deflated on a helper thread while the next one is made:
    zlib lets go of the GIL and rendering rows holds it, so the two overlap. One chunk is
    in flight at a time (the compressor is never used by two threads at once).
    """
    packer = zlib.compressobj(3, zlib.DEFLATED, -15)  # 3x faster than 6, ~10% larger
    crc = size = packed = 0
    pool = ThreadPoolExecutor(max_workers=1) if (os.cpu_count() or 1) > 1 else None
    pending: Future[bytes] | None = None
    try:
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            if pool is None:
                body = packer.compress(chunk)
            else:
                body = pending.result() if pending is not None else b""
                pending = pool.submit(packer.compress, chunk)  # chunks are not reused: see _Sheet
            if body:
                out.write(body)
                packed += len(body)
        body = (pending.result() if pending is not None else b"") + packer.flush()
    finally:
        if pool is not None:
            pool.shutdown()
    out.write(body)
    return crc, size, packed + len(body)


def _stream_record(entry: _Entry, content: _Chunks, offset: int, out: BinaryIO) -> tuple[bytes, int]:
    """Write a local record for new content; returns its central record and the bytes written.

    Keeps name, timestamp and attributes. The content goes out behind a header with zero
    CRC and sizes that is patched once the data is through (out must be seekable), so the
    record is laid out exactly like one built in memory: no data descriptor.
    """
    f = _CENTRAL.unpack_from(entry.central)
    name = entry.central[46 : 46 + f[10]]
    comment = entry.central[46 + f[10] + f[11] :]
    flags = f[3] & 0x800
    header_at = out.tell()
    out.write(_LOCAL.pack(b"PK\x03\x04", 20, flags, 8, f[5], f[6], 0, 0, 0, len(name), 0) + name)
    crc, size, packed = _deflate(content, out)
    if max(size, packed, offset) >= 0xFFFFFFFF:
        raise _TooLarge
    end = out.tell()
    out.seek(header_at + 14)
    out.write(struct.pack("<3L", crc, packed, size))
    out.seek(end)
    central = _CENTRAL.pack(
        b"PK\x01\x02", f[1], 20, flags, 8, f[5], f[6], crc, packed, size,
        len(name), 0, len(comment), 0, f[14], f[15], offset,
    )  # fmt: skip
    return central + name + comment, end - header_at


def _write_zip(
    data: bytes, replaced: Mapping[str, Callable[[], _Chunks]], removed: set[str], out: BinaryIO
) -> None:
    """Write the archive with some entries' content replaced (produced on demand) or removed.

    Untouched entries are copied as their raw records; if the archive cannot be copied that
    way (zip64, odd layouts) it is rewritten with zipfile, keeping names, order, timestamps
    and content. out must be seekable (a file or BytesIO). Replaced entries stream into
    out one after the other (each deflated as it is made, see _deflate), so only a few
    chunks are held at a time.
    """
    origin = out.tell()
    scanned = _scan_zip(data)
    if scanned is not None:
        entries, comment = scanned
        entries = sorted(entries, key=lambda e: e.start)
        view = memoryview(data)
        pos = min((e.start for e in entries), default=0)
        central: dict[str, bytes] = {}
        try:
            out.write(view[:pos])
            for e in entries:
                if e.name in removed:
                    continue
                if pos >= 0xFFFFFFFF:
                    raise _TooLarge
                if e.name in replaced:
                    central[e.name], size = _stream_record(e, replaced[e.name](), pos, out)
                else:
                    out.write(view[e.start : e.end])
                    size = e.end - e.start
                    central[e.name] = e.central[:42] + struct.pack("<L", pos) + e.central[46:]
                pos += size
            fits = True
        except _TooLarge:
            fits = False
        cd_off = pos
        if fits:
            for e in entries:
                record = central.get(e.name, b"")
                out.write(record)
                pos += len(record)
            n = len(central)
            if pos < 0xFFFFFFFF and n < 0xFFFF:
                eocd = _EOCD.pack(b"PK\x05\x06", 0, 0, n, n, pos - cd_off, cd_off, len(comment))
                out.write(eocd + comment)
                return
        out.seek(origin)
        out.truncate()
    # zip64 or unusual archives: same names, order, timestamps and decompressed bytes.
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename in removed:
                continue
            copy = zipfile.ZipInfo(info.filename, info.date_time)  # no stale zip64 extras
            copy.compress_type, copy.external_attr = info.compress_type, info.external_attr
            copy.create_system, copy.comment = info.create_system, info.comment
            make = replaced.get(info.filename)
            # The size up front (as writestr knows it) decides whether zip64 is needed.
            copy.file_size = info.file_size if make is None else sum(map(len, make()))
            with dst.open(copy, "w") as sink:
                if make is None:
                    with src.open(info) as source:
                        shutil.copyfileobj(source, sink, 1 << 20)
                else:
                    for chunk in make():
                        sink.write(chunk)
        dst.comment = src.comment


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


def _cell_tail(p: str, enc: _Encoded, ext: str = "") -> str:
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
        body = _xml_escape(escape_text(text))
        return f' t="inlineStr"><{p}is><{p}t{space}>{body}</{p}t></{p}is>{ext}</{p}c>'
    t = ' t="b"' if kind == "b" else ""
    return f"{t}><{p}v>{text}</{p}v>{ext}</{p}c>"


def _cell_xml(p: str, attrs: str, enc: _Encoded, ext: str = "") -> str:
    """A <c> with the given attribute text."""
    return f"<{p}c{attrs}{_cell_tail(p, enc, ext)}"


# Text needing more than the plain inline form: escapes, xml:space="preserve", _xHHHH_.
_NOT_PLAIN = re.compile("[&<>\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x|  |^ | $")


_Tail = Callable[[CellValue], str]  # a checked value -> the cell's text after its attributes
_TAILS_LIMIT = 1 << 12  # cached tails per value type


def _make_tails(p: str, date1904: bool) -> _Tail:
    """Cell tails (see _cell_tail) by value, cached: a register repeats a few statuses and dates.

    A closure (a plain call: it runs for every cell written), one per sheet prefix, shared
    by the package's sheets. Each exact type has its own cache (1, 1.0 and True are equal
    keys); a full one starts over, so it follows what the rows repeat. Values must have
    been checked (see _check_row).
    """
    caches: dict[type, dict[CellValue, str]] = {str: {}, float: {}, int: {}, dt.datetime: {}}
    plain, number = (f' t="inlineStr"><{p}is><{p}t>', f"</{p}t></{p}is></{p}c>"), (f"><{p}v>", f"</{p}v></{p}c>")
    get, epoch, leap = caches.get, _EPOCH_1904 if date1904 else _EPOCH_1900, not date1904

    def miss(value: CellValue, cache: dict[CellValue, str] | None) -> str:
        kind = type(value)
        if kind is str and not _NOT_PLAIN.search(value):  # type: ignore[arg-type]
            tail = f"{plain[0]}{value}{plain[1]}"
        elif kind is dt.datetime:  # excel_serial, inlined: a register has tens of thousands
            delta = value - epoch  # type: ignore[operator]
            days = delta.days + (leap and delta.days >= 60)
            frac = (delta.seconds * 1_000_000 + delta.microseconds) / _US_PER_DAY
            tail = f"{number[0]}{_number(days + frac) if frac else days}{number[1]}"
        else:
            tail = _cell_tail(p, _encode(value, date1904))
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

_B_START = re.compile(_START.pattern.replace(r"[\w:.-]", r"[\w:.\x80-\xff-]").encode())
_B_R_ATTR = re.compile(_R_ATTR.pattern.encode())
_B_SHEET_DATA = re.compile(_SHEET_DATA.pattern.replace(r"[\w.-]", r"[\w.\x80-\xff-]").encode())
_B_EXOTIC = tuple(mark.encode() for mark in _EXOTIC)
_B_TAG_END = frozenset(_TAG_END.encode())
_SPANS = re.compile(r"""\sspans\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_SPAN_BOUNDS: dict[str, tuple[int, int]] = {}  # "1:27" -> (1, 27); a sheet has a handful
_CHUNK = 1 << 18


def _text(data: bytes) -> str:
    """Whitespace between rows, decoded: Unicode whitespace counts, as in the text it was."""
    return data.decode("utf-8", "replace")


def _row_style(start: str) -> str | None | bool:
    """A row's style if its start tag has customFormat (None: the default style), else False."""
    if "customFormat" not in start:
        return False
    attrs = _attrs(_START.match(start)[1])  # type: ignore[index]
    if attrs.get("customFormat") not in ("1", "true"):
        return False
    s = attrs.get("s")
    return s if s and s != "0" else None


def _widen_spans(start: str, lo: int, hi: int) -> str:
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


class _Frame:
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
    def row_style(row: _Row) -> str | None | bool:
        return _row_style(row.start)

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

    @staticmethod
    def widen_spans(row: _Row, lo: int, hi: int) -> None:
        row.start = _widen_spans(row.start, lo, hi)

    def set_dimension(self, box: tuple[int, int, int, int] | None) -> None:
        m = self.px.dimension.search(self.pre)
        ref = _range(*box) if box else "A1"
        if m and _attrs(m[0]).get("ref") != ref:
            self.pre = self.pre[: m.start()] + _set_attr(m[0], "ref", ref) + self.pre[m.end() :]
            self.pre_changed = True

    def extend_autofilter(self, last_row: int) -> None:
        m = self.px.autofilter.search(self.post)
        span = _parse_range(_attrs(m[0]).get("ref")) if m else None
        if m and span:
            ref = _range(span[0], span[1], max(span[0], last_row), span[3])
            self.post = self.post[: m.start()] + _set_attr(m[0], "ref", ref) + self.post[m.end() :]
            self.post_changed = True

    def _parse(self, r: int, row: str) -> tuple[_Row, tuple[str, ...] | None]:
        """The row split into cells, and its pieces when they are known to join to row."""
        m = _START.match(row)
        assert m is not None
        if m[2]:  # <row .../>
            return _Row(row[: m.start(2)] + ">", {}, "", f"</{self.p}row>", row), None
        inner_end = row.rindex("<")
        inner = row[m.end() : inner_end]
        found = self.px.fast_cells.findall(inner)
        joined = "".join([cell for cell, _ in found])
        # The pattern has no lookaround, so matches that join to the start of the row were
        # contiguous (a gap would have been matched itself): one C-level scan splits the row.
        if inner.startswith(joined):
            cells, pos = {_COL_NUMS[col]: cell for cell, col in found}, len(joined)
            if pos == len(inner) and len(cells) == len(found):
                parsed = _Row(row[: m.end()], cells, "", row[inner_end:])
                if parsed.cols == list(cells):  # in order: the row is exactly these pieces
                    return parsed, (parsed.start, *cells.values(), "", parsed.end)
                return parsed, None
        else:
            cells, pos = {}, 0
            for cm in self.px.fast_cell.finditer(inner):
                if cm.start() != pos:
                    break
                cells[_COL_NUMS[cm[1]]] = cm[0]
                pos = cm.end()
        if pos < len(inner):
            pos = self._slow_cells(inner, pos, cells, r)
        rest = inner[pos:]
        if rest.strip() and not rest.lstrip().startswith(f"<{self.p}extLst"):
            raise ValueError(f"{self.name}: unsupported content in row {r}")
        return _Row(row[: m.end()], cells, rest, row[inner_end:]), None

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


class _Sheet(_Frame):
    """A worksheet part as its original bytes, rows indexed by byte range, and edits.

    Untouched rows are never copied or decoded: they are emitted as slices of the original
    bytes. A row is decoded and split into cells only while it is edited (one write_cells
    call), then stored back as a splice list, so pending edits cost about the size of the
    new cells. Before and after <sheetData> (dimension, cols, autoFilter) are small text.
    """

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.encoding = _declared_encoding(data)
        # exact: self.base is the part's stored bytes. Other encodings are held as UTF-8 and
        # transcoded on output; a sheet that had to be normalised compares as a whole.
        self.exact = codecs.lookup(self.encoding).name == "utf-8"
        base = data if self.exact else data.decode(self.encoding).encode("utf-8")
        if not self._split(base, strict=False):
            self.exact = False
            self._split(_normalise(data).encode("utf-8"), strict=True)

    def _split(self, base: bytes, *, strict: bool) -> bool:
        m = _B_SHEET_DATA.search(base)
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
            m = _B_START.match(base, start, body_end)
            end = -1
            after = start + len(open_tag)
            if m is not None and after < body_end and base[after] in _B_TAG_END:
                end = m.end() if m[2] else base.find(close_tag, m.end(), body_end)
                end += 0 if m[2] or end < 0 else len(close_tag)
            found = _B_R_ATTR.search(m[1]) if m is not None else None
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
        self.stored: dict[int, _Stored | _Row] = dict(fixed)  # rows that differ from the original
        self.editing: set[int] = set()  # rows held as _Row until end_edit()
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

    def _read(self, r: int) -> _Row | None:
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
        if isinstance(held, _Row):
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

    def row(self, r: int) -> _Row | None:
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
            assert isinstance(row, _Row)
            stored = self._splice(row)
            if stored is None:
                del self.stored[r]
            else:
                self.stored[r] = stored
        self.editing.clear()

    def _splice(self, row: _Row) -> _Stored | None:
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

    def _splice_pieces(self, row: _Row) -> _Stored | None:
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

    def new_row(self, r: int) -> _Row:
        row = _Row(f'<{self.p}row r="{r}">', {}, "", f"</{self.p}row>")
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
            elif isinstance(held, _Row):
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
                    box = _union(box, (r, cols[0], r, cols[-1]))
                if len(self.editing) >= 4096:
                    self.end_edit()
        finally:
            self.end_edit()
        return box

    def dimension(self) -> tuple[int, int, int, int] | None:
        m = self.px.dimension.search(self.pre)
        return _parse_range(_attrs(m[0]).get("ref")) if m and self.row_nums else None

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
                if x[1] - x[0] >= _CHUNK:  # long untouched runs go out as they are
                    if buf:
                        yield buf
                        buf = bytearray()
                    yield view[x[0] : x[1]]
                    continue
                buf += view[x[0] : x[1]]
            else:
                buf += x
            if len(buf) >= _CHUNK:
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


# --------------------------------------------------------------------------- streamed sheets
# A refresh writes some twenty columns of every Register row and rebuilds the Overdue list.
# Held as edited rows that is hundreds of megabytes at 50,000 rows, so such writes are
# recorded instead (the caller's values, by reference) and applied while the sheet's
# original bytes are inflated and streamed out on save.

_EDIT_ROWS = 5_000  # rows per batch when a recorded write is applied to a held sheet
_INFLATE = 1 << 14  # compressed bytes inflated at a time
_first = itemgetter(0)
_B_CELL_COL = re.compile(rb"[A-Z]{1,3}(?=[0-9])")
_B_TAG_ENDS = frozenset(bytes([b]) for b in _TAG_END.encode())


_SAME, _APPEND, _EDIT = 0, 1, 2  # what a column write does to a row: nothing, new cells at
# its end (no need to split it into cells), or anything else (split, edited, joined again)


class _NeedsEager(Exception):
    """Something only a held sheet (_Sheet) handles: the write is applied to one instead."""


def _new_head(sh: _Frame, heads: dict[int, tuple[str, str]], c: int) -> tuple[str, str]:
    """A new cell's attributes around its row number, styled like its <col> (as Excel does)."""
    style = sh.col_style(c)
    head = heads[c] = (f' r="{_COL_NAMES[c]}', f'" s="{style}"' if style else '"')
    return head


def _row_heads(sh: _Frame, heads: list[tuple[str, str]], width: int) -> list[tuple[str, str]]:
    """New cells' text before and after the row number, from column A, styled like their <col>."""
    for c in range(len(heads) + 1, width + 1):
        style = sh.col_style(c)
        heads.append((f'<{sh.p}c r="{_COL_NAMES[c]}', f'" s="{style}"' if style else '"'))
    return heads


def _render_row(
    sh: _Frame, heads: list[tuple[str, str]], tail: _Tail, r: int, values: Sequence[CellValue]
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
    """_widen_spans for the usual start tag (spans="a:b"), from a cache of what it gives."""
    at = start.find(' spans="') + 8
    end = start.find('"', at) if at >= 8 else -1
    if end < 0:
        return _widen_spans(start, lo, hi)
    key = (start[at:end], lo, hi)
    value = _WIDENED.get(key)
    if value is None:
        if len(_WIDENED) > 4096:
            _WIDENED.clear()
        value = _WIDENED[key] = _widen_spans(f' spans="{key[0]}"', lo, hi)[8:-1]
    return start if value == key[0] else start[:at] + value + start[end:]


@dataclass(frozen=True)
class _Patch:
    """One write_columns call: its columns in ascending order, each row's values in that order."""

    cols: list[int]
    rows: dict[int, tuple[CellValue, ...]]

    @classmethod
    def of(
        cls,
        cols: list[int],
        rows: Mapping[int, Sequence[CellValue]] | Iterable[tuple[int, Sequence[CellValue]]],
        date1904: bool,
    ) -> tuple[_Patch, tuple[int, int, int, int] | None]:
        """The checked patch, and the box of the values it writes (None: it only clears)."""
        width, kept = len(cols), {}
        used, top, bottom = 0, MAX_ROW + 1, 0
        order = sorted(range(width), key=cols.__getitem__)
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
                _check_cell(r, 1)
            mask = _check_row(values, date1904)
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


class _Streamed(_Frame):
    """A worksheet edited while its original bytes stream out of the archive.

    Nothing of the sheet is held: each pass inflates the part from the package's compressed
    bytes and splits rows as they come. scan() runs once before anything is written (what
    changes, and whether other parts must change too); chunks() then renders the part.
    What only a held sheet handles (rows without r= or out of order, comments in
    <sheetData>, another encoding, a formula where we write) raises _NeedsEager, and the
    package applies the recorded write to a held sheet instead.
    """

    differs = False

    def __init__(self, pkg: XlsxPackage, name: str) -> None:
        self.pkg, self.name, self.scanned = pkg, name, False
        info = pkg._zip.getinfo(name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
            raise _NeedsEager
        head, m = b"", None
        for chunk in self._inflated(check=False):
            head += chunk
            m = _B_SHEET_DATA.search(head)
            if m is not None:
                break
        try:
            if m is None or codecs.lookup(_declared_encoding(head)).name != "utf-8":
                raise _NeedsEager
            self.pre = self.original_pre = head[: m.start()].decode("utf-8")
        except (LookupError, UnicodeDecodeError) as e:
            raise _NeedsEager from e
        self.open, self.empty, self._body_at = head[m.start() : m.end()], bool(m[2]), m.end()
        self._prefix((m[1] or b"").decode("utf-8"))
        self.tails = pkg._tails(self.p)
        self.heads: dict[int, tuple[str, str]] = {}
        self.tail = self.close = self.post_bytes = b""

    def _inflated(self, check: bool = True) -> Iterator[bytes]:
        """The part's original bytes, a few hundred kilobytes at a time; CRC checked at the end."""
        info = self.pkg._zip.getinfo(self.name)
        data, start = self.pkg._data, info.header_offset
        local = data[start : start + 30]
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {self.name!r}")
        begin = start + 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
        raw = memoryview(data)[begin : begin + info.compress_size]
        inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        crc = size = 0
        for at in range(0, len(raw), _INFLATE):
            piece = raw[at : at + _INFLATE]
            while piece:
                out = bytes(piece) if inflate is None else inflate.decompress(piece, _CHUNK)
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
                        raise _NeedsEager  # out of order
                    yield r, buf[pos:end], m.end(1) - pos, m.end() - pos
                    prev, pos = r, end
                    continue
            lt = buf.find(b"<", pos)
            if lt >= 0 and (eof or len(buf) - lt > 64):
                if lt > pos and not buf[pos:lt].isspace():
                    raise _NeedsEager
                if buf.startswith(row_open, lt) and buf[lt + after : lt + after + 1] in _B_TAG_ENDS:
                    m = _B_START.match(buf, lt)
                    end = -1 if m is None else m.end() if m[2] else buf.find(row_close, m.end())
                    if m is not None and end >= 0:
                        end += 0 if m[2] else len(row_close)
                        found = _B_R_ATTR.search(m[1])
                        r = int(found[1]) if found is not None and found[1].isdigit() else 0
                        if r <= prev:
                            raise _NeedsEager  # no r=, or out of order
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
                    raise _NeedsEager  # a comment, CDATA, a processing instruction...
            if eof:
                raise _NeedsEager  # unterminated: the held sheet says what is wrong
            chunk = next(src, None)
            if chunk is None:
                eof = True
            else:
                buf, pos = buf[pos:] + chunk, 0

    def _body(self) -> Iterator[bytes]:
        raise NotImplementedError

    def scan(self) -> None:
        raise NotImplementedError

    def apply(self, sh: _Sheet) -> None:
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
                    if len(out) >= _CHUNK:
                        yield out  # a fresh buffer follows: a consumer may keep this one
                        out = bytearray()
            out += self.tail
            out += b"</" + pb + b"sheetData>" if self.empty else self.close
        out += self.post.encode("utf-8") if self.post_changed else self.post_bytes
        self.post_bytes = b""
        yield out

    def dimension(self, has_rows: bool) -> tuple[int, int, int, int] | None:
        m = self.px.dimension.search(self.pre)
        return _parse_range(_attrs(m[0]).get("ref")) if m and has_rows else None


class _ColumnEdit(_Streamed):
    """write_columns calls on one sheet, applied in order as the sheet streams out."""

    def __init__(self, pkg: XlsxPackage, name: str) -> None:
        super().__init__(pkg, name)
        self.patches: list[_Patch] = []
        self.box: tuple[int, int, int, int] | None = None
        self._written: list[int] = []  # the rows written, in order
        self._heads: dict[int, list[tuple[str, str]]] = {}  # id(patch) -> new cells' heads
        self._targets: dict[int, re.Pattern[bytes]] = {}  # id(patch) -> its cells' start
        pb = self.p.encode()
        self.row_close, self.c_any, self.c_ref = b"</" + pb + b"row>", b"<" + pb + b"c", b"<" + pb + b'c r="'
        # What _refill compares: the start of each cell written as this class writes them
        self._cell_heads = re.compile(b"(" + re.escape(self.c_ref) + rb'[A-Z]{1,3}[0-9]+"(?: s="[0-9]+")?)(?: t="(?:inlineStr|b)")?>')

    def add(self, patch: _Patch, box: tuple[int, int, int, int] | None) -> None:
        self.patches.append(patch)
        self.box = _union(self.box, box)
        self.scanned = False

    def _covering(self, r: int) -> list[_Patch]:
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
        dimension. Every row is read: a formula where we write raises _NeedsEager, as does
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
            self.set_dimension(_union(self.dimension(has_rows), self.box))
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
            raise _NeedsEager  # a formula where we write: a held sheet hands shared formulas on
        changed = False
        for patch in patches:
            changed |= self.pkg._edit_row(self, row, r, patch.items(r), self.heads, self.tails)[0]
        if not changed and exact:
            return None
        if not render:
            return data
        if split < 0:
            return data[:tag] + row.render().encode("utf-8")
        new = row.pieces()
        return b"".join((data[:tag], new[0].encode("utf-8"), data[start_end:split], "".join(new[1:]).encode("utf-8")))

    def _tail_at(self, data: bytes, start_end: int, patch: _Patch) -> int:
        """Where the row's first written cell starts, if every cell before it lies left of the
        written columns (so they can stay bytes); else -1."""
        targets = self._targets.get(id(patch))
        if targets is None:
            letters = b"|".join(_COL_NAMES[c].encode() for c in patch.cols)
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
        return _COL_NUMS.get(m[0].decode(), MAX_COL + 1) if m else MAX_COL + 1

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
        return _COL_NUMS.get(m[0].decode(), MAX_COL + 1) if m else MAX_COL + 1

    def _fresh_cells(self, r: int, start: str, patch: _Patch) -> tuple[str, int, int]:
        """The cells _append adds for row r (with start tag start), and the first and last
        columns among them; ("", 0, 0) when every value is None."""
        row_style = _row_style(start)
        if row_style is False:  # the <col> style, as Excel gives a new cell
            heads = self._heads.get(id(patch)) or self._col_heads(patch)
        else:
            s = f'" s="{row_style}"' if row_style else '"'
            heads = [(f'<{self.p}c r="{_COL_NAMES[c]}', s) for c in patch.cols]
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

    def _append(self, r: int, data: bytes, tag: int, start_end: int, patch: _Patch) -> bytes:
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

    def _refill(self, r: int, data: bytes, tag: int, start_end: int, patch: _Patch) -> bytes | None:
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
        if _row_style(start) is not False:
            return None  # a row with its own style: left to _edit
        new = self._fresh_cells(r, start, patch)[0].encode("utf-8")
        if new == tail:
            return data
        heads = self._cell_heads.findall(tail)
        if len(heads) != tail.count(self.c_any) or heads != self._cell_heads.findall(new):
            return None
        return b"".join((data[:split], new, data[end:]))

    def _col_heads(self, patch: _Patch) -> list[tuple[str, str]]:
        """New cells' text before and after the row number, by the patch's columns."""
        heads = []
        for c in patch.cols:
            head = self.heads.get(c) or _new_head(self, self.heads, c)
            heads.append((f"<{self.p}c{head[0]}", head[1]))
        self._heads[id(patch)] = heads
        return heads

    def _new_row(self, r: int) -> bytes:
        row = _Row(f'<{self.p}row r="{r}">', {}, "", f"</{self.p}row>")
        for patch in self._covering(r):
            self.pkg._edit_row(self, row, r, patch.items(r), self.heads, self.tails)
        return row.render().encode("utf-8")

    def apply(self, sh: _Sheet) -> None:
        for patch in self.patches:
            self.pkg._apply_patch(sh, patch)


class _Rebuild(_Streamed):
    """replace_rows: rows above first_row stay as they are, the new ones are rendered as the
    sheet streams out."""

    def __init__(
        self,
        pkg: XlsxPackage,
        name: str,
        first_row: int,
        rows: list[tuple[CellValue, ...]],
        autofilter: bool,
        box: tuple[int, int, int, int] | None,
    ) -> None:
        super().__init__(pkg, name)
        self.first_row, self.rows, self.autofilter, self.box = first_row, rows, autofilter, box
        self.formula = False  # did a dropped row hold a formula (calcChain must go)?

    def _new(self) -> Iterator[bytes]:
        heads: list[tuple[str, str]] = []
        for r, values in enumerate(self.rows, self.first_row):
            row = _render_row(self, heads, self.tails, r, values)
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
                    raise _NeedsEager  # a held sheet gives such cells their r=
                if row.cols:
                    kept = _union(kept, (r, row.cols[0], r, row.cols[-1]))
            else:
                formula = formula or self.has_f.search(data, tag) is not None
                same = same and next(new, None) == data
        same = same and next(new, None) is None
        self.pre, self.post = self.original_pre, self.post_bytes.decode("utf-8")
        self.pre_changed = self.post_changed = False
        original_post, self.post_bytes = self.post, b""
        self.set_dimension(_union(kept, self.box))
        if self.autofilter:
            self.extend_autofilter(self.first_row + len(self.rows) - 1)
        self.formula = formula
        self.differs = not same or self.pre != self.original_pre or self.post != original_post
        self.scanned = True

    def _body(self) -> Iterator[bytes]:
        for r, data, _, _ in self._rows():
            if r < self.first_row:
                yield data
        yield from self._new()

    def apply(self, sh: _Sheet) -> None:
        self.pkg._replace_into(sh, self.first_row, self.rows, self.autofilter)


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
        self._sheets: dict[str, _Sheet] = {}  # held sheets: original bytes and edited rows
        self._streams: dict[str, _Streamed] = {}  # sheets whose writes apply as they stream out
        self._tail_caches: dict[str, _Tail] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()
        self._differs: dict[str, bool] = {}  # dirty part -> would its bytes change (cached)
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
        return self._held(ref.part)

    def _held(self, part: str) -> _Sheet:
        """The part as a held sheet; writes recorded for streaming are applied to it first."""
        sheet = self._sheets.get(part)
        if sheet is None:
            sheet = self._sheets[part] = _Sheet(part, self._inflate(part))
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
            except _NeedsEager:
                self._held(name)
                continue
            if isinstance(stream, _Rebuild) and stream.formula:
                self._drop_calc_chain()  # calcChain must not list cells that are gone

    def _inflate(self, name: str) -> bytes:
        """A part's bytes, inflated into one buffer of its size straight from the archive.

        zipfile.read would hold its output blocks and their joined copy at once: twice a
        large sheet. The CRC is checked as zipfile does.
        """
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

    def _tails(self, p: str) -> _Tail:
        tails = self._tail_caches.get(p)
        if tails is None:
            tails = self._tail_caches[p] = _make_tails(p, self.date1904)
        return tails

    def write_cells(self, sheet: str, cells: Mapping[tuple[int, int], CellValue]) -> None:
        """Set values of (row, col) cells, 1-based; everything else in the sheet stays as is."""
        by_row: dict[int, tuple[list[int], list[CellValue]]] = {}
        prev, cols, values = 0, [], []
        for (r, c), value in cells.items():
            if r != prev:  # callers usually go row by row
                if not 0 < r <= MAX_ROW:
                    _check_cell(r, c)
                cols, values = by_row.setdefault(r, ([], []))
                prev = r
            if not 0 < c <= MAX_COL:
                _check_cell(r, c)
            cols.append(c)
            values.append(value)
        date1904 = self.date1904
        for _, values in by_row.values():
            _check_row(values, date1904)
        sh = self._worksheet(sheet)
        self._edit_rows(sh, {r: sorted(zip(*cv, strict=True), key=_first) for r, cv in by_row.items()})

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
            _check_cell(1, c)
        if len(set(cols)) != len(cols):
            raise ValueError("a column is given twice")
        patch, box = _Patch.of(cols, rows, self.date1904)
        if not patch.rows or not cols:
            return
        ref = self.sheet(sheet)
        stream = self._streams.get(ref.part)
        if ref.kind == "worksheet" and ref.part not in self._sheets and not isinstance(stream, _Rebuild):
            try:
                if stream is None:
                    stream = self._streams[ref.part] = _ColumnEdit(self, ref.part)
            except _NeedsEager:
                pass
            else:
                assert isinstance(stream, _ColumnEdit)
                stream.add(patch, box)
                self._touch(ref.part)
                return
        self._apply_patch(self._worksheet(sheet), patch)

    def _apply_patch(self, sh: _Sheet, patch: _Patch) -> None:
        """A column write applied to a held sheet, a few thousand rows at a time."""
        rows = sorted(patch.rows)
        for start in range(0, len(rows), _EDIT_ROWS):
            self._edit_rows(sh, {r: patch.items(r) for r in rows[start : start + _EDIT_ROWS]})

    def _edit_rows(self, sh: _Sheet, by_row: dict[int, list[tuple[int, CellValue]]]) -> None:
        """Write checked values, row by row; items are (col, value) in column order."""
        box = sh.dimension()
        changed = False
        top, left, bottom, right = MAX_ROW + 1, MAX_COL + 1, 0, 0  # written cells' box
        heads: dict[int, tuple[str, str]] = {}  # column -> new cells' attributes around the row
        tails = self._tails(sh.p)
        try:
            for r in sorted(by_row):
                items = by_row.pop(r)
                row = sh.row(r)
                if row is None:
                    if all(value is None for _, value in items):
                        continue
                    row = sh.new_row(r)
                edited, first, last = self._edit_row(sh, row, r, items, heads, tails)
                changed |= edited
                if first:
                    top, bottom = min(top, r), max(bottom, r)
                    left, right = min(left, first), max(right, last)
        finally:
            sh.end_edit()  # rows go back to compact storage, also after a failure half-way
            if changed:
                sh.set_dimension(_union(box, (top, left, bottom, right) if bottom else None))
                self._touch(sh.name)

    def _edit_row(
        self,
        sh: _Frame,
        row: _Row,
        r: int,
        items: Iterable[tuple[int, CellValue]],
        heads: dict[int, tuple[str, str]],
        tails: _Tail,
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
                        head = old[: len(old) - len(tail)]
                        if ">" not in head and "t" not in head and "m" not in head:
                            continue
                changed |= self._overwrite(sh, row, r, c, old, value, tails)
            elif value is not None:
                if row_style is False:  # the <col> style, as Excel gives a new cell
                    head = heads.get(c) or _new_head(sh, heads, c)
                else:
                    head = (f' r="{_COL_NAMES[c]}', f'" s="{row_style}"' if row_style else '"')
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
    ) -> None:
        """Replace everything from first_row down (a sheet the toolkit owns below its header).

        Like write_columns, the rows are checked now and rendered while the sheet streams
        out on save; they are kept as tuples of the caller's values.
        """
        _check_cell(first_row, 1)
        if rows:
            _check_cell(first_row + len(rows) - 1, max(1, *(len(r) for r in rows)))
        kept: list[tuple[CellValue, ...]] = []
        box, date1904 = None, self.date1904
        for r, values in enumerate(rows, first_row):
            values = values if type(values) is tuple else tuple(values)
            mask = _check_row(values, date1904)
            if mask:
                box = _union(box, (r, (mask & -mask).bit_length(), r, mask.bit_length()))
            kept.append(values)
        ref = self.sheet(sheet)
        if ref.kind == "worksheet" and ref.part not in self._sheets and ref.part not in self._streams:
            try:
                self._streams[ref.part] = _Rebuild(self, ref.part, first_row, kept, autofilter, box)
            except _NeedsEager:
                pass
            else:
                self._touch(ref.part)
                return
        self._replace_into(self._worksheet(sheet), first_row, kept, autofilter)

    def _replace_into(
        self, sh: _Sheet, first_row: int, rows: list[tuple[CellValue, ...]], autofilter: bool
    ) -> None:
        """replace_rows on a held sheet: new rows are kept as their UTF-8 bytes only."""
        heads: list[tuple[str, str]] = []
        tails = self._tails(sh.p)
        new = [row for r, values in enumerate(rows, first_row) if (row := _render_row(sh, heads, tails, r, values))]
        if sh.drop_rows_from(first_row):
            self._drop_calc_chain()  # calcChain must not list cells that are gone
        box = sh.extent()
        for r, data, first, last in new:
            sh.add_row(r, data)
            box = _union(box, (r, first, r, last))
        del new
        sh.set_dimension(box)
        if autofilter:
            sh.extend_autofilter(first_row + len(rows) - 1)
        self._touch(sh.name)

    def _overwrite(
        self, sh: _Frame, row: _Row, r: int, c: int, old: str, value: CellValue, tails: _Tail
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
        clean = _DROP.sub("", attrs) if "t" in attrs or "m" in attrs else attrs
        new = _cell_xml(sh.p, clean, _encode(value, self.date1904), ext) if ext else f"<{sh.p}c{clean}{tail}"
        if new == body or self._holds(sh, attrs, content, _encode(value, self.date1904)):
            return False
        formula = sh.px.f.search(content) if sh.f_open in content else None
        if formula is not None:
            if not isinstance(sh, _Sheet):
                raise _NeedsEager  # streamed sheets are checked for this before they are written
            fa = _attrs(_START.match(formula[0])[1])  # type: ignore[index]
            if fa.get("t") == "shared" and fa.get("ref") and "si" in fa:
                self._promote_shared(sh, r, c, fa, _xml_unescape(_inner(formula[0])))
            self._drop_calc_chain()
        row.cells[c] = old[: len(old) - len(body)] + new
        return True

    def _holds(self, sh: _Frame, attrs: str, content: str, enc: _Encoded) -> bool:
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
    def _changed(self, name: str) -> bool:
        """Would this dirty part's bytes change? Sheets compare only their edits."""
        differs = self._differs.get(name)
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

    def _chunks(self, name: str) -> _Chunks:
        stream = self._streams.get(name) or self._sheets.get(name)
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
        _write_zip(self._data, makers, self._removed, out)

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
