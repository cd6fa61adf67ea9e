"""Working days and due times, from the ``holidays`` package's China data and the workbook's Calendar.

Written from docs/sheets.md's unit rules and the lead's issue-16 rules, not from
``xlcomplaints/core/calendar/``:

- hours: wall clock; working_hours: only office hours (Settings) on working days count;
- calendar_days / working_days: due at the end (23:59:59) of the last day; the day of
  receipt is not counted; 0 working days is the end of the day of receipt; a fractional
  day limit is rounded up;
- a working day: not a weekend or State Council holiday unless a make-up day (调休), then
  the Calendar sheet's own closures (休息) and extra working days (上班);
- a pause moves a due time by the pause measured in the rule's unit: wall-clock hours,
  office hours, or the days (working days for working_days) whose date lies from the
  pause's first date up to, not including, its last date (a Friday-17:00-to-Monday pause
  adds one working day, a same-day pause none); a pause that begins once the due time has
  passed changes nothing;
- "working days" as an elapsed time: 24 hours per working day, closed days not counted.
"""

from __future__ import annotations

import functools
import math
from datetime import date, datetime, time, timedelta

import holidays

EOD = time(23, 59, 59)
DAY = timedelta(days=1)


@functools.cache
def _china(year: int) -> tuple[frozenset[date], frozenset[date]]:
    h = holidays.China(years=year)
    return frozenset(h), frozenset(d for d in getattr(h, "weekend_workdays", ()) if d.year == year)


class Clock:
    def __init__(self, office_start: time, office_end: time, closures: set[date], working: set[date]) -> None:
        self.start, self.end = office_start, office_end
        self.closures, self.working = closures, working

    def is_working(self, d: date) -> bool:
        if d in self.closures:
            return False
        if d in self.working:
            return True
        off, makeup = _china(d.year)
        if d in makeup:
            return True
        return d.weekday() < 5 and d not in off

    # ---- due times
    def due(self, anchor: datetime, amount: float, unit: str, pauses: list[tuple[datetime, datetime]]) -> datetime:
        pauses = _merge(anchor, pauses)
        if unit == "hours":
            at = anchor + timedelta(hours=amount)
            for ps, pe in pauses:
                if ps >= at:
                    break
                at += pe - ps
            return at
        if unit == "working_hours":
            target = amount
            at = self._office_instant(anchor, target)
            for ps, pe in pauses:
                if ps >= at:
                    break
                target += self.office_hours(ps, pe)
                at = self._office_instant(anchor, target)
            return at
        n = math.ceil(amount - 1e-9) if amount != int(amount) else int(amount)
        d = anchor.date()
        d = d + timedelta(days=n) if unit == "calendar_days" else self.workday(d, n)
        at = datetime.combine(d, EOD)
        for ps, pe in pauses:
            if ps >= at:
                break
            if unit == "calendar_days":
                d += timedelta(days=(pe.date() - ps.date()).days)
            else:
                days = sum(1 for i in range((pe.date() - ps.date()).days)
                           if self.is_working(ps.date() + timedelta(days=i)))
                d = self.workday(d, days)
            at = datetime.combine(d, EOD)
        return at

    def workday(self, d: date, n: int) -> date:
        """The n-th working day after d (d itself when n is 0), like WORKDAY."""
        while n > 0:
            d += DAY
            if self.is_working(d):
                n -= 1
        return d

    # ---- elapsed times
    def office_hours(self, a: datetime, b: datetime) -> float:
        """Office hours on working days between two instants."""
        total = 0.0
        d = a.date()
        while d <= b.date():
            if self.is_working(d):
                lo = max(a, datetime.combine(d, self.start))
                hi = min(b, datetime.combine(d, self.end))
                if hi > lo:
                    total += (hi - lo).total_seconds() / 3600
            d += DAY
        return total

    def _office_instant(self, anchor: datetime, hours: float) -> datetime:
        """The earliest instant at which ``hours`` office hours have passed since the anchor."""
        left = timedelta(hours=hours)
        d = anchor.date()
        while True:
            if self.is_working(d):
                lo = max(anchor, datetime.combine(d, self.start))
                hi = datetime.combine(d, self.end)
                if hi > lo:
                    if hi - lo >= left:
                        return lo + left
                    left -= hi - lo
            d += DAY

    def working_days_elapsed(self, a: datetime, b: datetime) -> float:
        """Working days between two instants, a working day counting its whole 24 hours."""
        total = 0.0
        d = a.date()
        while d <= b.date():
            if self.is_working(d):
                lo = max(a, datetime.combine(d, time()))
                hi = min(b, datetime.combine(d + DAY, time()))
                if hi > lo:
                    total += (hi - lo).total_seconds() / 86400
            d += DAY
        return total

    def elapsed(self, a: datetime, b: datetime, unit: str) -> float:
        if unit == "hours":
            return (b - a).total_seconds() / 3600
        if unit == "calendar_days":
            return (b - a).total_seconds() / 86400
        if unit == "working_hours":
            return self.office_hours(a, b)
        return self.working_days_elapsed(a, b)


def _merge(anchor: datetime, pauses: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Pauses cut to their part after the anchor, in order, overlapping ones merged."""
    cut = sorted((max(ps, anchor), pe) for ps, pe in pauses if pe > anchor)
    out: list[tuple[datetime, datetime]] = []
    for ps, pe in cut:
        if out and ps <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], pe))
        else:
            out.append((ps, pe))
    return out
