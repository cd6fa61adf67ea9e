"""Benchmark: the two consolidations issue 22 left on the Python engine, before and after (h23p).

    python scripts/bench_policy.py --set /tmp/h22b-scale/set-200 --out /tmp/h23p-bench [--code DIR] [--rounds 2]

``policy``: a consolidation with ``--policy`` (head office's lists: categories, channels, types, departments
and handlers, most of the branches' values off the list: ``tests/policies.py``'s ``HEAD_OFFICE_LISTS``, the
sample the store's report is tested with). ``masked-update``: ``--update`` of ten branches,
masking contacts, of a store that showed them (made once, with this checkout, by a consolidation with
``--show-contacts``; each run gets a hard-linked copy of it, as an update never changes a file in place).
Each run is a fresh process, with ``PYTHONPATH`` set to the code measured (``--code``: a checkout, e.g. a
``git worktree`` of the commit before; default this one), the two codes alternating in one period. Printed
per run: wall time, CPU time of all processes (the run's and its workers', user + system), the main
process's peak resident memory (VmHWM) and the largest worker's (``ru_maxrss`` of the children).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import psutil

NOW = datetime(2026, 11, 2, 9, 0)


def _child(mode: str, files: list[Path], out: Path, workers: int) -> dict[str, float]:
    from bench_report import (
        tree_cpu,  # this folder's: CPU of the workers too, a forkserver's children
    )
    from bench_scale import _hwm_kib

    from xlcomplaints.core.metrics import Month
    from xlcomplaints.policy_file import load_policy
    from xlcomplaints.report.run import ReportHooks, ReportKind, ReportRequest, report_flow

    peaks: dict[int, int] = {}
    done = threading.Event()

    def watch() -> None:  # the workers' peaks (VmHWM): a forkserver's children, never reaped by this process
        while not done.wait(0.05):
            for p in psutil.Process().children(recursive=True):
                with contextlib.suppress(psutil.Error, OSError):
                    peaks[p.pid] = max(peaks.get(p.pid, 0), _hwm_kib(p))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start, cpu0 = time.perf_counter(), tree_cpu()
    if mode == "policy":  # head office's lists, written beside the run's report by the parent (``_policy_file``)
        hq = out.with_suffix(".toml")
        request = ReportRequest(tuple(files), Month(2026, 10), out, now=NOW, lists=load_policy(hq).lists)
    else:
        request = ReportRequest(tuple(files[:10]), Month(2026, 10), out, ReportKind.UPDATE, now=NOW)
    result = report_flow(request, ReportHooks(workers=workers))
    wall, cpu = time.perf_counter() - start, tree_cpu()
    done.set()
    watcher.join()
    status = Path("/proc/self/status").read_text()
    hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return {"wall": wall, "cpu": cpu - cpu0,
            "main_mib": hwm / 1024, "worker_mib": max(peaks.values(), default=0) / 1024,
            "received": result.report.value("received") or 0}


def _policy_file(out: Path) -> None:
    """Head office's lists for a ``policy`` run, beside its report: the tests' sample (``tests/policies.py``), read
    by this checkout, as the code measured (``--code``) may be one without it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the sample is test data, not the package's
    from tests.policies import HEAD_OFFICE_LISTS

    out.with_suffix(".toml").write_text(HEAD_OFFICE_LISTS, encoding="utf-8")


def _shown_store(files: list[Path], base: Path, workers: int) -> Path:
    """A consolidation with --show-contacts, made once: the store a masked update starts from."""
    out = base / "shown" / "group.xlsx"
    if not out.exists():
        from xlcomplaints.core.metrics import Month
        from xlcomplaints.report.run import Contacts, ReportHooks, ReportRequest, report_flow

        out.parent.mkdir(parents=True, exist_ok=True)
        report_flow(ReportRequest(tuple(files), Month(2026, 10), out, now=NOW, contacts=Contacts.SHOWN),
                    ReportHooks(workers=workers))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, required=True, help="a folder of branch workbooks")
    ap.add_argument("--out", type=Path, required=True, help="where reports and stores are written")
    ap.add_argument("--code", type=Path, default=None, help="the checkout measured against this one (before)")
    ap.add_argument("--modes", default="policy,masked-update")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--child", nargs=2, metavar=("MODE", "OUTPUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    files = sorted(args.set.glob("*.xlsx"))
    if args.child:
        print(json.dumps(_child(args.child[0], files, Path(args.child[1]), args.workers)))
        return 0
    here = Path(__file__).resolve().parents[1]
    codes = {"after": here, **({"before": args.code.resolve()} if args.code else {})}
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{len(files)} workbooks in {args.set}, {args.workers} workers, {os.cpu_count()} cores; "
          f"{datetime.now():%Y-%m-%d %H:%M:%S}, load {Path('/proc/loadavg').read_text().strip()}", flush=True)
    shown = _shown_store(files, args.out, args.workers) if "masked-update" in args.modes else None
    for r in range(args.rounds):
        for mode in args.modes.split(","):
            for name, code in sorted(codes.items(), reverse=r % 2 == 1):  # alternate who goes first
                run_dir = args.out / f"{mode}-{name}-{r}"
                shutil.rmtree(run_dir, ignore_errors=True)
                run_dir.mkdir()
                out = run_dir / "group.xlsx"
                if mode == "policy":
                    _policy_file(out)
                if mode == "masked-update" and shown is not None:
                    shutil.copy2(shown, out)
                    subprocess.run(["cp", "-al", str(shown.with_suffix(".facts")), str(run_dir)], check=True)
                env = {**os.environ, "PYTHONPATH": str(code)}
                said = subprocess.run([sys.executable, __file__, "--set", str(args.set), "--out", str(args.out),
                                       "--workers", str(args.workers), "--child", mode, str(out)], env=env,
                                      capture_output=True, text=True, check=True, cwd=code).stdout
                m = json.loads(said.strip().splitlines()[-1])
                print(f"  round {r + 1} {mode:13} {name:6}: wall {m['wall']:7.1f} s  cpu {m['cpu']:7.1f} s  main peak "
                      f"{m['main_mib']:6.0f} MiB  largest worker {m['worker_mib']:5.0f} MiB  received {m['received']}  "
                      f"load {Path('/proc/loadavg').read_text().split()[0]}", flush=True)
                shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
