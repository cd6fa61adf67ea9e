"""``consolidate`` says what it found in a folder: no workbook is a refusal saying what was looked
for, and the files it passes over (backups, Excel's ``~$`` files, .csv …) are counted in one line,
each listed with ``--verbose``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import run
from xlcomplaints.api import consolidate, new_workbook
from xlcomplaints.report.inputs import PassedOver, scan_inputs
from xlcomplaints.report.run import NothingRead

PASSED_OVER = ("bj01.bak.xlsx", "~$bj01.xlsx", "export.csv", ".bj01.xlsx.new-00000000-1-abcd1234.tmp")


def litter(folder: Path) -> None:
    """What an office's folder holds besides its workbooks."""
    for name in PASSED_OVER:
        (folder / name).write_bytes(b"x")


def test_the_scan_says_why_each_file_is_passed_over(tmp_path: Path) -> None:
    litter(tmp_path)
    (tmp_path / "old.xls").write_bytes(b"x")  # another format of spreadsheet: read, to be reported
    scan = scan_inputs([tmp_path])
    assert [p.name for p in scan.files] == ["old.xls"]
    assert sorted((p.name, why) for p, why in scan.passed_over) == sorted([
        ("bj01.bak.xlsx", PassedOver.BACKUP), ("~$bj01.xlsx", PassedOver.TEMPORARY),
        ("export.csv", PassedOver.OTHER), (".bj01.xlsx.new-00000000-1-abcd1234.tmp", PassedOver.HIDDEN)])


@pytest.mark.parametrize(("lang", "said"), [
    ("zh", "中没有找到网点工作簿（查找的是 .xlsx 和 .xlsm 文件，含子文件夹）；略过 4 个文件：1 个备份（*.bak.xlsx），"
           "1 个 Excel 临时文件（~$ 开头），1 个隐藏文件（. 开头），1 个其他格式的文件（.csv）。"),
    ("en", "No branch workbook found in "),
])
def test_a_folder_without_a_workbook_is_refused_saying_what_was_looked_for(tmp_path: Path, lang: str,
                                                                          said: str) -> None:
    folder = tmp_path / "branches"
    folder.mkdir()
    litter(folder)
    result = run("consolidate", folder, "--month", "2026-10", "-o", tmp_path / "r.xlsx", "--lang", lang)
    assert result.returncode == 2 and said in result.stderr and str(folder) in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "r.xlsx").exists()
    if lang == "en":
        assert "(looked for .xlsx and .xlsm files, subfolders included); passed over 4 file(s):" in result.stderr


def test_an_empty_folder_says_none_was_found_and_nothing_about_files_passed_over(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    result = run("consolidate", folder, "--month", "2026-10", "-o", tmp_path / "r.xlsx")
    assert result.returncode == 2
    assert result.stderr == f"错误：在 {folder} 中没有找到网点工作簿（查找的是 .xlsx 和 .xlsm 文件，含子文件夹）。\n"


def test_the_api_says_so_too(tmp_path: Path) -> None:
    with pytest.raises(NothingRead) as caught:
        consolidate([tmp_path], "2026-10", tmp_path / "r.xlsx")
    assert [p.code for p in caught.value.issues] == ["scan.none_found"]
    assert "没有找到网点工作簿" in caught.value.issues[0].message("zh")


def test_files_passed_over_are_counted_in_one_line_and_listed_with_verbose(tmp_path: Path) -> None:
    folder = tmp_path / "branches"
    folder.mkdir()
    new_workbook(folder / "bj01.xlsx", branch_code="BJ01")
    litter(folder)
    args = ("consolidate", folder, "--month", "2026-10", "-o", tmp_path / "r.xlsx", "--now", "2026-11-01 00:00")
    quiet = run(*args, "--lang", "en")
    assert quiet.returncode == 0
    counted = [line for line in quiet.stdout.splitlines() if "passed over" in line.lower()]
    assert counted == ["Passed over 4 file(s): 1 backup(s) (*.bak.xlsx), 1 Excel temporary file(s) (~$ names), "
                       "1 hidden file(s) (names starting with .), 1 file(s) of other kinds (.csv) "
                       "(--verbose lists them)."]
    assert "export.csv" not in quiet.stdout
    verbose = run(*args, "--verbose")
    assert verbose.returncode == 0
    for name in PASSED_OVER:
        assert f"略过 {folder / name}：" in verbose.stdout
    assert "  略过 " + str(folder / "export.csv") + "：不是电子表格" in verbose.stdout


def test_nothing_passed_over_says_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "branches"
    folder.mkdir()
    new_workbook(folder / "bj01.xlsx", branch_code="BJ01")
    result = run("consolidate", folder, "--month", "2026-10", "-o", tmp_path / "r.xlsx", "--now", "2026-11-01 00:00")
    assert result.returncode == 0 and "略过" not in result.stdout
