"""Profile: where a consolidation's main process holds its memory, phase by phase (issue 22, h24m).

    python scripts/profile_main_memory.py [--duckdb] [--memory-limit L] [--trace N] consolidate SET -o OUT --month 2026-10 --now … [--update]

Runs the command line's ``consolidate`` (or any command) in this process, with the flow's phases and the
report's steps wrapped: before each, the process's peak resident memory (VmHWM) is set back to what it holds
now (``/proc/self/clear_refs``, Linux); after it, its peak and what it still holds (VmRSS) are taken, with its
CPU seconds. A step inside a phase passes its peak up to the phase. Prints one line per call in the order
they ended (``depth``, name, CPU, peak, held after) on stderr, then a Markdown table of the phases.
``--duckdb``: DuckDB's own accounts (``duckdb_memory()``, its temporary files) when the report's figures are
done, before the connection is closed. ``--memory-limit 192MB``: DuckDB's limit whatever the complaints loaded. ``--trace N``: tracemalloc's N largest Python holders at the end of the
report's computation (slow: for a small set). Nothing is asserted; the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

_STATUS = "/proc/self/status"


def _kib(field: str) -> int:
    with open(_STATUS) as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))


def _reset() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


_stack: list[list[float]] = []  # per open call: [its peak KiB so far]
LINES: list[tuple[int, str, float, float, float]] = []  # depth, name, CPU s, peak MiB, held after MiB
DUCK: list[str] = []
TRACE = 0


def wrap(owner: Any, name: str, label: str, after: Callable[[Any, tuple[Any, ...]], None] | None = None) -> None:
    inner = getattr(owner, name)

    def probe(*a: Any, **k: Any) -> Any:
        hwm = _kib("VmHWM:")
        for f in _stack:
            f[0] = max(f[0], hwm)
        _reset()
        _stack.append([0.0])
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            out = inner(*a, **k)
            if after is not None:
                after(out, a)
            return out
        finally:
            spent = time.process_time() - cpu
            peak = max(_stack.pop()[0], _kib("VmHWM:"))
            for f in _stack:
                f[0] = max(f[0], peak)
            LINES.append((len(_stack), label, spent, peak / 1024, _kib("VmRSS:") / 1024))
            print(f"{'  ' * len(_stack)}{label}: wall {time.perf_counter() - wall:.2f} s, CPU {spent:.2f} s, peak {peak / 1024:.0f} MiB, "
                  f"held after {LINES[-1][4]:.0f} MiB", file=sys.stderr, flush=True)
            _reset()

    setattr(owner, name, probe)


def _duckdb(report: Any, a: tuple[Any, ...]) -> None:
    """DuckDB's accounts while its connection is still open (the report's figures done)."""
    con = a[0].con
    rows = con.execute("SELECT tag, memory_usage_bytes, temporary_storage_bytes FROM duckdb_memory() "
                       "WHERE memory_usage_bytes > 0 OR temporary_storage_bytes > 0 ORDER BY 2 DESC").fetchall()
    limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    DUCK.append(f"memory_limit {limit}; "
                + "; ".join(f"{t} {m / 2**20:.0f} MiB (+{s / 2**20:.0f} MiB on disk)" for t, m, s in rows))
    DUCK.append("; ".join(f"{r[0]}: {r[1]}" for r in con.execute(
        "SELECT database_name, memory_usage FROM pragma_database_size()").fetchall()))
    if TRACE:
        snap = tracemalloc.take_snapshot()
        for stat in snap.statistics("lineno")[:TRACE]:
            DUCK.append(f"python: {stat.size / 2**20:.1f} MiB in {stat.count} blocks at {stat.traceback}")


def main() -> int:
    global TRACE
    argv = sys.argv[1:]
    duck = "--duckdb" in argv
    argv = [a for a in argv if a != "--duckdb"]
    if "--trace" in argv:
        i = argv.index("--trace")
        TRACE = int(argv[i + 1])
        del argv[i:i + 2]
        tracemalloc.start(3)
    limit = None
    if "--memory-limit" in argv:  # DuckDB's limit whatever the complaints (``store_report.memory_limit_for``)
        i = argv.index("--memory-limit")
        limit = argv[i + 1]
        del argv[i:i + 2]
    from xlcomplaints import cli
    from xlcomplaints.report import run, store_report
    from xlcomplaints.store import figures, merge_sql

    for owner, name in ((run, "_previous_run"), (run, "_read"), (run, "merge"), (run, "connect_merged"),
                        (run, "report_from_store"), (run, "_save"), (run, "save_facts"), (run, "earlier_stores"),
                        (run, "earlier_figures"), (run, "build"), (run, "_compute")):
        wrap(owner, name, name, _duckdb if duck and name == "report_from_store" else None)
    for owner, name in ((store_report, "connect_parquet"), (store_report, "duplicate_issues"),
                        (store_report, "count_once"), (store_report, "repeats_across_branches"),
                        (store_report, "_check_loaded"), (store_report, "rows_of"),
                        (run, "write_report"), (run, "atomic_write")):
        wrap(owner, name, f"{owner.__name__.rsplit('.', 1)[-1]}.{name}")
    for name in ("cover", "prefetch_breakdowns", "breakdown", "people", "stage_table", "overdue_detail",
                 "closed_late", "typical", "trend", "backlog_ages"):
        wrap(figures.Facts, name, f"Facts.{name}")
    del merge_sql
    if limit is not None:
        store_report.memory_limit_for = lambda complaints: limit
    started = time.perf_counter()
    sys.argv = ["xlcomplaints", *argv]
    try:
        cli.main()
    except SystemExit as e:
        if e.code:
            raise
    print(f"wall {time.perf_counter() - started:.1f} s, CPU (this process) {time.process_time():.1f} s, "
          f"load {Path('/proc/loadavg').read_text().split()[:3]}", file=sys.stderr)
    for line in DUCK:
        print("duckdb " + line, file=sys.stderr)
    print("| phase | CPU | peak | held after |\n|---|---|---|---|", file=sys.stderr)
    merged: dict[str, list[float]] = {}
    for depth, label, cpu, peak, held in LINES:
        m = merged.setdefault(f"{'· ' * depth}{label}", [0, 0.0, 0.0, 0.0])
        m[0] += 1
        m[1] += cpu
        m[2] = max(m[2], peak)
        m[3] = held
    for label, (n, cpu, peak, held) in merged.items():
        times = f" ×{n}" if n > 1 else ""
        print(f"| {label}{times} | {cpu:.1f} s | {peak:.0f} MiB | {held:.0f} MiB |", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
