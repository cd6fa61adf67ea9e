"""``WorkCalendar``: working days, clocks and deadline arithmetic of one office.

One module over 400 lines: ``WorkCalendar`` is one class whose per-date tables, clocks and deadlines share its private state.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from xlcomplaints.core.calendar.holiday_data import (
    _country,
    _country_year_flags,
    _longest_run,
    _statutory,
)
from xlcomplaints.core.calendar.pauses import _merge_pauses
from xlcomplaints.core.calendar.units import (
    _CAL_DAYS,
    _EOD,
    _HOURS,
    _INF,
    _MAX_YEAR,
    _MIN_YEAR,
    _ONE_DAY,
    _ONE_HOUR,
    _T,
    _US_PER_DAY,
    _US_PER_HOUR,
    _US_PER_SEC,
    _WORK_DAYS,
    _WORK_HOURS,
    MAKEUP_DAYS_UNPUBLISHED,
    YEAR_NOT_COVERED,
    CalendarWarning,
    CalendarWarningCode,
    Due,
    OfficeHours,
    Unit,
    _as_datetime,
    _check_amount,
    _date_only,
    _office_delta,
    _us_of_day,
    _us_of_time,
    _whole_days,
)

#: End-of-day dues a calendar remembers at most (~270 years of dates, a few MiB).
_EOD_DUES_MAX = 100_000


class WorkCalendar:
    """Working days of one country plus the office's own closures and extra days.

    Per-date data is precomputed into flat arrays indexed by date ordinal for a span
    of whole years that is built lazily and widened on demand, so ``workday`` and
    day-unit ``add`` are O(1) after warm-up.  Instances are not thread-safe while
    the span grows.
    """

    def __init__(
        self,
        country: str = "CN",
        *,
        extra_closures: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        office_hours: OfficeHours = OfficeHours(),  # noqa: B008 - frozen, safe default
    ) -> None:
        code = country.strip().upper()
        self._hol, self._weekend, self._covered = _country(code)
        self.country = code
        self.office_hours = office_hours
        self._closures = frozenset(_date_only(d) for d in extra_closures)
        self._extra = frozenset(_date_only(d) for d in extra_working_days) - self._closures
        self._os_us = _us_of_time(office_hours.start)
        self._len_us = _us_of_time(office_hours.end) - self._os_us
        self._os_s = self._os_us // _US_PER_SEC
        self._len_s = self._len_us // _US_PER_SEC
        self._year_flags: dict[int, bytes] = {}
        self._warn_cache: dict[tuple[int, int], tuple[CalendarWarning, ...]] = {}
        self._eod_cache: dict[int, Due] = {}  # warning-free end-of-day dues by date ordinal
        self._td_cache: dict[float, timedelta] = {}
        self._wh_cache: dict[float, tuple[int, timedelta, int | None]] = {}
        self._day_start: dict[int, datetime] = {}
        self._offset_s: dict[int, timedelta] = {}
        # The longest run of covered years, for a two-comparison "no warning" check.
        lo, hi = _longest_run(self._covered)
        self._cov_lo = date(lo, 1, 1).toordinal() if lo <= hi else 1
        self._cov_hi = date(hi, 12, 31).toordinal() if lo <= hi else 0
        self._cov_lo_dt = datetime(lo, 1, 1) if lo <= hi else datetime.max
        self._cov_hi_dt = datetime.min if hi < lo else datetime.max
        if lo <= hi < _MAX_YEAR:
            self._cov_hi_dt = datetime(hi + 1, 1, 1)
        # Span [y0, y1] of whole years; built on first use.
        self._y0 = 0
        self._y1 = -1
        self._base = 0  # ordinal of Jan 1 of y0
        self._n = 0  # number of dates in the span
        self._work = b""  # 1 if working, per date index
        self._cum: list[int] = [0]  # working days strictly before each index; len n+1
        self._wd: list[int] = []  # ordinals of working days in the span, ascending

    # ------------------------------------------------------------------ per-date data

    def covers(self, year: int) -> bool:
        """Whether the holiday data has the official schedule for ``year``."""
        return year in self._covered

    def is_working_day(self, d: date) -> bool:
        """Office closures win over everything, then office extra days, then holiday data."""
        d = _date_only(d)
        if d in self._closures:
            return False
        if d in self._extra:
            return True
        if d.year in self._covered:
            return bool(self._hol.is_working_day(d))
        return d.weekday() not in self._weekend and d not in (_statutory(self.country, d.year, self._covered) or ())

    def _flags_for_year(self, year: int) -> bytes:
        """The country's flags for the year (shared by every calendar), then this office's days."""
        flags = self._year_flags.get(year)
        if flags is None:
            own = [d for d in (*self._closures, *self._extra) if d.year == year]
            if own:
                patched = bytearray(_country_year_flags(self.country, year))
                first = date(year, 1, 1).toordinal()
                for d in own:
                    patched[d.toordinal() - first] = d in self._extra
                flags = bytes(patched)
            else:
                flags = _country_year_flags(self.country, year)
            self._year_flags[year] = flags
        return flags

    def _cover_years(self, y_lo: int, y_hi: int) -> None:
        """Make the span include years ``y_lo..y_hi``, growing it geometrically.

        Growing forward keeps ``_base`` and every existing ``_cum`` value, which the
        working-hours code relies on once it has indexed the start date.
        """
        if self._y0 <= y_lo and y_hi <= self._y1:
            return
        if y_lo < _MIN_YEAR or y_hi > _MAX_YEAR:
            raise OverflowError("date out of the supported range (years 1..9999)")
        if self._y1 < self._y0:  # empty span
            new_lo, new_hi = y_lo - 1, y_hi + 1
        else:
            grow = max(1, (self._y1 - self._y0 + 1) // 2)
            new_lo = min(self._y0, y_lo - grow) if y_lo < self._y0 else self._y0
            new_hi = max(self._y1, y_hi + grow) if y_hi > self._y1 else self._y1
        new_lo = max(_MIN_YEAR, new_lo)
        new_hi = min(_MAX_YEAR, new_hi)
        work = b"".join(self._flags_for_year(y) for y in range(new_lo, new_hi + 1))
        base = date(new_lo, 1, 1).toordinal()
        cum = list(itertools.accumulate(work, initial=0))
        wd = list(itertools.compress(range(base, base + len(work)), work))
        self._y0, self._y1, self._base, self._n = new_lo, new_hi, base, len(work)
        self._work, self._cum, self._wd = work, cum, wd

    def _index(self, ordinal: int) -> int:
        """Index of a date ordinal in the span, growing the span if needed."""
        i = ordinal - self._base
        if 0 <= i < self._n:
            return i
        y = date.fromordinal(ordinal).year
        self._cover_years(y, y)
        return ordinal - self._base

    def _wd_at(self, j: int) -> int:
        """Ordinal of the j-th working day of the span (j may run past either end)."""
        while j >= len(self._wd):
            missing = j - len(self._wd) + 1
            self._cover_years(self._y1 + 1, self._y1 + 1 + missing // 200)
        while j < 0:
            before = len(self._wd)
            self._cover_years(self._y0 - 1 - (-j) // 200, self._y0 - 1)
            j += len(self._wd) - before
        return self._wd[j]

    # ------------------------------------------------------------------ warnings

    def warnings_between(self, first: date, last: date) -> tuple[CalendarWarning, ...]:
        """One warning per uncovered year from ``first`` to ``last`` (either order).

        ``add`` attaches these itself; callers of ``workday`` and ``elapsed`` use this
        to learn whether a result rests on the weekends-only fallback.
        """
        return self._warnings(first.year, last.year)

    def _warnings(self, y_a: int, y_b: int) -> tuple[CalendarWarning, ...]:
        if y_a == y_b and y_a in self._covered:
            return ()
        key = (y_a, y_b) if y_a <= y_b else (y_b, y_a)
        found = self._warn_cache.get(key)
        if found is None:
            found = tuple(
                CalendarWarning(self._uncovered_code(y), y)
                for y in range(key[0], key[1] + 1)
                if y not in self._covered
            )
            self._warn_cache[key] = found
        return found

    def _uncovered_code(self, year: int) -> CalendarWarningCode:
        """What an uncovered year's due times rest on: statutory holidays, or weekends only."""
        if _statutory(self.country, year, self._covered) is not None:
            return MAKEUP_DAYS_UNPUBLISHED
        return YEAR_NOT_COVERED

    def _eod(self, ordinal: int) -> Due:
        """Shared (immutable) warning-free Due at 23:59:59 of a date."""
        due = self._eod_cache.get(ordinal)
        if due is None:
            due = Due(datetime.combine(date.fromordinal(ordinal), _EOD))
            if len(self._eod_cache) < _EOD_DUES_MAX:
                self._eod_cache[ordinal] = due
        return due

    # ------------------------------------------------------------------ day counting

    def workday(self, d: date, n: int) -> date:
        """Like Excel ``WORKDAY(d, n)``: the n-th working day after (n<0: before) ``d``.

        ``d`` itself is not counted and need not be a working day; ``n == 0`` returns
        ``d``; a non-integer ``n`` is truncated toward zero as Excel does.
        """
        return date.fromordinal(self._workday_ord(d.toordinal(), int(n)))

    def _workday_ord(self, ordinal: int, n: int) -> int:
        if n == 0:
            return ordinal
        i = self._index(ordinal)
        if n > 0:
            return self._wd_at(self._cum[i + 1] + n - 1)
        return self._wd_at(self._cum[i] + n)

    def working_days_between(self, a: date, b: date) -> int:
        """Signed count of working days between ``a`` and ``b``, excluding ``a``, including ``b``.

        The inverse of :meth:`workday`: ``working_days_between(d, workday(d, n)) == n``.
        """
        oa, ob = a.toordinal(), b.toordinal()
        self._cover_years(min(a.year, b.year), max(a.year, b.year))
        ia, ib = oa - self._base, ob - self._base
        if ob >= oa:
            return self._cum[ib + 1] - self._cum[ia + 1]
        return self._cum[ib] - self._cum[ia]

    def _working_days_in(self, first: date, stop: date) -> int:
        """Working days whose date lies in ``[first, stop)`` (dates of datetimes)."""
        self._cover_years(first.year, stop.year)
        return self._cum[stop.toordinal() - self._base] - self._cum[first.toordinal() - self._base]

    # ------------------------------------------------------------------ clocks

    def _w(self, t: datetime) -> int:
        """Office microseconds from the span base to ``t`` (span must contain t)."""
        i = t.toordinal() - self._base
        w = self._cum[i] * self._len_us
        if self._work[i]:
            s = _us_of_day(t) - self._os_us
            if s > 0:
                w += s if s < self._len_us else self._len_us
        return w

    def _w_inverse(self, target: int) -> datetime:
        """Earliest instant at which ``_w`` reaches ``target`` (> 0)."""
        q, r = divmod(target, self._len_us)
        if r == 0:
            q -= 1
            r = self._len_us
        return self._office_instant(self._wd_at(q), r)

    def _d(self, t: datetime) -> int:
        """Working-day clock in microseconds: a working day counts its whole 24 h."""
        i = t.toordinal() - self._base
        v = self._cum[i] * _US_PER_DAY
        if self._work[i]:
            v += _us_of_day(t)
        return v

    def elapsed(self, start: datetime, end: datetime, unit: Unit) -> float:
        """Time from ``start`` to ``end`` in ``unit``; negative when ``end < start``.

        HOURS: exact hours.  CALENDAR_DAYS: exact days as a float.  WORKING_HOURS:
        office hours on working days in between.  WORKING_DAYS: working time in days,
        each working day counting 1.0 for its whole 24 h (non-working days count 0),
        so it grows steadily through a working day and stands still otherwise.  It
        measures lateness; it is not the inverse of ``add`` for day units, whose
        count starts on the next working day.
        """
        if start.__class__ is not datetime or start.tzinfo is not None:
            start = _as_datetime(start)
        if end.__class__ is not datetime or end.tzinfo is not None:
            end = _as_datetime(end)
        if unit.__class__ is not Unit:  # an Enum call costs more than the arithmetic below
            unit = Unit(unit)
        if unit is _HOURS:
            return (end - start) / _ONE_HOUR
        if unit is _CAL_DAYS:
            return (end - start) / _ONE_DAY
        self._cover_years(min(start, end).year, max(start, end).year)
        if unit is _WORK_HOURS:
            return (self._w(end) - self._w(start)) / _US_PER_HOUR
        return (self._d(end) - self._d(start)) / _US_PER_DAY

    # ------------------------------------------------------------------ deadlines

    def add(
        self,
        start: datetime,
        amount: float,
        unit: Unit,
        *,
        pauses: Sequence[tuple[datetime, datetime]] = (),
    ) -> Due:
        """Due time of a deadline of ``amount`` ``unit`` from ``start`` (see module doc).

        ``unit`` may also be the plain string value (``"working_days"``).  Written
        for speed (it runs once per case and stage): locals instead of helpers.
        """
        if start.__class__ is not datetime or start.tzinfo is not None:
            start = _as_datetime(start)
        if not 0 <= amount < _INF:
            _check_amount(amount)
        if pauses:
            return self._add_paused(start, amount, Unit(unit), pauses)
        if unit is _WORK_DAYS or unit is _CAL_DAYS:
            n = int(amount)
            if n != amount:
                n = _whole_days(amount)
            o = start.toordinal()
            if unit is _CAL_DAYS:
                od = o + n
            elif n:
                i = o - self._base
                if not 0 <= i < self._n:
                    i = self._index(o)
                j = self._cum[i + 1] + n - 1
                wd = self._wd
                od = wd[j] if j < len(wd) else self._wd_at(j)
            else:
                od = o
            due = self._eod_cache.get(od) or self._eod(od)
            if self._cov_lo <= o and od <= self._cov_hi:
                return due
            return Due(due.at, self._warnings(start.year, due.at.year))
        if unit is _HOURS:
            td = self._td_cache.get(amount)
            if td is None:
                td = self._cache_amount(self._td_cache, amount, timedelta(hours=amount))
            at = start + td
        elif unit is _WORK_HOURS:
            wh = self._wh_cache.get(amount)
            if wh is None:
                wh = self._cache_amount(self._wh_cache, amount, _office_delta(amount))
            at = self._add_working_hours(start, *wh)
        else:
            return self.add(start, amount, Unit(unit))  # a plain string, or ValueError
        if self._cov_lo_dt <= start and at < self._cov_hi_dt:
            return Due(at)
        return Due(at, self._warnings(start.year, at.year))

    @staticmethod
    def _cache_amount(cache: dict[float, _T], amount: float, value: _T) -> _T:
        """Remember per-amount constants; workbooks use a handful of amounts."""
        if len(cache) < 256:
            cache[amount] = value
        return value

    def _add_working_hours(
        self, start: datetime, delta: int, as_timedelta: timedelta, delta_s: int | None
    ) -> datetime:
        """``start`` plus ``delta`` office microseconds.

        The usual case (whole-second start and amount) runs on small integers of
        seconds, which are several times faster than microsecond big integers here;
        anything finer takes the exact microsecond path.
        """
        if delta == 0:
            return start
        o = start.toordinal()
        i = o - self._base
        if not 0 <= i < self._n:
            i = self._index(o)
        if delta_s is None or start.microsecond:
            return self._w_inverse(self._w(start) + delta)
        length = self._len_s
        w = self._cum[i] * length
        if self._work[i]:
            x = (start.hour * 60 + start.minute) * 60 + start.second - self._os_s
            if x >= 0 and x + delta_s <= length:  # ends the same office day: wall clock
                return start + as_timedelta
            if x > 0:
                w += x if x < length else length
        q, r = divmod(w + delta_s, length)
        if r == 0:  # exactly at the end of a working day: that day, not the next
            q -= 1
            r = length
        wd = self._wd
        day = wd[q] if q < len(wd) else self._wd_at(q)
        td = self._offset_s.get(r)
        if td is None:
            td = timedelta(seconds=r)
            if len(self._offset_s) < 65_536:
                self._offset_s[r] = td
        day_start = self._day_start.get(day)
        if day_start is None:
            day_start = self._day_start_of(day)
        return day_start + td

    def _office_instant(self, ordinal: int, r: int) -> datetime:
        """The instant ``r`` microseconds after office start on date ``ordinal``."""
        day_start = self._day_start.get(ordinal) or self._day_start_of(ordinal)
        return day_start + timedelta(microseconds=r)

    def _day_start_of(self, ordinal: int) -> datetime:
        day_start = datetime.combine(date.fromordinal(ordinal), self.office_hours.start)
        self._day_start[ordinal] = day_start
        return day_start

    def _add_paused(
        self,
        start: datetime,
        amount: float,
        unit: Unit,
        pauses: Sequence[tuple[datetime, datetime]],
    ) -> Due:
        merged = _merge_pauses(start, pauses)
        last_year = start.year
        if unit is _HOURS:
            at = start + timedelta(hours=amount)
            for ps, pe in merged:
                if ps >= at:
                    break
                at += pe - ps
                last_year = max(last_year, pe.year)
        elif unit is _WORK_HOURS:
            at = self._add_working_hours(start, *_office_delta(amount))
            if merged:
                self._cover_years(start.year, merged[-1][1].year)
                target = self._w(at)
                for ps, pe in merged:
                    if ps >= at:
                        break
                    pushed = self._w(pe) - self._w(ps)
                    if pushed:
                        target += pushed
                        at = self._w_inverse(target)
                    last_year = max(last_year, pe.year)
        else:
            if unit is _WORK_DAYS:
                o = self._workday_ord(start.toordinal(), _whole_days(amount))
            else:
                o = start.toordinal() + _whole_days(amount)
            at = datetime.combine(date.fromordinal(o), _EOD)
            for ps, pe in merged:
                if ps >= at:
                    break
                if unit is _WORK_DAYS:
                    o = self._workday_ord(o, self._working_days_in(ps, pe))
                else:
                    o += pe.toordinal() - ps.toordinal()
                at = datetime.combine(date.fromordinal(o), _EOD)
                last_year = max(last_year, pe.year)
        return Due(at, self._warnings(start.year, max(last_year, at.year)))
