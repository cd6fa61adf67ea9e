"""Where one branch file's read goes in a consolidation's worker, phase by phase (CPU time, one process).

    python scripts/profile_file_read.py [--dir DIR] [--files 40] [--passes 3] [--only PHASES]

Over the first --files bench workbooks (``bench_report.py``'s, never refreshed), each pass
runs a file's read as ``report.consolidate.read_file`` does, step by step, timing each step's
CPU (``time.process_time``, which other sessions' load moves less than wall time), then
python-calamine's raw read of the same file (every sheet to Python values: the issue's baseline)
and of only the sheets we read; per phase the best pass's mean per file is printed. Run it
under ``valgrind --tool=callgrind`` with ``--files 1`` and ``--files 6`` (``--passes 1``) and
take the difference over 5 for the instructions of one file (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import python_calamine

from xlcomplaints.collector import collector_paused
from xlcomplaints.core.deadlines import make_calendar
from xlcomplaints.core.metrics import Month, case_facts, received_by
from xlcomplaints.core.refresh import evaluate_branch
from xlcomplaints.core.validation import validate
from xlcomplaints.report import consolidate
from xlcomplaints.report.masking import mask_phone, mask_summary
from xlcomplaints.store import partition
from xlcomplaints.store.schema import to_table
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import read_branch

MONTH = Month(2026, 10)
NOW = datetime(2026, 11, 22, 9, 0)
READ_ONLY = "digest"  # read_branch without the grey cells' checksum, as a consolidation reads


def one_file(path: Path, staging: Path, t: dict[str, float]) -> None:
    """``read_file`` of one file, step by step (its result checked against ``read_file``'s own elsewhere)."""
    clock = time.process_time
    with collector_paused():
        a = clock()
        port = FileWorkbook(path)
        b = clock()
        kw = {READ_ONLY: False} if READ_ONLY in inspect.signature(read_branch).parameters else {}
        read = read_branch(port, lang="zh", **kw)
        c = clock()
        problems = read.problems + validate(read.data, read.layouts, now=NOW)
        d = clock()
        data = read.data
        cal = make_calendar(data.settings, data)
        results, _ = evaluate_branch(data, MONTH.end, cal)
        e = clock()
        cases = case_facts(data.settings.branch_code, data, results, cal, timed=(MONTH.shift(-1).start, MONTH.end),
                           contact=mask_phone, as_of=MONTH.end)
        received = [x for x in data.complaints if received_by(x, MONTH.end)]
        texts = consolidate._typical_texts(received, cases, MONTH)
        f = clock()
        summary = consolidate.FileSummary(str(path), 0.0, data.settings.branch_code, cases=tuple(cases),
                                          problems=tuple(problems), texts=texts)
        summary = mask_summary(summary)
        g = clock()
        table = to_table(summary.cases, summary.texts)
        h = clock()
        blob = partition.table_bytes(table)
        i = clock()
        partition.write_bytes(staging, blob, len(summary.cases))
        j = clock()
    for name, x, y in (("open the package (FileWorkbook)", a, b), ("read the sheets (read_branch)", b, c),
                       ("validate", c, d), ("deadlines (calendar, evaluate_branch)", d, e),
                       ("facts (case_facts, typical texts)", e, f), ("masking", f, g),
                       ("Arrow table (to_table)", g, h), ("Parquet bytes", h, i), ("write + fsync", i, j)):
        t[name] += y - x


def raw(path: Path, t: dict[str, float], sheets: list[str]) -> None:
    clock = time.process_time
    a = clock()
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()
    b = clock()
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    for name in sheets:
        list(wb.get_sheet_by_name(name).iter_rows())
    c = clock()
    t["baseline: calamine, every sheet to_python"] += b - a
    t["calamine, only the sheets we read"] += c - b


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "xlcomplaints-bench-report")
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--ours", action="store_true", help="only our read (no raw read): for callgrind")
    args = ap.parse_args()
    paths = sorted(args.dir.glob("BR*-500.xlsx"))[:args.files]
    staging = Path(tempfile.mkdtemp(prefix="xlc-profile-"))
    sheets = {} if args.ours else {p: list(read_branch(FileWorkbook(p)).sheets.values()) for p in paths}
    best: dict[str, float] = {}
    for _ in range(args.passes):
        t: dict[str, float] = defaultdict(float)
        for p in paths:
            one_file(p, staging, t)
            if not args.ours:
                raw(p, t, sheets[p])
        for k, v in t.items():
            best[k] = min(best.get(k, v), v)
    ours = sum(v for k, v in best.items() if "calamine" not in k)
    print(f"per file, CPU ms, best of {args.passes} passes over {len(paths)} files:")
    for k, v in best.items():
        print(f"  {k:45s} {v / len(paths) * 1000:6.2f}")
    print(f"  {'our whole read, with the partition':45s} {ours / len(paths) * 1000:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
