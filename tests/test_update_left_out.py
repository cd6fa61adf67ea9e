"""An ``--update``, and head office over regions' reports, still say which files were left out (issue 22, hD's hunt).

A consolidation that cannot count a branch's workbook (no row with a readable time received, a damaged file, one not
from our templates) says so on the cover (读取 3 个文件，1 个未能计入 / 3 files read, 1 left out) and lists the file's
problems on the Issues sheet. An ``--update`` that re-reads another branch is the report a full run over the same
files would give (README, "Re-running a month with --update"): the file left out is not forgotten because the update
did not read it again, and the cover counts the files behind the whole report, not only those read this time. Head
office consolidating the regions' reports gives the report the branch workbooks would: a file a region left out is
named there too.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.test_consolidate import branch, file_issues, invalid_rows, write
from tests.test_facts_store import cells
from tests.test_metrics import OCT
from xlcomplaints.report.run import ReportHooks, ReportKind, ReportRequest, report_flow

NOW = datetime(2026, 11, 22, 9, 0)


@pytest.mark.parametrize("python", [False, True], ids=["store", "python"])
def test_an_update_of_another_branch_still_says_which_file_was_left_out(tmp_path: Path, python: bool) -> None:
    hooks = ReportHooks(workers=1, python_engine=python)
    a1, b1 = write(tmp_path / "in" / "a1.xlsx", branch("A1")), write(tmp_path / "in" / "b1.xlsx", branch("B1"))
    bad = invalid_rows(tmp_path / "in" / "c1.xlsx")  # no row has a readable time received: the file is left out
    out = tmp_path / "group.xlsx"
    first = report_flow(ReportRequest([a1, b1, bad], OCT, out, now=NOW), hooks)
    assert (first.report.files_read, first.report.files_failed) == (3, 1)
    write(a1, branch("A1", drop=(0,)))  # A1's clerk deletes a row; head office updates A1 alone
    again = report_flow(ReportRequest([a1], OCT, out, ReportKind.UPDATE, now=NOW), hooks)
    assert again.consolidation.carried == ["B1"]
    assert (again.report.files_read, again.report.files_failed) == (3, 1)
    assert file_issues(again)["c1.xlsx"][0] == "report.no_usable_rows"  # and each unreadable cell after it
    full = report_flow(ReportRequest([a1, b1, bad], OCT, tmp_path / "full.xlsx", now=NOW), hooks)
    assert [p.code for p in full.report.issues if p.file == "c1.xlsx"] == \
        [p.code for p in again.report.issues if p.file == "c1.xlsx"]
    got, want = cells(out), cells(tmp_path / "full.xlsx")
    assert got["封面"] == want["封面"]  # 读取 3 个文件，1 个未能计入
    assert sorted(map(tuple, got["问题清单"])) == sorted(map(tuple, want["问题清单"]))


def test_a_file_left_out_then_read_again_is_counted_and_forgotten_as_left_out(tmp_path: Path) -> None:
    """The left-out file, mended and given to an ``--update``, replaces what the store remembered of it."""
    a1, b1 = write(tmp_path / "in" / "a1.xlsx", branch("A1")), write(tmp_path / "in" / "b1.xlsx", branch("B1"))
    bad = invalid_rows(tmp_path / "in" / "c1.xlsx")
    out = tmp_path / "group.xlsx"
    report_flow(ReportRequest([a1, b1, bad], OCT, out, now=NOW), ReportHooks(workers=1))
    write(bad, branch("C1"))  # the clerk types the times again
    again = report_flow(ReportRequest([bad], OCT, out, ReportKind.UPDATE, now=NOW), ReportHooks(workers=1))
    assert sorted(again.consolidation.branches) == ["A1", "B1", "C1"]
    assert (again.report.files_read, again.report.files_failed) == (3, 0)
    assert "report.no_usable_rows" not in file_issues(again).get("c1.xlsx", [])
    later = report_flow(ReportRequest([a1], OCT, out, ReportKind.UPDATE, now=NOW), ReportHooks(workers=1))
    assert (later.report.files_read, later.report.files_failed) == (3, 0)


def test_head_office_rolling_up_regions_still_names_a_file_a_region_left_out(tmp_path: Path) -> None:
    """The north region could not count c1.xlsx; head office, consolidating the north's and the south's reports,
    says so as a consolidation of the three branch workbooks would: 3 files, 1 left out, its problems named with the
    region (north.xlsx › c1.xlsx)."""
    a1, b1 = write(tmp_path / "in" / "a1.xlsx", branch("A1")), write(tmp_path / "in" / "b1.xlsx", branch("B1"))
    bad = invalid_rows(tmp_path / "in" / "c1.xlsx")
    hooks = ReportHooks(workers=1)
    report_flow(ReportRequest([a1, bad], OCT, tmp_path / "north.xlsx", now=NOW), hooks)
    report_flow(ReportRequest([b1], OCT, tmp_path / "south.xlsx", now=NOW), hooks)
    group = report_flow(ReportRequest([tmp_path / "north.xlsx", tmp_path / "south.xlsx"], OCT,
                                      tmp_path / "group.xlsx", now=NOW), hooks)
    full = report_flow(ReportRequest([a1, b1, bad], OCT, tmp_path / "full.xlsx", now=NOW), hooks)
    assert (group.report.files_read, group.report.files_failed) == (3, 1)
    assert file_issues(group)["north.xlsx › c1.xlsx"] == file_issues(full)["c1.xlsx"]
    assert file_issues(group)["north.xlsx › c1.xlsx"][0] == "report.no_usable_rows"
    assert cells(tmp_path / "group.xlsx")["封面"][2] == cells(tmp_path / "full.xlsx")["封面"][2]
