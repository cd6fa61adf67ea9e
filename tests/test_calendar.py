"""Tests for xlcomplaints.core.calendar: hand-checked 2026 dates, properties, LibreOffice.

2026 facts used below (State Council notice, as transcribed by ``holidays``):
Spring Festival off Sun Feb 15 .. Mon Feb 23, make-up working Sat Feb 14 and Sat Feb 28;
Mid-Autumn off Fri Sep 25; National Day off Thu Oct 1 .. Wed Oct 7, make-up working
Sun Sep 20 and Sat Oct 10.
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcomplaints.core.calendar import (
    MAKEUP_DAYS_UNPUBLISHED,
    YEAR_NOT_COVERED,
    CalendarWarning,
    Due,
    OfficeHours,
    Unit,
    WorkCalendar,
)

H, CD, WD, WH = Unit.HOURS, Unit.CALENDAR_DAYS, Unit.WORKING_DAYS, Unit.WORKING_HOURS
CAL = WorkCalendar("CN")


def eod(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59)


# ---------------------------------------------------------------- coverage and data


def test_coverage_criterion_matches_the_package() -> None:
    assert CAL.covers(2026) and CAL.covers(2001)
    assert not CAL.covers(2027)  # no State Council notice in holidays 0.109 yet
    assert not CAL.covers(2000)
    # The criterion is the notice table the package transcribes, not its supported range.
    assert holidays.China.start_year < 2001 and holidays.China.end_year > 2027


@pytest.mark.parametrize(
    ("d", "working"),
    [
        (date(2026, 9, 20), True),  # Sunday, make-up
        (date(2026, 9, 25), False),  # Mid-Autumn
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up
        (date(2026, 10, 11), False),
        (date(2026, 2, 14), True),  # Saturday, make-up
        (date(2026, 2, 16), False),
        (date(2026, 2, 23), False),  # Monday, still Spring Festival
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, make-up
        (date(2027, 1, 1), False),  # not published yet: 元旦 is a statutory holiday all the same
        (date(2027, 1, 2), False),
        (date(2027, 1, 4), True),
        (date(2000, 1, 3), True),  # before any notice in the data: weekends-only fallback
    ],
)
def test_is_working_day(d: date, working: bool) -> None:
    assert CAL.is_working_day(d) is working


# ---------------------------------------------------------------- National Day 2026


@pytest.mark.parametrize(
    ("start", "amount", "expected"),
    [
        (datetime(2026, 9, 30, 10, 0), 1, eod(2026, 10, 8)),
        (datetime(2026, 9, 30, 10, 0), 3, eod(2026, 10, 10)),  # make-up Saturday counts
        (datetime(2026, 9, 30, 10, 0), 4, eod(2026, 10, 12)),
        (datetime(2026, 10, 9, 16, 0), 1, eod(2026, 10, 10)),
        (datetime(2026, 10, 3, 15, 0), 1, eod(2026, 10, 8)),  # received on a holiday
        (datetime(2026, 10, 1, 0, 0), 3, eod(2026, 10, 10)),
        (datetime(2026, 9, 18, 10, 0), 1, eod(2026, 9, 20)),  # make-up Sunday
        (datetime(2026, 9, 24, 10, 0), 1, eod(2026, 9, 28)),  # over Mid-Autumn + weekend
        (datetime(2026, 9, 30, 23, 59), 0, eod(2026, 9, 30)),
        (datetime(2026, 10, 4, 12, 0), 0, eod(2026, 10, 4)),  # 0 days: same day, as WORKDAY
        (datetime(2026, 9, 30, 10, 0), 2.5, eod(2026, 10, 10)),  # rounded up to 3
        (datetime(2026, 9, 30, 10, 0), 3.0000000001, eod(2026, 10, 10)),  # float noise
    ],
)
def test_working_days_national_day(start: datetime, amount: float, expected: datetime) -> None:
    assert CAL.add(start, amount, WD) == Due(expected)


def test_other_units_national_day() -> None:
    s = datetime(2026, 9, 30, 17, 30)
    assert CAL.add(s, 2, WH).at == datetime(2026, 10, 8, 10, 30)  # the brief's example
    assert CAL.add(s, 0.5, WH).at == datetime(2026, 9, 30, 18, 0)  # end of day, not next
    assert CAL.add(datetime(2026, 9, 30, 16), 2, WH).at == datetime(2026, 9, 30, 18)
    assert CAL.add(datetime(2026, 10, 9, 16), 4, WH).at == datetime(2026, 10, 10, 11)
    assert CAL.add(datetime(2026, 10, 3, 12), 1, WH).at == datetime(2026, 10, 8, 10)
    assert CAL.add(datetime(2026, 9, 30, 7), 9, WH).at == datetime(2026, 9, 30, 18)
    assert CAL.add(datetime(2026, 9, 30, 7), 9.5, WH).at == datetime(2026, 10, 8, 9, 30)
    assert CAL.add(s, 48, H).at == datetime(2026, 10, 2, 17, 30)  # wall clock
    assert CAL.add(s, 7, CD).at == eod(2026, 10, 7)  # holidays do not matter
    assert CAL.add(s, 2.5, CD).at == eod(2026, 10, 3)  # rounded up
    assert CAL.add(s, 0, CD).at == eod(2026, 9, 30)
    assert CAL.add(s, 0, H).at == s and CAL.add(s, 0, WH).at == s


def test_workday_like_excel_national_day() -> None:
    assert CAL.workday(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.workday(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert CAL.workday(date(2026, 10, 12), -1) == date(2026, 10, 10)
    assert CAL.workday(date(2026, 9, 21), -1) == date(2026, 9, 20)
    assert CAL.workday(date(2026, 10, 5), 0) == date(2026, 10, 5)
    assert CAL.workday(date(2026, 10, 5), -1) == date(2026, 9, 30)
    assert CAL.workday(datetime(2026, 9, 30, 12), 1.9) == date(2026, 10, 8)  # truncated
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert CAL.working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3


# ---------------------------------------------------------------- Spring Festival 2026


def test_spring_festival_2026() -> None:
    assert CAL.add(datetime(2026, 2, 13, 10), 1, WD).at == eod(2026, 2, 14)
    assert CAL.add(datetime(2026, 2, 13, 10), 2, WD).at == eod(2026, 2, 24)
    assert CAL.add(datetime(2026, 2, 14, 10), 1, WD).at == eod(2026, 2, 24)
    assert CAL.add(datetime(2026, 2, 17, 10), 1, WD).at == eod(2026, 2, 24)  # on a holiday
    assert CAL.add(datetime(2026, 2, 27, 10), 1, WD).at == eod(2026, 2, 28)
    assert CAL.add(datetime(2026, 2, 27, 10), 2, WD).at == eod(2026, 3, 2)
    assert CAL.add(datetime(2026, 2, 13, 17), 3, WH).at == datetime(2026, 2, 14, 11)
    assert CAL.add(datetime(2026, 2, 14, 17), 2, WH).at == datetime(2026, 2, 24, 10)
    assert CAL.add(datetime(2026, 2, 13, 10), 9, CD).at == eod(2026, 2, 22)
    assert CAL.add(datetime(2026, 2, 13, 10), 24, H).at == datetime(2026, 2, 14, 10)


def test_elapsed_spring_festival() -> None:
    a, b = datetime(2026, 2, 13, 17), datetime(2026, 2, 24, 10)
    assert CAL.elapsed(a, b, WH) == 11  # 1 h Fri 13th, 9 h Sat 14th, 1 h Tue 24th
    assert CAL.elapsed(b, a, WH) == -11
    assert CAL.elapsed(a, b, H) == 11 * 24 - 7
    assert CAL.elapsed(a, b, CD) == pytest.approx((11 * 24 - 7) / 24)
    noon13, noon24 = datetime(2026, 2, 13, 12), datetime(2026, 2, 24, 12)
    assert CAL.elapsed(noon13, noon24, WD) == 2.0  # half of 13th + 14th + half of 24th
    assert CAL.elapsed(noon24, noon13, WD) == -2.0
    # Time on days off does not count; lateness after a Friday due date is tiny.
    assert CAL.elapsed(eod(2026, 2, 13), datetime(2026, 2, 14, 6), WD) == pytest.approx(
        0.25, abs=1e-4
    )
    assert CAL.elapsed(datetime(2026, 2, 16), datetime(2026, 2, 23, 23), WD) == 0.0


# ---------------------------------------------------------------- office settings


def test_office_closures_and_extra_working_days() -> None:
    closed = WorkCalendar(extra_closures=[date(2026, 9, 29), date(2026, 10, 10)])
    assert closed.add(datetime(2026, 9, 28, 10), 1, WD).at == eod(2026, 9, 30)
    assert closed.add(datetime(2026, 10, 9, 10), 1, WD).at == eod(2026, 10, 12)
    extra = WorkCalendar(extra_working_days=[date(2026, 10, 3)])
    assert extra.add(datetime(2026, 9, 30, 10), 1, WD).at == eod(2026, 10, 3)
    both = WorkCalendar(extra_closures=[date(2026, 10, 3)], extra_working_days=[date(2026, 10, 3)])
    assert not both.is_working_day(date(2026, 10, 3))  # closures win
    assert CAL.add(datetime(2026, 9, 28, 10), 1, WD).at == eod(2026, 9, 29)  # CAL untouched


def test_office_hours() -> None:
    cal = WorkCalendar(office_hours=OfficeHours(time(8, 30), time(17, 0)))
    assert cal.add(datetime(2026, 9, 30, 16), 2, WH).at == datetime(2026, 10, 8, 9, 30)
    with pytest.raises(ValueError):
        OfficeHours(time(18), time(9))
    with pytest.raises(ValueError):
        OfficeHours(time(9), time(9))


def test_other_country_and_bad_input() -> None:
    de = WorkCalendar("de")
    assert de.covers(2026) and de.covers(2060)
    assert de.workday(date(2026, 12, 24), 1) == date(2026, 12, 28)  # Christmas 25th/26th
    assert de.add(datetime(2026, 12, 24, 10), 1, "working_days") == Due(eod(2026, 12, 28))
    with pytest.raises(ValueError):
        WorkCalendar("XX")
    with pytest.raises(ValueError):
        CAL.add(datetime(2026, 1, 5), -1, H)
    with pytest.raises(ValueError):
        CAL.add(datetime(2026, 1, 5), math.nan, WD)
    with pytest.raises(ValueError):
        CAL.add(datetime(2026, 1, 5), 1, "fortnights")
    with pytest.raises(ValueError):
        CAL.add(datetime(2026, 1, 5, tzinfo=UTC), 1, H)
    with pytest.raises(ValueError):
        CAL.add(datetime(2026, 1, 5), 1, H, pauses=[(datetime(2026, 1, 6), datetime(2026, 1, 5))])
    assert CAL.add(date(2026, 9, 30), 1, WD).at == eod(2026, 10, 8)  # a date is midnight


# ---------------------------------------------------------------- uncovered years


def test_a_year_not_yet_published_counts_statutory_holidays_and_weekends_with_a_warning() -> None:
    w2027 = (CalendarWarning(MAKEUP_DAYS_UNPUBLISHED, 2027),)
    # 2027's notice is not out, but the Spring Festival is law: 除夕 Friday 02-05 to 初三
    # Monday 02-08 are off, so a case received on the eve is due a working day later, Tuesday
    # 02-09 (the package's guessed days off in lieu, 02-09 and 02-10, are not counted).
    assert CAL.add(datetime(2027, 2, 5, 10), 1, WD) == Due(eod(2027, 2, 9), w2027)
    assert CAL.add(datetime(2027, 3, 5, 10), 2, WH) == Due(datetime(2027, 3, 5, 12), w2027)
    assert CAL.add(datetime(2027, 3, 5, 10), 2, H).warnings == w2027
    assert CAL.add(datetime(2027, 3, 5, 10), 2, CD).warnings == w2027
    # Crossing into 2027 warns too; 2027-01-01 (a Friday) is 元旦, so the next working day is Monday.
    assert CAL.add(datetime(2026, 12, 31, 10), 1, WD) == Due(eod(2027, 1, 4), w2027)
    assert CAL.add(datetime(2026, 12, 31, 10), 1, H).warnings == ()
    # One warning per uncovered year touched, in order.
    far = CAL.add(datetime(2026, 12, 1), 300, WD)
    assert [w.year for w in far.warnings] == [2027, 2028]
    assert {w.code for w in far.warnings} == {MAKEUP_DAYS_UNPUBLISHED}
    # Pauses count as touched years.
    paused = CAL.add(
        datetime(2026, 12, 28, 10),
        1,
        CD,
        pauses=[(datetime(2026, 12, 28, 12), datetime(2027, 1, 3))],
    )
    assert paused == Due(eod(2027, 1, 4), w2027)
    assert CAL.warnings_between(date(2026, 1, 1), date(2027, 6, 1)) == w2027
    assert CAL.warnings_between(date(2025, 1, 1), date(2026, 6, 1)) == ()


def test_a_year_no_holiday_data_reaches_falls_back_to_weekends_with_a_warning() -> None:
    """Before the first notice in the data (2001), and after 2100, where the lunar calendar
    of ``holidays`` stops: weekends only."""
    assert CAL.add(datetime(1999, 5, 3), 1, WD).warnings == (CalendarWarning(YEAR_NOT_COVERED, 1999),)
    # 2101-01-01 is a Saturday; 1 working day later is Monday 01-03, 元旦 or not.
    assert CAL.add(datetime(2101, 1, 1), 1, WD) == Due(eod(2101, 1, 3), (CalendarWarning(YEAR_NOT_COVERED, 2101),))
    assert CAL.is_working_day(date(2101, 10, 3))  # a Monday, and no statutory data that far


# ---------------------------------------------------------------- pauses


def test_pauses_hand_checked() -> None:
    s = datetime(2026, 3, 2, 10)
    p = [(datetime(2026, 3, 2, 12), datetime(2026, 3, 2, 14))]
    assert CAL.add(s, 24, H, pauses=p).at == datetime(2026, 3, 3, 12)
    partly_before = [(datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 11))]
    assert CAL.add(s, 24, H, pauses=partly_before).at == datetime(2026, 3, 3, 11)
    overlapping = [
        (datetime(2026, 3, 2, 13), datetime(2026, 3, 2, 15)),
        (datetime(2026, 3, 2, 12), datetime(2026, 3, 2, 14)),
    ]
    assert CAL.add(s, 24, H, pauses=overlapping).at == datetime(2026, 3, 3, 13)
    after_due = [(datetime(2026, 3, 4), datetime(2026, 3, 9))]
    assert CAL.add(s, 24, H, pauses=after_due).at == datetime(2026, 3, 3, 10)
    # Working hours: 10-17 worked, paused over National Day, 1 h left on Oct 8th.
    wh = [(datetime(2026, 9, 30, 17), datetime(2026, 10, 8, 10))]
    assert CAL.add(datetime(2026, 9, 30, 10), 8, WH, pauses=wh).at == datetime(2026, 10, 8, 11)
    # Working days: 3 from Mon Sep 28 is Oct 8; the pause holds Sep 29, 30 and Oct 8.
    wd = [(datetime(2026, 9, 29, 9), datetime(2026, 10, 9, 9))]
    assert CAL.add(datetime(2026, 9, 28, 10), 3, WD, pauses=wd).at == eod(2026, 10, 12)
    # Calendar days: dates Sep 29, 30 and Oct 1 lie in the pause.
    cd = [(datetime(2026, 9, 29, 9), datetime(2026, 10, 2, 9))]
    assert CAL.add(datetime(2026, 9, 28, 10), 7, CD, pauses=cd).at == eod(2026, 10, 8)
    same_day = [(datetime(2026, 9, 29, 9), datetime(2026, 9, 29, 17))]
    assert CAL.add(datetime(2026, 9, 28, 10), 3, WD, pauses=same_day).at == eod(2026, 10, 8)


# ---------------------------------------------------------------- reference models

# Brute-force models that use only is_working_day, never the precomputed arrays.


def ref_workday(cal: WorkCalendar, d: date, n: int) -> date:
    step = 1 if n > 0 else -1
    while n:
        d += timedelta(days=step)
        if cal.is_working_day(d):
            n -= step
    return d


def ref_working_hours(cal: WorkCalendar, start: datetime, hours: float) -> datetime:
    left = timedelta(microseconds=round(hours * 3_600_000_000))
    if not left:
        return start
    t = start
    while True:
        d = t.date()
        if cal.is_working_day(d):
            o_start = datetime.combine(d, cal.office_hours.start)
            o_end = datetime.combine(d, cal.office_hours.end)
            begin = max(t, o_start)
            if begin < o_end:
                if begin + left <= o_end:
                    return begin + left
                left -= o_end - begin
        t = datetime.combine(d + timedelta(days=1), time(0))


def ref_clock_with_pauses(
    cal: WorkCalendar,
    start: datetime,
    hours: float,
    pauses: list[tuple[datetime, datetime]],
    office_only: bool,
) -> datetime:
    """Run a clock from ``start`` that stops during pauses (and outside office hours)."""
    left = timedelta(microseconds=round(hours * 3_600_000_000))
    if not left:
        return start
    t = start
    while True:
        d = t.date()
        next_day = datetime.combine(d + timedelta(days=1), time(0))
        if not office_only:
            running = [(t, next_day)]
        elif cal.is_working_day(d):
            o_start = datetime.combine(d, cal.office_hours.start)
            running = [(max(t, o_start), datetime.combine(d, cal.office_hours.end))]
        else:
            running = []
        for ps, pe in pauses:  # cut every pause out of the running time
            running = [
                piece
                for x, y in running
                for piece in ((x, min(y, ps)), (max(x, pe), y))
                if piece[0] < piece[1]
            ]
        for x, y in sorted(running):
            if x >= y:
                continue
            if x + left <= y:
                return x + left
            left -= y - x
        t = next_day


# ---------------------------------------------------------------- properties

PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
starts = st.datetimes(min_value=datetime(2024, 6, 1), max_value=datetime(2027, 6, 30))
whole_second_starts = starts.map(lambda t: t.replace(microsecond=0))
any_start = st.one_of(starts, whole_second_starts)
units = st.sampled_from(list(Unit))
amounts = st.one_of(
    st.integers(0, 40), st.floats(0, 200, allow_nan=False), st.sampled_from([0.5, 1.5, 2, 3, 9])
)


@st.composite
def pause_lists(draw: st.DrawFn, around: datetime) -> list[tuple[datetime, datetime]]:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        a = around + timedelta(minutes=draw(st.integers(-3 * 1440, 30 * 1440)))
        out.append((a, a + timedelta(minutes=draw(st.integers(0, 12 * 1440)))))
    return out


@PROPS
@given(any_start, st.integers(1, 60))
def test_prop_working_days_due_is_a_working_day(start: datetime, n: int) -> None:
    due = CAL.add(start, n, WD)
    assert due.at.time() == time(23, 59, 59)
    assert CAL.is_working_day(due.at.date())
    assert due.at.date() == ref_workday(CAL, start.date(), n)


@PROPS
@given(any_start, amounts, amounts, units)
def test_prop_more_time_never_earlier(start: datetime, a: float, b: float, unit: Unit) -> None:
    lo, hi = sorted((a, b))
    assert CAL.add(start, lo, unit).at <= CAL.add(start, hi, unit).at


@PROPS
@given(st.data(), any_start, amounts, amounts, units)
def test_prop_more_time_never_earlier_with_pauses(
    data: st.DataObject, start: datetime, a: float, b: float, unit: Unit
) -> None:
    pauses = data.draw(pause_lists(start))
    lo, hi = sorted((a, b))
    assert CAL.add(start, lo, unit, pauses=pauses).at <= CAL.add(start, hi, unit, pauses=pauses).at


@PROPS
@given(st.data(), any_start, amounts, units)
def test_prop_pauses_only_push_later(
    data: st.DataObject, start: datetime, amount: float, unit: Unit
) -> None:
    pauses = data.draw(pause_lists(start))
    plain = CAL.add(start, amount, unit).at
    paused = CAL.add(start, amount, unit, pauses=pauses).at
    assert paused >= plain
    more = pauses + data.draw(pause_lists(start))
    assert CAL.add(start, amount, unit, pauses=more).at >= paused  # adding a pause too
    if unit is H:  # wall clock: pushed by at most the total paused time
        total = sum((pe - ps for ps, pe in pauses), timedelta())
        assert paused - plain <= total


@PROPS
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2028, 12, 31)), st.integers(-400, 400))
def test_prop_workday_then_count_back(d: date, n: int) -> None:
    e = CAL.workday(d, n)
    assert CAL.working_days_between(d, e) == n
    assert e == ref_workday(CAL, d, n)


@PROPS
@given(st.data(), any_start, amounts, st.sampled_from([H, WH]))
def test_prop_pauses_stop_the_clock(
    data: st.DataObject, start: datetime, amount: float, unit: Unit
) -> None:
    pauses = data.draw(pause_lists(start))
    expected = ref_clock_with_pauses(CAL, start, amount, pauses, office_only=unit is WH)
    assert CAL.add(start, amount, unit, pauses=pauses).at == expected


@PROPS
@given(any_start, st.floats(0, 10_000, allow_nan=False))
def test_prop_hours_roundtrip(start: datetime, x: float) -> None:
    assert math.isclose(CAL.elapsed(start, CAL.add(start, x, H).at, H), x, abs_tol=1e-9)


@PROPS
@given(any_start, st.one_of(st.floats(0, 300, allow_nan=False), st.integers(0, 100)))
def test_prop_working_hours_match_reference_and_roundtrip(start: datetime, x: float) -> None:
    due = CAL.add(start, x, WH).at
    assert due == ref_working_hours(CAL, start, x)
    assert math.isclose(CAL.elapsed(start, due, WH), x, abs_tol=1e-9)


@PROPS
@given(any_start, any_start, any_start, units)
def test_prop_elapsed_is_monotonic_and_signed(
    a: datetime, b: datetime, c: datetime, unit: Unit
) -> None:
    t1, t2, t3 = sorted((a, b, c))
    e12, e23 = CAL.elapsed(t1, t2, unit), CAL.elapsed(t2, t3, unit)
    assert e12 >= 0 and e23 >= 0
    assert math.isclose(e12 + e23, CAL.elapsed(t1, t3, unit), rel_tol=1e-12, abs_tol=1e-9)
    assert CAL.elapsed(t3, t1, unit) == -CAL.elapsed(t1, t3, unit)


@pytest.mark.parametrize("amount", [0, 0.25, 1, 2.5, 9, 10, 40, 1e-7])
@pytest.mark.parametrize("unit", list(Unit))
def test_a_calendar_growing_its_span_as_it_goes_gives_what_a_grown_one_gives(amount: float, unit: Unit) -> None:
    # Every half hour over the National Day week and the turn of 2026/2027 (nights, days off,
    # the turn of a year), then times that send a fresh calendar's span backwards and forwards.
    first = [datetime(2026, 9, 29) + timedelta(minutes=30 * k) for k in range(11 * 48)]
    turn = [datetime(2026, 12, 30) + timedelta(minutes=30 * k) for k in range(5 * 48)]
    odd = [datetime(2026, 10, 8, 9, 0, 0, 1), date(2026, 10, 9), datetime(2001, 1, 1, 20)]
    fresh = WorkCalendar()
    assert [fresh.add(s, amount, unit) for s in first + turn + odd] == [
        CAL.add(s, amount, unit) for s in first + turn + odd]


@PROPS
@given(st.dates(min_value=date(2027, 1, 1), max_value=date(2030, 12, 31)), st.integers(1, 30))
def test_prop_unpublished_years_are_weekends_and_statutory_holidays(d: date, n: int) -> None:
    """The oracle: the package's own China holidays without its guessed days in lieu."""
    off = holidays.country_holidays("CN", years=range(d.year, d.year + 2), observed=False)
    due = CAL.add(datetime.combine(d, time(10)), n, WD)
    e, k = d, n
    while k:
        e += timedelta(days=1)
        k -= e.weekday() < 5 and e not in off
    assert due.at.date() == e
    assert due.warnings and all(w.code == MAKEUP_DAYS_UNPUBLISHED for w in due.warnings)


def test_span_grows_both_ways_consistently() -> None:
    cal = WorkCalendar()
    assert cal.workday(date(2026, 10, 9), 1) == date(2026, 10, 10)  # first build: 2025-2027
    assert cal.workday(date(2003, 5, 1), 5) == ref_workday(cal, date(2003, 5, 1), 5)
    assert cal.workday(date(2026, 1, 1), 2_000) == ref_workday(cal, date(2026, 1, 1), 2_000)
    assert cal.workday(date(2010, 1, 1), -500) == ref_workday(cal, date(2010, 1, 1), -500)
    s = datetime(2026, 9, 30, 17, 30)
    assert cal.add(s, 2, WH).at == datetime(2026, 10, 8, 10, 30)
    assert cal.add(s, 5_000, WH).at == ref_working_hours(cal, s, 5_000)


# ---------------------------------------------------------------- LibreOffice cross-check

_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def _china_nonworking_2025_2026() -> list[date]:
    """Every non-working date of 2025-2026, straight from the package (not WorkCalendar).

    With this list and weekend string "0000000", WORKDAY.INTL models 调休 exactly.
    """
    cn = holidays.China(years=[2025, 2026])
    out = []
    d = date(2025, 1, 1)
    while d.year <= 2026:
        weekend_off = d.weekday() >= 5 and d not in cn.weekend_workdays
        if weekend_off or d in cn:
            out.append(d)
        d += timedelta(days=1)
    return out


@pytest.mark.libreoffice
def test_workday_matches_libreoffice_workday_intl(tmp_path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) not on PATH")
    import xlsxwriter
    from openpyxl import load_workbook
    from openpyxl.utils.datetime import from_excel

    off = _china_nonworking_2025_2026()
    assert date(2026, 10, 10) not in off and date(2026, 10, 3) in off  # the list models 调休

    rng = random.Random(20260930)
    first, last = date(2025, 3, 1).toordinal(), date(2026, 10, 31).toordinal()
    cases = [(date.fromordinal(rng.randint(first, last)), rng.randint(-30, 30)) for _ in range(200)]
    cases += [
        (date(2026, 9, 30), 1),
        (date(2026, 9, 30), 3),
        (date(2026, 10, 3), 1),
        (date(2026, 10, 8), -1),
        (date(2026, 2, 13), 1),
        (date(2026, 2, 13), 2),
        (date(2026, 2, 27), 1),
        (date(2026, 2, 24), -2),
    ]

    src = tmp_path / "workday.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    hol = wb.add_worksheet("Hol")
    for r, d in enumerate(off):
        hol.write_datetime(r, 0, datetime.combine(d, time()), fmt)
    wb.define_name("Holidays", f"=Hol!$A$1:$A${len(off)}")
    ws = wb.add_worksheet("Cases")
    ws.write_row(0, 0, ["start", "n", "workday"])
    for r, (d, n) in enumerate(cases, start=1):
        ws.write_datetime(r, 0, datetime.combine(d, time()), fmt)
        ws.write_number(r, 1, n)
        ws.write_formula(r, 2, f'=WORKDAY.INTL(A{r + 1},B{r + 1},"0000000",Holidays)', fmt)
    wb.close()

    profile = tmp_path / "lo-profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_PROFILE)
    out_dir = tmp_path / "out"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out_dir),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )

    sheet = load_workbook(out_dir / "workday.xlsx", data_only=True)["Cases"]
    mismatches = []
    for r, (d, n) in enumerate(cases, start=2):
        value = sheet.cell(r, 3).value
        lo_result = (value if isinstance(value, datetime) else from_excel(value)).date()
        assert date(2025, 1, 1) <= lo_result <= date(2026, 12, 31)  # inside the listed years
        if CAL.workday(d, n) != lo_result:
            mismatches.append((d, n, lo_result, CAL.workday(d, n)))
    assert not mismatches


# ---------------------------------------------------------------- statutory holidays of unpublished years


def test_statutory_days_of_a_published_year_are_all_days_off_in_its_notice() -> None:
    """The declared holidays check against what the State Council actually gave in the
    years since the 2025 amendment: every statutory day was a day off, 13 a year."""
    from xlcomplaints.core.statutory import statutory_days

    for year in (2025, 2026):
        days = statutory_days(year)
        assert days is not None and len(days) == 13
        assert not any(CAL.is_working_day(d) for d in days), year


@settings(max_examples=40, deadline=None)
@given(st.integers(2027, 2100))
def test_prop_statutory_days_are_the_packages_holidays_without_days_in_lieu(year: int) -> None:
    from xlcomplaints.core.statutory import statutory_days

    expected = set(holidays.country_holidays("CN", years=year, observed=False))
    assert statutory_days(year) == expected  # 13 days, or 12 when 中秋 falls on 国庆 (2031)
    assert not any(CAL.is_working_day(d) for d in expected)


def test_the_unpublished_year_warning_says_so_in_both_languages() -> None:
    from xlcomplaints.core import refresh  # noqa: F401  (registers the calendar messages)
    from xlcomplaints.core.problems import render

    zh = render(MAKEUP_DAYS_UNPUBLISHED, "zh", {"year": 2027})
    en = render(MAKEUP_DAYS_UNPUBLISHED, "en", {"year": 2027})
    assert "2027" in zh and "调休" in zh and "2027" in en and "make-up" in en
