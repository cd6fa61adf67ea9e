"""Benchmark: the report's figures by DuckDB over the facts store's Parquet files against the Python engine.

    python scripts/bench_queries.py [--branches 200] [--complaints 500] [--dir DIR] [--repeat 3]

Makes the facts once (``tests.samples.synthetic_branch`` with the default rules, evaluated as of the end of
October 2026 as a consolidation does: the generator of ``bench_report.py`` without the workbooks), one
Parquet partition per branch (``store.partition``'s settings: zstd), cached in DIR. Then each side runs
in a fresh process, --repeat times, and the median counts:

- ``python``: the partitions read back into ``Case`` records (``schema.from_table``: what a report from the
  store does today) and merged (``merging.merge``), then the figures over a ``CaseIndex``;
- ``duckdb``: the same figures from ``store.figures.Facts`` over the Parquet files (read once into DuckDB's
  own tables, the rules across branches applied by ``store.merge_sql``: the ``read`` column), with
  ``--memory-limit`` if given.

``--copies K`` makes the set K times as big (each copy under its own branch codes and numbers).

The figures: every registered metric for October and September (the cover), the breakdowns by branch,
category, channel, severity and department, By-handler and By-department, the stage times, the overdue list,
the trend, the typical cases, the backlog's ages, and every registered metric of each branch alone. Prints the seconds of each phase and the process's
peak memory (ru_maxrss), and its memory once the modules are imported (the floor both sides share).

Measured 2026-12-06 on the shared 2-core machine (load average 6–7: the seconds are loose, the ratios and
the memory less so), medians of 2 runs, DuckDB 2.0.1:

| set | side | read (+ merge) | figures | total | peak |
|---|---|---|---|---|---|
| 200 × 500 (100 k) | python | 14.1 s | 10.5 s | 24.6 s | 538 MiB |
| | duckdb | 5.9 s | 5.6 s | 11.5 s | 390 MiB |
| 200 × 500, --memory-limit 256MB | python | 8.4 s | 5.4 s | 13.8 s | 538 MiB |
| | duckdb | 4.3 s | 3.4 s | 7.7 s | 364 MiB |
| 1000 × 500 (500 k, --copies 5), 256MB, 1 run | python | 33.6 s | 19.9 s | 53.4 s | 2188 MiB |
| | duckdb | 19.3 s | 24.1 s | 43.4 s | 501 MiB |
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PERIOD = "2026-10"
AS_OF = datetime(2026, 11, 1)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _make(path: str, code: str, n: int, seed: int) -> None:
    import pyarrow.parquet as pq

    from tests.samples import synthetic_branch
    from xlcomplaints.core import metrics as M
    from xlcomplaints.core.deadlines import make_calendar
    from xlcomplaints.core.policy import default_policy
    from xlcomplaints.core.refresh import evaluate_branch
    from xlcomplaints.store.schema import to_table

    p = M.Period.parse(PERIOD)
    data = synthetic_branch(code, n, end=M.Month(2026, 10).end, months=12, seed=seed, name=f"网点{code[2:]}")
    data = replace(data, settings=data.settings.model_copy(update={"policy": default_policy()}))
    results, _ = evaluate_branch(data, AS_OF)
    cases = M.case_facts(code, data, results, make_calendar(data.settings, data), timed=(p.shift(-1).start, p.end),
                         as_of=AS_OF)
    pq.write_table(to_table(cases), path, compression="zstd", compression_level=9)


def cached(directory: Path, i: int, complaints: int) -> Path:
    """The i-th branch's file: the store's schema in its name, so files cached by a version of another schema are
    made again, not read."""
    from xlcomplaints.store.schema import SCHEMA_VERSION

    return directory / f"BR{i:04d}-{complaints}-v{SCHEMA_VERSION}.parquet"


def generate(directory: Path, branches: int, complaints: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [cached(directory, i, complaints) for i in range(1, branches + 1)]
    missing = [(str(p), f"BR{i:04d}", complaints, i) for i, p in enumerate(paths, start=1) if not p.exists()]
    if missing:
        print(f"making the facts of {len(missing)} branches in {directory} ...", flush=True)
        with ProcessPoolExecutor(2) as pool:
            list(pool.map(_make, *zip(*missing, strict=True), chunksize=4))
    return paths


def copies(paths: list[Path], k: int) -> list[Path]:
    """``k`` times the files, each copy's branch codes and numbers made its own (a head office k times as big)."""
    import duckdb

    out = list(paths)
    for i in range(1, k):
        for p in paths:
            q = p.with_name(f"C{i}-{p.name}")
            if not q.exists():
                duckdb.execute(f"COPY (SELECT * REPLACE ('C{i}' || branch AS branch, 'C{i}' || no AS no, "
                               f"'C{i}' || repeat_of AS repeat_of) FROM read_parquet('{p}')) TO '{q}' "
                               "(FORMAT parquet, COMPRESSION zstd)")
            out.append(q)
    return out


def _figures_python(paths: list[Path]) -> dict[str, float]:
    import pyarrow.parquet as pq

    from xlcomplaints.core import metrics as M
    from xlcomplaints.report.file_summary import FileSummary
    from xlcomplaints.report.merging import merge
    from xlcomplaints.store.schema import CASES, from_table

    floor = _peak_mib()
    t0 = time.perf_counter()
    m = M.Period.parse(PERIOD)
    files = []
    for p in paths:
        found = from_table(pq.read_table(p).cast(CASES))[0]
        files.append(FileSummary(str(p), 0.0, found[0].branch, cases=tuple(found)))
    cases = merge(files, m, AS_OF).cases  # the rules across branches, as a consolidation applies them
    del files
    t1 = time.perf_counter()
    ix = M.CaseIndex(cases)
    cover = {k: (f(ix, m), f(ix, m.previous)) for k, f in M.METRICS.items()}
    for dim in ("branch", "category", "channel", "severity", "department"):
        M.breakdown(ix, m, dim)
    M.people(ix, m, M.BY_HANDLER)
    M.people(ix, m, M.BY_DEPARTMENT)
    M.stage_table(ix, m)
    M.overdue_detail(ix, m)
    M.trend(ix, m)
    M.typical_cases(ix, m)
    M.backlog_ages(ix, m)
    M.backlog_ages(ix, m.previous)
    by: dict[str, list[M.Case]] = {}
    for c in cases:
        by.setdefault(c.branch, []).append(c)
    for mine in by.values():  # the cover of each branch alone (the By-branch table, every figure)
        one = M.CaseIndex(mine)
        {k: (f(one, m), f(one, m.previous)) for k, f in M.METRICS.items()}
    t2 = time.perf_counter()
    return {"load": t1 - t0, "figures": t2 - t1, "total": t2 - t0, "floor_mib": floor, "peak_mib": _peak_mib(),
            "received": float(cover["received"][0] or 0)}


def _figures_duckdb(paths: list[Path], memory_limit: str | None) -> dict[str, float]:
    from xlcomplaints.core import metrics as M
    from xlcomplaints.store.facts_sql import connect_parquet
    from xlcomplaints.store.figures import BY_BRANCH, BY_DEPARTMENT, BY_HANDLER, Facts
    from xlcomplaints.store.merge_sql import count_once, repeats_across_branches

    floor = _peak_mib()
    t0 = time.perf_counter()
    con = connect_parquet(paths, memory_limit=memory_limit)
    count_once(con)
    repeats_across_branches(con, {}, 30)
    facts = Facts(con)
    t1 = time.perf_counter()
    m = M.Period.parse(PERIOD)
    cover = facts.cover(m)
    for dim in ("branch", "category", "channel", "severity", "department"):
        facts.breakdown(m, dim)
    facts.people(m, BY_HANDLER)
    facts.people(m, BY_DEPARTMENT)
    facts.stage_table(m)
    facts.overdue_detail(m)
    facts.trend(m)
    facts.typical(m)
    facts.backlog_ages(m)
    facts.backlog_ages(m.previous)
    facts.cover(m, BY_BRANCH)
    t2 = time.perf_counter()
    return {"load": t1 - t0, "figures": t2 - t1, "total": t2 - t0, "floor_mib": floor, "peak_mib": _peak_mib(),
            "received": float(cover["received"][None][0] or 0)}


def _child(side: str, directory: str, branches: int, complaints: int, memory_limit: str | None, k: int) -> None:
    paths = copies([cached(Path(directory), i, complaints) for i in range(1, branches + 1)], k)
    if side == "python":
        import pyarrow.parquet  # noqa: F401  # both sides' floor holds the same modules

        import xlcomplaints.store.schema  # noqa: F401
    else:
        import xlcomplaints.store.figures  # noqa: F401
    print(json.dumps(_figures_python(paths) if side == "python" else _figures_duckdb(paths, memory_limit)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--branches", type=int, default=200)
    ap.add_argument("--complaints", type=int, default=500)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "xlcomplaints-bench-queries")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--copies", type=int, default=1, help="the facts this many times, under other branch codes")
    ap.add_argument("--memory-limit", default=None, help="DuckDB's memory_limit (default: its own, 80%% of RAM)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.branches, args.complaints, args.memory_limit, args.copies)
        return 0
    paths = copies(generate(args.dir, args.branches, args.complaints), args.copies)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} branches × {args.complaints} complaints, {size / 2**20:.1f} MiB of Parquet; "
          f"DuckDB memory_limit {args.memory_limit or 'default'}")
    runs: dict[str, list[dict[str, float]]] = {"python": [], "duckdb": []}
    for _ in range(args.repeat):
        for side in runs:
            limit = ["--memory-limit", args.memory_limit] if args.memory_limit else []
            out = subprocess.run([sys.executable, __file__, "--branches", str(args.branches), "--complaints",
                                  str(args.complaints), "--copies", str(args.copies), *limit, "--child", side,
                                  str(args.dir)],
                                 check=True, capture_output=True, text=True).stdout
            runs[side].append(json.loads(out.strip().splitlines()[-1]))
    for side, found in runs.items():
        med = {k: statistics.median(r[k] for r in found) for k in found[0]}
        print(f"{side:7s} read {med['load']:6.2f} s  figures {med['figures']:6.2f} s  total {med['total']:6.2f} s  "
              f"peak {med['peak_mib']:6.0f} MiB (after imports {med['floor_mib']:.0f} MiB)  "
              f"received {med['received']:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
