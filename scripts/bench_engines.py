"""Benchmark: a consolidation's report computed from its facts store against the Python engine (issue 22).

    python scripts/bench_engines.py [--branches 200] [--complaints 500] [--dir DIR] [--repeat 1] [--workers N]

On the sample workbooks of ``bench_report.py`` (made once, cached in DIR; 2,000 branches are 2,000 files,
each its own branch code), each run consolidates the same files twice, each time in a fresh process: with
the Python engine (``ReportHooks.python_engine``: every case read back into the main process, merged, a
``CaseIndex`` built) and from the store (``report.store_report``: DuckDB over the partitions the workers
wrote, the printed lists' rows alone read back). Printed per run: wall time, the phases, the main process's
peak resident memory (its own VmHWM) and the largest worker's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import _mib, consolidate, generate  # noqa: E402


def _child(directory: Path, branches: int, complaints: int, workers: int, engine: str) -> None:
    paths = generate(directory, branches, complaints)
    run = consolidate(paths, workers, python_engine=engine == "python")
    print(json.dumps({"wall": run.wall, "timings": run.timings, "main": _mib(run.main_peak),
                      "worker": _mib(run.worker_peak), "sizes": run.sizes}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--branches", type=int, default=200)
    ap.add_argument("--complaints", type=int, default=500)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "xlcomplaints-bench-report")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None, help="default: one per core")
    ap.add_argument("--child", choices=["python", "store"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    workers = args.workers or os.cpu_count() or 1
    if args.child:
        _child(args.dir, args.branches, args.complaints, workers, args.child)
        return 0
    generate(args.dir, args.branches, args.complaints)
    print(f"{args.branches} workbooks × {args.complaints} complaints, {workers} workers, {os.cpu_count()} cores, "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for i in range(args.repeat):
        for engine in ("python", "store"):
            out = subprocess.run([sys.executable, __file__, "--branches", str(args.branches), "--complaints",
                                  str(args.complaints), "--dir", str(args.dir), "--workers", str(workers),
                                  "--child", engine], capture_output=True, text=True, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            phases = "  ".join(f"{k} {v:.2f}s" for k, v in r["timings"].items())
            print(f"  run {i + 1} {engine:6}: {r['wall']:7.2f} s  main peak {r['main']:6.0f} MiB  largest worker "
                  f"{r['worker']:5.0f} MiB  ({phases}; {r['sizes']})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
