"""The report auditor's own calendar (tests/audit/clock.py) keeps the office rules it audits with.

Its due times agree with every refreshed due time of the demo (tests/test_report_audit.py); these
pin the rules themselves, each computed by hand on the 2026 State Council calendar.
"""

from __future__ import annotations

from datetime import date, datetime, time

from tests.audit.clock import Clock

OFFICE = (time(9), time(18))


def clock(closures: set[date] | None = None) -> Clock:
    return Clock(*OFFICE, closures or set(), set())


def test_national_day_is_closed_and_its_make_up_saturday_is_a_working_day() -> None:
    """2026: 1–7 October off; Sunday 20 September and Saturday 10 October are make-up working days (调休)."""
    c = clock()
    assert not any(c.is_working(date(2026, 10, d)) for d in range(1, 8))
    assert c.is_working(date(2026, 9, 20)) and c.is_working(date(2026, 10, 10))
    assert not c.is_working(date(2026, 10, 11))


def test_three_working_days_skip_the_holiday_and_not_the_day_of_receipt() -> None:
    """Received Tue 29 Sep 14:00; the day of receipt is not counted: 30 Sep, 8 Oct, 9 Oct → due 9 Oct 23:59:59."""
    assert clock().due(datetime(2026, 9, 29, 14), 3, "working_days", []) == datetime(2026, 10, 9, 23, 59, 59)


def test_zero_working_days_is_the_end_of_the_day_and_fractions_round_up() -> None:
    """0 working days: the end of the day of receipt; 0.5 working days counts as 1 (unlike WORKDAY)."""
    c = clock()
    assert c.due(datetime(2026, 10, 15, 10), 0, "working_days", []) == datetime(2026, 10, 15, 23, 59, 59)
    assert c.due(datetime(2026, 10, 15, 10), 0.5, "working_days", []) == datetime(2026, 10, 16, 23, 59, 59)


def test_a_pause_over_the_weekend_adds_a_working_day_a_same_day_pause_none() -> None:
    """Received Thu 15 Oct: 3 working days → Tue 20 Oct. Waiting for the customer from Fri 16 Oct 17:00
    to Mon 19 Oct 09:00 covers one working date (Friday) → Wed 21 Oct; 10:00–15:00 on Friday, none."""
    c = clock()
    received = datetime(2026, 10, 15, 10)
    assert c.due(received, 3, "working_days", []) == datetime(2026, 10, 20, 23, 59, 59)
    weekend = [(datetime(2026, 10, 16, 17), datetime(2026, 10, 19, 9))]
    assert c.due(received, 3, "working_days", weekend) == datetime(2026, 10, 21, 23, 59, 59)
    same_day = [(datetime(2026, 10, 16, 10), datetime(2026, 10, 16, 15))]
    assert c.due(received, 3, "working_days", same_day) == datetime(2026, 10, 20, 23, 59, 59)


def test_working_hours_count_office_hours_only() -> None:
    """2 working hours from Fri 16 Oct 17:30 (office 09:00–18:00): half an hour on Friday, 1.5 on Monday."""
    assert clock().due(datetime(2026, 10, 16, 17, 30), 2, "working_hours", []) == datetime(2026, 10, 19, 10, 30)


def test_the_offices_own_closure_moves_the_deadline() -> None:
    """The Calendar sheet closes Mon 19 Oct: 3 working days from Thu 15 Oct are 16, 20, 21 Oct."""
    c = clock({date(2026, 10, 19)})
    assert c.due(datetime(2026, 10, 15, 10), 3, "working_days", []) == datetime(2026, 10, 21, 23, 59, 59)


def test_working_days_elapsed_count_24_hours_per_working_day() -> None:
    """Fri 16 Oct 12:00 to Mon 19 Oct 12:00: half of Friday and half of Monday, the weekend not counted."""
    assert clock().elapsed(datetime(2026, 10, 16, 12), datetime(2026, 10, 19, 12), "working_days") == 1.0
