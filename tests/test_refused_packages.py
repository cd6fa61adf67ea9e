"""Packages that could be read two ways are refused, whole, before anything is read or written.

Part names are case-insensitive in OPC and always use "/": a zip holding ``xl\\worksheets\\sheet1.xml``
or two entries for one part would be read one way by one reader and another way by the next
(calamine took the empty Register copy, the writer the full one). Exit 2, one sentence, file untouched.
"""

from __future__ import annotations

import json
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.test_cli import run
from xlcomplaints.demo import make_branch
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.package import XlsxPackage

EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
               b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')


def rezip(src: Path, dst: Path, entries: Callable[[str, bytes], list[tuple[str, bytes]]]) -> Path:
    """A copy of src whose entries are what ``entries`` makes of each (name, data)."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name we mean to write
        for info in z.infolist():
            for name, data in entries(info.filename, z.read(info)):
                out.writestr(name, data)
    return dst


def backslashed(name: str, data: bytes) -> list[tuple[str, bytes]]:
    return [(name.replace("/", "\\") if name.startswith("xl/worksheets/") else name, data)]


def all_backslashed(name: str, data: bytes) -> list[tuple[str, bytes]]:
    return [(name.replace("/", "\\"), data)]


def register_twice(name: str, data: bytes) -> list[tuple[str, bytes]]:
    if name == "xl/worksheets/sheet1.xml":
        return [(name, data), (name, EMPTY_SHEET)]
    return [(name, data)]


def register_twice_by_case(name: str, data: bytes) -> list[tuple[str, bytes]]:
    if name == "xl/worksheets/sheet1.xml":
        return [("xl/worksheets/Sheet1.xml", EMPTY_SHEET), (name, data)]
    return [(name, data)]


CASES: dict[str, tuple[Callable[[str, bytes], list[tuple[str, bytes]]], str]] = {
    "backslash": (backslashed, "file.backslash_names"),
    "all-backslash": (all_backslashed, "file.backslash_names"),
    "duplicate": (register_twice, "file.duplicate_parts"),
    "duplicate-by-case": (register_twice_by_case, "file.duplicate_parts"),
}


@pytest.fixture(scope="module")
def branch_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_branch(tmp_path_factory.mktemp("src") / "BJ01.xlsx", "BJ01", "北京一店", n=8, seed=1)


@pytest.mark.parametrize("case", list(CASES))
def test_ambiguous_part_names_are_refused_by_the_package(case: str, branch_file: Path, tmp_path: Path) -> None:
    entries, code = CASES[case]
    path = rezip(branch_file, tmp_path / "odd.xlsx", entries)
    with pytest.raises(WorkbookError) as refused:
        FileWorkbook(path)
    assert refused.value.code == code and "odd.xlsx" in refused.value.message("en")
    with pytest.raises(WorkbookError):
        XlsxPackage.open(path.read_bytes())


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", ["refresh", "assign-ids", "validate"])
def test_commands_exit_2_in_one_sentence_and_write_nothing(case: str, command: str, branch_file: Path,
                                                           tmp_path: Path) -> None:
    entries, code = CASES[case]
    path = rezip(branch_file, tmp_path / "odd.xlsx", entries)
    before = path.read_bytes()
    result = run(command, path, "--now", "2026-11-02 09:00", "--lang", "en")
    assert result.returncode == 2, result.stdout + result.stderr
    said = result.stderr.strip()
    assert said.count(". ") <= 1 and "Traceback" not in said and "internal error" not in said, said
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["odd.xlsx"]


def test_validate_json_names_the_refusal(branch_file: Path, tmp_path: Path) -> None:
    path = rezip(branch_file, tmp_path / "odd.xlsx", register_twice)
    result = run("validate", path, "--json")
    assert result.returncode == 2 and json.loads(result.stdout)["error"] == "file.duplicate_parts"


def test_an_ordinary_workbook_is_not_refused(branch_file: Path, tmp_path: Path) -> None:
    path = rezip(branch_file, tmp_path / "plain.xlsx", lambda n, d: [(n, d)])
    assert FileWorkbook(path).sheet_names()



def test_consolidate_lists_an_ambiguous_branch_and_goes_on(branch_file: Path, tmp_path: Path) -> None:
    from datetime import datetime

    from xlcomplaints.api import consolidate

    good = make_branch(tmp_path / "SH02.xlsx", "SH02", "上海二店", n=8, seed=2)
    bad = rezip(branch_file, tmp_path / "odd.xlsx", register_twice)
    run_ = consolidate([good, bad], "2026-10", tmp_path / "group.xlsx", now=datetime(2026, 11, 2, 9), workers=1)
    codes = {(Path(str(p.file)).name, p.code) for p in run_.consolidation.issues}
    assert ("odd.xlsx", "file.duplicate_parts") in codes
    assert (tmp_path / "group.xlsx").is_file()
