"""Profile: where ``report_from_store``'s time goes, query by query (issue 22).

    python scripts/profile_store_report.py [--branches 200] [--complaints 500] [--copies 1] [--dir DIR]
                                           [--memory-limit 256MB] [--top 25]

On ``bench_queries.py``'s Parquet partitions (made once, cached in DIR; ``--copies 10`` of 200 × 500 is
1 M complaints), connects them as a consolidation does (``store.facts_sql.connect_parquet``, then
``store.merge_sql``'s two rules), then computes the report, every ``con.execute`` (the load's too) timed,
wall and CPU, summed per query text, with the process's peak memory while it ran (VmHWM, reset before each
statement through ``/proc/self/clear_refs``; Linux). Prints the load's and the report's seconds, the statements'
total and count, the highest peak, and the statements that took the most CPU with their calls and peaks. A DIR made before the store's schema last
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


def _peak_reset() -> None:
    """The process's peak resident memory (VmHWM) set back to what it holds now (Linux; elsewhere nothing)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_mib() -> int:
    """VmHWM in MiB (Linux), else the process's peak so far (ru_maxrss)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


class _Timed:
    """A connection whose ``execute`` adds its seconds and CPU seconds to ``spent`` under the query's first words,
    with the process's peak memory while it ran (the peak reset before each)."""

    def __init__(self, con: Any, spent: dict[str, list[float]]) -> None:
        self._con, self._spent = con, spent

    def execute(self, sql: str, *args: Any) -> Any:
        _peak_reset()
        started, cpu = time.perf_counter(), time.process_time()
        out = self._con.execute(sql, *args)
        one = self._spent[" ".join(sql.split())[:100]]
        one[0] += 1
        one[1] += time.perf_counter() - started
        one[2] += time.process_time() - cpu
        one[3] = max(one[3], _peak_mib())
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

    import duckdb

    from xlcomplaints.core import metrics as M
    from xlcomplaints.report.store_report import MEMORY_LIMIT, report_from_store
    from xlcomplaints.report.summary import Branch
    from xlcomplaints.store.facts_sql import connect_parquet
    from xlcomplaints.store.figures import Facts
    from xlcomplaints.store.merge_sql import count_once, repeats_across_branches

    paths = [str(p) for p in copies(generate(args.dir, args.branches, args.complaints), args.copies)]
    spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0])
    con = _Timed(duckdb.connect(), spent)
    started, cpu = time.perf_counter(), time.process_time()
    connect_parquet(paths, con=con, memory_limit=args.memory_limit or MEMORY_LIMIT)  # type: ignore[arg-type]
    count_once(con)  # type: ignore[arg-type]
    repeats_across_branches(con, {}, 30)  # type: ignore[arg-type]
    loaded, load_cpu = time.perf_counter(), time.process_time()
    codes = sorted(code for (code,) in con.execute("SELECT DISTINCT branch FROM cases").fetchall())
    facts = Facts(con)  # type: ignore[arg-type]
    report_from_store(facts, paths, M.Period.parse(PERIOD), datetime(2026, 11, 1),
                      branches=[Branch(code, code, f"{code}.xlsx") for code in codes])
    done = time.perf_counter()
    print(f"{len(paths)} partitions: load {loaded - started:.2f} s (CPU {load_cpu - cpu:.2f} s), report "
          f"{done - loaded:.2f} s (CPU {time.process_time() - load_cpu:.2f} s), statements "
          f"{sum(s for _, s, _, _ in spent.values()):.2f} s in {sum(int(n) for n, *_ in spent.values())}, "
          f"peak of any statement {max(int(p) for *_, p in spent.values())} MiB")
    print("   wall      CPU  calls  peak  statement")
    for text, (n, seconds, cpu_s, peak) in sorted(spent.items(), key=lambda kv: -kv[1][2])[:args.top]:
        print(f"{seconds:7.2f} s {cpu_s:6.2f} s {int(n):4d}× {int(peak):4d} MiB  {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
