"""Benchmark: consolidate N branch workbooks × M complaints against python-calamine just reading them.

    python scripts/bench_report.py [--branches 200] [--complaints 500] [--dir DIR] [--workers N]

Generates the sample workbooks once (seeded, cached in DIR), then in one run: the raw
read (python-calamine opening every file and reading every sheet to Python values, in
this one process), and the whole consolidation (parallel read, merge, metrics, report
workbook and state file). Prints both times, their ratio against the 1.5× target, the
phases of the consolidation, and peak memory of this process and of the worker processes.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import python_calamine

from xlcomplaints.core.metrics import Month
from xlcomplaints.report.consolidate import default_executor
from xlcomplaints.report.run import make_report
from xlcomplaints.report.samples import synthetic_branch, write_branch

MONTH = Month(2026, 10)
TARGET = 1.5


def _make(path: str, code: str, n: int, seed: int) -> None:
    data = synthetic_branch(code, n, end=MONTH.end, months=12, seed=seed, name=f"网点{code[2:]}")
    write_branch(path, data)


def generate(directory: Path, branches: int, complaints: int) -> list[Path]:
    """The sample files, made only when missing (their name says how many complaints they hold)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"BR{i:04d}-{complaints}.xlsx" for i in range(1, branches + 1)]
    missing = [(str(p), f"BR{i:04d}", complaints, i) for i, p in enumerate(paths, start=1) if not p.exists()]
    if missing:
        print(f"generating {len(missing)} workbooks in {directory} ...", flush=True)
        with ProcessPoolExecutor() as pool:
            list(pool.map(_make, *zip(*missing, strict=True), chunksize=4))
    return paths


def raw_read(paths: list[Path]) -> tuple[float, int]:
    """python-calamine alone: every sheet of every file to Python values, one process (wall seconds)."""
    started = time.perf_counter()
    cells = 0
    for p in paths:
        wb = python_calamine.CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python()
            cells += sum(len(r) for r in rows)
    return time.perf_counter() - started, cells


def _mib(kib: int) -> float:
    return kib / 1024  # ru_maxrss is in KiB on Linux


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--branches", type=int, default=200)
    ap.add_argument("--complaints", type=int, default=500)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "xlcomplaints-bench-report")
    ap.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = ap.parse_args()

    paths = generate(args.dir, args.branches, args.complaints)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} workbooks × {args.complaints} complaints, {size / 2**20:.1f} MiB, {os.cpu_count()} cores")

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on this machine "
          "slows both timings)")
    cpu = time.process_time()
    raw, cells = raw_read(paths)
    raw_cpu = time.process_time() - cpu
    print(f"raw read (python-calamine, 1 process): {raw:6.2f} s  ({cells:,} cells; CPU {raw_cpu:.2f} s)")

    out = Path(tempfile.mkdtemp(prefix="xlc-bench-")) / "group.xlsx"
    pool = default_executor(args.workers) if args.workers else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # (the generator's pool, if it ran)
    cpu = time.process_time()
    started = time.perf_counter()
    result = make_report(paths, MONTH, out, executor=pool, now=datetime(2026, 11, 22, 9, 0))
    total = time.perf_counter() - started
    main_cpu = time.process_time() - cpu
    if pool is not None:
        pool.shutdown()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    phases = "  ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
    ratio = total / raw
    print(f"consolidation (read+merge+report):     {total:6.2f} s  = {ratio:.2f}× the raw read "
          f"(target ≤ {TARGET}×: {'met' if ratio <= TARGET else 'NOT met'})")
    print(f"  phases: {phases}")
    per_file = sum(f.seconds for f in result.consolidation.files) / len(paths)
    workers_cpu = kids.ru_utime + kids.ru_stime - before.ru_utime - before.ru_stime
    print(f"  CPU: workers {workers_cpu:.2f} s ({per_file * 1000:.0f} ms wall per file inside a worker; the raw read "
          f"{raw_cpu / len(paths) * 1000:.0f} ms CPU per file), main process {main_cpu:.2f} s")
    print(f"  {len(result.consolidation.cases):,} complaints, {len(result.report.overdue):,} overdue rows, "
          f"report {out.stat().st_size / 2**20:.1f} MiB")
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory: main process {_mib(me):.0f} MiB, largest worker {_mib(kids.ru_maxrss):.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
