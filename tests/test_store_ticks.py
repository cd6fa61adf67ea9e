"""``store.ticks``, the store's one size trick: times as whole ticks after receipt, exact both ways, and the SQL
loader's times (``store.ticks.sql``) those of ``decode``."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcomplaints.store import ticks

_EPOCH = datetime(1970, 1, 1)
_us = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)).map(
    lambda t: (t - _EPOCH) // (datetime(1970, 1, 1, 0, 0, 0, 1) - _EPOCH))
#: Times of a real register's kind too: whole minutes, seconds, ms, so the coarser ticks are met.
_round = st.tuples(_us, st.sampled_from(ticks.TICKS)).map(lambda x: x[0] - x[0] % x[1])
_time = _us | _round


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | _time, min_size=1, max_size=8), st.lists(st.tuples(st.none() | _time, st.integers(0, 7)),
                                                                      max_size=20))
def test_decode_undoes_encode_and_sql_decodes_alike(received: list[int | None],
                                                    items: list[tuple[int | None, int]]) -> None:
    rows = [r % len(received) for _, r in items]
    r_arr = pa.array(received, pa.int64())
    values = pa.array([v for v, _ in items], pa.int64())
    at, encoded, tick = ticks.encode(r_arr, {"due": (values, pa.array(rows, pa.int64()))})
    assert all(t in ticks.TICKS for t in tick.values())
    n = len(received)
    back, decoded = ticks.decode(at, pa.array([tick["received"]] * n, pa.int64()),
                                 {"due": (encoded["due"], pa.array(rows, pa.int64()),
                                          pa.array([tick["due"]] * n, pa.int64()))})
    assert back.to_pylist() == received and decoded["due"].to_pylist() == [v for v, _ in items]
    # the coarsest: no coarser tick divides every value
    coarser = [t for t in ticks.TICKS if t > tick["due"]]
    day = [0 if r is None else (abs(r) // 86_400_000_000 * 86_400_000_000) * (1 if r >= 0 else -1)
           for r in received]  # the midnight of receipt, rounded toward 1970
    after = [v - day[r] for (v, _), r in zip(items, rows, strict=True) if v is not None]
    assert all(any(a % t for a in after) for t in coarser)

    con = duckdb.connect()
    table = pa.table({"received_at": at, "ticks": pa.StructArray.from_arrays(
        [pa.array([tick["received"]] * n, pa.int64()), pa.array([tick["due"]] * n, pa.int64())], ["received", "due"]),
        "row": pa.array(range(n), pa.int64())})
    items_t = pa.table({"row": pa.array(rows, pa.int64()), "due": encoded["due"], "k": pa.array(range(len(rows)))})
    con.register("t", table)
    con.register("i", items_t)
    got = con.execute(f"SELECT {ticks.sql('received_at', 'received')}, "
                      "(SELECT list(x ORDER BY k) FROM (SELECT k, " + ticks.sql("i.due", "due") +
                      " AS x FROM i WHERE i.row = t.row)) FROM t ORDER BY row").fetchall()
    epoch = datetime(1970, 1, 1)
    one = datetime(1970, 1, 1, 0, 0, 0, 1) - epoch

    def time_of(us: int | None) -> datetime | None:
        return None if us is None else epoch + us * one
    assert [r for r, _ in got] == [time_of(r) for r in received]
    assert [x for _, xs in got for x in (xs or [])] == [
        time_of(v) for r in range(n) for (v, _), row in zip(items, rows, strict=True) if row == r]
