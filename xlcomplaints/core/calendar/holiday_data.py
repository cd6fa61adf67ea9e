"""A country's holiday data from the ``holidays`` package: which years are covered, and each year's working days."""

from __future__ import annotations

import functools
from datetime import date

import holidays

from xlcomplaints.core.statutory import statutory_days


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


def known_country(code: str) -> bool:
    """Whether there is holiday data for the country ``code`` (a Settings value is checked with it)."""
    try:
        _country(code)
    except ValueError:
        return False
    return True


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
