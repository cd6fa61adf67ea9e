"""A branch file whose name is not valid Unicode is a branch like any other; a file of another format is
named in the user's language.

Branch files sent from Windows PCs in a zip whose names are in GBK, unzipped on a Linux head-office
server, keep their names' bytes: Python carries those as lone surrogates, which calamine could not
open by name ("damaged") and no text store or workbook can hold (the whole consolidation stopped
with an internal error). The file is read, and named with its odd bytes shown as ``\\xNN``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from xlcomplaints.api import consolidate
from xlcomplaints.demo import make_branch

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="file names of bytes: Linux")

#: 北京 in GBK: what a Windows zip names the file, unzipped as it is on Linux.
GBK_NAME = b"\xb1\xb1\xbe\xa9.xlsx"
SHOWN = "\\xb1\\xb1\\xbe\\xa9.xlsx"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    branches = tmp_path / "branches"
    branches.mkdir()
    make_branch(branches / "SH02.xlsx", "SH02", "上海二店", n=8, seed=2)
    odd = Path(os.fsdecode(bytes(branches) + b"/" + GBK_NAME))
    make_branch(tmp_path / "made.xlsx", "BJ01", "北京一店", n=8, seed=1).rename(odd)
    return branches


@linux_only
def test_a_branch_file_named_in_another_encoding_is_read_and_counted(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "group.xlsx"
    run = consolidate([folder], "2026-10", out, now=datetime(2026, 11, 2, 9), workers=1)
    assert sorted(run.consolidation.branches) == ["BJ01", "SH02"]
    assert not [p for p in run.consolidation.issues if p.code.startswith(("file.", "report."))]
    files = {str(p.file) for p in run.consolidation.issues}
    assert SHOWN in files  # its typing mistakes are listed under a name that can be written
    issues = next(s for s in CalamineWorkbook.from_path(str(out)).sheet_names if s in ("问题清单", "Issues"))
    assert any(row[0] == SHOWN for row in CalamineWorkbook.from_path(str(out)).get_sheet_by_name(issues).to_python())


@linux_only
def test_updating_from_such_a_file_again_raises_no_doubt_about_it(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "group.xlsx"
    consolidate([folder], "2026-10", out, now=datetime(2026, 11, 2, 9), workers=1)
    odd = next(p for p in folder.iterdir() if p.name != "SH02.xlsx")
    run = consolidate([odd], "2026-10", out, now=datetime(2026, 11, 2, 9), workers=1, update=True)
    assert sorted(run.consolidation.branches) == ["BJ01", "SH02"]
    assert not [p for p in run.consolidation.issues if p.code.startswith("report.")]


@linux_only
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_validate_reads_it_and_never_calls_it_damaged(folder: Path, lang: str) -> None:
    odd = next(p for p in folder.iterdir() if p.name != "SH02.xlsx")
    done = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "validate", str(odd), "--lang", lang],
                          capture_output=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in done.stderr and "损坏".encode() not in done.stderr and b"damaged" not in done.stderr


@pytest.mark.parametrize(("name", "content", "zh", "en"), [
    ("binary.xlsx", "xlsb", "Excel 二进制 .xlsb", "Excel binary .xlsb"),
    ("gz.et", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "WPS 表格 .et", "WPS Spreadsheets .et"),
])
def test_another_format_is_named_in_the_users_language_only(tmp_path: Path, name: str, content: bytes | str,
                                                            zh: str, en: str) -> None:
    """An .xlsb sent as .xlsx, a WPS .et: the English sentence names the format in English alone (it said
    'is a Excel 二进制 .xlsb (Excel binary) file'), the Chinese one in Chinese."""
    import zipfile

    from xlcomplaints.workbook.errors import WorkbookError
    from xlcomplaints.workbook.file import FileWorkbook

    path = tmp_path / name
    if content == "xlsb":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("xl/workbook.bin", "x")
    else:
        path.write_bytes(bytes(content, "ascii") if isinstance(content, str) else content)
    with pytest.raises(WorkbookError) as e:
        FileWorkbook(path)
    assert zh in e.value.message("zh") and en in e.value.message("en")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in e.value.message("en"))
