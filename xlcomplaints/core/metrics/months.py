"""Months (calendar months of local time, ``Month.end`` exclusive) and ``Stamp``, the int a ``Case`` keeps its times as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from xlcomplaints.i18n import pick


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 9998:
            raise ValueError(f"not a month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2026-10``, ``2026/10``, ``2026.10``, ``202610`` or ``2026年10月``."""
        t = text.strip().replace("年", "-").rstrip("月").replace("/", "-").replace(".", "-")
        if "-" not in t and len(t) == 6 and t.isdigit():
            t = f"{t[:4]}-{t[4:]}"
        parts = t.split("-")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"not a month: {text!r}")
        return cls(int(parts[0]), int(parts[1]))

    @classmethod
    def of(cls, t: datetime) -> Month:
        return cls(t.year, t.month)

    @classmethod
    def from_key(cls, key: int) -> Month:
        y, m = divmod(key, 12)
        return cls(y, m + 1)

    @property
    def key(self) -> int:
        """Months since year 0, to index by (``t.year * 12 + t.month - 1`` for a time in the month)."""
        return self.year * 12 + self.month - 1

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1)

    @property
    def end(self) -> datetime:
        return self.shift(1).start

    def shift(self, n: int) -> Month:
        y, m = divmod(self.year * 12 + self.month - 1 + n, 12)
        return Month(y, m + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def label(self, lang: str) -> str:
        return pick(lang, f"{self.year}年{self.month}月", self.start.strftime("%B %Y"))


def default_as_of(month: Month, now: datetime) -> datetime:
    """The end of the month, or now when the month is not over yet."""
    return min(month.end, now)


#: A wall-clock time as one int: its month's ``Month.key`` above bit 42, the microseconds into the
#: month below (2**42 µs is about 51 days). The one fast path the report's facts keep, because a
#: ``Case`` crosses a process boundary and is stored: measured on a 500-complaint branch of
#: ``bench.py consolidate`` (6,000 times, 2026-12-06, quiet machine), a worker pickles its cases in
#: 0.9 ms and the main process loads them in 0.5 ms with stamps, 3.3 ms and 1.0 ms with datetimes
#: (less the 1–2 ms the stamps cost to make): a few per cent of a 6.7 s consolidation of 200 branches.
#: It orders like the datetime and gives its month with one shift. Made only by ``stamp``, read only
#: by ``time_of`` and ``month_key`` (and converted to and from the facts store's timestamps, a column at
#: a time, by ``store.schema``, held to ``stamp`` by ``tests/test_store_schema.py``);
#: ``tests/test_metrics.py`` holds them to the datetime.
Stamp = int
MONTH_BITS = 42
_IN_MONTH = (1 << MONTH_BITS) - 1


def stamp(t: datetime) -> Stamp:
    """The stamp of ``t``."""
    return (((t.year * 12 + t.month - 1) << MONTH_BITS)
            + ((t.day - 1) * 86_400 + t.hour * 3_600 + t.minute * 60 + t.second) * 1_000_000 + t.microsecond)


def time_of(s: Stamp) -> datetime:
    """The datetime a stamp stands for: to show it, or to measure a span."""
    year, month = divmod(s >> MONTH_BITS, 12)
    return datetime(year, month + 1, 1) + timedelta(microseconds=s & _IN_MONTH)


def time_or_none(s: Stamp | None) -> datetime | None:
    return None if s is None else time_of(s)


def month_key(s: Stamp) -> int:
    """The ``Month.key`` of the month a stamp falls in."""
    return s >> MONTH_BITS


def month_start(m: Month) -> Stamp:
    """The stamp of the month's first instant (``m.start``)."""
    return m.key << MONTH_BITS


def month_end(m: Month) -> Stamp:
    """The stamp of ``m.end``, the next month's first instant."""
    return (m.key + 1) << MONTH_BITS
