"""The office's own stages and columns (issue 19), on real workbooks on disk.

Seed 000 (property rules 4.2.1): what the staff fix on the spot is reported to the front desk within
1 hour (here: complaints made in person, channel 来访) — timed from a column the office added to the Register, 现场处理上报时间. A weekly progress
report on open major complaints repeats every 7 days while the case is open.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
from python_calamine import CalamineWorkbook

from tests.samples import write_branch
from xlcomplaints.core.models import BranchData, Complaint, CustomStage, Settings, TrackingStep
from xlcomplaints.core.policy import default_policy
from xlcomplaints.flows import refresh_flow, validate_flow
from xlcomplaints.spec import branch as B
from xlcomplaints.workbook.file import FileWorkbook

NOW = datetime(2026, 11, 3, 12, 0)
SPOT = CustomStage(name="现场处理上报", name_en="On-the-spot fix reported", start="受理",
                   done_column="现场处理上报时间", channel="visit", amount=1, unit="hours",
                   source="种子000 物业投诉处理4.2.1：能够当场处理的投诉当即处理，并在1小时内将投诉事件及处理结果报告前台接待")
WEEKLY = CustomStage(name="重大投诉每周通报", name_en="Weekly update (major)", start="受理", done_step="reported",
                     severity="major", amount=7, unit="calendar_days", recurring=True,
                     source="种子001/004：重大投诉每周通报处理进展")
SPOT_COLUMN = "现场处理上报时间"


def _complaint(no: str, received: datetime, **kw: Any) -> Complaint:
    base: dict[str, Any] = dict(channel="phone", customer="王伟", category="attitude", severity="general",
                                validity="valid", content="门禁坏了")
    return Complaint(no=no, received_at=received, **{**base, **kw})


def make_branch(tmp_path: Path, stages: tuple[CustomStage, ...] = (SPOT, WEEKLY), *,
                spot_times: dict[str, object] | None = None, extra_header: str = SPOT_COLUMN,
                dims: tuple[str, ...] = (), buildings: dict[str, str] | None = None) -> Path:
    complaints = (
        _complaint("BJ01-2611001", datetime(2026, 11, 2, 10, 0), channel="visit"),   # reported 10:30: on time
        _complaint("BJ01-2611002", datetime(2026, 11, 2, 9, 0), channel="visit"),    # reported 11:30: 1.5 h late
        _complaint("BJ01-2611003", datetime(2026, 11, 3, 9, 0), channel="visit"),    # not reported at 12:00: overdue
        _complaint("BJ01-2610009", datetime(2026, 10, 20, 9, 0), severity="major"),  # weekly update late
    )
    tracking = (TrackingStep(no="BJ01-2610009", at=datetime(2026, 10, 25, 9, 0), step="reported"),)
    settings = Settings(branch_code="BJ01", branch_name="北京一店", policy=default_policy(),
                        custom_stages=stages, report_dimensions=dims)
    path = write_branch(tmp_path / "bj01.xlsx", BranchData(settings=settings, complaints=complaints,
                                                          tracking=tracking))
    times: dict[str, object] = {"BJ01-2611001": datetime(2026, 11, 2, 10, 30),
                                "BJ01-2611002": datetime(2026, 11, 2, 11, 30)}
    if spot_times is not None:
        times = spot_times
    wb = openpyxl.load_workbook(path)
    ws = wb[B.REGISTER.zh]
    col = len(B.REGISTER.columns) + 1  # the office's own columns, after ours
    ws.cell(1, col, extra_header)
    ws.cell(1, col + 1, "楼栋")
    for r in range(2, ws.max_row + 1):
        no = ws.cell(r, 1).value
        if no in times:
            ws.cell(r, col, times[no])
        if buildings and no in buildings:
            ws.cell(r, col + 1, buildings[no])
    wb.save(path)
    return path


def _rows(path: Path, sheet: str) -> list[list[Any]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def test_the_one_hour_on_the_spot_report_and_the_weekly_update_reach_overdue_and_summary(tmp_path: Path) -> None:
    path = make_branch(tmp_path)
    checked = validate_flow(FileWorkbook(path), now=NOW)
    assert [p for p in checked.problems if p.code.startswith(("custom_stage", "report."))] == []
    result = refresh_flow(FileWorkbook(path), now=NOW)
    assert result.plan is not None
    overdue = _rows(path, B.OVERDUE.zh)
    listed = {(r[0], r[1]): r for r in overdue[1:] if r[0]}
    spot = listed[("BJ01-2611003", "现场处理上报")]
    assert spot[2] == "已逾期" and spot[4] == 2.0 and spot[5] == "小时"  # due 10:00, 2 hours late at 12:00
    weekly = listed[("BJ01-2610009", "重大投诉每周通报")]
    assert weekly[2] == "已逾期"  # last update 25 Oct: the next was due 1 Nov
    assert ("BJ01-2611001", "现场处理上报") not in listed and ("BJ01-2611002", "现场处理上报") not in listed
    summary = {r[0]: r[1] for r in _rows(path, B.SUMMARY.zh)}
    assert summary["其中自定义环节逾期"] == 2
    assert (result.plan.counts[B.SummaryKey(B.Count.CUSTOM, "done_on_time")] == 1
            and result.plan.counts[B.SummaryKey(B.Count.CUSTOM, "done_late")] == 1)
    # The Register is the clerk's: no column was added, the office's column kept as typed.
    header = _rows(path, B.REGISTER.zh)[0]
    assert header[len(B.REGISTER.columns):len(B.REGISTER.columns) + 2] == [SPOT_COLUMN, "楼栋"]


def test_the_custom_stages_read_back_from_the_settings_sheet(tmp_path: Path) -> None:
    path = make_branch(tmp_path)
    from xlcomplaints.workbook.reader import read_branch

    read = read_branch(FileWorkbook(path))
    stages = read.data.settings.custom_stages
    assert [(s.name, s.start, s.done_step, s.done_column, s.recurring) for s in stages] == [
        ("现场处理上报", "received", None, SPOT_COLUMN, None), ("重大投诉每周通报", "received", "reported", None, True)]


def _problems(path: Path) -> list[Any]:
    return validate_flow(FileWorkbook(path), now=NOW).problems


def _stage_row(path: Path) -> int:
    rows = _rows(path, B.SETTINGS.zh)
    title = next(i for i, r in enumerate(rows, start=1) if r and r[0] == B.CUSTOM_STAGES.zh)
    return title + 2  # the first stage row, under the title and the header


def test_a_bad_stage_row_is_refused_at_its_cell(tmp_path: Path) -> None:
    both = replace(SPOT, done_step="reported")
    path = make_branch(tmp_path, (both,))
    found = [p for p in _problems(path) if p.code.startswith("custom_stage")]
    first = _stage_row(path)
    assert [(p.code, p.cell) for p in found] == [("custom_stage.two_done", f"E{first}")]

    path = make_branch(tmp_path, (replace(SPOT, start="下单"),))
    found = [p for p in _problems(path) if p.code.startswith("custom_stage")]
    assert [(p.code, p.cell, p.value) for p in found] == [("custom_stage.bad_start", f"C{first}", "下单")]

    for lang in ("zh", "en"):  # every message says what is wrong, in the user's language
        assert all("{" not in p.message(lang) for p in found)
    path = make_branch(tmp_path, (SPOT,), extra_header="上报前台时间")
    found = [p for p in _problems(path) if p.code.startswith("custom_stage")]
    assert [(p.code, p.cell, p.value) for p in found] == [("custom_stage.column_missing", f"E{first}", SPOT_COLUMN)]
    # refused: not timed at all, rather than every complaint overdue
    plan = refresh_flow(FileWorkbook(path), now=NOW, save=False).plan
    assert plan is not None and plan.counts[B.SummaryKey(B.Count.CUSTOM, "overdue")] == 0


def test_an_unreadable_time_in_the_offices_column_is_located(tmp_path: Path) -> None:
    path = make_branch(tmp_path, (SPOT,), spot_times={"BJ01-2611001": "十点半"})
    found = [p for p in _problems(path) if p.sheet == B.REGISTER.zh and p.column == SPOT_COLUMN]
    col = len(B.REGISTER.columns) + 1
    assert len(found) == 1 and found[0].cell is not None and found[0].value == "十点半"
    from xlcomplaints.core.problems import column_letter

    assert found[0].cell.startswith(column_letter(col))


def test_the_report_shows_the_custom_stages_and_breaks_down_by_the_offices_column(tmp_path: Path) -> None:
    from xlcomplaints.api import monthly_report
    from xlcomplaints.spec import report as R

    path = make_branch(tmp_path, dims=("楼栋",), buildings={"BJ01-2611001": "3栋", "BJ01-2611002": "3栋",
                                                           "BJ01-2611003": "5栋"})
    out = tmp_path / "bj01-2026-11.xlsx"
    monthly_report(path, "2026-11", out, now=NOW)
    stages = {r[0]: r for r in _rows(out, R.STAGES.zh)[1:] if r and r[0]}
    # Due in November and decided by 3 Nov 12:00: 001 on time, 002 late, 003 still overdue.
    assert stages["现场处理上报"][1:4] == [3.0, 1.0, 1 / 3]
    assert stages["重大投诉每周通报"][1:4] == [1.0, "", 0.0]  # due 1 Nov, not done: missed
    detail = _rows(out, R.OVERDUE_DETAIL.zh)
    head = detail[0]
    listed = {(r[head.index("投诉编号")], r[head.index("超时环节")]) for r in detail[1:]}
    assert {("BJ01-2611002", "现场处理上报"), ("BJ01-2611003", "现场处理上报"),
            ("BJ01-2610009", "重大投诉每周通报")} <= listed
    by_building = {r[1]: (r[2], r[4]) for r in _rows(out, "按楼栋")[1:] if r and r[0] == "楼栋"}
    # This month and last (the October complaint has no building: blank, 1 last month).
    assert by_building == {"3栋": (2.0, 0.0), "5栋": (1.0, 0.0), "（未填）": (0.0, 1.0), "合计": (3.0, 1.0)}


def test_a_dimension_the_register_lacks_is_refused_at_the_settings_cell(tmp_path: Path) -> None:
    path = make_branch(tmp_path, dims=("车牌号",))
    found = [p for p in _problems(path) if p.code.startswith("report.")]
    assert [(p.code, p.sheet, p.value) for p in found] == [("report.dimension_missing", B.SETTINGS.zh, "车牌号")]
    rows = _rows(path, B.SETTINGS.zh)
    row = next(i for i, r in enumerate(rows, start=1) if r and r[0] == "报表维度(登记表自加列)")
    assert found[0].cell == f"B{row}"


def test_the_independent_auditor_agrees_on_the_custom_stages(tmp_path: Path) -> None:
    """The auditor (``tests/audit``) times the custom stages from the words of docs/sheets.md and the
    Definitions' 自定义环节 row; every Stage-times row and Overdue-detail row must agree with the report."""
    from tests.audit.figures import all_figures, months
    from tests.audit.report import read_report
    from tests.test_report_audit import _agrees
    from xlcomplaints.api import monthly_report

    path = make_branch(tmp_path)
    out = tmp_path / "bj01-2026-11.xlsx"
    monthly_report(path, "2026-11", out, now=NOW)
    mine, _, _ = all_figures([path], months(2026, 11, NOW))
    report = read_report(out)
    # The built-in stages' rows are the demo audit's (tests/test_report_audit.py); here the custom ones, and
    # every row of the Overdue detail. A count of 0 is written blank.
    keys = sorted(k for k in set(mine) | set(report)
                  if k.startswith(("stages:现场处理上报:", "stages:重大投诉每周通报:", "overdue-detail:")))
    assert len([k for k in keys if k.startswith("stages:")]) == 12
    assert any(k.endswith(":重大投诉每周通报") and k.startswith("overdue-detail:") for k in keys)

    def shown(k: str) -> object:
        value = report.get(k)
        return 0 if value is None and k.endswith((":due_count", ":on_time")) else value

    wrong = [f"{k}: report {report.get(k)!r}, auditor {mine.get(k)!r}" for k in keys
             if not _agrees(k, shown(k), mine.get(k))]
    assert wrong == [], "\n".join(wrong)
