"""A partition's times as whole ticks after its complaint's day of receipt (schema version 4): the store's one size
trick.

A time is kept as an integer: ``received_at`` as ticks since 1970-01-01 00:00 (wall clock, no time zone), every
other time of a complaint (a stage's ``due`` and ``done``, a callback's ``at``, a custom stage's) as ticks after the
midnight of its complaint's day of receipt (``_day``; negative before it; after 1970-01-01 00:00 when
``received_at`` is empty). A tick is the coarsest of ``TICKS`` (a day … a µs) that every value of that column in the
file is a whole number of: the file says which in its ``ticks`` column (``schema.TICKS``, one per time column, the
same on every row). Exact both ways for any time a ``Stamp`` holds (µs, years 1–9999; tested 1900–9999): ``encode`` picks a tick only if it divides every value, and
``decode`` multiplies back in checked 64-bit arithmetic (a µs count of year 9999 is 2.5·10¹⁷ < 2⁶³).

What it buys, measured on twenty 500-complaint bench branches (docs/benchmarks.md, "The store's size (schema 4)"):
the times were ``timestamp[ms]`` since 1970 in delta encoding, whose miniblocks of 32 values each pay the bit width of
their widest step: a complaint's stages lie next to each other and its rows are in register order, so nearly every
miniblock held a jump of months in ms (~34 bits). As ticks after the day of receipt the jump is the complaint's own
span, in minutes where the workbook has whole minutes, and the due times (ends of days, whole hours) are few enough
for a dictionary (``store.partition``): the four time columns went from 23.6 to 12.2 KiB a partition (counted from
the received time itself instead of its day: 18 KiB; in ms: 20 KiB). Decoding them costs the SQL loader about 2 % more
instructions than reading ``timestamp[ms]`` did. The equivalence (``decode(encode(x)) == x``, the coarsest tick, and
the SQL loader's times equal to ``decode``'s) is tested in ``tests/test_store_ticks.py``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

_US_PER_DAY = 86_400_000_000
#: The ticks a time column may be kept in, coarsest first (µs each): a day, an hour, a minute, a second, a ms, a µs.
TICKS = (_US_PER_DAY, 3_600_000_000, 60_000_000, 1_000_000, 1_000, 1)


def coarsest(values: pa.Array) -> int:
    """The coarsest of ``TICKS`` that divides every value (µs, int64; nulls aside; a day for none)."""
    for tick in TICKS[:-1]:
        if pc.all(pc.equal(pc.multiply(pc.divide(values, tick), tick), values)).as_py() is not False:
            return tick
    return 1


def _day(received: pa.Array) -> pa.Array:
    """The midnight the other times of a row count from (µs since 1970): its receipt's, rounded toward 1970 to a whole
    day (integer division truncates, here as in DuckDB's ``//``); 1970's first when it has none."""
    return pc.multiply(pc.divide(pc.fill_null(received, 0), _US_PER_DAY), _US_PER_DAY)


def encode(received: pa.Array, times: dict[str, tuple[pa.Array, pa.Array]]) -> tuple[pa.Array, dict[str, pa.Array],
                                                                                     dict[str, int]]:
    """``received`` (µs since 1970, int64, nullable) as ticks, and each of ``times`` (name → (µs int64 values, each
    value's row in ``received``)) as ticks after its row's day of receipt (``_day``); the tick of each
    (``received`` included)."""
    tick = {"received": coarsest(received)}
    base = _day(received)
    out: dict[str, pa.Array] = {}
    for name, (values, rows) in times.items():
        after = pc.subtract(values, pc.take(base, rows))
        tick[name] = coarsest(after)
        out[name] = pc.divide(after, tick[name])
    return pc.divide(received, tick["received"]), out, tick


def decode(received: pa.Array, received_tick: pa.Array, times: dict[str, tuple[pa.Array, pa.Array, pa.Array]],
           ) -> tuple[pa.Array, dict[str, pa.Array]]:
    """``encode``'s inverse, a tick per row: ``received`` (ticks of ``received_tick``) as µs since 1970, and each of
    ``times`` (name → (ticks after receipt, each value's row, its tick per row)) as µs since 1970. Raises
    ``pa.ArrowInvalid`` on an overflow (a file no writer made)."""
    at = pc.multiply_checked(received, received_tick)
    base = _day(at)
    return at, {name: pc.add_checked(pc.take(base, rows), pc.multiply_checked(values, pc.take(tick, rows)))
                for name, (values, rows, tick) in times.items()}


def sql(value: str, field: str, day: str | None = None) -> str:
    """``decode`` in DuckDB's SQL, of a ``CASES`` row: the time ``value`` (an expression: a column of the row, or a
    field of one of its lists' items) kept in the tick of ``field`` (``schema.TICK_FIELDS``), as a ``TIMESTAMP``
    (``make_timestamp`` of µs since 1970); ``day``: a column holding the row's ``DAY_SQL``, if made once already."""
    if field == "received":
        return f"make_timestamp({value} * ticks.received)"
    return f"make_timestamp({day or DAY_SQL} + {value} * ticks.{field})"


#: ``_day`` in SQL, of a ``CASES`` row.
DAY_SQL = f"coalesce(received_at * ticks.received // {_US_PER_DAY} * {_US_PER_DAY}, 0)"
