"""A streamed sheet reads its part and hands its row edits back through SheetHost alone.

The streamer (workbook/sheet_stream.py) once read the package's private archive and bytes; it now
sees the package only through a small interface — a part as the archive stores it, the cell
tails, the row edits. Here it is given a host that is that interface and nothing else, and
writes what the package writes for the same call.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.test_package import make_register
from xlcomplaints.workbook.package import XlsxPackage
from xlcomplaints.workbook.sheet_stream import ColumnEdit, Patch, Rebuild, SheetHost
from xlcomplaints.workbook.xlsx_zip import StoredPart


class OnlyTheInterface:
    """SheetHost and nothing more: any other attribute the streamer reached for would fail."""

    __slots__ = ("_pkg",)

    def __init__(self, pkg: XlsxPackage) -> None:
        self._pkg = pkg

    def stored(self, name: str) -> StoredPart:
        return self._pkg.stored(name)

    def tails(self, p: str) -> Any:
        return self._pkg.tails(p)

    def edit_row(self, *args: Any) -> tuple[bool, int, int]:
        return self._pkg.edit_row(*args)

    def apply_patch(self, *args: Any) -> None:
        self._pkg.apply_patch(*args)

    def replace_into(self, *args: Any, **kwargs: Any) -> None:
        self._pkg.replace_into(*args, **kwargs)


ROWS = {2: ("已结案", 3.5), 3: ("处理中", None), 6: (None, dt.date(2024, 2, 1)), 9: ("新", 1.0)}


def test_a_column_write_streams_through_the_interface_alone(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    make_register(path)
    pkg = XlsxPackage.open(path)
    part = pkg.sheet("登记").part
    host: SheetHost = OnlyTheInterface(pkg)
    patch, box = Patch.of([4, 5], ROWS, pkg.date1904)
    edit = ColumnEdit(host, part)
    edit.add(patch, box)
    edit.scan()
    assert edit.differs
    streamed = b"".join(edit.chunks())

    written = XlsxPackage.open(path)
    written.write_columns("登记", [4, 5], ROWS)
    assert streamed == written.read_part(part)
    assert part not in written._sheets  # the package streamed it too


def test_a_rebuild_streams_through_the_interface_alone(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    make_register(path)
    pkg = XlsxPackage.open(path)
    part = pkg.sheet("登记").part
    rows: list[tuple[Any, ...]] = [("a", 1.0), (None, None), (None, "b")]
    edit = Rebuild(OnlyTheInterface(pkg), part, 3, rows, False, (3, 1, 5, 2))
    edit.scan()
    streamed = b"".join(edit.chunks())

    written = XlsxPackage.open(path)
    written.replace_rows("登记", 3, rows, autofilter=False)
    assert streamed == written.read_part(part)
