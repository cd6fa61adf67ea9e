"""Periods a report covers: a month, an ISO week, a quarter, a year, or a range of days (``end`` exclusive).

Every figure's rule says which date decides its period (受理时间在本期 …); a ``Period`` is the
[start, end) those dates are compared with, in local (wall-clock) time. ``shift(n)`` gives the
period n before or after of the same kind; a custom range's previous one is the range of the same
length just before it. ``parse`` refuses what does not exist (2026-W53, a 13th month) or does not
make sense (a range ending before it starts) with a ``PeriodError`` whose code has its words in
``PERIOD_MESSAGES``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from xlcomplaints.core.metrics.months import Month
from xlcomplaints.errors import XlcError
from xlcomplaints.i18n import pick, register_messages


class PeriodKind(StrEnum):
    MONTH = "month"
    WEEK = "week"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


#: Per kind: (this, previous) in zh and en, the words column headers and rules use, and the trend's
#: title. A custom range is 本期/上期 (this period / the previous period, of the same length).
PERIOD_WORDS: dict[PeriodKind, tuple[str, str, str, str, str, str]] = {
    PeriodKind.MONTH: ("本月", "上月", "This month", "Last month", "月度趋势", "Monthly trend"),
    PeriodKind.WEEK: ("本周", "上周", "This week", "Last week", "周趋势", "Weekly trend"),
    PeriodKind.QUARTER: ("本季度", "上季度", "This quarter", "Last quarter", "季度趋势", "Quarterly trend"),
    PeriodKind.YEAR: ("本年", "上年", "This year", "Last year", "年度趋势", "Yearly trend"),
    PeriodKind.RANGE: ("本期", "上期", "This period", "Previous period", "趋势", "Trend"),
}

#: The refusals of ``Period.parse`` and ``Period.days``, by code: (zh, en) with ``{text}``/``{first}``/``{last}``.
PERIOD_MESSAGES: dict[str, tuple[str, str]] = {
    "period.unreadable": (
        "无法识别统计期间 {text}：请写成月份 2026-10、周 2026-W43、季度 2026-Q4、年份 2026，或用 --from 2026-10-19 --to 2026-10-25。",
        "Cannot read the period {text}: write a month (2026-10), an ISO week (2026-W43), a quarter (2026-Q4), a year "
        "(2026), or --from 2026-10-19 --to 2026-10-25."),
    "period.no_such_week": ("{text} 不存在：{year} 年只有 {weeks} 周（按 ISO 周，周一为一周的第一天）。",
                            "{text} does not exist: {year} has {weeks} ISO weeks (weeks start on Monday)."),
    "period.no_such_quarter": ("{text} 不存在：季度只有 Q1–Q4。", "{text} does not exist: quarters are Q1 to Q4."),
    "period.no_such_month": ("{text} 不存在：月份只有 1–12。", "{text} does not exist: months are 1 to 12."),
    "period.bad_date": ("无法识别日期 {text}，请写成 2026-10-19。", "Cannot read the date {text}; write it like 2026-10-19."),
    "period.reversed": ("--from {first} 晚于 --to {last}：开始日期须不晚于结束日期。",
                        "--from {first} is after --to {last}: the first day must not be after the last."),
    "period.half_range": ("--from 与 --to 须同时给出。", "--from and --to go together: give both."),
    "period.twice": ("统计期间给了两次（{given}）：--month、--period 与 --from/--to 只用其一。",
                     "The period is given twice ({given}): use one of --month, --period and --from/--to."),
    "period.missing": ("缺少选项 --period：请给出统计期间，如 --period 2026-10（或 2026-W43、2026-Q4、2026），"
                       "或 --from … --to …（见 --help）。",
                       "Missing option --period: give the period, e.g. --period 2026-10 (or 2026-W43, 2026-Q4, 2026), "
                       "or --from … --to … (see --help)."),
}


register_messages(PERIOD_MESSAGES)


class PeriodError(XlcError, ValueError):
    """A period that cannot be read (``--period``, ``--from/--to``): a code of ``PERIOD_MESSAGES``."""


def _iso_weeks(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]


def _month_start(year: int, month: int) -> datetime:
    y, m = divmod(year * 12 + month - 1, 12)
    return datetime(y, m + 1, 1)


_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-?Q(\d)$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})年?$")
_DAY = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


@dataclass(frozen=True, order=True)
class Period:
    """[start, end) of local time, and its kind (how it is named and shifted)."""

    start: datetime
    end: datetime
    kind: PeriodKind

    # ------------------------------------------------------------------ making one
    @classmethod
    def month(cls, year: int, month: int) -> Period:
        m = Month(year, month)
        return cls(m.start, m.end, PeriodKind.MONTH)

    @classmethod
    def of_month(cls, m: Month) -> Period:
        return cls(m.start, m.end, PeriodKind.MONTH)

    @classmethod
    def week(cls, year: int, week: int) -> Period:
        if not 1 <= week <= _iso_weeks(year):
            raise PeriodError("period.no_such_week", text=f"{year}-W{week:02d}", year=year, weeks=_iso_weeks(year))
        start = datetime.combine(date.fromisocalendar(year, week, 1), datetime.min.time())
        return cls(start, start + timedelta(days=7), PeriodKind.WEEK)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise PeriodError("period.no_such_quarter", text=f"{year}-Q{quarter}")
        return cls(_month_start(year, 3 * quarter - 2), _month_start(year, 3 * quarter + 1), PeriodKind.QUARTER)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(datetime(year, 1, 1), datetime(year + 1, 1, 1), PeriodKind.YEAR)

    @classmethod
    def days(cls, first: date | str, last: date | str) -> Period:
        """The days ``first`` to ``last``, both included (``--from``/``--to``)."""
        a, b = _day(first), _day(last)
        if a > b:
            raise PeriodError("period.reversed", first=a.isoformat(), last=b.isoformat())
        start = datetime.combine(a, datetime.min.time())
        return cls(start, datetime.combine(b, datetime.min.time()) + timedelta(days=1), PeriodKind.RANGE)

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-10`` (and the forms ``Month.parse`` reads), ``2026-W43``, ``2026-Q4``, ``2026``,
        or ``2026-10-19..2026-10-25`` (as ``str`` writes a range)."""
        t = text.strip()
        if ".." in t:
            first, _, last = t.partition("..")
            return cls.days(first, last)
        if m := _WEEK.match(t):
            return cls.week(int(m[1]), int(m[2]))
        if m := _QUARTER.match(t):
            return cls.quarter(int(m[1]), int(m[2]))
        if m := _YEAR.match(t):
            return cls.year(int(m[1]))
        try:
            month = Month.parse(t)
        except ValueError:
            digits = t.replace("年", "-").rstrip("月").replace("/", "-").split("-")
            if len(digits) == 2 and all(d.isdigit() for d in digits) and len(digits[0]) == 4:
                raise PeriodError("period.no_such_month", text=text) from None
            raise PeriodError("period.unreadable", text=text) from None
        return cls.of_month(month)

    @classmethod
    def containing(cls, kind: PeriodKind, t: datetime) -> Period:
        """The period of ``kind`` (not a range) that ``t`` falls in."""
        if kind is PeriodKind.WEEK:
            y, w, _ = t.isocalendar()
            return cls.week(y, w)
        if kind is PeriodKind.QUARTER:
            return cls.quarter(t.year, (t.month - 1) // 3 + 1)
        if kind is PeriodKind.YEAR:
            return cls.year(t.year)
        return cls.month(t.year, t.month)

    # ------------------------------------------------------------------ using one
    def shift(self, n: int) -> Period:
        """The period ``n`` after this one (before, for n < 0) of the same kind; a range's neighbours
        are the ranges of the same length next to it."""
        if self.kind is PeriodKind.WEEK or self.kind is PeriodKind.RANGE:
            step = (self.end - self.start) * n
            return Period(self.start + step, self.end + step, self.kind)
        months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self.kind] * n
        return Period(_month_start(self.start.year, self.start.month + months),
                      _month_start(self.end.year, self.end.month + months), self.kind)

    @property
    def previous(self) -> Period:
        return self.shift(-1)

    @property
    def whole_month(self) -> Month | None:
        """The month this period is exactly (of any kind), else None."""
        m = Month.of(self.start)
        return m if self.start == m.start and self.end == m.end else None

    @property
    def month_keys(self) -> range:
        """``Month.key`` of every month the period overlaps."""
        last = self.end - timedelta(microseconds=1)
        return range(Month.of(self.start).key, Month.of(last).key + 1)

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def __str__(self) -> str:
        s = self.start
        if self.kind is PeriodKind.MONTH:
            return f"{s.year:04d}-{s.month:02d}"
        if self.kind is PeriodKind.WEEK:
            y, w, _ = s.isocalendar()
            return f"{y:04d}-W{w:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{s.year:04d}-Q{(s.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.YEAR:
            return f"{s.year:04d}"
        return f"{s.date().isoformat()}..{self.last_day.isoformat()}"

    def label(self, lang: str) -> str:
        s, zh = self.start, lang == "zh"
        last = self.last_day
        if self.kind is PeriodKind.MONTH:
            return f"{s.year}年{s.month}月" if zh else s.strftime("%B %Y")
        if self.kind is PeriodKind.QUARTER:
            q = (s.month - 1) // 3 + 1
            return f"{s.year}年第{q}季度" if zh else f"Q{q} {s.year}"
        if self.kind is PeriodKind.YEAR:
            return f"{s.year}年" if zh else str(s.year)
        days = (f"{s.month}月{s.day}日–{last.month}月{last.day}日" if zh else
                f"{s.day} {s:%b} – {last.day} {last:%b} {last.year}")
        if zh and last.year != s.year:
            days = f"{s.year}年{days}"
        if self.kind is PeriodKind.WEEK:
            y, w, _ = s.isocalendar()
            return f"{y}年第{w}周（{days}）" if zh else f"Week {w} of {y} ({days})"
        return f"{s.year}年{days}" if zh and last.year == s.year else days

    def words(self, lang: str) -> tuple[str, str]:
        """How a column names this period and the previous one: 本周/上周, This week/Last week…"""
        w = PERIOD_WORDS[self.kind]
        return pick(lang, (w[0], w[1]), (w[2], w[3]))


def _day(value: date | str) -> date:
    if isinstance(value, date):
        return value
    m = _DAY.match(value.strip())
    try:
        if m is None:
            raise ValueError(value)
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise PeriodError("period.bad_date", text=value) from None


def as_period(p: Period | Month | str) -> Period:
    """A ``Period`` from what the API accepts: a period, a ``Month``, or the text ``Period.parse`` reads."""
    if isinstance(p, Period):
        return p
    if isinstance(p, Month):
        return Period.of_month(p)
    return Period.parse(p)


def default_period_as_of(p: Period, now: datetime) -> datetime:
    """The end of the period, or now when it is not over yet."""
    return min(p.end, now)
