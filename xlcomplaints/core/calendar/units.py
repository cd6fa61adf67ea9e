"""Deadline units, office hours, a due time with its warnings, and the small time arithmetic the calendar shares."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple, TypeVar


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


class Due(NamedTuple):
    """A computed due time plus the warnings that qualify it (a NamedTuple: one per stage of every
    complaint, and the cheapest immutable record to make)."""

    at: datetime
    warnings: tuple[CalendarWarning, ...] = ()


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


def _check_amount(amount: float) -> None:
    if not 0 <= amount < _INF:
        raise ValueError(f"deadline amount must be a finite number >= 0, got {amount!r}")


def _date_only(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d
