"""Time and peak memory of XlsxPackage on a large register, one step per fresh process.

Steps (each measured in its own subprocess that first runs the steps before it):
open; write of 21 columns x all Register rows (datetimes, short CJK strings, floats,
None) as one write_columns call, as a refresh writes them (--held: write_cells in 5,000-row
chunks, the path that edits a held sheet); replace_rows of 60,000 x 14 rows on the Overdue
sheet; save to a file. write_columns and replace_rows only record the writes: their cells
are rendered by save, so compare the "all" rows. A last run ("all") measures the whole
write+replace+save path against the RSS after open, which is the figure the memory target
is about. Times leave out building the caller's values (built before the step, or per
chunk untimed); peaks include them, as a refresh holds them too.

Peak RSS is ru_maxrss; before each measured step the process's high-water mark is reset
(Linux /proc/self/clear_refs "5"), so a step's peak is not hidden by an earlier one.
"extra" is peak minus the RSS just before the step.

    python scripts/bench_package.py [--file /tmp/b50k.xlsx] [--rows 50000] [--held]
        [--impl path/to/package.py]   # measure another copy of the writer (before/after)
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STEPS = ["open", "write", "replace_rows", "save"]
CHUNK = 5_000
FIRST_COL, N_COLS = 30, 21  # the Register's computed columns sit at the end (AD:AX)
OVERDUE_ROWS, OVERDUE_COLS = 60_000, 14
STATUS = ["已逾期", "即将到期", "按时完成", "逾期完成", "处理中"]


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def load_impl(path: str | None) -> Any:
    if path is None:
        from xlcomplaints.workbook import package

        return package
    spec = importlib.util.spec_from_file_location("bench_impl", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_impl"] = module
    spec.loader.exec_module(module)
    return module


def register_value(r: int, c: int) -> object:
    """Mixed computed values, like a refresh writes: due datetimes, statuses, day counts."""
    k = (r * 31 + c) % 7
    if k == 0:
        return None
    if c % 2:
        return dt.datetime(2026, 1, 1, 9) + dt.timedelta(hours=(r * 7 + c) % 5000)
    if k in (1, 2, 3):
        return STATUS[(r + c) % len(STATUS)]
    return round(((r * c) % 1000) / 7, 2)


def overdue_rows(n: int) -> list[list[object]]:
    base = dt.datetime(2026, 3, 1, 8)
    return [
        [f"BJ01-2026-{i:06d}", base + dt.timedelta(hours=i % 900), STATUS[i % 5], "客户投诉",
         base + dt.timedelta(days=i % 60), "一般", float(i % 13), i % 4 or None, "张三",
         "客服部", base.date() + dt.timedelta(days=i % 90), "已回访" if i % 3 else None,
         "产品质量", f"第{i % 17}次催办"]
        for i in range(n)
    ]  # fmt: skip


def run_step(args: argparse.Namespace) -> dict[str, object]:
    """Run the steps up to args.step; measure only that one (or all after open)."""
    impl = load_impl(args.impl)
    work = Path(tempfile.mkdtemp(prefix="bench-package-"))
    path = work / "register.xlsx"
    shutil.copyfile(args.file, path)
    target = args.step
    measure_from = "write" if target == "all" else target
    out: dict[str, object] = {"step": target}
    pkg = None
    # The caller's data, built before anything is measured (a refresh holds its plan too);
    # the Register values are built per chunk inside the step but not timed.
    rows_for_replace = overdue_rows(OVERDUE_ROWS) if target in ("replace_rows", "save", "all") else []
    columns = list(range(FIRST_COL, FIRST_COL + N_COLS))
    held = args.held or not hasattr(impl.XlsxPackage, "write_columns")  # an older writer
    register_rows = {} if held or target == "open" else {
        r: tuple(register_value(r, c) for c in columns) for r in range(2, args.rows + 2)
    }
    making = 0.0
    try:
        for step in STEPS:
            if step == measure_from:
                out["rss_before"] = rss_mib()
                out["peak_reset"] = reset_peak()
                t0 = time.perf_counter()
            if step == "open":
                pkg = impl.XlsxPackage.open(path)
                register = pkg.sheets[0].name
                overdue = next(s.name for s in pkg.sheets if s.name == "逾期清单")
                n_rows = args.rows
            elif step == "write" and not held:
                pkg.write_columns(register, columns, register_rows)
            elif step == "write":
                for start in range(2, n_rows + 2, CHUNK):
                    t1 = time.perf_counter()
                    cells = {
                        (r, c): register_value(r, c)
                        for r in range(start, min(start + CHUNK, n_rows + 2))
                        for c in range(FIRST_COL, FIRST_COL + N_COLS)
                    }
                    if target in ("write", "all"):  # inside the measured window
                        making += time.perf_counter() - t1
                    pkg.write_cells(register, cells)
                    del cells
            elif step == "replace_rows":
                pkg.replace_rows(overdue, 2, rows_for_replace)
            elif step == "save":
                pkg.save(path, backup=False)
            if step == target or (target == "all" and step == STEPS[-1]):
                out["seconds"] = round(time.perf_counter() - t0 - making, 2)
                out["peak"] = round(peak_mib(), 1)
                out["extra"] = round(peak_mib() - out["rss_before"], 1)  # type: ignore[operator]
                out["rss_after"] = round(rss_mib(), 1)
                out["rss_before"] = round(out["rss_before"], 1)  # type: ignore[call-overload]
                break
        if target in ("save", "all"):
            out["size_mb"] = round(path.stat().st_size / 1e6, 2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--file", default="/tmp/b50k.xlsx")
    parser.add_argument("--rows", type=int, default=50_000, help="Register data rows to write")
    parser.add_argument("--impl", help="package.py to measure instead of the installed one")
    parser.add_argument("--held", action="store_true", help="write with write_cells (held sheet)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(run_step(args)))
        return
    if not Path(args.file).exists():
        from xlcomplaints.demo import make_branch

        print(f"building {args.file} ({args.rows} rows, ~40 s)...", flush=True)
        make_branch(Path(args.file), "BJ01", "x", n=args.rows, seed=7, mistakes=False)
    extra = (["--impl", args.impl] if args.impl else []) + (["--held"] if args.held else [])
    print(f"{'step':<13}{'seconds':>9}{'peak MiB':>10}{'before':>9}{'extra':>9}{'after':>9}")
    for step in [*STEPS, "all"]:
        cmd = [sys.executable, __file__, "--step", step, "--file", args.file,
               "--rows", str(args.rows), *extra]  # fmt: skip
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        label = "write+repl+save" if step == "all" else step
        print(f"{label:<13}{res['seconds']:>9}{res['peak']:>10}{res['rss_before']:>9}"
              f"{res['extra']:>9}{res['rss_after']:>9}" + (f"   file {res['size_mb']} MB" if "size_mb" in res else ""))  # fmt: skip


if __name__ == "__main__":
    main()
