"""Benchmarks, figures for the README (no timed assertions live in the tests).

    python scripts/bench.py refresh [--sizes 10000 50000]
    python scripts/bench.py consolidate [--branches 200] [--complaints 500] [--refreshed] [--floor] [--pandas [SITE_DIR]]
    python scripts/bench.py calendar

refresh: builds branch registers of N complaints (with tracking and callback rows),
then, in the same run and each in a fresh process, times ``xlcomplaints refresh`` and
openpyxl load + save of the same file, printing wall time and peak memory (the measured
process's own VmHWM).
Target: refresh of 50,000 rows within a quarter of openpyxl's load + save, under 300 MiB.

consolidate: N branch workbooks × M complaints consolidated into a monthly report,
against python-calamine simply reading the same files in one process, in the same run
(scripts/bench_report.py; ``--pandas``: also pandas read_excel(engine="calamine") in a pool of the
workers). Target: within 1.5× of that raw read. ``--floor`` instead times
what a file costs at the least (calamine, and one model per row) against our whole read.

calendar: 600,000 due times (100,000 complaints × 6 stages), scripts/bench_calendar.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Peak memory of the measured process itself. Not ru_maxrss: on Linux a child started by
#: fork + exec reports the parent's peak at the fork when that was higher (here: the parent
#: that just built a 50,000-row file), so the kernel's per-process high-water mark is read.
PEAK = """
def peak_mib():
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
REFRESH = PEAK + """
import json, sys, time
from datetime import datetime
t = time.perf_counter()
from xlcomplaints.flows import refresh_flow
from xlcomplaints.workbook.file import FileWorkbook
result = refresh_flow(FileWorkbook(sys.argv[1]), now=datetime(2026, 11, 2, 9))
print(json.dumps({"seconds": time.perf_counter() - t, "rss_mib": peak_mib(),
                  "complaints": result.plan.complaints}))
"""
OPENPYXL = PEAK + """
import json, sys, time
t = time.perf_counter()
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
wb.save(sys.argv[1] + ".openpyxl.xlsx")
print(json.dumps({"seconds": time.perf_counter() - t, "rss_mib": peak_mib()}))
"""


def run(code: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_refresh(sizes: list[int]) -> None:
    from xlcomplaints.demo import make_branch

    tmp = Path(tempfile.mkdtemp(prefix="xlc-bench-"))
    try:
        print(f"{'rows':>7} | {'refresh':>16} | {'openpyxl load+save':>20} | ratio")
        for n in sizes:
            path = tmp / f"register-{n}.xlsx"
            t = time.perf_counter()
            make_branch(path, "BJ01", "基准网点", n=n, seed=7, mistakes=False)
            built = time.perf_counter() - t
            ours, theirs = run(REFRESH, path), run(OPENPYXL, path)
            print(f"{n:>7} | {ours['seconds']:6.2f} s {ours['rss_mib']:5.0f} MiB | "
                  f"{theirs['seconds']:8.2f} s {theirs['rss_mib']:5.0f} MiB | "
                  f"{ours['seconds'] / theirs['seconds']:.2f}   (file {path.stat().st_size / 2**20:.1f} MiB, "
                  f"built in {built:.1f} s)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("refresh")
    r.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    for name in ("consolidate", "calendar"):
        sub.add_parser(name, add_help=False)
    args, rest = parser.parse_known_args()
    if args.what == "refresh":
        bench_refresh(args.sizes)
        return 0
    script = Path(__file__).with_name("bench_report.py" if args.what == "consolidate" else "bench_calendar.py")
    return subprocess.call([sys.executable, str(script), *rest])


if __name__ == "__main__":
    sys.exit(main())
