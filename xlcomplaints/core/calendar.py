"""Working-day calendar and deadline arithmetic for complaint handling.

Deadlines are set in four units (:class:`Unit`).  Chinese offices follow the State
Council holiday schedule, which moves working days onto weekends (调休, e.g. Saturday
2026-10-10 is a working day while 2026-10-01..07 are off), so "working day" cannot be
"Monday to Friday".  Holiday data comes from the ``holidays`` package.

Coverage.  A year is *covered* when the package has the official schedule for it.
For China that is a year with a State Council notice in the package (the keys of
``special_public_holidays``: make-up days exist only in the notice, the package's
rule-based guess for later years has none).  For other countries every year the
package supports is covered.

For a Chinese year after the published ones (2027 today) the statutory holidays
themselves are law and known in advance (``core/statutory.py``: 元旦, 春节, 清明, 劳动节,
端午, 中秋, 国庆, the lunar ones computed by ``holidays``): they are days off, weekends
are off as usual, and the result carries a ``calendar.makeup_days_unpublished`` warning,
since the notice's make-up working days (调休) and days off in lieu are not known yet.
For any other uncovered year we fall back to "weekends off, everything else working"
and return a ``calendar.year_not_covered`` warning.  Both err towards *earlier* due
dates (fewer days off than the notice will give), so cases are flagged too early
rather than too late, and never silently.

All datetimes are naive local wall-clock times (what Excel stores).

Unit semantics of :meth:`WorkCalendar.add` (``amount >= 0``):

* ``HOURS``: wall clock, ``start + amount`` hours.
* ``CALENDAR_DAYS``: end of day (23:59:59) of ``start.date() + amount`` days.
* ``WORKING_DAYS``: end of day (23:59:59) of ``workday(start.date(), amount)``: the
  count starts on the next working day, like Excel's WORKDAY, whatever time or kind
  of day the case arrived on.  ``amount == 0`` means the end of the start day.
  Day amounts that are not whole are rounded up (float noise below 1e-9 ignored).
* ``WORKING_HOURS``: only time inside office hours on working days counts; the due
  time is the earliest instant at which that much office time has passed (so 2 h from
  16:00 is 18:00 the same day, not 09:00 the next).

Pauses (waiting on the customer, 冷处理) stop the clock.  Pauses are cut to their part
after ``start`` and overlapping ones merged; then, in order, each pause that begins before
the current due time pushes it later by the pause measured in the deadline's unit:
wall-clock hours (HOURS), office hours inside the pause (WORKING_HOURS), or the number
of days -- working days for WORKING_DAYS -- whose date lies in
``[pause start date, pause end date)`` (day units; a pause that begins and ends on
the same date therefore moves no day deadline).  A pause never pulls a due time
earlier, and one that starts once the due time has passed changes nothing.

:meth:`WorkCalendar.elapsed` measures time between two instants in a unit (for "how
late"); :meth:`WorkCalendar.workday` is Excel's WORKDAY.  Results that rest on an
uncovered year carry warnings in ``Due``; for ``workday``/``elapsed`` ask
:meth:`WorkCalendar.warnings_between`.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar

import holidays

from xlcomplaints.core.statutory import statutory_days

__all__ = [
    "MAKEUP_DAYS_UNPUBLISHED",
    "YEAR_NOT_COVERED",
    "CalendarWarningCode",
    "CalendarWarning",
    "Due",
    "OfficeHours",
    "Unit",
    "WorkCalendar",
]



class CalendarWarningCode(StrEnum):
    """Why a due time rests on something other than the State Council's published schedule."""

    #: No holiday data for the year: weekends are the only days off.
    YEAR_NOT_COVERED = "calendar.year_not_covered"
    #: A Chinese year not published yet: statutory holidays and weekends off, 调休 not known.
    MAKEUP_DAYS_UNPUBLISHED = "calendar.makeup_days_unpublished"


YEAR_NOT_COVERED = CalendarWarningCode.YEAR_NOT_COVERED
MAKEUP_DAYS_UNPUBLISHED = CalendarWarningCode.MAKEUP_DAYS_UNPUBLISHED

_US_PER_SEC = 1_000_000
_US_PER_HOUR = 3_600 * _US_PER_SEC
_US_PER_DAY = 86_400 * _US_PER_SEC
_EOD = time(23, 59, 59)
_ONE_HOUR = timedelta(hours=1)
_ONE_DAY = timedelta(days=1)
_INF = math.inf
_MIN_YEAR = 1
_MAX_YEAR = 9999
_T = TypeVar("_T")


class Unit(StrEnum):
    """Unit of a handling deadline, as written in the workbook's Settings."""

    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"


# Module-level aliases: identity checks against these are faster than enum attribute
# lookups in the hot path.
_HOURS = Unit.HOURS
_CAL_DAYS = Unit.CALENDAR_DAYS
_WORK_DAYS = Unit.WORKING_DAYS
_WORK_HOURS = Unit.WORKING_HOURS


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """One block of office time per working day (no lunch break is modelled)."""

    start: time = time(9, 0)
    end: time = time(18, 0)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("office hours must be naive local times")
        if not self.start < self.end:
            raise ValueError(f"office hours start {self.start} must be before end {self.end}")
        if self.start.microsecond or self.end.microsecond:
            raise ValueError("office hours must be whole seconds")


@dataclass(frozen=True, slots=True)
class CalendarWarning:
    """Something the caller must tell the user; ``code`` is translated by the caller."""

    code: str
    year: int


@dataclass(frozen=True, slots=True)
class Due:
    """A computed due time plus the warnings that qualify it."""

    at: datetime
    warnings: tuple[CalendarWarning, ...] = ()


_new = object.__new__
_set_at = Due.at.__set__  # type: ignore[attr-defined, misc]  # slot descriptors
_set_warnings = Due.warnings.__set__  # type: ignore[attr-defined, misc]


def _due(at: datetime, warnings: tuple[CalendarWarning, ...]) -> Due:
    """Build a Due without the frozen-dataclass ``__init__`` (twice as fast here)."""
    due = _new(Due)
    _set_at(due, at)
    _set_warnings(due, warnings)
    return due


def _us_of_day(t: datetime) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US_PER_SEC + t.microsecond


def _us_of_time(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US_PER_SEC + t.microsecond


def _as_datetime(value: date) -> datetime:
    """Accept dates (midnight) and datetime subclasses; reject aware datetimes."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("WorkCalendar works on naive local datetimes, got an aware one")
        if type(value) is not datetime:  # e.g. pandas.Timestamp
            return datetime(
                value.year, value.month, value.day,
                value.hour, value.minute, value.second, value.microsecond,
            )  # fmt: skip
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}")


def _whole_days(amount: float) -> int:
    """Round a day amount up to whole days, ignoring float noise (3.0000000001 -> 3)."""
    n = int(amount)
    return n if n == amount else math.ceil(amount - 1e-9)


def _office_delta(hours: float) -> tuple[int, timedelta, int | None]:
    """An office-time amount as microseconds, a timedelta, and whole seconds if it is."""
    delta = round(hours * _US_PER_HOUR)
    seconds, rest = divmod(delta, _US_PER_SEC)
    return delta, timedelta(microseconds=delta), None if rest else seconds


@functools.lru_cache(maxsize=16)
def _country(code: str) -> tuple[holidays.HolidayBase, frozenset[int], frozenset[int]]:
    """The holiday data, weekend days and covered years of a country (loaded once per process)."""
    try:
        hol = holidays.country_holidays(code)
    except NotImplementedError as exc:
        raise ValueError(f"no holiday data for country code {code!r}") from exc
    if hol.country == "CN":
        # Make-up working days exist only in the notices the package transcribes.
        covered = frozenset(getattr(hol, "special_public_holidays", {}))
    else:
        covered = frozenset(range(hol.start_year, hol.end_year + 1))
    return hol, frozenset(hol.weekend), covered


def _statutory(code: str, year: int, covered: frozenset[int]) -> frozenset[date] | None:
    """A Chinese year's statutory days off when its official schedule is not published; else None."""
    return statutory_days(year) if code == "CN" and year not in covered else None


@functools.lru_cache(maxsize=1024)
def _country_year_flags(code: str, year: int) -> bytes:
    """1 per working day of ``year`` by the country's data alone (weekends only when not covered).

    Shared by every calendar in the process: a consolidation builds one calendar per
    branch, and the holiday lookups were a tenth of its time.
    """
    hol, weekend, covered = _country(code)
    first = date(year, 1, 1).toordinal()
    days = (date.fromordinal(o) for o in range(first, date(year, 12, 31).toordinal() + 1))
    if year in covered:
        return bytes(bool(hol.is_working_day(d)) for d in days)
    closed = _statutory(code, year, covered) or frozenset()
    return bytes(d.weekday() not in weekend and d not in closed for d in days)


#: Warning-free end-of-day dues by date ordinal, shared by every calendar in the process: they
#: depend on the date alone, and a consolidation builds one calendar per branch.
_EOD_DUES: dict[int, Due] = {}
_EOD_DUES_MAX = 100_000  # ~270 years of dates, a few MiB


def _check_amount(amount: float) -> None:
    if not 0 <= amount < _INF:
        raise ValueError(f"deadline amount must be a finite number >= 0, got {amount!r}")


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
        self._eod_cache = _EOD_DUES
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
            return _due(due.at, self._warnings(start.year, due.at.year))
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
            return _due(at, ())
        return _due(at, self._warnings(start.year, at.year))

    def add_many(self, starts: Iterable[datetime], amount: float, unit: Unit) -> list[Due]:
        """``add(start, amount, unit)`` for each start, in order (no pauses).

        The batch form of :meth:`add` for a whole register: same results, with the
        dispatch done once and, for day units, one computation per distinct start
        date (due dates depend only on it).
        """
        unit = Unit(unit)
        _check_amount(amount)
        starts = [
            s if s.__class__ is datetime and s.tzinfo is None else _as_datetime(s) for s in starts
        ]
        if not starts:
            return []
        if unit is _HOURS:
            td = timedelta(hours=amount)
            lo, hi = self._cov_lo_dt, self._cov_hi_dt
            dues: list[Due] = []
            for s in starts:
                at = s + td
                if lo <= s and at < hi:
                    dues.append(_due(at, ()))
                else:
                    dues.append(_due(at, self._warnings(s.year, at.year)))
            return dues
        if unit is _WORK_HOURS:
            return self._add_many_working_hours(starts, amount)
        by_date: dict[int, Due] = {}
        out: list[Due] = []
        append = out.append
        for s in starts:
            o = s.toordinal()
            due = by_date.get(o)
            if due is None:
                due = by_date[o] = self.add(s, amount, unit)
            append(due)
        return out

    def _add_many_working_hours(self, starts: list[datetime], amount: float) -> list[Due]:
        """Working-hours batch: starts at the same office-time position share one Due.

        The due time depends only on the office time elapsed before the start (plus
        the start year, for warnings), so every start outside office hours on the
        same day, or on the days off that follow, maps to one computation.
        """
        add = self.add
        delta_s = _office_delta(amount)[2]
        if not delta_s:  # sub-second amount, or zero (due == start, never shared)
            return [add(s, amount, _WORK_HOURS) for s in starts]
        memo: dict[tuple[int, int], Due] = {}
        base = self._base
        length, os_s = self._len_s, self._os_s
        out: list[Due] = []
        append = out.append
        for s in starts:
            o = s.toordinal()
            i = o - self._base
            if s.microsecond or not 0 <= i < self._n:
                append(add(s, amount, _WORK_HOURS))  # may grow the span
                continue
            if self._base != base:  # positions below are relative to the span base
                memo.clear()
                base = self._base
            w = self._cum[i] * length
            if self._work[i]:
                x = (s.hour * 60 + s.minute) * 60 + s.second - os_s
                if x > 0:
                    w += x if x < length else length
            key = (w, s.year)
            due = memo.get(key)
            if due is None:
                due = memo[key] = add(s, amount, _WORK_HOURS)
            append(due)
        return out

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


def _longest_run(years: frozenset[int]) -> tuple[int, int]:
    """Longest run of consecutive years (latest wins a tie); ``(1, 0)`` if none."""
    best = (1, 0)
    run_start = None
    for y in sorted(years):
        if run_start is None or y - 1 not in years:
            run_start = y
        if y - run_start >= best[1] - best[0]:
            best = (run_start, y)
    return best


def _date_only(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d


def _merge_pauses(
    start: datetime, pauses: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Sort, clip to after ``start`` and merge overlapping or touching pauses."""
    clipped: list[tuple[datetime, datetime]] = []
    for ps, pe in pauses:
        ps, pe = _as_datetime(ps), _as_datetime(pe)
        if pe < ps:
            raise ValueError(f"pause ends ({pe}) before it starts ({ps})")
        if pe <= start:
            continue
        clipped.append((max(ps, start), pe))
    clipped.sort()
    merged: list[tuple[datetime, datetime]] = []
    for ps, pe in clipped:
        if merged and ps <= merged[-1][1]:
            if pe > merged[-1][1]:
                merged[-1] = (merged[-1][0], pe)
        else:
            merged.append((ps, pe))
    return merged
