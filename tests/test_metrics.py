"""Monthly metrics against numbers worked out by hand on a small branch (October 2026).

The branch ``T1`` below is written to a real workbook, read back and evaluated by the
deadline engine, then measured. Every expected number is derived in the comments from
the timestamps and this policy: acknowledge 24 h, first contact 2 h, resolve 3 working
days, callback 2 calendar days (from resolution), close 9 calendar days. Day-unit limits
end at 23:59:59 of the last day; China's calendar applies (1–7 Oct 2026 are holidays,
Sat 10 Oct a make-up working day, 31 Oct/1 Nov a weekend). As of 2026-11-01 00:00.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.samples import synthetic_branch, write_branch
from xlcomplaints.core import metrics as M
from xlcomplaints.core.deadlines import make_calendar
from xlcomplaints.core.metrics import CaseIndex, Month, Period
from xlcomplaints.core.models import (
    BranchData,
    CallbackAttempt,
    Complaint,
    PolicyRule,
    Settings,
    TrackingStep,
)
from xlcomplaints.core.policy import STAGES
from xlcomplaints.core.refresh import evaluate_branch
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import read_branch

OCT, SEP = Period.month(2026, 10), Period.month(2026, 9)
AS_OF = datetime(2026, 11, 1)


def d(text: str) -> datetime:
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M")  # a year given: 3.13 deprecates parsing without one


POLICY = (
    PolicyRule(stage="acknowledge", amount=24, unit="hours"),
    PolicyRule(stage="first_contact", amount=2, unit="hours"),
    PolicyRule(stage="resolve", amount=3, unit="working_days"),
    PolicyRule(stage="callback", amount=2, unit="calendar_days"),
    PolicyRule(stage="close", amount=9, unit="calendar_days"),
)


def complaint(no: str, received: str, **kw: object) -> Complaint:
    base: dict[str, object] = dict(case_type="complaint", channel="phone", customer=f"客户{no[-1]}",
                                   phone=f"1390000000{no[-1]}", category="quality", severity="general",
                                   validity="valid", content="内容", department="工程部", handler="李强")
    base.update(kw)
    return Complaint(no=no, received_at=d(received), **base)  # type: ignore[arg-type]


def hand_branch(code: str = "T1", name: str = "测试网点") -> BranchData:
    """Nine complaints; the numbers the tests expect are derived in the test comments."""
    p = code  # numbers carry the branch code, as the template's pattern does
    complaints = (
        # C1: everything done; the callback (due 10-17 23:59:59) is late.
        complaint(f"{p}-001", "10-13 10:00", phone="13800001111", acknowledged_at=d("10-13 12:00"),
                  first_contact_at=d("10-13 11:00"), resolved_at=d("10-15 16:00"), callback_at=d("10-18 10:00"),
                  closed_at=d("10-18 11:00")),
        # C2: received in September, closed 10-12 without a callback; close was due 10-08.
        complaint(f"{p}-002", "09-29 15:00", category="delay", severity="important", channel="visit",
                  department="配送部", acknowledged_at=d("09-30 16:00"), first_contact_at=d("09-29 16:00"),
                  resolved_at=d("10-09 15:00"), closed_at=d("10-12 10:00")),
        # C3: major and escalated; acknowledged late, nothing else done.
        complaint(f"{p}-003", "10-20 09:00", category="billing", severity="major", channel="online",
                  department="财务部", escalated=True, acknowledged_at=d("10-21 10:00")),
        # C4: invalid, received on a holiday.
        complaint(f"{p}-004", "10-05 09:30", category="other", validity="invalid", department=None),
        # C5: an August case never called back nor closed.
        complaint(f"{p}-005", "08-20 10:00", acknowledged_at=d("08-20 11:00"), first_contact_at=d("08-20 11:30"),
                  resolved_at=d("08-24 10:00")),
        # C6: needs another department; unsatisfied callback 10-28 reopens it, handled again, closed.
        complaint(f"{p}-006", "10-27 14:00", category="attitude", validity="assist", department="客服部",
                  acknowledged_at=d("10-27 15:00"), first_contact_at=d("10-27 15:30"), resolved_at=d("10-29 10:00"),
                  callback_at=d("10-29 16:00"), closed_at=d("10-30 10:00")),
        # C7: the customer of C1 again about quality, 7 days later: a repeat complaint.
        complaint(f"{p}-007", "10-20 10:00", phone="13800001111", acknowledged_at=d("10-20 11:00"),
                  first_contact_at=d("10-20 14:00")),
        # C8: all in September, all on time.
        complaint(f"{p}-008", "09-10 09:00", category="delay", department="配送部", acknowledged_at=d("09-10 10:00"),
                  first_contact_at=d("09-10 10:30"), resolved_at=d("09-11 09:00"), callback_at=d("09-12 09:00"),
                  closed_at=d("09-12 10:00")),
        # C9: unsatisfied callback 10-16 reopens it; not handled again by the end of October.
        complaint(f"{p}-009", "10-14 09:00", category="environment", channel="social", department="保洁部",
                  acknowledged_at=d("10-14 09:30"), first_contact_at=d("10-14 10:00"), resolved_at=d("10-15 11:00")),
    )
    callbacks = (
        CallbackAttempt(no=f"{p}-001", at=d("10-18 10:00"), method="phone", caller="王", outcome="satisfied", score=9),
        CallbackAttempt(no=f"{p}-006", at=d("10-28 09:00"), method="phone", caller="王", outcome="unsatisfied",
                        score=3),
        CallbackAttempt(no=f"{p}-006", at=d("10-29 16:00"), method="phone", caller="王", outcome="satisfied", score=8),
        CallbackAttempt(no=f"{p}-008", at=d("09-12 09:00"), method="sms", caller="王", outcome="satisfied", score=10),
        CallbackAttempt(no=f"{p}-009", at=d("10-16 09:00"), method="phone", caller="王", outcome="unsatisfied",
                        score=4),
    )
    tracking = (TrackingStep(no=f"{p}-006", at=d("10-27 18:00"), step="resolved", handler="李强"),)
    # Sheet rows, as the reader gives them (the engine keys a complaint's history by its row).
    complaints = tuple(replace(c, row=i) for i, c in enumerate(complaints, start=2))
    return BranchData(settings=Settings(branch_code=code, branch_name=name, policy=POLICY),
                      complaints=complaints, tracking=tracking, callbacks=callbacks)


def cases_of(data: BranchData, month: Period = OCT) -> list[M.Case]:
    results, _ = evaluate_branch(data, AS_OF)
    return M.case_facts(data.settings.branch_code, data, results, make_calendar(data.settings, data),
                        timed=(month.shift(-1).start, month.end))


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> CaseIndex:
    """The hand-made branch as a real workbook on disk, read back like any branch file."""
    path = write_branch(tmp_path_factory.mktemp("metrics") / "t1.xlsx", hand_branch())
    read = read_branch(FileWorkbook(path))
    assert [p for p in read.problems if p.level == "error"] == []
    assert len(read.data.complaints) == 9
    assert [replace(r, row=None) for r in read.data.settings.policy] == list(POLICY)
    return CaseIndex(cases_of(read.data))


def both(ix: CaseIndex, key: str) -> tuple[float | None, float | None]:
    return M.METRICS[key](ix, OCT), M.METRICS[key](ix, SEP)


def test_counts_by_the_date_that_decides_the_month(ix: CaseIndex) -> None:
    # Received in October: C1 C3 C4 C6 C7 C9; in September: C2 C8.
    assert both(ix, "received") == (6, 2)
    assert both(ix, "validity_valid") == (4, 2)  # C1 C3 C7 C9 | C2 C8
    assert both(ix, "validity_assist") == (1, 0)  # C6
    assert both(ix, "validity_invalid") == (1, 0)  # C4
    assert both(ix, "handled") == (5, 2)
    assert both(ix, "major") == (1, 0)  # C3
    assert both(ix, "escalations") == (1, 0)  # C3
    # Closed in October: C1 (10-18), C2 (10-12, received in September), C6 (10-30); September: C8.
    assert both(ix, "closed") == (3, 1)


def test_closure_backlog_and_its_age(ix: CaseIndex) -> None:
    # Of October's five to handle, C1 and C6 closed by 11-01; of September's, C8 by 10-01 (C2 only 10-12).
    assert both(ix, "closure_rate") == (2 / 5, 1 / 2)
    # Open at 11-01: C3 C5 C7 C9; at 10-01: C2 C5.
    assert both(ix, "open_end") == (4, 2)
    # Carried into October: C2 (1 day old at 10-01), C5 (41 days); into September: C5 (11 days).
    assert both(ix, "backlog_in") == (2, 1)
    assert M.backlog_ages(ix, OCT) == [1, 0, 0, 1]
    assert M.backlog_ages(ix, SEP) == [0, 0, 1, 0]


def test_on_time_rate_counts_deadlines_falling_due_in_the_month(ix: CaseIndex) -> None:
    # October deadlines, met/missed:
    #   C1 ack fc resolve close met, callback (10-17) late          4 / 1
    #   C2 resolve (10-09 23:59) met, close (10-08) late; closed
    #      10-12 without the callback due 10-11 23:59: missed      1 / 2
    #   C3 ack late; fc, resolve (10-23), close (10-29) not done    0 / 4
    #   C6 ack, fc, callback (10-31, from the 2nd resolution) met;
    #      resolve and close restart at the reopening → due in Nov 3 / 0
    #   C7 ack met; fc (2 h) late; resolve, close not done         1 / 3
    #   C9 ack, fc met; after the reopening 10-16 resolve (10-21)
    #      and close (10-25) not done                              2 / 2
    #   => 11 met of 23.  September: C2 ack late, fc met; C8 5 met  => 6 of 7.
    assert both(ix, "on_time_rate") == (11 / 23, 6 / 7)
    assert both(ix, "late_complaints") == (5, 1)  # C1 C2 C3 C7 C9 | C2
    assert both(ix, "callback_on_time_rate") == (1 / 3, 1.0)  # C1 late, C2 missed, C6 met | C8 met


def test_median_and_90th_percentile_in_the_policy_unit(ix: CaseIndex) -> None:
    # Hours to acknowledge, done in October: C9 0.5, C6 1, C7 1, C1 2, C3 25.
    assert both(ix, "acknowledge_median") == (1.0, 13.0)  # September: C8 1, C2 25
    assert both(ix, "acknowledge_p90") == (25.0, 25.0)  # ⌈0.9·5⌉ = 5th; ⌈0.9·2⌉ = 2nd
    # Hours to first contact: C1 1, C9 1, C6 1.5, C7 4 → median 1.25, p90 = 4th.
    assert both(ix, "first_contact_median") == (1.25, 1.25)  # September: C2 1, C8 1.5
    assert both(ix, "first_contact_p90") == (4.0, 1.5)
    # Working days to resolve, done in October (a working day counts whole, holidays none):
    #   C6 10-27 14:00 → 10-29 10:00 = 10/24 + 1 + 10/24 = 1.8333
    #   C1 10-13 10:00 → 10-15 16:00 = 14/24 + 1 + 16/24 = 2.25
    #   C2 09-29 15:00 → 10-09 15:00 = 9/24 + 1 (09-30) + 1 (10-08) + 15/24 = 3.0 (1–7 Oct off)
    assert both(ix, "resolve_median") == (2.25, 1.0)  # September: C8 09-10 09:00 → 09-11 09:00
    assert both(ix, "resolve_p90") == (3.0, 1.0)
    # Calendar days to close: C6 2d20h = 2.8333, C1 5d1h = 5.0417, C2 12d19h = 12.7917.
    assert both(ix, "close_median") == (5.0417, 2.0417)  # September: C8 2d1h
    assert both(ix, "close_p90") == (12.7917, 2.0417)
    assert ix.units["resolve"] == ["working_days"] and ix.units["acknowledge"] == ["hours"]


def test_callbacks_satisfaction_reopens_and_repeats(ix: CaseIndex) -> None:
    # Closed in October: C1 (called back), C2 (closed without), C6 (called back) → 2/3.
    assert both(ix, "callback_rate") == (2 / 3, 1.0)
    # Last reached callback per complaint in October: C1 satisfied 9, C6 satisfied 8 (its 10-28
    # unsatisfied one is not the last), C9 unsatisfied 4.
    assert both(ix, "satisfaction_rate") == (2 / 3, 1.0)
    assert both(ix, "average_score") == (7.0, 10.0)
    assert both(ix, "reopen_rate") == (1 / 3, 0.0)  # C6 of C1 C2 C6 | C8
    assert both(ix, "repeat_rate") == (1 / 5, 0.0)  # C7 repeats C1


def test_breakdown_by_category(ix: CaseIndex) -> None:
    rows = {r.key: r for r in M.breakdown(ix, OCT, "category", ("quality", "delay", "billing"))}
    assert list(rows)[:3] == ["quality", "delay", "billing"]  # the given order first, zeros kept
    assert rows["quality"] == M.GroupRow("quality", 2, 0, 5 / 9, 2)  # C1 (4 met/1 missed) + C7 (1/3); both late
    assert rows["delay"] == M.GroupRow("delay", 0, 2, 1 / 3, 1)  # C2's October deadlines
    assert rows["billing"] == M.GroupRow("billing", 1, 0, 0.0, 1)
    assert rows["attitude"] == M.GroupRow("attitude", 1, 0, 1.0, 0)
    assert rows["other"] == M.GroupRow("other", 1, 0, None, 0)  # C4 is invalid: no deadlines
    assert sum(r.count for r in rows.values()) == 6
    assert sum(r.late for r in rows.values()) == M.METRICS["late_complaints"](ix, OCT)
    # The cover's panels: most first, zeros left out, equal ones in the breakdown sheet's order.
    assert list(rows)[3:6] == ["attitude", "environment", "other"]
    top = M.top(list(rows.values()), "count")
    assert [r.key for r in top] == ["quality", "billing", "attitude", "environment", "other"]
    assert [r.key for r in M.top(list(rows.values()), "late")] == ["quality", "delay", "billing", "environment"]


def test_stage_table(ix: CaseIndex) -> None:
    table = {r.stage: r for r in M.stage_table(ix, OCT)}
    # Acknowledge due in October: C1 C3(late) C6 C7 C9 → 4 of 5.
    assert table["acknowledge"][:4] == ("acknowledge", 5, 4, 4 / 5)
    assert table["close"][:4] == ("close", 5, 1, 1 / 5)  # C1 met; C2 late; C3 C7 C9 not done
    assert table["report"] == M.StageRow("report", 0, 0, None, None, None, None)  # no rule: nothing due


def test_overdue_detail_lists_late_deadlines_major_first(ix: CaseIndex) -> None:
    rows = M.overdue_detail(ix, OCT)
    assert [(r.case.no, r.stage) for r in rows] == [
        ("T1-003", "first_contact"), ("T1-003", "acknowledge"), ("T1-003", "resolve"), ("T1-003", "close"),
        ("T1-002", "close"), ("T1-002", "callback"),  # important; the callback missed before closing
        ("T1-005", "callback"), ("T1-005", "close"),  # due in August, still not done
        ("T1-001", "callback"), ("T1-007", "first_contact"), ("T1-009", "resolve"), ("T1-007", "resolve"),
        ("T1-009", "close"), ("T1-007", "close"),
    ]
    # C3's first contact was due 10-20 11:00 and is not done at 11-01 00:00: 11 days 13 hours.
    assert rows[0].fact.status == "overdue" and rows[0].fact.late_by == 277.0 and rows[0].fact.unit == "hours"
    assert rows[1].fact.status == "done_late" and rows[1].fact.late_by == 1.0  # acknowledged 1 h late


def test_trend_starts_at_the_first_month_with_data(ix: CaseIndex) -> None:
    # August: C5 received; its ack, fc and resolve (08-25) met, callback (08-26) and close (08-29) missed.
    assert M.trend(ix, OCT) == [
        M.TrendRow(Period.month(2026, 8), 1, 0, 3 / 5, None),
        M.TrendRow(SEP, 2, 1, 6 / 7, 1.0),
        M.TrendRow(OCT, 6, 3, 11 / 23, 2 / 3),
    ]


def test_every_metric_has_both_languages_and_a_period_rule() -> None:
    for m in M.METRICS.values():
        for lang in ("zh", "en"):
            assert m.name(lang) and m.definition(lang) and m.period_rule(lang), m.key
        assert m.name("zh") != m.name("en") and m.definition("zh") != m.definition("en")
    assert len({m.name("zh") for m in M.METRICS.values()}) == len(M.METRICS)


@pytest.mark.parametrize(("values", "median", "p90"), [
    ([], None, None), ([7.0], 7.0, 7.0), ([3.0, 1.0], 2.0, 3.0),
    ([float(i) for i in range(1, 11)], 5.5, 9.0), ([float(i) for i in range(1, 12)], 6.0, 10.0),
])
def test_percentiles(values: list[float], median: float | None, p90: float | None) -> None:
    assert M.median(values) == median and M.p90(values) == p90


@pytest.mark.parametrize(("text", "month"), [
    ("2026-10", Month(2026, 10)), ("2026/1", Month(2026, 1)), ("202612", Month(2026, 12)),
    ("2026年3月", Month(2026, 3)), (" 2026.07 ", Month(2026, 7)),
])
def test_month_parse(text: str, month: Month) -> None:
    assert Month.parse(text) == month


@pytest.mark.parametrize("text", ["2026-13", "10-2026x", "", "2026"])
def test_month_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        Month.parse(text)


def test_month_arithmetic_and_default_as_of() -> None:
    assert Month(2026, 1).shift(-1) == Month(2025, 12) and Month(2026, 12).end == datetime(2027, 1, 1)
    assert Month.from_key(Month(2026, 10).key) == Month(2026, 10)
    assert M.default_as_of(OCT, datetime(2026, 11, 5)) == datetime(2026, 11, 1)
    assert M.default_as_of(OCT, datetime(2026, 10, 15, 9)) == datetime(2026, 10, 15, 9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60))
def test_invariants_on_generated_branches(seed: int, n: int) -> None:
    """Whatever the data: breakdowns add up to the totals, rates are rates, durations ordered."""
    data = synthetic_branch("G1", n, end=OCT.end, months=4, seed=seed)
    ix = CaseIndex(cases_of(data))
    for key, m in M.METRICS.items():
        value = m(ix, OCT)
        if m.kind == "rate" and value is not None:
            assert 0.0 <= value <= 1.0, key
    for dim in ("category", "channel", "severity", "department"):
        rows = M.breakdown(ix, OCT, dim)
        assert sum(r.count for r in rows) == M.METRICS["received"](ix, OCT)
        assert sum(r.previous for r in rows) == M.METRICS["received"](ix, SEP)
        assert sum(r.late for r in rows) == M.METRICS["late_complaints"](ix, OCT)
    for stage in M.TIMED_STAGES:
        med, p = M.METRICS[f"{stage}_median"](ix, OCT), M.METRICS[f"{stage}_p90"](ix, OCT)
        assert (med is None) == (p is None) and (med is None or med <= p)
    assert M.METRICS["open_end"](ix, SEP) == M.METRICS["backlog_in"](ix, OCT)
    assert sum(M.backlog_ages(ix, OCT)) == M.METRICS["backlog_in"](ix, OCT)


def test_invalid_complaints_never_count_as_late(tmp_path: Path) -> None:
    data = hand_branch()
    ix = CaseIndex(cases_of(data))
    assert all(d.case.validity != "invalid" for d in M.overdue_detail(ix, OCT))
    assert all(c.handled for c in ix.closed(OCT))


@settings(max_examples=200, deadline=None)
@given(a=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9998, 12, 31, 23, 59, 59, 999999)),
       b=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9998, 12, 31, 23, 59, 59, 999999)))
def test_stamps_keep_the_time_its_month_and_the_order(a: datetime, b: datetime) -> None:
    """The one fast path of the report's facts (``core/metrics/months.py``) against the datetimes it stands for."""
    assert M.time_of(M.stamp(a)) == a
    assert M.month_key(M.stamp(a)) == Month.of(a).key
    assert M.month_start(Month.of(a)) <= M.stamp(a) < M.month_end(Month.of(a))
    assert (M.stamp(a) < M.stamp(b)) == (a < b)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60))
def test_month_figures_are_those_of_the_stage_facts(seed: int, n: int) -> None:
    """The index counts from what the worker filed ahead (``Case.due_months``): the same as counting the facts."""
    cases = cases_of(synthetic_branch("G1", n, end=OCT.end, months=4, seed=seed))
    ix = CaseIndex(cases)
    for m in (SEP, OCT):
        due = [(c, s, f) for c in cases if c.handled for s in STAGES if (f := c.stage(s)).due is not None
               and f.status in M.MET | M.MISSED and M.month_start(m) <= f.due < M.month_end(m)]
        missed = [(c, s) for c, s, f in due if f.status in M.MISSED]
        assert ix.tally(m) == (len(due) - len(missed), len(missed), len({id(c) for c, _ in missed}))
        assert [(d.case, d.stage) for d in M.overdue_detail(ix, m) if d.fact.due >= M.month_start(m)] == sorted(
            missed, key=lambda x: ({"major": 0, "important": 1, "general": 2}.get(x[0].severity or "", 3),
                                   x[0].stage(x[1]).due, x[0].branch, x[0].no or ""))
        for stage in STAGES:
            assert ix.stage_tally(m, stage) == (sum(1 for _, s, f in due if s == stage and f.status in M.MET),
                                                sum(1 for c, s in missed if s == stage))


def test_typical_cases_by_hand(ix: CaseIndex) -> None:
    """October's handled complaints with a reason, the most telling first (C4 is invalid; C2, C5, C8 are not October's).

    C3 major, escalated, acknowledged late; C9 reopened by the unsatisfied callback and overdue since; C7 repeats
    C1's customer, first contact 4 h after (2 h allowed); C6 reopened, then all on time; C1's callback was late.
    """
    got = [(t.case.no, t.reasons) for t in M.typical_cases(ix, OCT)]
    assert got == [("T1-003", ("major", "escalated", "late")), ("T1-009", ("reopened", "late")),
                   ("T1-007", ("repeat", "late")), ("T1-006", ("reopened",)), ("T1-001", ("late",))]
    assert [t.case.no for t in M.typical_cases(ix, OCT, n=2)] == ["T1-003", "T1-009"]
    # September's: C2 closed after its due date; C8 was on time throughout.
    assert [(t.case.no, t.reasons) for t in M.typical_cases(ix, SEP)] == [("T1-002", ("late",))]
