"""Reports for every period: a week, a quarter, a year, a custom range; their comparison and trend.

Figures are worked out by hand on ``tests.test_metrics``' branch T1 (its comments give every time;
as of 2026-11-01). 2026-10-01 is a Thursday: W42 is Mon 12 Oct – Sun 18 Oct, W43 19–25 Oct. National
Day: 1–7 Oct off, Sat 10 Oct a make-up working day.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from tests.samples import write_branch
from tests.test_metrics import cases_of, hand_branch
from xlcomplaints.core import metrics as M
from xlcomplaints.core.metrics import CaseIndex, Period, PeriodError, PeriodKind
from xlcomplaints.report.facts import StoreError, load_facts, store_path
from xlcomplaints.report.run import ReportKind, ReportRequest, report_flow


@pytest.fixture(scope="module")
def ix() -> CaseIndex:
    return CaseIndex(cases_of(hand_branch()))


def figures(ix: CaseIndex, p: Period, *keys: str) -> tuple[float | None, ...]:
    return tuple(M.METRICS[k](ix, p) for k in keys)


# ------------------------------------------------------------------ the Period type
@pytest.mark.parametrize(("text", "kind", "start", "end"), [
    ("2026-10", PeriodKind.MONTH, date(2026, 10, 1), date(2026, 11, 1)),
    ("2026年10月", PeriodKind.MONTH, date(2026, 10, 1), date(2026, 11, 1)),
    ("2026-W43", PeriodKind.WEEK, date(2026, 10, 19), date(2026, 10, 26)),
    ("2026w1", PeriodKind.WEEK, date(2025, 12, 29), date(2026, 1, 5)),  # week 1 holds the first Thursday
    ("2026-W53", PeriodKind.WEEK, date(2026, 12, 28), date(2027, 1, 4)),  # 2026 has 53 ISO weeks
    ("2026-Q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2027, 1, 1)),
    ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2027, 1, 1)),
    ("2026-09-28..2026-10-09", PeriodKind.RANGE, date(2026, 9, 28), date(2026, 10, 10)),
])
def test_parse(text: str, kind: PeriodKind, start: date, end: date) -> None:
    p = Period.parse(text)
    assert (p.kind, p.start.date(), p.end.date()) == (kind, start, end)
    assert Period.parse(str(p)) == p  # what the state file and the Trend sheet keep reads back


@pytest.mark.parametrize(("text", "code"), [
    ("2027-W53", "period.no_such_week"), ("2026-W00", "period.no_such_week"), ("2026-Q5", "period.no_such_quarter"),
    ("2026-13", "period.no_such_month"), ("October", "period.unreadable"), ("2026-10-20..2026-10-19", "period.reversed"),
    ("2026-10-32..2026-11-01", "period.bad_date"),
])
def test_refusals_say_what_is_wrong(text: str, code: str) -> None:
    with pytest.raises(PeriodError) as e:
        Period.parse(text)
    assert e.value.code == code
    assert e.value.message("zh") and e.value.message("en")


def test_previous_periods_of_each_kind() -> None:
    assert Period.parse("2026-W01").shift(-1) == Period.parse("2025-W52")
    assert Period.parse("2026-Q1").shift(-1) == Period.parse("2025-Q4")
    assert Period.parse("2026").shift(-1) == Period.parse("2025")
    assert Period.parse("2026-01").shift(-1) == Period.parse("2025-12")
    # a custom range: the same number of days just before it
    assert Period.days("2026-10-19", "2026-10-25").shift(-1) == Period.days("2026-10-12", "2026-10-18")
    assert Period.days("2026-09-28", "2026-10-09").shift(-1) == Period.days("2026-09-16", "2026-09-27")


# ------------------------------------------------------------------ figures by hand
def test_a_week(ix: CaseIndex) -> None:
    w42, w43 = Period.parse("2026-W42"), Period.parse("2026-W43")
    # W43 received: C3 (10-20 09:00), C7 (10-20 10:00); nothing closed; C3 major and escalated.
    assert figures(ix, w43, "received", "handled", "closed", "major", "escalations") == (2, 2, 0, 1, 1)
    # W42 received C1 (10-13), C9 (10-14); closed C2 (10-12 10:00) and C1 (10-18 11:00).
    assert figures(ix, w42, "received", "closed") == (2, 2)
    # Open at the end of W43 (10-26 00:00): C3, C7, C9 (reopened 10-16, never closed), C5 (August) = 4;
    # at its start: C9 and C5 = 2 (C1 closed 10-18, C2 10-12).
    assert figures(ix, w43, "open_end", "backlog_in") == (4, 2)
    # W42's callbacks: C1 satisfied 9 (10-18), C9 unsatisfied 4 (10-16).
    assert figures(ix, w42, "satisfaction_rate", "average_score") == (0.5, 6.5)
    # Still overdue at the end of W43 (10-26 00:00): C3 (first contact due 10-20 11:00, never made), C5 (August's
    # callback), C7 (resolve due 10-23 23:59:59), C9 (resolve restarted by the 10-16 reopening, due 10-21) = 4.
    # At the end of W42 (10-19 00:00) only C5: C9's new resolve deadline had not come, C3 and C7 not received.
    assert figures(ix, w43, "overdue_now") == (4,) and figures(ix, w42, "overdue_now") == (1,)


def test_a_quarter(ix: CaseIndex) -> None:
    q4, q3 = Period.parse("2026-Q4"), Period.parse("2026-Q3")
    # Q4 received C1, C3, C4 (invalid), C6, C7, C9; closed C1, C2 and C6.
    assert figures(ix, q4, "received", "handled", "validity_invalid", "closed") == (6, 5, 1, 3)
    # Q3 received C2 (09-29), C5 (08-20), C8 (09-10); closed C8 (09-12).
    assert figures(ix, q3, "received", "closed") == (3, 1)
    # last callbacks in Q4 per complaint: C1 satisfied 9, C6 satisfied 8 (its 10-28 one is not its last), C9 unsatisfied 4
    assert figures(ix, q4, "satisfaction_rate", "average_score") == (2 / 3, 7.0)
    # each complaint counts once however many of the quarter's months its missed deadlines fall in
    assert M.METRICS["late_complaints"](ix, q4) == len({id(d.case) for d in ix.missed(q4)})


def test_a_range_across_national_day(ix: CaseIndex) -> None:
    """28 Sep – 9 Oct: C2 (received Tue 09-29 15:00) and C4 (invalid, 10-05, a holiday)."""
    r = Period.days("2026-09-28", "2026-10-09")
    assert figures(ix, r, "received", "handled", "validity_invalid", "closed") == (2, 1, 1, 0)
    # C2's deadlines due in the range: acknowledge 24 h → 09-30 15:00, done 16:00: missed; first contact 2 h →
    # 09-29 17:00, done 16:00: met; resolve 3 working days → 09-30, (1–7 Oct off) 10-08, 10-09 23:59:59, done
    # 10-09 15:00: met; close 9 calendar days → 10-08 23:59:59, closed 10-12: missed. Its callback (due 10-11) is
    # outside. 2 of 4, one complaint late.
    assert figures(ix, r, "on_time_rate", "late_complaints") == (0.5, 1)
    resolve = next(c for c in ix.cases if c.no == "T1-002").stage("resolve")
    assert M.time_of(resolve.due) == datetime(2026, 10, 9, 23, 59, 59)  # the holidays pushed it past 10-01
    # The previous range, 16–27 Sep, held nothing received.
    assert figures(ix, r.shift(-1), "received") == (0,)


def test_a_week_is_its_days(ix: CaseIndex) -> None:
    """The figures of a period read from the months it overlaps add up to its days' own."""
    for text in ("2026-W40", "2026-W43", "2026-10"):
        p = Period.parse(text)
        days = [Period.days(d, d) for d in
                (date.fromordinal(p.start.toordinal() + i) for i in range((p.end - p.start).days))]
        for key in ("received", "closed", "handled", "major"):
            assert M.METRICS[key](ix, p) == sum(M.METRICS[key](ix, d) or 0 for d in days), (text, key)
        assert sum(ix.tally(d)[0] for d in days) == ix.tally(p)[0]
        assert sum(ix.tally(d)[1] for d in days) == ix.tally(p)[1]


def test_trend_of_weeks_and_years(ix: CaseIndex) -> None:
    weeks = M.trend(ix, Period.parse("2026-W43"))
    # from the week of the first complaint (C5, 08-20, W34) to W43: 10 weeks
    assert [str(r.month) for r in weeks][0] == "2026-W34" and len(weeks) == 10
    assert [r.received for r in weeks][-2:] == [2, 2]
    assert [str(r.month) for r in M.trend(ix, Period.parse("2026"))] == ["2026"]  # the years there is data for


# ------------------------------------------------------------------ the report file
def _cover(path: Path) -> dict[str, tuple[object, object, object]]:
    ws = openpyxl.load_workbook(path, data_only=True)["封面"]
    return {r[0]: (r[1], r[2], r[3]) for r in ws.iter_rows(min_row=5, values_only=True) if isinstance(r[0], str)}


def test_weekly_report_and_its_partial_previous_week(tmp_path: Path) -> None:
    branch = write_branch(tmp_path / "t1.xlsx", hand_branch())
    out = tmp_path / "w43.xlsx"
    run = report_flow(ReportRequest([branch], Period.parse("2026-W43"), out, ReportKind.BRANCH,
                                    now=datetime(2026, 11, 1)))
    rep = run.report
    assert rep.value("received") == 2 and rep.value("closed") == 0  # as at the end of W43 (10-26 00:00)
    assert rep.previous_partial is None  # the data reaches back to August
    wb = openpyxl.load_workbook(out, data_only=True)
    cover = wb["封面"]
    assert cover["A1"].value.startswith("投诉周报表 2026年第43周")
    assert cover["B5"].value == "本周" and cover["C5"].value == "上周"
    # major and escalated complaints with their status, and the week's overdue detail, are on their sheets
    assert {r[1] for r in wb["超时明细"].iter_rows(min_row=2, values_only=True)} >= {"T1-003"}
    assert [str(r.month) for r in rep.trend][-1] == "2026-W43"
    assert wb["月度趋势"]["A1"].value == "期间"


def test_partial_previous_period_is_marked(tmp_path: Path) -> None:
    """A register started mid-September (C8, 09-10, is its first row once C5 is left out): October's
    previous month holds only part of its data; the change column says so."""
    data = hand_branch()
    data = replace(data, complaints=tuple(c for c in data.complaints if c.no != "T1-005"))
    branch = write_branch(tmp_path / "t1.xlsx", data)
    run = report_flow(ReportRequest([branch], Period.parse("2026-10"), tmp_path / "oct.xlsx", ReportKind.BRANCH,
                                    now=datetime(2026, 11, 1)))
    assert run.report.previous_partial == datetime(2026, 9, 10, 9, 0)
    cover = _cover(tmp_path / "oct.xlsx")
    assert cover["受理件数"][2] == "上期不完整"
    note = openpyxl.load_workbook(tmp_path / "oct.xlsx")["封面"]["A3"].value
    assert "上月数据不完整（数据始于 2026-09-10）" in note
    # November: the data reaches back before October's start, so the previous month is whole
    nov = report_flow(ReportRequest([branch], Period.parse("2026-11"), tmp_path / "nov.xlsx", ReportKind.BRANCH,
                                    now=datetime(2026, 12, 1)))
    assert nov.report.previous_partial is None


def test_store_is_keyed_by_period(tmp_path: Path) -> None:
    branch = write_branch(tmp_path / "t1.xlsx", hand_branch())
    out = tmp_path / "group-w43.xlsx"
    report_flow(ReportRequest([branch], Period.parse("2026-W43"), out, now=datetime(2026, 11, 1)))
    summaries, _, _ = load_facts(store_path(out), Period.parse("2026-W43"))
    assert [s.branch for s in summaries] == ["T1"]
    assert [p.relative_to(store_path(out)).parts[0] for p in store_path(out).rglob("*.parquet") if p.parent.name
            != store_path(out).name] == ["period=2026-W43"]  # its pack
    with pytest.raises(StoreError):  # a week's store is not October's, nor the month's a week's
        load_facts(store_path(out), Period.parse("2026-10"))
    again = report_flow(ReportRequest([branch], Period.parse("2026-W43"), out, ReportKind.UPDATE,
                                      now=datetime(2026, 11, 1)))
    assert again.report.value("received") == 2


def test_cli_period_options(tmp_path: Path) -> None:
    branch = write_branch(tmp_path / "t1.xlsx", hand_branch())
    cli = [sys.executable, "-m", "xlcomplaints.cli"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, "report", str(branch), "-o", str(tmp_path / "r.xlsx"), *args],
                              capture_output=True, text=True, timeout=300)

    ok = run("--from", "2026-09-28", "--to", "2026-10-09", "--now", "2026-11-01 00:00")
    assert ok.returncode == 0, ok.stderr
    assert _cover(tmp_path / "r.xlsx")["受理件数"][0] == 2
    for args in (("--period", "2027-W53"), ("--month", "2026-10", "--period", "2026-Q4"),
                 ("--from", "2026-10-09", "--to", "2026-09-28"), ("--from", "2026-10-01"), ()):
        refused = run(*args)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, args
    assert not (tmp_path / "r.xlsx.bak").exists()


# ------------------------------------------------------------------ the insurer's overdue-case report
def test_closed_late_is_by_the_month_closed_and_the_close_rule(tmp_path: Path) -> None:
    """Seed 001: a case not closed within 9 calendar days (the insurer preset's close rule) goes on the
    超时结案 list of the month it was closed in: received 9-20, closed 10-5 is October's, not September's."""
    from xlcomplaints.core.models import Complaint
    from xlcomplaints.policy_file import load_preset

    policy = load_preset("insurer")
    assert [(r.amount, r.unit) for r in policy if r.stage == "close"] == [(9, "calendar_days")]
    late = Complaint(no="I1-001", received_at=datetime(2026, 9, 20, 10, 0), closed_at=datetime(2026, 10, 5, 9, 0),
                     resolved_at=datetime(2026, 9, 22, 10, 0), case_type="complaint", category="quality",
                     severity="general", validity="valid", customer="客户1", phone="13900000001", row=2)
    in_time = replace(late, no="I1-002", closed_at=datetime(2026, 9, 28, 9, 0), row=3)
    data = hand_branch("I1")
    data = replace(data, complaints=(late, in_time), settings=data.settings.model_copy(update={"policy": policy}),
                   tracking=(), callbacks=())
    branch = write_branch(tmp_path / "i1.xlsx", data)
    listed = {}
    for month in ("2026-09", "2026-10"):
        out = tmp_path / f"{month}.xlsx"
        run = report_flow(ReportRequest([branch], Period.parse(month), out, ReportKind.BRANCH,
                                        now=datetime(2026, 11, 2)))
        listed[month] = [c.no for c in run.report.closed_late]
        rows = [r for r in openpyxl.load_workbook(out, data_only=True)["超时结案"].iter_rows(min_row=2, values_only=True)
                if r[0] == "I1"]
        assert [r[1] for r in rows] == listed[month]
    assert listed == {"2026-09": [], "2026-10": ["I1-001"]}
    close = run.report.closed_late[0].stage("close")
    # due the end of the 9th calendar day after 9-20: 9-29 23:59:59; closed 10-05 09:00
    assert M.time_of(close.due) == datetime(2026, 9, 29, 23, 59, 59)
    assert close.late_by == pytest.approx(5.4, abs=0.05)  # 5 days 9 h 0' 1" in calendar days


def test_history_of_weekly_reports(tmp_path: Path) -> None:
    """A register started afresh in W43 takes last week's figures and the trend's weeks from W42's report."""
    full = write_branch(tmp_path / "t1.xlsx", hand_branch())
    w42 = report_flow(ReportRequest([full], Period.parse("2026-W42"), tmp_path / "w42.xlsx", ReportKind.BRANCH,
                                    now=datetime(2026, 11, 1)))
    data = hand_branch()
    fresh = replace(data, complaints=tuple(c for c in data.complaints if c.no in ("T1-003", "T1-007")),
                    tracking=(), callbacks=())
    w43 = report_flow(ReportRequest([write_branch(tmp_path / "t1-new.xlsx", fresh)], Period.parse("2026-W43"),
                                    tmp_path / "w43.xlsx", ReportKind.BRANCH, now=datetime(2026, 11, 1),
                                    history=[tmp_path / "w42.xlsx"]))
    rep = w43.report
    assert rep.previous_from == "w42.xlsx" and rep.previous_partial is None
    assert {r.key: r.previous for r in rep.cover}["received"] == w42.report.value("received") == 2
    assert [str(r.month) for r in rep.trend][-2:] == ["2026-W42", "2026-W43"]
    # a month's report is not a week's history: its trend rows are of another kind
    oct_ = report_flow(ReportRequest([full], Period.parse("2026-10"), tmp_path / "oct.xlsx", ReportKind.BRANCH,
                                     now=datetime(2026, 11, 1)))
    w43b = report_flow(ReportRequest([write_branch(tmp_path / "t1-new2.xlsx", fresh)], Period.parse("2026-W43"),
                                     tmp_path / "w43b.xlsx", ReportKind.BRANCH, now=datetime(2026, 11, 1),
                                     history=[tmp_path / "oct.xlsx"]))
    assert oct_.report.trend and all(r.month.kind is PeriodKind.WEEK for r in w43b.report.trend)
