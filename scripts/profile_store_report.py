"""Profile: where ``report_from_store``'s time goes, query by query (issue 22).

    python scripts/profile_store_report.py [--branches 200] [--complaints 500] [--copies 1] [--dir DIR]
                                           [--memory-limit 256MB] [--top 25]

On ``bench_queries.py``'s Parquet partitions (made once, cached in DIR; ``--copies 10`` of 200 × 500 is
1 M complaints), connects them as a consolidation does (``store.facts_sql.connect_parquet``, then
``store.merge_sql``'s two rules), then computes the report, every ``con.execute`` timed and summed per
query text. Prints the load and report seconds, the queries' total and count, the process's peak memory
(ru_maxrss) and the slowest query texts with their calls. A DIR made before the store's schema last
changed holds partitions ``from_table`` refuses: give a fresh one.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_queries import PERIOD, copies, generate  # noqa: E402


class _Timed:
    """A connection whose ``execute`` adds its seconds to ``spent`` under the query's first words."""

    def __init__(self, con: Any, spent: dict[str, list[float]]) -> None:
        self._con, self._spent = con, spent

    def execute(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        out = self._con.execute(sql, *args)
        one = self._spent[" ".join(sql.split())[:110]]
        one[0] += 1
        one[1] += time.perf_counter() - started
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--branches", type=int, default=200)
    ap.add_argument("--complaints", type=int, default=500)
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "xlcomplaints-bench-queries")
    ap.add_argument("--memory-limit", default=None, help="default: report.store_report.MEMORY_LIMIT")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()

    from xlcomplaints.core import metrics as M
    from xlcomplaints.report.store_report import MEMORY_LIMIT, report_from_store
    from xlcomplaints.report.summary import Branch
    from xlcomplaints.store.facts_sql import connect_parquet
    from xlcomplaints.store.figures import Facts
    from xlcomplaints.store.merge_sql import count_once, repeats_across_branches

    paths = [str(p) for p in copies(generate(args.dir, args.branches, args.complaints), args.copies)]
    started = time.perf_counter()
    con = connect_parquet(paths, memory_limit=args.memory_limit or MEMORY_LIMIT)
    count_once(con)
    repeats_across_branches(con, {}, 30)
    loaded = time.perf_counter()
    codes = sorted(code for (code,) in con.execute("SELECT DISTINCT branch FROM cases").fetchall())
    spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    facts = Facts(_Timed(con, spent))  # type: ignore[arg-type]
    report_from_store(facts, paths, M.Period.parse(PERIOD), datetime(2026, 11, 1),
                      branches=[Branch(code, code, f"{code}.xlsx") for code in codes])
    done = time.perf_counter()
    print(f"{len(paths)} partitions: load {loaded - started:.2f} s, report {done - loaded:.2f} s, queries "
          f"{sum(s for _, s in spent.values()):.2f} s in {sum(int(n) for n, _ in spent.values())}, peak "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    for text, (n, seconds) in sorted(spent.items(), key=lambda kv: -kv[1][1])[:args.top]:
        print(f"{seconds:7.2f} s {int(n):4d}×  {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
