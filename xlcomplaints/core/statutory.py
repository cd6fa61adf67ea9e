"""China's statutory public holidays, for the years the State Council has not published yet.

Each year the State Council's notice (国务院办公厅关于某年部分节假日安排的通知) fixes the
days off and the weekend make-up working days (调休); the ``holidays`` package transcribes
the notices it has. For a later year the notice is not out, but the statutory holidays
themselves are law and known in advance. They are declared below, one line per holiday,
the lunar ones anchored on dates the ``holidays`` package computes.

Source: 《全国年节及纪念日放假办法》第二条, as amended by 国务院令第795号 (promulgated
2024-11-10, in force 2025-01-01): 全体公民放假的节日 — 元旦 1 day (1 Jan); 春节 4 days
(农历除夕, 正月初一至初三); 清明节 1 day (the 清明 solar term); 劳动节 2 days (1–2 May);
端午节 1 day (5th of the 5th lunar month); 中秋节 1 day (15th of the 8th lunar month);
国庆节 3 days (1–3 Oct). 13 days a year.

What the law leaves to each year's notice — which weekend days become working days and
which weekdays are given off in lieu (补休) — is not guessed: a calendar using these days
warns that they are not published yet.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

#: The first year the holidays below are the law (the 2025 amendment added 除夕 and 2 May).
SINCE = 2025


class Anchor(StrEnum):
    """What a holiday's first day is counted from."""

    FIXED = "fixed"  # a Gregorian month and day
    LUNAR_NEW_YEAR = "lunar_new_year"  # 正月初一
    QINGMING = "qingming"  # the 清明 solar term
    DRAGON_BOAT = "dragon_boat"  # 五月初五
    MID_AUTUMN = "mid_autumn"  # 八月十五


@dataclass(frozen=True)
class Statutory:
    """One statutory holiday: ``days`` days off from its anchor moved by ``offset`` days."""

    zh: str
    en: str
    anchor: Anchor
    days: int = 1
    offset: int = 0
    month: int = 0
    day: int = 0


CN_STATUTORY: tuple[Statutory, ...] = (
    Statutory("元旦", "New Year's Day", Anchor.FIXED, month=1, day=1),
    Statutory("春节", "Spring Festival", Anchor.LUNAR_NEW_YEAR, days=4, offset=-1),  # 除夕, 初一–初三
    Statutory("清明节", "Qingming Festival", Anchor.QINGMING),
    Statutory("劳动节", "Labour Day", Anchor.FIXED, days=2, month=5, day=1),
    Statutory("端午节", "Dragon Boat Festival", Anchor.DRAGON_BOAT),
    Statutory("中秋节", "Mid-Autumn Festival", Anchor.MID_AUTUMN),
    Statutory("国庆节", "National Day", Anchor.FIXED, days=3, month=10, day=1),
)

try:  # the Chinese calendar the package computes its China holidays with (not a public name)
    from holidays.calendars.chinese import _ChineseLunisolar

    _LUNAR: object = _ChineseLunisolar()
except ImportError:  # pragma: no cover - another holidays version: no statutory days, weekends only
    _LUNAR = None

#: The lunar calendar's method that gives each anchor's date, as ``(date or None, estimated)``.
_METHODS = {Anchor.LUNAR_NEW_YEAR: "lunar_new_year_date", Anchor.QINGMING: "qingming_date",
            Anchor.DRAGON_BOAT: "dragon_boat_date", Anchor.MID_AUTUMN: "mid_autumn_date"}


def _lunar(anchor: Anchor, year: int) -> date | None:
    method = getattr(_LUNAR, _METHODS[anchor], None)
    found = method(year) if method is not None else None
    return found[0] if isinstance(found, tuple) else found


def first_day(h: Statutory, year: int) -> date | None:
    """The holiday's first day in ``year``; None where the lunar calendar does not reach (after 2100)."""
    start = date(year, h.month, h.day) if h.anchor is Anchor.FIXED else _lunar(h.anchor, year)
    return None if start is None else start + timedelta(days=h.offset)


@functools.lru_cache(maxsize=256)
def statutory_days(year: int) -> frozenset[date] | None:
    """The statutory days off of ``year``; None when they are not known: before ``SINCE``, when the
    law was different, or beyond the years the lunar calendar of ``holidays`` computes (2100)."""
    if year < SINCE:
        return None
    firsts = [(h, first_day(h, year)) for h in CN_STATUTORY]
    if any(start is None for _, start in firsts):
        return None
    return frozenset(start + timedelta(days=i) for h, start in firsts if start for i in range(h.days))
