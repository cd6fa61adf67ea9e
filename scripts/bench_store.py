"""Benchmark: the facts store of a consolidation (issue 22).

    python scripts/bench_store.py [--branches 200] [--complaints 500] [--dir DIR] [--update 10] [--repeat 3]

On the sample workbooks of ``bench_report.py`` (made once, cached in DIR): the size of one worker's
summary as it travels back pickled, with its cases (as before the store) and with only its partition;
then, ``--repeat`` times in turn, a full consolidation and an ``--update`` of ``--update`` branches of it,
wall time each (medians printed), and the size of the store on disk (per 1,000,000 complaints too).
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from xlcomplaints.core.metrics import Month
from xlcomplaints.report.consolidate import read_file
from xlcomplaints.report.facts import store_path
from xlcomplaints.report.run import make_report

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import generate  # noqa: E402

MONTH = Month(2026, 10)
NOW = datetime(2026, 11, 22, 9, 0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--branches", type=int, default=200)
    ap.add_argument("--complaints", type=int, default=500)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "xlcomplaints-bench-report")
    ap.add_argument("--update", type=int, default=10, help="branches re-read by the --update run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    paths = generate(args.dir, args.branches, args.complaints)

    with tempfile.TemporaryDirectory() as staging:
        sizes = [(len(pickle.dumps(read_file(str(p), MONTH, MONTH.end, NOW))),
                  len(pickle.dumps(read_file(str(p), MONTH, MONTH.end, NOW, staging=staging)))) for p in paths[:10]]
    before, after = (statistics.median(s) / 1024 for s in zip(*sizes, strict=True))
    print(f"a worker's summary, pickled (median of {len(sizes)} files): {before:.1f} KiB with its cases, "
          f"{after:.2f} KiB with its partition instead")

    out = Path(tempfile.mkdtemp(prefix="xlc-bench-store-")) / "group.xlsx"
    fulls: list[float] = []
    updates: list[float] = []
    for i in range(args.repeat):
        started = time.perf_counter()
        full = make_report(paths, MONTH, out, now=NOW, workers=args.workers)
        fulls.append(time.perf_counter() - started)
        started = time.perf_counter()
        make_report(paths[:: max(1, len(paths) // args.update)][: args.update], MONTH, out, now=NOW, update=True,
                    workers=args.workers)
        updates.append(time.perf_counter() - started)
        print(f"  run {i + 1}: full {fulls[-1]:.2f} s ({'  '.join(f'{k} {v:.2f}' for k, v in full.timings.items())}),"
              f" --update of {args.update}: {updates[-1]:.2f} s", flush=True)
    store = store_path(out)
    files = [f for f in store.rglob("*") if f.is_file()]
    size = sum(f.stat().st_size for f in files)
    complaints = len(full.consolidation.cases)
    print(f"full consolidation: {statistics.median(fulls):.2f} s; --update of {args.update} of {len(paths)}: "
          f"{statistics.median(updates):.2f} s = {statistics.median(updates) / statistics.median(fulls):.0%} "
          f"(medians of {args.repeat})")
    print(f"store: {size / 2**20:.1f} MiB in {len(files)} files for {complaints:,} complaints = "
          f"{size / complaints * 1_000_000 / 1e6:.0f} MB per 1,000,000 complaints")
    return 0


if __name__ == "__main__":
    sys.exit(main())
