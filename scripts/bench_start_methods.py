"""Benchmark: a consolidation's worker processes started by fork, forkserver and spawn, side by side.

    python scripts/bench_start_methods.py SET --out DIR [--rounds 3] [--workers 2] [--methods fork forkserver spawn]

Each run is one consolidation of every workbook in SET (``report_flow``, the store's report, as the command line
runs it) in a fresh Python process, its pool made by ``pool.default_executor(workers, METHOD)``; the methods
alternate within each round, so that the machine's load falls on each alike. Per run: the wall time (pool start
included), the CPU time of every process it made — the head office's process over the run, each worker over its
whole life (a spawned worker's imports included), the forkserver and multiprocessing's resource tracker over theirs
—, the peak resident memory (VmHWM) of the head office's process and of the largest worker. Prints one line per
run and the medians per method. Outputs go under DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

SCRIPT = Path(__file__).resolve()


def _vm(pid: int | str = "self", key: str = "VmHWM") -> int:
    """A process's figure from /proc (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _cpu_of(pid: int) -> float:
    """A live process's own CPU seconds (user + system), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_figures(_: int) -> tuple[int, float, int]:
    """Run in a worker: its pid, its CPU seconds so far, its peak resident memory (KiB)."""
    time.sleep(0.05)  # hold this worker, so the other tasks go to the others
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return os.getpid(), usage.ru_utime + usage.ru_stime, _vm()


def one(method: str, paths: list[Path], out: Path, workers: int) -> dict[str, object]:
    """One consolidation with the pool's workers started by ``method`` (run in a process of its own)."""
    import multiprocessing.forkserver
    import multiprocessing.resource_tracker

    from xlcomplaints.core.metrics import Month
    from xlcomplaints.report.pool import default_executor
    from xlcomplaints.report.run import ReportHooks, ReportRequest, report_flow

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    pool = default_executor(workers, method)
    result = report_flow(ReportRequest(tuple(paths), Month(2026, 10), out, now=datetime(2026, 11, 22, 9, 0)),
                         ReportHooks(executor=pool))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    main_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    seen = {pid: (cpu, peak) for pid, cpu, peak in pool.map(_worker_figures, range(8 * workers))}
    helpers = 0.0
    for pid in (getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None),
                getattr(multiprocessing.resource_tracker._resource_tracker, "_pid", None)):
        if pid:
            helpers += _cpu_of(pid)
    pool.shutdown()
    return {"method": method, "wall": wall, "main_cpu": main_cpu, "workers": len(seen),
            "workers_cpu": sum(cpu for cpu, _ in seen.values()), "helpers_cpu": helpers,
            "cpu": main_cpu + sum(cpu for cpu, _ in seen.values()) + helpers,
            "main_peak_mib": _vm() / 1024, "worker_peak_mib": max(peak for _, peak in seen.values()) / 1024,
            "complaints": result.consolidation.complaints}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--methods", nargs="+", default=["fork", "forkserver", "spawn"])
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    paths = sorted(args.set.glob("*.xlsx"))
    if args.one:
        args.out.mkdir(parents=True, exist_ok=True)
        out = args.out / f"{args.one}.xlsx"
        print(json.dumps(one(args.one, paths, out, args.workers)))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{len(paths)} workbooks in {args.set}, {args.workers} workers, {args.rounds} rounds; "
          f"{datetime.now():%Y-%m-%d %H:%M} UTC{time.strftime('%z')}, load {Path('/proc/loadavg').read_text().strip()}")
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in args.methods}
    for r in range(args.rounds):
        for method in args.methods:
            done = subprocess.run([sys.executable, str(SCRIPT), str(args.set), "--out", str(args.out / f"r{r}"),
                                   "--workers", str(args.workers), "--one", method],
                                  capture_output=True, text=True, check=True)
            run = json.loads(done.stdout.strip().splitlines()[-1])
            runs[method].append(run)
            print(f"round {r + 1} {method:10} wall {run['wall']:6.2f} s  CPU {run['cpu']:6.2f} s (main "
                  f"{run['main_cpu']:.2f}, {run['workers']} workers {run['workers_cpu']:.2f}, forkserver/tracker "
                  f"{run['helpers_cpu']:.2f})  main {run['main_peak_mib']:.0f} MiB, worker {run['worker_peak_mib']:.0f} MiB"
                  f"  load {Path('/proc/loadavg').read_text().split()[0]}", flush=True)
    for method, done in runs.items():
        med = {k: statistics.median(float(d[k]) for d in done)  # type: ignore[arg-type]
               for k in ("wall", "cpu", "workers_cpu", "helpers_cpu", "main_peak_mib", "worker_peak_mib")}
        print(f"median {method:10} wall {med['wall']:.2f} s, CPU {med['cpu']:.2f} s (workers {med['workers_cpu']:.2f}, "
              f"forkserver/tracker {med['helpers_cpu']:.2f}), main {med['main_peak_mib']:.0f} MiB, "
              f"largest worker {med['worker_peak_mib']:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
