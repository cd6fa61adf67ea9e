"""Benchmark: ``consolidate --update`` of a few branches against the full run it updates (issue 22's target:
under 10 % of the full run's time, peak under 1 GiB).

    python scripts/bench_update.py SET --out DIR [--update 10] [--rounds 1] [--code DIR ...] [--no-full]

``SET`` is a folder of branch workbooks (``bench_scale.py``'s ``--work``/set-N). For each code tree (``--code``:
a checkout put first on ``PYTHONPATH``, e.g. ``git worktree add /tmp/base <commit>``; this checkout when none),
alternately, each round: the command line's full ``consolidate SET -o DIR/<i>/group.xlsx --month 2026-10 --now
…``, then ``consolidate <the first --update files of SET> --update`` into the same report (``--spread``: files
spread over the set, every len/N-th, so that each falls in another pack of the store, ``store.pack``). Each run is a
subprocess sampled by ``bench_scale.sample`` (psutil, every 50 ms): wall, CPU of all processes
(``RUSAGE_CHILDREN``), the main process's peak (VmHWM) and the largest worker's; and the run's phases as the
flow timed them (``RunResult.timings``, printed by the probe below with ``--phases``). Prints a Markdown table
and the load average before and after. Nothing is asserted; ``--no-full`` reuses DIR's last full run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import MONTH, NOW, sample  # noqa: E402

#: Runs the flow as the command line does and prints its phases' seconds (``RunResult.timings``) on stderr.
PROBE = """
import json, sys, time
t0 = time.perf_counter()
from xlcomplaints import cli
import xlcomplaints.report.run as run
flow = run.report_flow
def timed(*a, **k):
    r = flow(*a, **k)
    print("PHASES " + json.dumps({"imports": t1 - t0, **r.timings}), file=sys.stderr)
    return r
t1 = time.perf_counter()
for m in list(sys.modules.values()):
    if getattr(m, "report_flow", None) is flow:
        m.report_flow = timed
sys.argv = ["xlcomplaints", *sys.argv[1:]]
cli.main()
"""


@dataclass
class Sample:
    code: str
    what: str
    wall: float
    cpu: float
    main_mib: float
    worker_mib: float
    phases: str
    store: str = ""


def run(cmd: list[str], env: dict[str, str], code: str, what: str) -> Sample:
    ran = sample(cmd, 0.05, env)
    if ran.returncode != 0:
        raise SystemExit(f"{what} failed ({ran.returncode}):\n{ran.err[-3000:]}")
    phases = next((line[7:] for line in ran.err.splitlines() if line.startswith("PHASES ")), "")
    return Sample(code, what, ran.wall, ran.cpu, ran.main_mib, ran.worker_mib, phases)


def _size(store: Path) -> str:
    """The store's size: the sum of its files (bytes, MB), and how many."""
    files = [f for f in store.rglob("*") if f.is_file()]
    return f"{sum(f.stat().st_size for f in files) / 1e6:.2f} MB in {len(files)} files"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--update", type=int, default=10, help="how many of the set's files --update re-reads")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--code", type=Path, nargs="*", default=[], help="checkouts to compare (PYTHONPATH)")
    ap.add_argument("--no-full", action="store_true", help="only --update, over DIR's last full run")
    ap.add_argument("--spread", action="store_true",
                    help="--update files spread over the set (every len/N-th) rather than its first N")
    args = ap.parse_args()
    files = sorted(args.set.glob("*.xlsx"))
    codes = args.code or [Path(__file__).resolve().parent.parent]
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}  ({time.strftime('%H:%M:%S')} UTC)", flush=True)
    samples = []
    for _ in range(args.rounds):
        for i, code in enumerate(codes):
            env = {**os.environ, "PYTHONPATH": str(code.resolve())}
            out = args.out / str(i)
            out.mkdir(parents=True, exist_ok=True)
            report = out / "group.xlsx"
            base = [sys.executable, "-P", "-c", PROBE, "consolidate"]  # -P: not the working folder first, --code is
            tail = ["-o", str(report), "--month", MONTH, "--now", NOW]
            if not args.no_full:
                samples.append(run([*base, str(args.set), *tail], env, code.name, f"full {len(files)}"))
                samples[-1].store = _size(out / "group.facts")
                print(samples[-1], flush=True)
            picked = [str(f) for f in (files[::max(1, len(files) // args.update)][:args.update] if args.spread
                                       else files[:args.update])]
            samples.append(run([*base, *picked, *tail, "--update"], env, code.name, f"--update {args.update}"))
            samples[-1].store = _size(out / "group.facts")
            print(samples[-1], flush=True)
    print(f"load after: {Path('/proc/loadavg').read_text().strip()}  ({time.strftime('%H:%M:%S')} UTC)")
    print("| code | run | wall | CPU (all processes) | main peak | largest worker | store | phases (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for s in samples:
        print(f"| {s.code} | {s.what} | {s.wall:.1f} s | {s.cpu:.1f} s | {s.main_mib:.0f} MiB | {s.worker_mib:.0f} MiB | "
              f"{s.store} | {s.phases} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
