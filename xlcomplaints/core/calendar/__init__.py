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

from xlcomplaints.core.calendar.units import (
    MAKEUP_DAYS_UNPUBLISHED,
    YEAR_NOT_COVERED,
    CalendarWarning,
    CalendarWarningCode,
    Due,
    OfficeHours,
    Unit,
)
from xlcomplaints.core.calendar.working import WorkCalendar

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
