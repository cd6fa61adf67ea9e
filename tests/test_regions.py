"""Roll-up through regions (issue 20): head office consolidates its regions' consolidations.

The demo's three branch workbooks, real files refreshed as the demo does; two regions consolidate
them (BJ01 + SH02 → north, GZ03 → south) and head office consolidates the two regional reports.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import fields
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tests.audit.report import read_report
from xlcomplaints.cli import app
from xlcomplaints.core.metrics import Month, Period
from xlcomplaints.demo import run_demo
from xlcomplaints.report.facts import store_path
from xlcomplaints.report.run import Contacts, ReportKind, ReportRequest, RunResult, report_flow
from xlcomplaints.workbook.errors import WorkbookError

OCT = Month(2026, 10)
NOW = datetime(2026, 11, 2, 9, 0)
REPORT = "月报-2026-10.xlsx"
#: What a report holds besides who read it: every figure and list.
FIGURES = ("cover", "breakdowns", "backlog_ages", "stages", "overdue", "trend", "closed_late", "typical",
           "handlers", "ranking", "departments", "previous_partial", "unreadable_received")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("regions")
    run_demo(d / "demo", now=NOW)
    return d / "demo"


def region(folder: Path, *branches: Path, period: Period | Month = OCT, **kw: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    report_flow(ReportRequest(list(branches), period, folder / REPORT, now=NOW, **kw))  # type: ignore[arg-type]
    return folder / REPORT


def regions(demo: Path, root: Path, **kw: object) -> tuple[Path, Path]:
    return (region(root / "north", demo / "BJ01.xlsx", demo / "SH02.xlsx", **kw),
            region(root / "south", demo / "GZ03.xlsx", **kw))


def same_figures(a: RunResult, b: RunResult) -> None:
    for name in FIGURES:
        assert getattr(a.report, name) == getattr(b.report, name), name
    assert [(x.code, x.params) for x in a.report.issues] == [(x.code, x.params) for x in b.report.issues]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_head_office_from_regions_equals_the_branches_directly(demo: Path, tmp_path: Path, lang: str) -> None:
    north, south = regions(demo, tmp_path, lang=lang)
    direct = report_flow(ReportRequest([demo / f"{b}.xlsx" for b in ("BJ01", "GZ03", "SH02")], OCT,
                                       tmp_path / "direct.xlsx", now=NOW, lang=lang))
    group = report_flow(ReportRequest([north, south], OCT, tmp_path / "group.xlsx", now=NOW, lang=lang))
    assert sorted(group.consolidation.branches) == ["BJ01", "GZ03", "SH02"]
    assert group.report.value("received") == direct.report.value("received") > 0
    same_figures(group, direct)
    # the regions' Issues come along, named with their region
    files = {p.file for p in group.report.issues}
    assert "north/月报-2026-10.xlsx › BJ01.xlsx" in files and "south/月报-2026-10.xlsx › GZ03.xlsx" in files
    sheet = openpyxl.load_workbook(tmp_path / "group.xlsx", read_only=True).worksheets[-1]
    assert any(str(r[0]).startswith("south/月报-2026-10.xlsx › ") for r in sheet.iter_rows(values_only=True))
    if lang == "zh":  # every figure of every sheet, as the auditor reads them off the two files
        assert read_report(tmp_path / "group.xlsx") == read_report(tmp_path / "direct.xlsx")


def test_a_regions_store_given_stands_for_its_report(demo: Path, tmp_path: Path) -> None:
    north, south = regions(demo, tmp_path)
    by_report = report_flow(ReportRequest([north, south], OCT, tmp_path / "a.xlsx", now=NOW))
    by_state = report_flow(ReportRequest([store_path(north), south, store_path(south)], OCT, tmp_path / "b.xlsx",
                                         now=NOW))
    same_figures(by_state, by_report)
    assert sorted(by_state.consolidation.branches) == ["BJ01", "GZ03", "SH02"]


def test_a_branch_in_two_regions_is_reported_and_counted_once(demo: Path, tmp_path: Path) -> None:
    north = region(tmp_path / "north", demo / "BJ01.xlsx", demo / "SH02.xlsx")
    south = region(tmp_path / "south", demo / "GZ03.xlsx", demo / "BJ01.xlsx")
    direct = report_flow(ReportRequest([demo / f"{b}.xlsx" for b in ("BJ01", "GZ03", "SH02")], OCT,
                                       tmp_path / "d.xlsx", now=NOW))
    group = report_flow(ReportRequest([north, south], OCT, tmp_path / "g.xlsx", now=NOW))
    assert group.report.value("received") == direct.report.value("received")
    assert group.report.cover == direct.report.cover
    # one workbook in both: said as such, a warning (no version of it set aside, no code to correct)
    twice = [p for p in group.report.issues if p.code in ("report.superseded", "report.same_workbook")]
    assert len(twice) == 1 and twice[0].params["branch"] == "BJ01" and twice[0].code == "report.same_workbook"
    assert twice[0].level.name == "WARNING"
    assert {twice[0].file, twice[0].params["other"]} == {"north/月报-2026-10.xlsx › BJ01.xlsx",
                                                         "south/月报-2026-10.xlsx › BJ01.xlsx"}
    assert "BJ01" in twice[0].message("en") and "counted" not in twice[0].file


def test_a_regions_own_branch_file_given_beside_it_is_one_workbook_counted_once(demo: Path, tmp_path: Path) -> None:
    """Head office gives the north's report and, again, BJ01.xlsx that the north consolidated: one workbook, counted
    once, every figure as a full run's; the Issues sheet warns that it came twice, and finds no error a full run
    would not (no "two versions, correct a branch code")."""
    north = region(tmp_path / "north", demo / "BJ01.xlsx", demo / "SH02.xlsx")
    group = report_flow(ReportRequest([north, demo / "BJ01.xlsx", demo / "GZ03.xlsx"], OCT, tmp_path / "g.xlsx",
                                      now=NOW))
    direct = report_flow(ReportRequest([demo / f"{b}.xlsx" for b in ("BJ01", "GZ03", "SH02")], OCT,
                                       tmp_path / "d.xlsx", now=NOW))
    assert read_report(tmp_path / "g.xlsx") == read_report(tmp_path / "d.xlsx")
    [twice] = [p for p in group.report.issues if p.params.get("branch") == "BJ01" and p.code.startswith("report.s")]
    assert (twice.code, twice.level.name) == ("report.same_workbook", "WARNING")
    errors = [p for p in group.report.issues if p.level.name == "ERROR"]
    assert len(errors) == len([p for p in direct.report.issues if p.level.name == "ERROR"])


def test_a_branch_in_a_region_and_given_directly_the_one_saved_last_wins(demo: Path, tmp_path: Path) -> None:
    bj = tmp_path / "bj" / "BJ01.xlsx"
    bj.parent.mkdir()
    shutil.copy2(demo / "BJ01.xlsx", bj)
    north = region(tmp_path / "north", bj, demo / "SH02.xlsx")
    later = bj.stat().st_mtime + 3600  # BJ01 saved again after the region's run
    os.utime(bj, (later, later))
    group = report_flow(ReportRequest([north, bj, demo / "GZ03.xlsx"], OCT, tmp_path / "g.xlsx", now=NOW))
    assert group.consolidation.branches["BJ01"].path == str(bj)
    [twice] = [p for p in group.report.issues if p.code == "report.superseded"]
    # the region named by its report's file name, with its folders only where names clash (``file_labels``)
    assert twice.file == "月报-2026-10.xlsx › BJ01.xlsx" and twice.params["other"] == "BJ01.xlsx"
    earlier = bj.stat().st_mtime - 7200  # ... or before it: the region's copy is used
    os.utime(bj, (earlier, earlier))
    group = report_flow(ReportRequest([north, bj, demo / "GZ03.xlsx"], OCT, tmp_path / "g.xlsx", now=NOW))
    assert group.consolidation.branches["BJ01"].name == "月报-2026-10.xlsx › BJ01.xlsx"
    direct = report_flow(ReportRequest([demo / f"{b}.xlsx" for b in ("BJ01", "GZ03", "SH02")], OCT,
                                       tmp_path / "d.xlsx", now=NOW))
    assert group.report.cover == direct.report.cover


def refused(inputs: list[Path], out: Path, code: str, **kw: object) -> None:
    with pytest.raises(WorkbookError) as info:
        report_flow(ReportRequest(inputs, OCT, out, now=NOW, **kw))  # type: ignore[arg-type]
    assert info.value.code == code
    assert not out.exists() and not store_path(out).exists()  # nothing written


def test_refusals(demo: Path, tmp_path: Path) -> None:
    north, south = regions(demo, tmp_path)
    out = tmp_path / "group.xlsx"
    week = region(tmp_path / "week", demo / "GZ03.xlsx", period=Period.parse("2026-W43"))
    refused([north, week], out, "report.region_period")
    masked = region(tmp_path / "masked", demo / "GZ03.xlsx")
    refused([north, masked], out, "report.region_masked", contacts=Contacts.SHOWN)
    shown = region(tmp_path / "shown", demo / "GZ03.xlsx", contacts=Contacts.SHOWN)  # shown ones are masked by a masked run
    assert report_flow(ReportRequest([shown], OCT, tmp_path / "ok.xlsx", now=NOW)).report.cover == \
        report_flow(ReportRequest([masked], OCT, tmp_path / "ok.xlsx", now=NOW)).report.cover
    other_run = tmp_path / "other"
    other_run.mkdir()
    shutil.copy(south, other_run / REPORT)
    region(tmp_path / "again", demo / "GZ03.xlsx")
    shutil.copytree(store_path(tmp_path / "again" / REPORT), store_path(other_run / REPORT))  # another run's store
    refused([north, other_run / REPORT], out, "report.region_unpaired")
    gone = tmp_path / "gone"
    gone.mkdir()
    shutil.copytree(store_path(south), store_path(gone / REPORT))  # a store whose report is not beside it
    refused([north, store_path(gone / REPORT)], out, "report.region_unpaired")
    cut = tmp_path / "cut"
    cut.mkdir()
    shutil.copy(south, cut / REPORT)
    shutil.copytree(store_path(south), store_path(cut / REPORT))
    [part] = store_path(cut / REPORT).glob("period=*/*.parquet")
    part.write_bytes(part.read_bytes()[:-40])  # a pack cut short
    refused([north, cut / REPORT], out, "report.region_damaged")
    shutil.rmtree(store_path(cut / REPORT))
    refused([north, cut / REPORT], out, "report.region_no_state")
    # a region consolidated by an earlier version: its JSON state, given beside its report or by name
    old = cut / "月报-2026-10.state.json.gz"
    old.write_bytes(b"\x1f\x8b an earlier version's state")
    refused([north, cut / REPORT], out, "report.region_old_state")
    refused([north, old], out, "report.region_old_state")


def test_a_regions_report_in_a_folder_is_still_passed_over(demo: Path, tmp_path: Path) -> None:
    """Only a report named on purpose stands for a region: folders often hold earlier reports too."""
    north = region(tmp_path / "in", demo / "BJ01.xlsx")
    shutil.copy(demo / "GZ03.xlsx", tmp_path / "in" / "GZ03.xlsx")
    result = report_flow(ReportRequest([tmp_path / "in"], OCT, tmp_path / "g.xlsx", now=NOW))
    assert sorted(result.consolidation.branches) == ["GZ03"]
    assert [p.code for p in result.report.issues if p.file == north.name] == ["report.not_a_branch"]


@pytest.mark.parametrize(("lang", "said"), [("en", "is of 2026-W43, this run is of 2026-10"),
                                            ("zh", "统计的是 2026-W43，本次汇总的是 2026-10")])
def test_the_cli_takes_regions_and_refuses_in_the_users_language(
        demo: Path, tmp_path: Path, lang: str, said: str) -> None:
    north, south = regions(demo, tmp_path)
    out = tmp_path / "group.xlsx"
    ok = CliRunner().invoke(app, ["consolidate", str(north), str(south), "--period", "2026-10", "--now",
                                  "2026-11-02 09:00", "-o", str(out), "--lang", lang])
    assert ok.exit_code == 0, ok.output
    assert out.exists() and store_path(out).is_dir()
    week = region(tmp_path / "week", demo / "GZ03.xlsx", period=Period.parse("2026-W43"))
    out.unlink()
    bad = CliRunner().invoke(app, ["consolidate", str(north), str(week), "--period", "2026-10", "-o", str(out),
                                   "--lang", lang])
    assert bad.exit_code == 2 and said in " ".join(bad.output.split()) and "Traceback" not in bad.output
    assert not out.exists()


def test_figures_compared_are_all_the_reports_figures() -> None:
    """``FIGURES`` names every field of the report that holds a figure or list (the rest say who read what)."""
    from xlcomplaints.report.summary import MonthlyReport
    rest = {"month", "as_of", "branches", "issues", "previous_from", "contacts_shown", "files_read", "files_failed",
            "dimensions", "rank_min", "office_dimensions", "custom_stages"}
    assert {f.name for f in fields(MonthlyReport)} == set(FIGURES) | rest


def test_head_office_updates_one_region_and_keeps_the_other(demo: Path, tmp_path: Path) -> None:
    north, south = regions(demo, tmp_path)
    out = tmp_path / "group.xlsx"
    first = report_flow(ReportRequest([north, south], OCT, out, now=NOW))
    again = region(tmp_path / "north", demo / "BJ01.xlsx", demo / "SH02.xlsx")  # the north runs again
    updated = report_flow(ReportRequest([again], OCT, out, ReportKind.UPDATE, now=NOW))
    assert updated.consolidation.carried == ["GZ03"]
    assert updated.report.cover == first.report.cover
    assert updated.consolidation.branches["GZ03"].name == "south/月报-2026-10.xlsx › GZ03.xlsx"


def test_a_region_given_again_to_an_update_replaces_all_it_held_then(demo: Path, tmp_path: Path) -> None:
    """The north consolidates again without SH02 (moved to another region, say); head office's update given the
    north's new report counts what the north holds now, as a full run would: SH02 is not carried from the last run."""
    north, south = regions(demo, tmp_path)
    out = tmp_path / "group.xlsx"
    report_flow(ReportRequest([north, south], OCT, out, now=NOW))
    again = region(tmp_path / "north", demo / "BJ01.xlsx")  # the north, SH02 gone
    updated = report_flow(ReportRequest([again], OCT, out, ReportKind.UPDATE, now=NOW))
    assert sorted(updated.consolidation.branches) == ["BJ01", "GZ03"] and updated.consolidation.carried == ["GZ03"]
    direct = report_flow(ReportRequest([demo / "BJ01.xlsx", demo / "GZ03.xlsx"], OCT, tmp_path / "d.xlsx", now=NOW))
    assert read_report(out) == read_report(tmp_path / "d.xlsx")
    assert updated.report.value("received") == direct.report.value("received")
    # given by its store folder, the same
    report_flow(ReportRequest([regions(demo, tmp_path)[0], south], OCT, out, now=NOW))
    again = region(tmp_path / "north", demo / "BJ01.xlsx")
    updated = report_flow(ReportRequest([store_path(again)], OCT, out, ReportKind.UPDATE, now=NOW))
    assert sorted(updated.consolidation.branches) == ["BJ01", "GZ03"]


def test_a_file_a_region_could_not_use_is_on_head_offices_issues_and_cover_as_in_a_full_run(
        demo: Path, tmp_path: Path) -> None:
    """A branch's file the region could not read leaves a hole in head office's figures as in the region's: head
    office says so as a full run over the same files would (the Issues sheet's error, named with the region, and the
    cover's "4 files read, 1 left out"), never "no problems in the inputs"; a roll-up of that roll-up still says it."""
    broken = tmp_path / "XA09.xlsx"
    broken.write_bytes(b"not a workbook")
    north = region(tmp_path / "north", demo / "BJ01.xlsx", demo / "SH02.xlsx", broken)
    files = [demo / "BJ01.xlsx", demo / "SH02.xlsx", broken, demo / "GZ03.xlsx"]
    direct = report_flow(ReportRequest(files, OCT, tmp_path / "direct.xlsx", now=NOW))
    group = report_flow(ReportRequest([north, demo / "GZ03.xlsx"], OCT, tmp_path / "group.xlsx", now=NOW))
    assert (group.report.files_read, group.report.files_failed) == (direct.report.files_read, 1) == (4, 1)
    # a store naming a file left out is of version 4: an earlier xlcomplaints says "another version", not "damaged"
    assert json.loads((store_path(north) / "manifest.json").read_text(encoding="utf-8"))["version"] == 4
    [said] = [p for p in group.report.issues if p.file == "月报-2026-10.xlsx › XA09.xlsx"]
    [plain] = [p for p in direct.report.issues if p.file == "XA09.xlsx"]
    assert (said.code, said.level, said.params) == (plain.code, plain.level, plain.params)
    cover = openpyxl.load_workbook(tmp_path / "group.xlsx", read_only=True).worksheets[0]
    note = next(str(c) for row in cover.iter_rows(values_only=True) for c in row if str(c).startswith("读取"))
    assert note.startswith("读取 4 个文件，1 个未能计入。")
    assert read_report(tmp_path / "group.xlsx") == read_report(tmp_path / "direct.xlsx")
    (tmp_path / "top").mkdir()
    top = report_flow(ReportRequest([tmp_path / "group.xlsx"], OCT, tmp_path / "top" / "top.xlsx", now=NOW))
    assert (top.report.files_read, top.report.files_failed) == (4, 1)
    assert [p.file for p in top.report.issues if p.code == plain.code] == ["group.xlsx › 月报-2026-10.xlsx › XA09.xlsx"]
    # the file mended since and given to head office too: counted as it is now, no longer said unreadable
    from xlcomplaints.demo import make_branch

    make_branch(broken, "XA09", "网点XA09", n=20, seed=9)
    mended = report_flow(ReportRequest([north, broken, demo / "GZ03.xlsx"], OCT, tmp_path / "m.xlsx", now=NOW))
    assert mended.report.files_failed == 0 and "XA09" in mended.consolidation.branches
    assert not [p for p in mended.report.issues if p.code == plain.code]


def test_a_version_a_region_set_aside_is_said_by_head_office_as_by_a_full_run(demo: Path, tmp_path: Path) -> None:
    """The north had BJ01's workbook and an older copy of it, and used the one saved last: head office's Issues sheet
    says the copy was set aside (named with the north), as a full run over the same files does, and its cover counts
    the same errors; head office's store keeps the note for a roll-up of it."""
    old = tmp_path / "old" / "BJ01.xlsx"
    old.parent.mkdir()
    shutil.copy(demo / "BJ01.xlsx", old)
    earlier = (demo / "BJ01.xlsx").stat().st_mtime - 86400
    os.utime(old, (earlier, earlier))
    north = region(tmp_path / "north", demo / "BJ01.xlsx", old, demo / "SH02.xlsx")
    south = region(tmp_path / "south", demo / "GZ03.xlsx")
    files = [demo / "BJ01.xlsx", old, demo / "SH02.xlsx", demo / "GZ03.xlsx"]
    direct = report_flow(ReportRequest(files, OCT, tmp_path / "direct.xlsx", now=NOW))
    group = report_flow(ReportRequest([north, south], OCT, tmp_path / "group.xlsx", now=NOW))
    [plain] = [p for p in direct.report.issues if p.code == "report.superseded"]
    [said] = [p for p in group.report.issues if p.code == "report.superseded"]
    assert said.file == f"north/月报-2026-10.xlsx › {plain.file}" and said.params == plain.params
    assert read_report(tmp_path / "group.xlsx") == read_report(tmp_path / "direct.xlsx")
    assert sorted(p.level.name for p in group.report.issues) == sorted(p.level.name for p in direct.report.issues)
    (tmp_path / "top").mkdir()
    top = report_flow(ReportRequest([tmp_path / "group.xlsx"], OCT, tmp_path / "top" / "top.xlsx", now=NOW))
    assert [p.file for p in top.report.issues if p.code == "report.superseded"] == [f"group.xlsx › {said.file}"]


def test_a_region_as_of_another_time_is_said(demo: Path, tmp_path: Path) -> None:
    north = region(tmp_path / "north", demo / "BJ01.xlsx")
    group = report_flow(ReportRequest([north, demo / "GZ03.xlsx"], OCT, tmp_path / "g.xlsx",
                                      now=datetime(2026, 11, 3, 9, 0), as_of=datetime(2026, 11, 1, 9, 0)))
    [said] = [p for p in group.report.issues if p.code == "report.region_as_of"]
    assert said.params["then"] == "2026-11-01 00:00" and said.params["now"] == "2026-11-01 09:00"


def unmasked(store: Path) -> list[str]:
    """Every text in the store's Parquet files (partitions and branches table, lists and structs walked; not where
    a partition is) that ``mask_text`` would change: a phone number as typed."""
    import pyarrow.parquet as pq

    from xlcomplaints.report.masking import mask_text

    def texts(value: object) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):  # a file's place in the store is no text (a uuid's digits look like a number)
            return [t for k, v in value.items() if k != "partition" for t in texts(v)]
        if isinstance(value, list):
            return [t for v in value for t in texts(v)]
        return []

    return [f"{f.relative_to(store)}: {t!r}" for f in sorted(store.rglob("*.parquet"))
            for t in texts(pq.read_table(f).to_pylist()) if mask_text(t) != t]


def test_a_region_that_showed_phone_numbers_is_masked_into_the_store_and_counted_from_it(
        demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A region consolidated with ``--show-contacts``, given to a run that masks: its partitions are read back,
    masked and written into head office's store as they are copied (``masking.mask_partition``), and the report
    is computed from the store, cell for cell the Python engine's over the same branches; head office's store holds
    no number unmasked."""
    from tests.test_facts_store import cells
    from tests.test_store_report import store_computed
    from xlcomplaints.report.run import ReportHooks

    shown = region(tmp_path / "north", demo / "BJ01.xlsx", demo / "SH02.xlsx", contacts=Contacts.SHOWN)
    south = region(tmp_path / "south", demo / "GZ03.xlsx")
    assert unmasked(store_path(shown))  # the region's store holds the numbers as typed
    computed = store_computed(monkeypatch)
    out = tmp_path / "group.xlsx"
    group = report_flow(ReportRequest([shown, south], OCT, out, now=NOW))
    assert computed == [True] and not group.consolidation.cases  # from the store, no case held here
    assert unmasked(store_path(out)) == []
    python = tmp_path / "python.xlsx"
    report_flow(ReportRequest([shown, south], OCT, python, now=NOW), ReportHooks(python_engine=True))
    assert cells(out) == cells(python)
    masked = region(tmp_path / "masked" / "north", demo / "BJ01.xlsx", demo / "SH02.xlsx")  # masked from the start
    same_figures(group, report_flow(ReportRequest([masked, south], OCT, tmp_path / "m.xlsx", now=NOW)))
    # and an update of head office's store keeps it masked, from the store still
    computed.clear()
    updated = report_flow(ReportRequest([demo / "GZ03.xlsx"], OCT, out, ReportKind.UPDATE, now=NOW))
    assert computed == [True] and updated.report.cover == group.report.cover
    assert unmasked(store_path(out)) == []
