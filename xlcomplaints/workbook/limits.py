"""Size limits, checked before any reader (calamine, lxml, the package writer) sees a part.
Just over 400 lines: every check a part passes before it is parsed is here, to be audited in one place.

A workbook of 2 MB can inflate to gigabytes, and one cell at XFD1048576 makes calamine lay
out a grid of 17 billion cells. So a file is refused, with one sentence, when it exceeds:

- ``MAX_FILE_BYTES`` on disk; ``MAX_ENTRIES`` parts; per part, the inflated size declared in
  the zip's central directory: ``MAX_PART_BYTES`` (``MAX_TREE_PART_BYTES`` for the parts
  parsed whole: workbook, relationships, content types, styles, drawings, tables); ``MAX_TOTAL_BYTES``
  in all (cheap: the central directory only, read when the file is opened);
- ``MAX_TEXT_BYTES`` of text without markup in any XML part: Excel holds at most 32,767
  characters in a cell, so a longer "string" is not a clerk's;
- ``MAX_CELLS`` in a worksheet's used range counted from A1 (what calamine allocates,
  about 32 bytes a cell, whatever the sheet's ``<dimension>`` says: calamine sizes its grid
  from the cells' own references, so those are what is scanned), and ``MAX_ROWS`` rows (what
  our records cost, about 5 KB a complaint).

The XML parts other than worksheets are small and read by calamine when the file is opened:
they are inflated here first (by our own bounded inflater, so a size the archive misstates is
caught too). A worksheet is scanned when it is first read, in 64 KiB pieces, never whole:
two regular-expression passes per piece find anything unusual (a column past BZ, a row past
99,999, a cell or row without its reference, a namespace prefix); only then are its
references read (and, if some cell has none, its cells placed with lxml), stopping at the
first limit passed. The quick scan costs about 7 ms per MB of sheet XML (5.7 ms for a
500-complaint branch file; 3.5 ms before it read each cell's tag to its end, for a reference written twice:
best of 5 over 40 bench files, CPU time, 2026-12-07).
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from lxml import etree

from xlcomplaints.core.problems import a1, register_messages
from xlcomplaints.workbook.damage import Damage, archive_error, damaged, xml_error
from xlcomplaints.workbook.errors import WorkbookError

MiB = 1 << 20
MAX_FILE_BYTES = 256 * MiB
MAX_ENTRIES = 10_000
MAX_PART_BYTES = 256 * MiB
MAX_TREE_PART_BYTES = 16 * MiB
MAX_TOTAL_BYTES = 1024 * MiB
MAX_TEXT_BYTES = 1 * MiB
MAX_ROWS = 200_000
MAX_CELLS = 10_000_000
CHUNK = 64 * 1024
#: What the quick scan lets through unread (A1…BZ99999) is within MAX_ROWS and MAX_CELLS.
FAST_COLUMNS, FAST_ROWS = 78, 99_999
assert FAST_COLUMNS * FAST_ROWS <= MAX_CELLS and FAST_ROWS <= MAX_ROWS


class Refusal(StrEnum):
    """Why a file is refused for its size; each value is the code of its message."""

    FILE = "limits.file"
    ENTRIES = "limits.entries"
    PART = "limits.part"
    TOTAL = "limits.total"
    TEXT = "limits.text"
    ROWS = "limits.rows"
    STRINGS = "limits.strings"
    CELLS = "limits.cells"


MESSAGES = {
    Refusal.FILE: ("{path} 有 {size} MB，超过本程序读取的上限 {max} MB，未读取。",
                   "{path} is {size} MB, over the {max} MB this program reads; it was not read."),
    Refusal.ENTRIES: ("{path} 内含 {count} 个部件，超过上限 {max} 个，不像 Excel 保存的工作簿，未读取。",
                      "{path} holds {count} parts, over the limit of {max}, unlike a workbook Excel saved; "
                      "it was not read."),
    Refusal.PART: ("{path} 中的 {part} 解压后超过 {max} MB 的上限，未读取（正常的登记表远小于此）。",
                   "{path}: its part {part} unpacks to more than the {max} MB limit, far more than any real "
                   "register; it was not read."),
    Refusal.TOTAL: ("{path} 解压后共超过 {max} MB 的上限，未读取。",
                    "{path} unpacks to more than the {max} MB limit in all; it was not read."),
    Refusal.TEXT: ("{path} 的 {part} 中有一段文字超过 {max} MB（Excel 一个单元格最多 32767 个字符），未读取。",
                   "{path}: {part} holds a text of more than {max} MB (an Excel cell holds at most 32,767 "
                   "characters); it was not read."),
    Refusal.CELLS: ("{path} 的工作表“{sheet}”用到 {ref}（{rows} 行 × {cols} 列），超过本程序读取的上限 {max} 个单元格，"
                    "未读取；请删除远处多余的单元格或行列后再试。",
                    "{path}: sheet '{sheet}' reaches {ref} ({rows} rows × {cols} columns), over the {max} cells "
                    "this program reads; it was not read — delete the stray cells, rows or columns far out and "
                    "try again."),
    Refusal.STRINGS: ("{path} 的 {part} 声称有 {count} 个不同的文字，超过上限 {max}（或多于它能容纳的），未读取。",
                      "{path}: {part} claims {count} distinct texts, over the limit of {max} (or more than it can "
                      "hold); it was not read."),
    Refusal.ROWS: ("{path} 的工作表“{sheet}”超过 {max} 行，超过本程序读取的上限，未读取；请把早年的记录另存到别的工作簿后再试。",
                   "{path}: sheet '{sheet}' has more than {max} rows, over what this program reads; it was not "
                   "read — move earlier years' records to another workbook and try again."),
}
register_messages({str(k): v for k, v in MESSAGES.items()})


def _mb(n: int) -> str:
    return f"{n / MiB:,.0f}"


def check_file_size(path: Path, size: int) -> None:
    """Refuse a file too large to read, before a byte of it is read."""
    if size > MAX_FILE_BYTES:
        raise WorkbookError(Refusal.FILE, path=path.name, size=_mb(size), max=_mb(MAX_FILE_BYTES))


def _tree_part(name: str) -> bool:
    """Parts parsed whole into a tree when a workbook is opened or saved (a refresh: the Summary's drawing, tables)."""
    low = name.lower()
    return low.endswith((".rels", "[content_types].xml", "/workbook.xml", "/styles.xml")) or (
        low.endswith(".xml") and ("/drawings/" in low or "/tables/" in low))


def _xml_part(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def _worksheet(name: str) -> bool:
    return "/worksheets/" in name.lower()


def check_archive(path: Path, z: zipfile.ZipFile, data: bytes) -> None:
    """The central directory's sizes, then every XML part but the worksheets actually inflated
    (bounded) and checked for overlong text. Worksheets are checked by ``check_sheet`` when read."""
    infos = z.infolist()
    if len(infos) > MAX_ENTRIES:
        raise WorkbookError(Refusal.ENTRIES, path=path.name, count=len(infos), max=MAX_ENTRIES)
    total = 0
    for info in infos:
        limit = MAX_TREE_PART_BYTES if _tree_part(info.filename) else MAX_PART_BYTES
        if info.file_size > limit:
            raise WorkbookError(Refusal.PART, path=path.name, part=info.filename, max=_mb(limit))
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise WorkbookError(Refusal.TOTAL, path=path.name, max=_mb(MAX_TOTAL_BYTES))
    office = _office_part(z)  # the workbook part, parsed whole, whatever its name
    if office is not None and office.file_size > MAX_TREE_PART_BYTES:
        raise WorkbookError(Refusal.PART, path=path.name, part=office.filename, max=_mb(MAX_TREE_PART_BYTES))
    for info in infos:
        if _shared_strings(info.filename):
            _check_string_count(path, info, _checked(path, data, info))
        elif (_xml_part(info.filename) or info is office) and not _worksheet(info.filename):
            for _ in _checked(path, data, info):
                pass


def _shared_strings(name: str) -> bool:
    return posixpath.basename(name.lower()).startswith("sharedstrings")


_SST = re.compile(rb"<(?:[\w.-]+:)?sst\b[^>]*>")
_UNIQUE_COUNT = re.compile(rb'\suniqueCount\s*=\s*["\']\s*(\d*)')


def _check_string_count(path: Path, info: zipfile.ZipInfo, pieces: Iterator[bytes]) -> None:
    """calamine reserves room for the ``uniqueCount`` the shared strings declare before reading
    one (4,000,000,000 aborted the process): it must be within MAX_CELLS and what the part can
    hold (an item takes 5 bytes at least, ``<si/>``). The part is read to its end all the same."""
    head, found = b"", False
    for piece in pieces:
        if found:
            continue
        head += piece
        tag = _SST.search(head)
        if tag is None and len(head) < MAX_TEXT_BYTES:
            continue
        found = True
        count = _UNIQUE_COUNT.search(tag[0]) if tag is not None else None
        digits = count[1] if count is not None else b"0"
        most = min(MAX_CELLS, info.file_size // 5)
        if tag is None or len(digits) > 12 or int(digits or b"0") > most:
            raise WorkbookError(Refusal.STRINGS, path=path.name, part=info.filename,
                                count=digits.decode()[:12] or "?", max=f"{most:,}")
        head = b""


_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\b[^>]*>")
_TARGET = re.compile(rb'\bTarget\s*=\s*["\']([^"\']*)["\']')


def _office_part(z: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """The part ``_rels/.rels`` names as the office document (``xl/workbook.xml`` as a rule)."""
    try:
        rels = z.read("_rels/.rels")  # a relationships part: within MAX_TREE_PART_BYTES, checked above
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError):
        return None
    for tag in _RELATIONSHIP.findall(rels):
        target = _TARGET.search(tag)
        if b"/officeDocument" in tag and target is not None:
            name = posixpath.normpath(target[1].decode("utf-8", "replace").lstrip("/"))
            folded = {i.filename.lower(): i for i in z.infolist()}
            return folded.get(name.lower())
    return None


def inflate(path: Path, data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part's content in pieces of at most CHUNK bytes, inflated from its raw record; refused
    as soon as it runs past its declared size (which ``check_archive`` has bounded)."""
    if info.flag_bits & 1:  # encrypted entry: no reader of ours can read it
        raise damaged(path.name, Damage.ENCRYPTED_PART, part=info.filename)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        yield from _via_zipfile(path, data, info)
        return
    at = info.header_offset
    if data[at:at + 4] != b"PK\x03\x04" or len(data) < at + 30:
        raise damaged(path.name, Damage.DATA, part=info.filename, raw="no local header")
    name_len, extra_len = struct.unpack_from("<2H", data, at + 26)
    start = at + 30 + name_len + extra_len
    raw = memoryview(data)[start:start + info.compress_size]
    left = info.file_size
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (bytes(raw[i:i + CHUNK]) for i in range(0, len(raw), CHUNK))
    else:
        pieces = _inflated(raw)
    try:
        for piece in pieces:
            left -= len(piece)
            if left < 0:  # damaged, or made to look small: either way not to be read
                raise damaged(path.name, Damage.DATA, part=info.filename, raw="larger than the archive records")
            yield piece
    except zlib.error as e:
        raise archive_error(path.name, e, part=info.filename) from e


def _inflated(raw: memoryview) -> Iterator[bytes]:
    """Raw deflate in pieces of at most CHUNK bytes: never more than that held at once."""
    d = zlib.decompressobj(-15)
    for i in range(0, len(raw), CHUNK):
        out = d.decompress(raw[i:i + CHUNK], CHUNK)
        while out:
            yield out
            out = d.decompress(d.unconsumed_tail, CHUNK)
        if d.eof:
            return


def _via_zipfile(path: Path, data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """Other compression methods: zipfile's reader, which stops at the declared size itself."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)).open(info) as fh:
            while piece := fh.read(CHUNK):
                yield piece
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as e:
        raise archive_error(path.name, e, part=info.filename) from e


def _checked(path: Path, data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """``inflate``, refusing a run of more than MAX_TEXT_BYTES without a '<' (text or junk)."""
    since = 0  # bytes since the last '<'
    for piece in inflate(path, data, info):
        first = piece.find(b"<")
        if (since + len(piece) if first < 0 else since + first) > MAX_TEXT_BYTES:
            raise WorkbookError(Refusal.TEXT, path=path.name, part=info.filename, max=_mb(MAX_TEXT_BYTES))
        since = since + len(piece) if first < 0 else len(piece) - piece.rfind(b"<") - 1
        yield piece


#: What may follow a cell's or row's plain reference to the end of its tag: other attributes, as Excel writes
#: them (one space before each, the value in double quotes), none of them ``r`` again. calamine places a cell by
#: the *last* ``r`` of its tag (``<c r="A2" r="XFD1048576">`` passed the scan and aborted the process): a tag
#: that does not read so is looked at as unusual, and lxml refuses a repeated attribute as corrupt.
_REST = rb'(?:\s(?!r\s*=)[^\s=>"]++="[^"]*+")*+/?>'
#: Anything the fast scan cannot bound, found by two expressions (``_unusual``): ``_UNUSUAL``, a cell
#: reference other than A1…BZ99999 (a column past BZ, a row past 99,999, lower case…), a row number past
#: 99,999, a cell or row whose reference is missing, not written first or written again (``_REST``);
#: ``_PREFIXED``, a namespace prefix
#: (``<x:c``, ``<x:row``: a ':' before the name and a space, '>' or '/' after it; the same letters in a text
#: only send the sheet to the reference scan, which places every cell whatever the scan thought).
_UNUSUAL = re.compile(  # '>' or '/' (of '/>'), or a space not before a plain reference: one look-ahead each
    rb'<(?:c(?:[>/]|\s(?!r="[AB]?[A-Z]\d{1,5}"' + _REST + rb'))'
    rb'|row(?:[>/]|\s(?!r="\d{1,5}"' + _REST + rb')))')
_PREFIXED = re.compile(rb':(?:c|row)[\s>/]')
#: What the reference scan cannot place: a cell or row without a plain reference (or with a second), a prefix.
_STRUCTURE = re.compile(
    rb'<(?:c(?:>|/>|\s(?!r=")|\sr="(?![A-Z]{1,3}\d{1,7}"' + _REST + rb'))'
    rb'|row(?:>|/>|\s(?!r=")|\sr="(?!\d{1,7}"' + _REST + rb'))'
    rb'|[\w.-]+:(?:c|row)[\s>/])')
_COLUMNS = re.compile(rb'<c\sr="([A-Z]{1,3})\d')
_ROWS = re.compile(rb'<(?:c\sr="[A-Z]{1,3}|row\sr=")(\d{1,7})"')


def _blocks(pieces: Iterator[bytes]) -> Iterator[memoryview]:
    """The pieces regrouped to end just after a '>', so that no tag is cut in two."""
    carry = b""
    for piece in pieces:
        buf = carry + piece
        cut = buf.rfind(b">") + 1
        yield memoryview(buf)[:cut]
        carry = buf[cut:]
    yield memoryview(carry)


class _Range:
    """The used range met so far, from A1; refused as soon as it passes a limit."""

    def __init__(self, path: Path, sheet: str) -> None:
        self.path, self.sheet, self.rows, self.cols = path, sheet, 0, 0

    def reach(self, row: int, col: int) -> None:
        self.rows, self.cols = max(self.rows, row), max(self.cols, col)
        if self.rows * self.cols > MAX_CELLS:
            raise WorkbookError(Refusal.CELLS, path=self.path.name, sheet=self.sheet,
                                ref=a1(self.rows, self.cols), rows=f"{self.rows:,}", cols=f"{self.cols:,}",
                                max=f"{MAX_CELLS:,}")
        if self.rows > MAX_ROWS:
            raise WorkbookError(Refusal.ROWS, path=self.path.name, sheet=self.sheet, max=f"{MAX_ROWS:,}")


def check_sheet(path: Path, data: bytes, info: zipfile.ZipInfo, sheet: str) -> None:
    """Refuse a worksheet whose used range from A1 passes MAX_ROWS or MAX_CELLS, or that holds an
    overlong text. The quick scan settles an ordinary sheet; an unusual one has its references
    read (its cells placed by lxml if some have none), stopping as soon as a limit is passed."""
    if not any(_unusual(b) for b in _blocks(_checked(path, data, info))):
        return
    reached = _Range(path, sheet)
    if not _explicit(_blocks(_checked(path, data, info)), reached):
        _walk(path, data, info, sheet, _Range(path, sheet))


def _unusual(block: memoryview) -> bool:
    """Whether the quick scan cannot settle the block (see ``_UNUSUAL``). The prefix is looked for on its own:
    as the third branch of one expression tried at every '<' of the sheet (72,000 in a 500-complaint register's
    sheets), it was 24 M of the scan's 53 M instructions a bench file; the two expressions took 35 M (callgrind,
    2026-12-07: ``_UNUSUAL`` 29.5 M, ``_PREFIXED`` 3.6 M, the rest the calls), before ``_UNUSUAL`` read each tag
    to its end for a second reference (``_REST``: 3.5 → 5.7 ms of CPU a bench file). ``tests/test_limits.py``
    holds them to the one expression, and a look for a reference written twice, on generated sheets."""
    return _UNUSUAL.search(block) is not None or _PREFIXED.search(block) is not None


def _explicit(blocks: Iterator[memoryview], reached: _Range) -> bool:
    """Reach every cell's and row's reference; False (at once) if some cell cannot be placed so."""
    for block in blocks:
        if _STRUCTURE.search(block):
            return False
        rows = _ROWS.findall(block)
        if rows:
            reached.reach(max(map(int, rows)), max(map(_col_number, set(_COLUMNS.findall(block))), default=0))
    return True


#: A cell's reference (letters, then the row) or a row's number, within bounds int() reads safely.
_REF = re.compile(r"\s*([A-Za-z]{0,9})(\d{1,12})\s*")


def _col_number(letters: str | bytes) -> int:
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode("ascii").upper():
        n = n * 26 + ord(ch) - 64
    return n


class _Pieces:
    """A file-like view of a part's inflated pieces, for lxml's incremental parser."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces, self._held = pieces, b""

    def read(self, size: int = -1) -> bytes:
        if not self._held:
            self._held = next(self._pieces, b"")
        size = len(self._held) if size < 0 else size
        out, self._held = self._held[:size], self._held[size:]
        return out


def _walk(path: Path, data: bytes, info: zipfile.ZipInfo, sheet: str, reached: _Range) -> None:
    """Place every cell as calamine does: by its reference, or next to the one before (a row
    without its number follows the last one), and reach it."""
    row = col = 0
    events = etree.iterparse(_Pieces(_checked(path, data, info)), events=("start", "end"),
                             tag=("{*}row", "{*}c"), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=True)
    try:
        for event, el in events:
            local = etree.QName(el).localname
            if event == "end":
                if local == "row":
                    el.clear()
                    while el.getprevious() is not None:
                        del el.getparent()[0]
                continue
            ref = el.get("r")
            m = None if ref is None else _REF.fullmatch(ref)
            if ref is not None and (m is None or bool(m[1]) != (local == "c")):
                raise damaged(path.name, Damage.REFERENCE, part=info.filename, sheet=sheet, ref=ref)
            if local == "row":
                row = int(m[2]) if m else row + 1
                col = 0
                continue
            if m:
                row, col = int(m[2]), _col_number(m[1])
            else:
                col += 1
            reached.reach(row, col)
    except etree.XMLSyntaxError as e:
        raise xml_error(path.name, e, part=info.filename, sheet=sheet) from e
