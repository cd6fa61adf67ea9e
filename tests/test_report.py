"""The report workbook: written from one branch file, read back by python-calamine and LibreOffice.

The numbers read back must be the numbers computed (and, for the hand-made branch of
``test_metrics``, the numbers worked out by hand), in both languages.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine
from typer.testing import CliRunner

from tests.conftest import HAS_SOFFICE, soffice_convert
from tests.samples import write_branch
from tests.test_metrics import OCT, hand_branch
from xlcomplaints.cli import app
from xlcomplaints.core import metrics as M
from xlcomplaints.core.metrics import Period
from xlcomplaints.core.models import BranchData
from xlcomplaints.report.run import (
    Contacts,
    NothingRead,
    ReportKind,
    ReportRequest,
    RunResult,
    report_flow,
)
from xlcomplaints.report.summary import COVER_KEYS, MonthlyReport
from xlcomplaints.spec import report as R
from xlcomplaints.spec import vocab as v
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import find_stamps

NOW = datetime(2026, 11, 22, 9, 0)


def cells(path: Path, sheet: str) -> list[list[Any]]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def number(value: Any) -> float | None:
    """A cover cell as a number: the report writes "—" where there is nothing to measure."""
    return None if value in ("—", "", None) else float(value)


def cover_label(key: str, unit: str | None, lang: str) -> str:
    name = M.METRICS[key].name(lang)
    if unit:
        name += f"（{v.UNIT.label(unit, 'zh')}）" if lang == "zh" else f" ({v.UNIT.label(unit, 'en').lower()})"
    return name


def cover_values(grid: list[list[Any]], report: MonthlyReport, lang: str) -> dict[str, tuple[Any, Any, Any]]:
    """Cover rows by metric key, found by their label in column A."""
    by_label = {row[0]: row for row in grid if row and isinstance(row[0], str)}
    return {r.key: tuple(by_label[cover_label(r.key, r.unit, lang)][1:4]) for r in report.cover}  # type: ignore[misc]


@pytest.fixture(scope="module")
def branch_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_branch(tmp_path_factory.mktemp("report") / "t1.xlsx", hand_branch())


@pytest.fixture(scope="module")
def zh(branch_file: Path) -> RunResult:
    return report_flow(ReportRequest([branch_file], OCT, branch_file.with_name("report-zh.xlsx"), ReportKind.BRANCH,
                                     now=NOW))


def test_cover_reads_back_the_computed_and_hand_numbers(zh: RunResult) -> None:
    got = cover_values(cells(zh.output, "封面"), zh.report, "zh")
    assert list(got) == list(COVER_KEYS)
    for row in zh.report.cover:
        value, previous, _ = got[row.key]
        assert number(value) == pytest.approx(row.value) if row.value is not None else number(value) is None
        assert number(previous) == pytest.approx(row.previous) if row.previous is not None else number(previous) is None
    # A few worked out by hand in test_metrics:
    assert number(got["received"][0]) == 6 and number(got["received"][1]) == 2
    assert number(got["on_time_rate"][0]) == pytest.approx(11 / 23)  # C2's callback missed before closing
    assert number(got["close_p90"][0]) == pytest.approx(12.7917)
    assert number(got["satisfaction_rate"][0]) == pytest.approx(2 / 3)
    # Month-over-month change, as cached by the writer: counts relative, rates in points.
    assert got["received"][2] == pytest.approx(6 / 2 - 1)
    assert got["on_time_rate"][2] == pytest.approx((11 / 23 - 6 / 7) * 100)
    assert got["validity_assist"][2] == ""  # last month 0: no relative change


def test_sheets_stamps_and_template_kind(zh: RunResult) -> None:
    names = python_calamine.CalamineWorkbook.from_path(str(zh.output)).sheet_names
    assert names == ["封面", "按类型", "按投诉类别", "按投诉渠道", "按严重程度", "按有效性", "按责任部门", "按处理人", "环节时效",
                     "超时明细", "超时结案", "典型案例", "月度趋势", "指标说明", "问题清单"]  # one branch: no by-branch sheet
    stamp, sheets = find_stamps(FileWorkbook(zh.output))
    template, _ = find_stamps(FileWorkbook(Path(__file__).parents[1] / "workbook_templates" / "monthly-report-zh.xlsx"))
    assert stamp == template  # recognisable as made from the versioned report template
    assert {"cover", "breakdown", "stages", "overdue_detail", "typical", "trend", "definitions", "issues"} <= set(sheets)


def test_breakdown_sheet_totals_and_shares(zh: RunResult) -> None:
    grid = cells(zh.output, "按投诉类别")
    assert grid[0] == [c.label("zh") for c in R.BREAKDOWN.columns]
    body = {row[1]: row for row in grid[1:-1]}
    assert body["产品质量"][2:5] == [2.0, pytest.approx(2 / 6), 0.0]
    assert body["产品质量"][6:8] == [pytest.approx(5 / 9), 2.0]
    assert body["时效延误"][2] == 0 and body["时效延误"][4] == 2.0
    total = grid[-1]
    assert total[1] == "合计" and total[2] == 6 and total[4] == 2 and total[3] == 1
    assert total[6] == pytest.approx(zh.report.value("on_time_rate")) and total[7] == 5


def test_overdue_detail_and_contacts_masked(zh: RunResult, branch_file: Path, tmp_path: Path) -> None:
    grid = cells(zh.output, "超时明细")
    assert len(grid) - 1 == len(zh.report.overdue) == 14
    first = grid[1]
    assert first[:2] == ["T1", "T1-003"] and first[7] == "首次联系" and first[9] == 277.0 and first[10] == "小时"
    assert first[4] == "139****0003"  # 13900000003, masked by default
    shown = report_flow(ReportRequest([branch_file], OCT, tmp_path / "shown.xlsx", ReportKind.BRANCH, now=NOW,
                                      contacts=Contacts.SHOWN))
    assert cells(shown.output, "超时明细")[1][4] == "13900000003"


def test_definitions_sheet_lists_every_metric(zh: RunResult) -> None:
    grid = cells(zh.output, "指标说明")
    names = [row[0] for row in grid[1:]]
    for m in M.METRICS.values():
        row = grid[1 + names.index(m.name("zh"))]
        assert row[1] == m.definition("zh") and row[2] == m.period_rule("zh")
    assert "统计时点" in names and "超时明细" in names


def test_issues_sheet_and_trend(zh: RunResult) -> None:
    issues = cells(zh.output, "问题清单")
    # What the validator says about the hand-made branch: C2 closed without a satisfied callback,
    # C6's resolution time differs from its (first) tracking step.
    assert [p.code for p in zh.report.issues] == ["closed.no_satisfied_callback", "time.disagrees"]
    assert [row[:4] for row in issues[1:]] == [["t1.xlsx", "警告", "投诉登记", "Z3"], ["t1.xlsx", "警告", "投诉登记", "W7"]]
    assert [row[6] for row in issues[1:]] == [p.message("zh") for p in zh.report.issues]
    trend = cells(zh.output, "月度趋势")
    assert [row[:3] for row in trend[1:]] == [["2026-08", 1, 0], ["2026-09", 2, 1], ["2026-10", 6, 3]]


def test_english_report(branch_file: Path, tmp_path: Path) -> None:
    en = report_flow(ReportRequest([branch_file], OCT, tmp_path / "en.xlsx", ReportKind.BRANCH, lang="en", now=NOW))
    book = python_calamine.CalamineWorkbook.from_path(str(en.output))
    assert book.sheet_names[0] == "Cover" and "By category" in book.sheet_names and book.sheet_names[-1] == "Issues"
    got = cover_values(cells(en.output, "Cover"), en.report, "en")
    assert number(got["received"][0]) == 6 and number(got["resolve_median"][0]) == pytest.approx(2.25)
    assert cells(en.output, "Cover")[0][0] == "Complaints report, October 2026"


def fresh_november() -> BranchData:
    """A register started afresh in November: two of the hand-made complaints, received in November, nothing done."""
    data = hand_branch()
    return replace(data, complaints=tuple(
        replace(c, received_at=c.received_at.replace(month=11), acknowledged_at=None, first_contact_at=None,
                resolved_at=None, callback_at=None, closed_at=None)
        for c in data.complaints[:2]), tracking=(), callbacks=())


def test_history_fills_trend_months_the_inputs_lack(zh: RunResult, tmp_path: Path) -> None:
    """A new register for November, with October's report as history: twelve months still show."""
    path = write_branch(tmp_path / "nov.xlsx", fresh_november())
    nov = report_flow(ReportRequest([path], Period.month(2026, 11), tmp_path / "nov-report.xlsx", ReportKind.BRANCH,
                                    now=datetime(2026, 12, 3), history=[zh.output]))
    assert [(str(r.month), r.received) for r in nov.report.trend] == [
        ("2026-08", 1), ("2026-09", 2), ("2026-10", 6), ("2026-11", 2)]
    assert nov.report.trend[2].on_time_rate == pytest.approx(11 / 23)


def test_history_can_be_a_folder_of_reports(zh: RunResult, branch_file: Path, tmp_path: Path) -> None:
    """Head office keeps last months' reports in a folder, beside other workbooks: the reports are
    read, workbooks that are not reports are passed over quietly, a damaged report is a warning."""
    folder = tmp_path / "reports"
    (folder / "2026").mkdir(parents=True)
    shutil.copy(zh.output, folder / "2026" / "10月.xlsx")
    shutil.copy(branch_file, folder / "bj01.xlsx")
    (folder / "notes.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (folder / "9月.xlsx").write_bytes(b"PK\x03\x04 cut short")
    (folder / "2026" / "~$10月.xlsx").write_bytes(b"owner")
    path = write_branch(tmp_path / "nov.xlsx", fresh_november())
    nov = report_flow(ReportRequest([path], Period.month(2026, 11), tmp_path / "nov-report.xlsx", ReportKind.BRANCH,
                                    now=datetime(2026, 12, 3), history=[folder]))
    assert [(str(r.month), r.received) for r in nov.report.trend] == [
        ("2026-08", 1), ("2026-09", 2), ("2026-10", 6), ("2026-11", 2)]
    assert nov.report.previous_from == "10月.xlsx"
    assert [(p.file, p.code) for p in nov.report.issues if p.file != "nov.xlsx"] == [("9月.xlsx", "file.corrupt")]
    given = report_flow(ReportRequest([path], Period.month(2026, 11), tmp_path / "nov2.xlsx", ReportKind.BRANCH,
                                      now=datetime(2026, 12, 3), history=[folder / "bj01.xlsx"]))
    assert [p.code for p in given.report.issues if p.file == "bj01.xlsx"] == ["file.wrong_kind"]


def test_a_history_report_of_other_branches_is_named(branch_file: Path, tmp_path: Path) -> None:
    """The group's October report given to one branch's November report: its figures are the
    group's, so the Issues sheet says which branches differ; the group's own report with the
    same branches as history says nothing."""
    t2 = write_branch(tmp_path / "t2.xlsx", hand_branch("T2", "二店"))
    group = report_flow(ReportRequest([branch_file, t2], OCT, tmp_path / "group-10.xlsx", now=NOW))
    path = write_branch(tmp_path / "nov.xlsx", fresh_november())
    nov = report_flow(ReportRequest([path], Period.month(2026, 11), tmp_path / "nov-report.xlsx", ReportKind.BRANCH,
                                    now=datetime(2026, 12, 3), history=[group.output]))
    (note,) = [p for p in nov.report.issues if p.code == "report.history_branches"]
    assert note.file == "group-10.xlsx" and note.message("en") == (
        "The earlier report group-10.xlsx counted other branches than this report (here, not there: —; there, "
        "not here: T2); the months taken from it keep its figures.")
    assert nov.report.previous_from == "group-10.xlsx"
    again = report_flow(ReportRequest([branch_file, t2], Period.month(2026, 11), tmp_path / "group-11.xlsx",
                                      now=datetime(2026, 12, 3), history=[group.output]))
    assert "report.history_branches" not in {p.code for p in again.report.issues}


def test_a_history_report_of_another_single_branch_is_named(branch_file: Path, tmp_path: Path) -> None:
    """One branch's report has no By-branch sheet; the hidden name listing its branch still tells
    that branch T2's October report is not this branch's October. Its own October says nothing.
    In a folder shared by both branches' reports, T2's is passed over and this branch's is used."""
    shared = tmp_path / "reports"
    shared.mkdir()
    own = report_flow(ReportRequest([branch_file], OCT, shared / "own-10.xlsx", ReportKind.BRANCH, now=NOW))
    t2 = report_flow(ReportRequest([write_branch(tmp_path / "t2.xlsx", hand_branch("T2", "二店"))], OCT,
                                   shared / "t2-10.xlsx", ReportKind.BRANCH, now=NOW))
    assert not {s for s in openpyxl.load_workbook(t2.output).sheetnames if s in ("按网点", "By branch")}
    path = write_branch(tmp_path / "nov.xlsx", fresh_november())
    nov = report_flow(ReportRequest([path], Period.month(2026, 11), tmp_path / "nov-report.xlsx", ReportKind.BRANCH,
                                    now=datetime(2026, 12, 3), history=[t2.output, own.output]))
    notes = [p for p in nov.report.issues if p.code == "report.history_branches"]
    assert [(p.file, p.params["missing"], p.params["extra"]) for p in notes] == [
        ("t2-10.xlsx", own.report.branches[0].code, "T2")]
    from_folder = report_flow(ReportRequest([path], Period.month(2026, 11), tmp_path / "nov-2.xlsx",
                                            ReportKind.BRANCH, now=datetime(2026, 12, 3), history=[shared]))
    assert "report.history_branches" not in {p.code for p in from_folder.report.issues}
    assert from_folder.report.previous_from == "own-10.xlsx"  # t2-10.xlsx sorts after it: the last used to win


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_last_month_comes_from_its_report_when_the_inputs_lack_it(zh: RunResult, branch_file: Path, tmp_path: Path,
                                                                   lang: str) -> None:
    """A register started afresh in November: the cover compares with October's report, read back in either language."""
    october = zh if lang == "zh" else report_flow(ReportRequest([branch_file], OCT, tmp_path / "en.xlsx",
                                                                ReportKind.BRANCH, lang="en", now=NOW))
    path = write_branch(tmp_path / "nov.xlsx", fresh_november())
    nov = report_flow(ReportRequest([path], Period.month(2026, 11), tmp_path / "nov-report.xlsx", ReportKind.BRANCH,
                                    now=datetime(2026, 12, 3), history=[october.output]))
    assert nov.report.previous_from == october.output.name
    for then, now in zip(october.report.cover, nov.report.cover, strict=True):
        assert now.previous == pytest.approx(then.value) if then.value is not None else now.previous is None, then.key
    assert nov.report.value("received") == 2 and nov.report.cover[0].previous == 6
    # November has no durations yet: they show in October's units, which the cover's names carried.
    units = {r.key: r.unit for r in october.report.cover if r.unit}
    assert units["acknowledge_median"] == "hours" and units["resolve_p90"] == "working_days"
    assert {r.key: r.unit for r in nov.report.cover if r.unit} == units
    note = cells(nov.output, "封面")[2][0]
    assert f"上月数值取自 {october.output.name}" in note
    # The breakdown sheets' last-month counts and the backlog's ages come from October's report too
    # (a one-branch report has no By-branch sheet).
    for dim, rows in october.report.breakdowns.items():
        if dim == "branch":
            continue
        assert {g.key: g.previous for g in nov.report.breakdowns[dim] if g.previous} == {
            g.key: g.count for g in rows if g.count}, dim
    assert nov.report.backlog_ages[1] == october.report.backlog_ages[0] and any(october.report.backlog_ages[0])
    assert any(g.count for g in october.report.breakdowns["category"])
    by_category = cells(nov.output, "按投诉类别")
    assert [r[4] for r in by_category[1:-1]] == [g.previous for g in nov.report.breakdowns["category"]]

    # With October's complaints in the inputs, October's own figures count, not the report's.
    both = report_flow(ReportRequest([path, write_branch(tmp_path / "oct.xlsx", hand_branch("T2"))],
                                     Period.month(2026, 11), tmp_path / "both.xlsx", now=datetime(2026, 12, 3),
                                     history=[october.output]))
    assert both.report.previous_from is None


def test_the_report_never_replaces_a_workbook_that_is_not_a_report(branch_file: Path, tmp_path: Path) -> None:
    """`-o` naming a branch workbook (or any file not a report of ours) is refused before anything
    is read, the file left byte for byte; an earlier report is replaced; only .xlsx is written."""
    victim = tmp_path / "bj01.xlsx"
    shutil.copy(branch_file, victim)
    notes = tmp_path / "notes.xlsx"
    notes.write_bytes(b"my own notes")
    before = victim.read_bytes()
    for target, what in ((victim, "branch workbook"), (notes, "not a file xlcomplaints made")):
        with pytest.raises(WorkbookError) as e:
            report_flow(ReportRequest([branch_file], OCT, target, ReportKind.BRANCH, now=NOW))
        assert e.value.message("en") == (f"{target.name} exists and is not a monthly report ({what}); it is left "
                                         "as it is. Give the report another file name.")
    with pytest.raises(WorkbookError) as e:
        report_flow(ReportRequest([tmp_path], OCT, victim, now=NOW))  # the folder holding it, consolidated into it
    assert e.value.code == "report.output_taken"
    assert victim.read_bytes() == before and notes.read_bytes() == b"my own notes"
    with pytest.raises(WorkbookError) as e:
        report_flow(ReportRequest([branch_file], OCT, tmp_path / "r.xls", ReportKind.BRANCH, now=NOW))
    assert e.value.code == "report.output_suffix" and not (tmp_path / "r.xls").exists()
    with pytest.raises(WorkbookError) as e:
        report_flow(ReportRequest([branch_file], OCT, tmp_path / "nowhere" / "r.xlsx", ReportKind.BRANCH, now=NOW))
    assert e.value.message("en") == f"The folder {tmp_path / 'nowhere'} does not exist; the report cannot be written there."
    first = report_flow(ReportRequest([branch_file], OCT, tmp_path / "r.xlsx", ReportKind.BRANCH, now=NOW))
    again = report_flow(ReportRequest([branch_file], OCT, first.output, ReportKind.BRANCH, now=NOW))
    assert again.output.exists() and again.report.value("received") == first.report.value("received")
    cli = CliRunner().invoke(app, ["report", str(branch_file), "--month", "2026-10", "-o", str(victim)])
    assert cli.exit_code == 2 and "不是月报表（网点工作簿），未覆盖" in cli.output



def test_a_consolidation_says_how_many_complaints_it_read(branch_file: Path, tmp_path: Path) -> None:
    """A consolidation computes from its facts store and holds no complaint in memory: its closing sentence
    still counts the complaints it read, as one branch's report does (here the same file: 9)."""
    result = CliRunner().invoke(app, ["consolidate", str(branch_file), "--month", "2026-10", "-o",
                                      str(tmp_path / "group.xlsx"), "--lang", "en", "--now", "2026-11-01 00:00"])
    assert result.exit_code == 0, result.output
    assert "1 branch(es), 6 received in the month (9 complaints read)" in result.output

def test_unreadable_branch_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(NothingRead) as e:
        report_flow(ReportRequest([bad], OCT, tmp_path / "r.xlsx", ReportKind.BRANCH, now=NOW))
    assert [p.code for p in e.value.issues] == ["file.not_workbook"]
    assert not (tmp_path / "r.xlsx").exists()


def test_cli_report(branch_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli.xlsx"
    result = runner.invoke(app, ["report", str(branch_file), "--month", "2026-10", "-o", str(out), "--lang", "en",
                                 "--now", "2026-11-01 00:00"])
    assert result.exit_code == 0, result.output
    assert "1 branch(es), 6 received in the month (9 complaints read)" in result.output and out.exists()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 broken")
    result = runner.invoke(app, ["report", str(bad), "--month", "2026-10", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
    result = runner.invoke(app, ["report", str(branch_file), "--month", "2026-13", "-o", str(tmp_path / "y.xlsx")])
    assert result.exit_code == 2
    result = runner.invoke(app, ["report", str(tmp_path), "--month", "2026-10", "-o", str(tmp_path / "z.xlsx")])
    assert result.exit_code == 2 and "xlcomplaints consolidate" in result.output and not (tmp_path / "z.xlsx").exists()


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) is not on PATH")
def test_libreoffice_opens_the_report_and_recalculates_the_same_numbers(zh: RunResult, tmp_path: Path) -> None:
    converted = soffice_convert(zh.output, tmp_path / "lo", recalc=True)
    wb = openpyxl.load_workbook(converted, data_only=True)
    assert wb.sheetnames[0] == "封面"
    grid = [list(r) for r in wb["封面"].iter_rows(values_only=True)]
    got = cover_values(grid, zh.report, "zh")
    for row in zh.report.cover:
        value, previous, change = got[row.key]
        assert number(value) == pytest.approx(row.value) if row.value is not None else number(value) is None
        assert number(previous) == pytest.approx(row.previous) if row.previous is not None else number(previous) is None
        kind = M.METRICS[row.key].kind
        if row.value is None or row.previous is None or (kind in ("count", "duration") and not row.previous):
            assert change in (None, "")
        elif kind == "rate":  # recalculated by LibreOffice from the two cells
            assert change == pytest.approx((row.value - row.previous) * 100)
        elif kind == "score":
            assert change == pytest.approx(row.value - row.previous)
        else:
            assert change == pytest.approx(row.value / row.previous - 1)
    category = [list(r) for r in wb["按投诉类别"].iter_rows(values_only=True)]
    total = category[-1]
    assert total[1] == "合计" and total[2] == 6 and total[4] == 2 and total[3] == 1  # SUM and share recalculated
    assert [r[3] for r in category[1:-1]] == pytest.approx(
        [g.count / 6 for g in zh.report.breakdowns["category"]])
    assert len(list(wb["超时明细"].iter_rows())) - 1 == 14


def test_report_open_in_excel_is_not_overwritten(branch_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    out.write_bytes(b"the copy someone has open")
    (tmp_path / "~$report.xlsx").write_bytes(b"owner")
    result = CliRunner().invoke(app, ["report", str(branch_file), "--month", "2026-10", "-o", str(out)])
    assert result.exit_code == 2 and "~$report.xlsx" in result.output
    assert out.read_bytes() == b"the copy someone has open"


def test_last_month_measured_in_another_unit_is_not_compared() -> None:
    """An earlier report's duration in other units than this month's (the policy changed) is left out."""
    from xlcomplaints.core.deadlines import make_calendar
    from xlcomplaints.core.refresh import evaluate_branch
    from xlcomplaints.report.summary import Cover, build

    data = hand_branch()
    november = replace(data, complaints=tuple(
        replace(c, received_at=c.received_at.replace(month=11),
                acknowledged_at=c.received_at.replace(month=11, hour=c.received_at.hour + 1))
        for c in data.complaints[:2]), tracking=(), callbacks=())
    nov = Period.month(2026, 11)
    results, _ = evaluate_branch(november, datetime(2026, 12, 1))
    cases = M.case_facts("T1", november, results, make_calendar(november.settings, november),
                         timed=(nov.shift(-1).start, nov.end))
    for unit, expected in (("hours", 5.0), ("working_hours", None)):
        cover = Cover("oct.xlsx", {"acknowledge_median": 5.0}, {"acknowledge_median": unit})
        row = next(r for r in build(cases, nov, datetime(2026, 12, 1), previous_cover=cover).cover
                   if r.key == "acknowledge_median")
        assert (row.value, row.unit, row.previous) == (1.0, "hours", expected)
