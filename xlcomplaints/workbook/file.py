"""The file adapter of the workbook port: an .xlsx/.xlsm on disk.

Reads values with python-calamine (fast, independent of our writer) and writes through
``XlsxPackage``, which patches only the parts we own. Saving refuses when Excel holds
the file open or it changed since it was first read.
Just over 400 lines: opening one file (by its handle), reading it and saving it back share that handle's checks.
"""

from __future__ import annotations

import ctypes
import io
import os
import re
import shutil
import sys
import tempfile
import weakref
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import cast

import python_calamine
from lxml import etree

from xlcomplaints.i18n import printable
from xlcomplaints.workbook import damage
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.filekind import require_file
from xlcomplaints.workbook.limits import MAX_FILE_BYTES, check_archive, check_file_size, check_sheet
from xlcomplaints.workbook.owners import Leftover, clear_leftovers
from xlcomplaints.workbook.package import GENERATED_PROTECTION, XlsxPackage
from xlcomplaints.workbook.port import (
    BarChart,
    CellValue,
    ConditionalFormat,
    NamedValue,
    Upgrades,
    Validation,
)
from xlcomplaints.workbook.safety import (
    FileStamp,
    atomic_write_stream,
    backup_path,
    save_refusals,
    stamp_file,
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
#: Spreadsheets that are not .xlsx/.xlsm, by suffix: what to tell the one who sent one (zh, en).
OTHER_FORMATS: dict[str, tuple[str, str]] = {
    ".xlsb": ("Excel 二进制 .xlsb", "Excel binary .xlsb"), ".ods": ("OpenDocument .ods", "OpenDocument .ods"),
    ".et": ("WPS 表格 .et", "WPS Spreadsheets .et"), ".numbers": ("Numbers", "Numbers"), ".csv": ("CSV", "CSV")}


#: A cell stored as an error value: ``<c r="B2" t="e"><v>#N/A</v></c>``.
_ERROR_CELL = re.compile(rb"""<(?:\w+:)?c\b[^>]*\bt\s*=\s*["']e["']""")


def sniff(path: Path, data: bytes) -> None:
    """Raise a WorkbookError that says why ``data`` is not a workbook we can open."""
    label = path.name
    other = OTHER_FORMATS.get(path.suffix.lower())

    def refused(code: str) -> WorkbookError:  # a known other format is named, with what to do
        zh, en = other or ("", "")
        return WorkbookError("file.other_format", path=label, format_zh=zh, format_en=en) if other else WorkbookError(
            code, path=label)

    if data.startswith(OLE_MAGIC):
        raise WorkbookError("file.encrypted", path=label) if ENCRYPTED_STREAM in data else refused("file.old_xls")
    if not data.startswith(b"PK"):
        raise refused("file.not_workbook")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "xl\\workbook.xml" in names:  # a workbook whose part names use backslashes
                raise WorkbookError("file.backslash_names", path=label, part="xl\\workbook.xml")
            if "xl/workbook.xml" not in names:  # what it is, whatever its name says
                other = _zipped_format(z, names) or other
                raise refused("file.not_workbook")
    except (zipfile.BadZipFile, EOFError, ValueError) as e:
        raise damage.damaged(label, damage.Damage.TRUNCATED, raw=damage.raw_words(e)) from e
    # No CRC pass over every part here: the parts we read are checked as they are inflated
    # (a damaged one is reported as corrupt then), and parts we never read are copied as they are.


def _zipped_format(z: zipfile.ZipFile, names: set[str]) -> tuple[str, str] | None:
    """Which other zipped spreadsheet a package is, by its parts (a .ods renamed .xlsx, say)."""
    if "xl/workbook.bin" in names:
        return OTHER_FORMATS[".xlsb"]
    if "mimetype" in names and z.read("mimetype").startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return OTHER_FORMATS[".ods"]
    if any(n.startswith("Index/") and n.endswith(".iwa") for n in names):
        return OTHER_FORMATS[".numbers"]
    return None


#: A sheet this large (rows × columns) is a register of tens of thousands of rows.
LARGE_SHEET_CELLS = 1_000_000


def _then_release(sheet: python_calamine.CalamineSheet, rows: Iterator[list[object]]) -> Iterator[list[object]]:
    """The rows, then the sheet let go and its memory handed back to the system.

    calamine holds a whole sheet while it is read (about 120 MiB for a refreshed 50,000-row
    register). Freed, that memory stays with the C allocator, where the Python objects made
    next cannot use it; returning it keeps a large refresh's peak within its budget.
    """
    yield from rows
    del sheet, rows
    release_freed_memory()


def _libc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


_MALLOC_TRIM = _libc_trim()


def release_freed_memory() -> None:
    """glibc's ``malloc_trim``: give freed heap pages back to the system; elsewhere nothing."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def tidy_beside(path: Path) -> list[Leftover]:
    """Clear what killed runs left beside a workbook (a symbolic link's: beside its target)."""
    try:
        real = path.resolve() if path.is_symlink() else path
    except OSError:  # a name the system refuses (too long, say): the file's check says why, in the user's words
        return []
    return clear_leftovers(real, backup_path(real))


class FileWorkbook:
    """A workbook file: its package in memory, its values read by calamine sheet by sheet;
    writes collect until ``save``."""

    def __init__(self, path: str | Path, *, tidy: bool = False) -> None:
        """``tidy``: first clear what killed runs left beside the workbook (see ``owners``), as a
        command that may save it does; ``tidied`` says what was done, for the user to be told."""
        self.path = Path(path)
        self.tidied = tidy_beside(self.path) if tidy else []
        require_file(self.path)  # a FIFO, device or broken link is named, never opened
        check_file_size(self.path, self.path.stat().st_size)
        self._stamp: FileStamp = stamp_file(self.path)
        with open(self.path, "rb") as fh:  # no more than the limit, should the file grow meanwhile
            data, read = fh.read(MAX_FILE_BYTES + 1), os.fstat(fh.fileno())
        check_file_size(self.path, len(data))
        sniff(self.path, data)
        self._data = data
        self._checked: set[str] = set()  # sheets whose used range was found within the limits
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            check_archive(self.path, self._zip, data)  # before any reader sees a part
            self._package = XlsxPackage.open(data, label=self.path.name)
            self._calamine: python_calamine.CalamineWorkbook | None = self._open_reader()
            self._still_what_was_read(read)
        except (WorkbookError, MemoryError):  # out of memory is not damage: the command says which it is
            raise
        except Exception as e:  # any parser failure on a damaged part: say so, no traceback
            raise damage.opening_error(self.path.name, self._zip, e) from e

    def _still_what_was_read(self, read: os.stat_result) -> None:
        """calamine opens the file by its name after the limits were checked on what was read: a file replaced
        (or gone) in between is another file, unchecked, and is refused as changed, never read."""
        try:
            now = os.stat(self.path)
        except OSError:
            now = None
        if now is None or (now.st_ino, now.st_size, now.st_mtime_ns) != (read.st_ino, read.st_size, read.st_mtime_ns):
            self._close_reader()
            raise WorkbookError("file.changed", path=self.path.name)

    def _open_reader(self) -> python_calamine.CalamineWorkbook:
        """calamine reads the file itself, a sheet when asked: no second copy of the file in
        memory (tens of MiB for a large register). Should the file change meanwhile, the save
        refuses (it compares with the stamp taken first). A name that is not valid Unicode (a GBK
        name unzipped on Linux) calamine cannot open by name: the file is handed over open, read whole."""
        if printable(str(self.path)) != str(self.path):  # not valid Unicode: bytes carried as lone surrogates
            with open(self.path, "rb") as fh:
                return python_calamine.CalamineWorkbook.from_filelike(fh)
        return python_calamine.CalamineWorkbook.from_path(str(self.path))

    def _reader(self) -> python_calamine.CalamineWorkbook:
        if self._calamine is None:  # closed by a save: read what was saved
            self._calamine = self._open_reader()
        return self._calamine

    def _changed_on_disk(self) -> bool:
        try:
            now = stamp_file(self.path)
        except OSError:
            return True
        return (now.size, now.sha256) != (self._stamp.size, self._stamp.sha256)

    def _close_reader(self) -> None:
        """Let go of the file before it is replaced (Windows refuses to replace a file held open
        without delete sharing; calamine's Rust handle shares it, but nothing is left to chance)."""
        if self._calamine is not None:
            self._calamine.close()
            self._calamine = None

    @property
    def label(self) -> str:
        return self.path.name

    @property
    def date1904(self) -> bool:
        return self._package.date1904

    def sheet_names(self) -> list[str]:
        return [s.name for s in self._package.sheets]

    def names(self) -> list[NamedValue]:
        return [NamedValue(n.name, n.value, n.local_sheet) for n in self._package.defined_names()]

    def values(self, sheet: str) -> list[list[object]]:
        """The sheet's grid (for small sheets: Settings, Calendar)."""
        return list(self.rows(sheet))

    def rows(self, sheet: str) -> Iterator[list[object]]:
        """Rows from row 1 and column A, streamed from calamine; nothing is kept.

        calamine's iterator starts at row 1 but at the first used column (python-calamine
        0.9; ``tests/test_reader.py`` holds it to that), so rows are padded on the left
        to keep column numbers true. Unpadded, calamine's own iterator is handed out.
        """
        self._check(sheet)
        try:
            data = self._reader().get_sheet_by_name(sheet)
            start = data.start  # None only for an empty sheet (height 0)
            left = start[1] if start is not None else 0
            # calamine's fresh lists, handed on as the port's rows
            rows = cast("Iterator[list[object]]", data.iter_rows())
        except MemoryError:  # not damage: the command says it ran out of memory
            raise
        except Exception as e:
            if self._changed_on_disk():  # saved over since we opened it: say that, not "corrupt"
                raise WorkbookError("file.changed", path=self.path.name) from e
            part = next((s.part for s in self._package.sheets if s.name.lower() == sheet.lower()), None)
            raise damage.sheet_error(self.path.name, self._zip, e, sheet=sheet, part=part) from e
        if left:
            pad = [None] * left
            rows = (pad + row for row in rows)
        if data.height * data.width >= LARGE_SHEET_CELLS:
            rows = _then_release(data, rows)
        return rows

    def _check(self, sheet: str) -> None:
        """Refuse the sheet before calamine lays it out if its used range is beyond the limits
        (see ``limits``); each sheet once. A sheet not found is the reader's to report; a missing part, damage."""
        if sheet in self._checked:
            return
        try:
            ref = self._package.sheet(sheet)
        except KeyError:
            return
        if ref.part not in self._zip.NameToInfo:  # named by the workbook, not in the file (or outside it)
            raise WorkbookError("file.sheet_part_missing", path=self.path.name, sheet=ref.name, part=ref.part)
        try:
            check_sheet(self.path, self._data, self._zip.getinfo(ref.part), ref.name)
        except WorkbookError as e:  # a part that does not unpack: named by its sheet too
            raise damage.on_sheet(e, ref.name) from e.__cause__
        self._checked.add(sheet)

    def error_cells(self, sheet: str) -> dict[str, str]:
        """Cells stored as errors (``t="e"``), which calamine reads as blank: the sheet's XML parsed
        once more, so only when asked (a register's XML is a few milliseconds to inflate)."""
        self._check(sheet)
        data = self._package.read_part(self._package.sheet(sheet).part)
        if not _ERROR_CELL.search(data):
            return {}
        found = {}
        for _, c in etree.iterparse(io.BytesIO(data), tag="{*}c", resolve_entities=False, huge_tree=True):
            ref = c.get("r")
            if c.get("t") == "e" and ref:
                found[ref] = next((v.text for v in c if etree.QName(v).localname == "v" and v.text), "#N/A")
            c.clear(keep_tail=True)
        return found

    def write_cells(self, sheet: str, cells: Mapping[tuple[int, int], CellValue]) -> None:
        if cells:
            self._package.write_cells(sheet, cells)

    def write_columns(self, sheet: str, columns: Sequence[int], rows: Mapping[int, Sequence[CellValue]]) -> None:
        """Recorded by the package and rendered as the sheet streams out on save."""
        if rows:
            self._package.write_columns(sheet, columns, rows)

    def replace_rows(self, sheet: str, first_row: int, rows: Sequence[Sequence[CellValue]]) -> None:
        """Recorded like write_columns: the rows are rendered as the sheet streams out on save.
        Only generated sheets are replaced: they are protected as the template has them."""
        self._package.replace_rows(sheet, first_row, rows, protect=GENERATED_PROTECTION)

    def set_chart(self, sheet: str, key: str, chart: BarChart | None) -> None:
        """Our chart on the sheet, added, replaced or removed in the sheet's drawing (``sheet_charts``)."""
        self._package.set_chart(sheet, key, chart)

    def recreate_sheet(self, kind: str, lang: str) -> str:
        """A generated sheet the clerk deleted, added again (last) as the template has it; its title."""
        from xlcomplaints.templates.build import build_branch_workbook

        template = io.BytesIO()
        build_branch_workbook(template, lang=lang)
        return self._copy_sheet(XlsxPackage.open(template.getvalue()), kind)

    def copy_sheet(self, source: Upgrades, kind: str) -> str:
        """``source``'s sheet of this kind (found by its stamp) added last, as ``source`` has it; its title."""
        if not isinstance(source, FileWorkbook):
            raise TypeError("a sheet is copied from a workbook file")
        return self._copy_sheet(source._package, kind)

    def _copy_sheet(self, source: XlsxPackage, kind: str) -> str:
        from xlcomplaints.workbook.stamp import SHEET_NAME, Stamp

        name = next(d.local_sheet for d in source.defined_names() if d.name.lower() == SHEET_NAME
                    and d.local_sheet is not None and (s := Stamp.parse(d.value)) is not None and s.kind == kind)
        title, taken, n = name, {s.casefold() for s in self.sheet_names()}, 2
        while title.casefold() in taken:  # the office's own sheet has the name: ours takes another
            title, n = f"{name} ({n})", n + 1
        added = self._package.add_sheet_from(source, name, title).name
        # names of the workbook's scope that point at the sheet (a list's range a dropdown refers to)
        have = {(x.name.casefold(), x.local_sheet) for x in self._package.defined_names()}
        quoted, moved = "'" + name.replace("'", "''") + "'!", "'" + added.replace("'", "''") + "'!"
        for d in source.defined_names():
            if d.local_sheet is None and (d.name.casefold(), None) not in have and not d.name.lower().startswith(
                    ("xlcomplaints.", "_xlnm.")) and (quoted in d.value or f"{name}!" in d.value):
                value = re.sub(rf"(?<![\w'.]){re.escape(name)}!", moved.replace("\\", "\\\\"),
                               d.value.replace(quoted, moved))
                self._package.set_defined_name(d.name, value, hidden=d.hidden)
        return added

    def template(self, lang: str) -> FileWorkbook:
        """The current branch template in ``lang``, as a workbook to read (``upgrade`` copies from it);
        written to a temporary folder that goes with the object."""
        from xlcomplaints.templates.build import build_branch_workbook

        folder = tempfile.mkdtemp(prefix="xlcomplaints-")
        path = Path(folder) / f"template-{lang}.xlsx"
        build_branch_workbook(path, lang=lang, created=None)
        made = FileWorkbook(path)
        # removed with the object, as a TemporaryDirectory would be, without its ResourceWarning at each upgrade
        weakref.finalize(made, shutil.rmtree, folder, ignore_errors=True)
        return made

    def validations(self, sheet: str) -> list[Validation]:
        return self._package.validations(sheet)

    def set_validations(self, sheet: str, keep: Callable[[Validation], bool], added: Sequence[Validation]) -> bool:
        return self._package.set_validations(sheet, keep, added)

    def conditional_formats(self, sheet: str) -> list[ConditionalFormat]:
        return self._package.conditional_formats(sheet)

    def set_conditional_formats(self, sheet: str, keep: Callable[[ConditionalFormat], bool], source: Upgrades,
                                source_sheet: str) -> bool:
        if not isinstance(source, FileWorkbook):
            raise TypeError("conditional formats are copied from a workbook file")
        return self._package.set_conditional_formats(sheet, keep, source._package, source_sheet)

    def copy_styles(self, sheet: str, source: Upgrades, source_sheet: str,
                    cells: Mapping[tuple[int, int], tuple[int, int]], *, create: bool = False) -> bool:
        if not isinstance(source, FileWorkbook):
            raise TypeError("formats are copied from a workbook file")
        return self._package.copy_styles(sheet, source._package, source_sheet, cells, create=create)

    def protection(self, sheet: str) -> dict[str, str] | None:
        return self._package.protection(sheet)

    def set_protection(self, sheet: str, attrs: Mapping[str, str]) -> bool:
        return self._package.set_protection(sheet, attrs)

    def set_name(self, name: str, value: str, local_sheet: str | None = None) -> None:
        self._package.set_defined_name(name, value, local_sheet)

    def save(self, target: str | Path | None = None) -> bool:
        """Write the patched package atomically (backup kept); False when nothing changed."""
        dest = Path(target) if target else self.path
        if not self._package.changed_parts() and dest == self.path:
            return False
        if dest == self.path:
            self._close_reader()
        with save_refusals(dest):
            # Streamed into the temporary file: the new package is never whole in memory.
            atomic_write_stream(dest, self._package.write_to,
                                expected=self._stamp if dest == self.path else None)
        if dest == self.path:
            try:
                self._stamp = stamp_file(self.path)
            except OSError:  # saved, then moved or locked at once: a later save here refuses as changed
                self._stamp = FileStamp(-1, 0, "")
        return True
