"""An ``--update`` tells what a full run over the files as they stand would, also of the files it does not read again.

Head office re-runs a month with ``--update`` and gives only the files that changed. The report must not depend on
which folder the command was typed in (the last run may have named its files relatively), and the Issues sheet must
keep what the last run said of the files it read and did not count — an unreadable file, an older copy of a branch
set aside — until those files are given again (``report.merging``'s rules, README's ``--update``). The cover counts
the files behind the whole report (读取 3 个文件，1 个未能计入 / 3 files read, 1 left out), not only those read this
time; and head office consolidating the regions' reports names a file a region left out, as the branch workbooks would.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from tests.test_consolidate import branch, file_issues, invalid_rows, write
from tests.test_facts_store import NOW, OCT, _alike, cells, make_report
from xlcomplaints.demo import make_branch
from xlcomplaints.report.facts import MANIFEST, store_path
from xlcomplaints.report.run import ReportHooks, ReportKind, ReportRequest, report_flow

ISSUES = "问题清单"


def _branches(folder: Path, n: int = 3) -> list[Path]:
    folder.mkdir()
    return [make_branch(folder / f"B{i:02d}.xlsx", f"B{i:02d}", f"网点{i}", n=20, seed=10 + i) for i in range(n)]


def _issue_rows(report: Path) -> list[str]:
    return sorted(repr(row) for row in cells(report)[ISSUES][1:])


def test_an_update_typed_in_another_folder_knows_the_files_the_last_run_named_relatively(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The month was consolidated from inside the branches' folder (``consolidate B00.xlsx B01.xlsx …``); the
    update is typed from the folder above (``consolidate in/B01.xlsx --update``). B01's file no longer opens: the
    update must leave out what it held, as a full run over the files as they stand does — not keep its old data
    beside the words that it cannot be read."""
    files = _branches(tmp_path / "in")
    out = tmp_path / "group.xlsx"
    monkeypatch.chdir(tmp_path / "in")
    make_report([Path(f.name) for f in files], OCT, out, now=NOW)
    paths = {e["branch"]: e["file"] for e in json.loads((store_path(out) / MANIFEST).read_text())["partitions"]}
    assert len(paths) == 3
    files[1].write_bytes(b"not a workbook any more")
    monkeypatch.chdir(tmp_path)
    updated = make_report([Path("in") / files[1].name], OCT, out, now=NOW, update=True)
    assert sorted(updated.consolidation.branches) == ["B00", "B02"]
    make_report(files, OCT, tmp_path / "full.xlsx", now=NOW)
    _alike(out, tmp_path / "full.xlsx", read=(3, 3))  # the cover counts the files behind the report, as the full run


def test_an_update_keeps_the_note_that_an_older_copy_was_set_aside_until_the_copy_is_given_again(
        tmp_path: Path) -> None:
    """A branch sent its workbook twice (an older copy beside it): the full run counts the one saved last and says
    the copy was set aside. Updates given other branches, or the newer workbook again, still say so — twice over —
    as a full run over all the files would."""
    files = _branches(tmp_path / "in")
    older = make_branch(tmp_path / "in" / "B01 copy.xlsx", "B01", "网点1", n=20, seed=33)
    os.utime(older, (1_700_000_000, 1_700_000_000))
    out, full = tmp_path / "group.xlsx", tmp_path / "full.xlsx"
    make_report([*files, older], OCT, out, now=NOW)
    make_report([*files, older], OCT, full, now=NOW)
    said = [row for row in _issue_rows(full) if "B01 copy.xlsx" in row]
    assert len(said) == 1 and "未计入" in said[0]
    make_report([files[0]], OCT, out, now=NOW, update=True)  # another branch re-sent
    _alike(out, full, read=None)
    make_report([files[1]], OCT, out, now=NOW, update=True)  # the newer workbook of B01 itself
    _alike(out, full, read=None)
    make_report([older], OCT, out, now=NOW, update=True)  # the copy given again: weighed again, the same note
    _alike(out, full, read=None)


def test_an_update_keeps_the_words_of_a_file_that_could_not_be_read_until_it_is_given_again(tmp_path: Path) -> None:
    """One file of the month was no workbook: the full run leaves it out and says why. An update given another
    branch keeps that row on the Issues sheet (the file is still what it was); once the file is mended and given,
    the row goes and the branch counts."""
    files = _branches(tmp_path / "in")
    bad = tmp_path / "in" / "B03.xlsx"
    bad.write_bytes(b"PK\x03\x04 cut short")
    out, full = tmp_path / "group.xlsx", tmp_path / "full.xlsx"
    make_report([*files, bad], OCT, out, now=NOW)
    make_report([*files, bad], OCT, full, now=NOW)
    said = [row for row in _issue_rows(full) if "B03.xlsx" in row]
    assert said
    make_report([files[2]], OCT, out, now=NOW, update=True)
    assert _issue_rows(out) == _issue_rows(full)
    _alike(out, full, read=(4, 4))  # the cover: the four files behind the report, one of them left out
    make_branch(bad, "B03", "网点3", n=20, seed=13)
    updated = make_report([bad], OCT, out, now=NOW, update=True)
    assert sorted(updated.consolidation.branches) == ["B00", "B01", "B02", "B03"]
    assert not [row for row in _issue_rows(out) if "无法读取" in row or "cannot be read" in row]
    make_report([*files, bad], OCT, full, now=NOW)
    _alike(out, full, read=None)  # none unreadable now: the cover says nothing of the files read


def test_an_older_copy_set_aside_that_would_now_win_is_said_not_silently_passed_over(tmp_path: Path) -> None:
    """B01's workbook beat an older copy at the last run. Now B01's workbook is given again with an earlier save
    time than the copy's (a backup put back, say): a full run would count the copy. The update never kept the
    copy's data, so it cannot count it: it counts the file given and says, naming both, that the copy would win and
    must be given too — it does not pass over the copy in silence."""
    files = _branches(tmp_path / "in")
    copy = make_branch(tmp_path / "in" / "B01 copy.xlsx", "B01", "网点1", n=20, seed=33)
    os.utime(copy, (1_750_000_000, 1_750_000_000))
    out = tmp_path / "group.xlsx"
    make_report([*files, copy], OCT, out, now=NOW)
    os.utime(files[1], (1_700_000_000, 1_700_000_000))
    updated = make_report([files[1]], OCT, out, now=NOW, update=True)
    assert updated.consolidation.branches["B01"].path == str(files[1])
    said = [row for row in _issue_rows(out) if "B01 copy.xlsx" in row]
    assert len(said) == 1 and "B01.xlsx" in said[0] and "保存得晚" in said[0]


LATER = datetime(2026, 11, 22, 9, 0)  # hD's hunt: the month seen three weeks on


@pytest.mark.parametrize("python", [False, True], ids=["store", "python"])
def test_an_update_of_another_branch_still_says_which_file_was_left_out(tmp_path: Path, python: bool) -> None:
    hooks = ReportHooks(workers=1, python_engine=python)
    a1, b1 = write(tmp_path / "in" / "a1.xlsx", branch("A1")), write(tmp_path / "in" / "b1.xlsx", branch("B1"))
    bad = invalid_rows(tmp_path / "in" / "c1.xlsx")  # no row has a readable time received: the file is left out
    out = tmp_path / "group.xlsx"
    first = report_flow(ReportRequest([a1, b1, bad], OCT, out, now=LATER), hooks)
    assert (first.report.files_read, first.report.files_failed) == (3, 1)
    write(a1, branch("A1", drop=(0,)))  # A1's clerk deletes a row; head office updates A1 alone
    again = report_flow(ReportRequest([a1], OCT, out, ReportKind.UPDATE, now=LATER), hooks)
    assert again.consolidation.carried == ["B1"]
    assert (again.report.files_read, again.report.files_failed) == (3, 1)
    assert file_issues(again)["c1.xlsx"][0] == "report.no_usable_rows"  # and each unreadable cell after it
    full = report_flow(ReportRequest([a1, b1, bad], OCT, tmp_path / "full.xlsx", now=LATER), hooks)
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
    report_flow(ReportRequest([a1, b1, bad], OCT, out, now=LATER), ReportHooks(workers=1))
    write(bad, branch("C1"))  # the clerk types the times again
    again = report_flow(ReportRequest([bad], OCT, out, ReportKind.UPDATE, now=LATER), ReportHooks(workers=1))
    assert sorted(again.consolidation.branches) == ["A1", "B1", "C1"]
    assert (again.report.files_read, again.report.files_failed) == (3, 0)
    assert "report.no_usable_rows" not in file_issues(again).get("c1.xlsx", [])
    later = report_flow(ReportRequest([a1], OCT, out, ReportKind.UPDATE, now=LATER), ReportHooks(workers=1))
    assert (later.report.files_read, later.report.files_failed) == (3, 0)


def test_head_office_rolling_up_regions_still_names_a_file_a_region_left_out(tmp_path: Path) -> None:
    """The north region could not count c1.xlsx; head office, consolidating the north's and the south's reports,
    says so as a consolidation of the three branch workbooks would: 3 files, 1 left out, its problems named with the
    region (north.xlsx › c1.xlsx)."""
    a1, b1 = write(tmp_path / "in" / "a1.xlsx", branch("A1")), write(tmp_path / "in" / "b1.xlsx", branch("B1"))
    bad = invalid_rows(tmp_path / "in" / "c1.xlsx")
    hooks = ReportHooks(workers=1)
    report_flow(ReportRequest([a1, bad], OCT, tmp_path / "north.xlsx", now=LATER), hooks)
    report_flow(ReportRequest([b1], OCT, tmp_path / "south.xlsx", now=LATER), hooks)
    group = report_flow(ReportRequest([tmp_path / "north.xlsx", tmp_path / "south.xlsx"], OCT,
                                      tmp_path / "group.xlsx", now=LATER), hooks)
    full = report_flow(ReportRequest([a1, b1, bad], OCT, tmp_path / "full.xlsx", now=LATER), hooks)
    assert (group.report.files_read, group.report.files_failed) == (3, 1)
    assert file_issues(group)["north.xlsx › c1.xlsx"] == file_issues(full)["c1.xlsx"]
    assert file_issues(group)["north.xlsx › c1.xlsx"][0] == "report.no_usable_rows"
    assert cells(tmp_path / "group.xlsx")["封面"][2] == cells(tmp_path / "full.xlsx")["封面"][2]
