"""Benchmark: the facts store of a consolidation (issue 22).

    python scripts/bench_store.py [--branches 200] [--complaints 500] [--dir DIR] [--update 10] [--repeat 3]

On the sample workbooks of ``bench_report.py`` (made once, cached in DIR): the size of one worker's
summary as it travels back pickled, with its cases (as before the store) and with only its partition;
then, ``--repeat`` times in turn, a full consolidation without the store (the workers sending their cases
back, as before it: ``report.run.Staging`` left out), a full consolidation with it, and an ``--update`` of
``--update`` branches of it, wall time each (medians printed), and the size of the store on disk (per
1,000,000 complaints too). ``--partitions-only N``: only the partitions of the first N files, each written
(``write_partition``: a worker's staged partition, LZ4, not the packs the store keeps) and read back
(``read_partition``) ``--repeat`` times: bytes per 1,000,000 complaints, and
the median write and read time of one partition (run it with ``PYTHONPATH`` at another checkout to compare).
``--layouts N``: the partitions of the first N files in the store's layout and in the layouts measured and not
taken (README "Shrinking the store"): rows ordered by received time with their place as a column, the bench's rows
in order of receipt as a register is kept (and numbered so), zstd 9 and 19, twenty branches in one file; and of
schema 4's choices (``store.ticks``): the times counted from the received time itself rather than its day, in one
tick for the whole file (the finest its columns need) rather than each column's own, in ms always, the due times in
delta encoding rather than a dictionary, the stages' durations as whole ten-thousandths (``took``) and hundredths
(``late_by``, both as the engine rounds them) rather than floats.
``--load STORE``: ``store.facts_sql.connect_parquet`` over every file the manifest of the store folder STORE names
(a consolidation's ``<report>.facts``: its partitions, or its packs), ``--repeat`` times: wall, this process's CPU (DuckDB's threads included) and
its peak resident memory (VmHWM); run it with ``PYTHONPATH`` at another checkout, on that checkout's store, to
compare the load of two schemas (docs/benchmarks.md, "The store's size (schema 4)").
"""

from __future__ import annotations

import argparse
import pickle
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from xlcomplaints.core.metrics import Month
from xlcomplaints.report import run as run_module
from xlcomplaints.report.consolidate import read_file
from xlcomplaints.report.facts import store_path
from xlcomplaints.report.run import ReportHooks, ReportKind, ReportRequest, RunResult, report_flow
from xlcomplaints.store.partition import read_partition, write_partition

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import generate  # noqa: E402

MONTH = Month(2026, 10)
NOW = datetime(2026, 11, 22, 9, 0)


def make_report(paths: list[Path], output: Path, workers: int | None, update: bool = False) -> RunResult:
    kind = ReportKind.UPDATE if update else ReportKind.CONSOLIDATION
    return report_flow(ReportRequest(paths, MONTH, output, kind, now=NOW), ReportHooks(workers=workers))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--branches", type=int, default=200)
    ap.add_argument("--complaints", type=int, default=500)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "xlcomplaints-bench-report")
    ap.add_argument("--update", type=int, default=10, help="branches re-read by the --update run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--partitions-only", type=int, default=0, metavar="N")
    ap.add_argument("--layouts", type=int, default=0, metavar="N")
    ap.add_argument("--load", type=Path, default=None, metavar="STORE")
    args = ap.parse_args()
    if args.load:
        return load(args.load, args.repeat)
    paths = generate(args.dir, args.branches, args.complaints)
    if args.layouts:
        return layouts(paths[:args.layouts])
    if args.partitions_only:
        return partitions(paths[:args.partitions_only], args.repeat)

    with tempfile.TemporaryDirectory() as staging:
        sizes = [(len(pickle.dumps(read_file(str(p), MONTH, MONTH.end, NOW))),
                  len(pickle.dumps(read_file(str(p), MONTH, MONTH.end, NOW, staging=staging)))) for p in paths[:10]]
    before, after = (statistics.median(s) / 1024 for s in zip(*sizes, strict=True))
    print(f"a worker's summary, pickled (median of {len(sizes)} files): {before:.1f} KiB with its cases, "
          f"{after:.2f} KiB with its partition instead")

    out = Path(tempfile.mkdtemp(prefix="xlc-bench-store-")) / "group.xlsx"
    fulls: list[float] = []
    updates: list[float] = []
    plains: list[float] = []
    cpu: dict[str, list[float]] = {"without": [], "full": [], "update": []}

    def cpu_now() -> float:  # this process and its finished workers
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + kids.ru_utime + kids.ru_stime
    for i in range(args.repeat):
        staging = run_module.Staging
        run_module.Staging = lambda *_: None  # type: ignore[assignment,misc]
        try:
            started, used = time.perf_counter(), cpu_now()
            make_report(paths, out.with_name("plain.xlsx"), args.workers)
            plains.append(time.perf_counter() - started)
            cpu["without"].append(cpu_now() - used)
        finally:
            run_module.Staging = staging  # type: ignore[misc]
        started, used = time.perf_counter(), cpu_now()
        full = make_report(paths, out, args.workers)
        fulls.append(time.perf_counter() - started)
        cpu["full"].append(cpu_now() - used)
        started, used = time.perf_counter(), cpu_now()
        make_report(paths[:: max(1, len(paths) // args.update)][: args.update], out, args.workers, update=True)
        updates.append(time.perf_counter() - started)
        cpu["update"].append(cpu_now() - used)
        print(f"  run {i + 1}: without the store {plains[-1]:.2f} s, full {fulls[-1]:.2f} s ({'  '.join(f'{k} {v:.2f}' for k, v in full.timings.items())}),"
              f" --update of {args.update}: {updates[-1]:.2f} s", flush=True)
    print("CPU of all processes (medians): " + ", ".join(f"{k} {statistics.median(v):.2f} s" for k, v in cpu.items()))
    store = store_path(out)
    files = [f for f in store.rglob("*") if f.is_file()]
    size = sum(f.stat().st_size for f in files)
    complaints = sum(f.partition.rows if f.partition else len(f.cases) for f in full.consolidation.branches.values())
    print(f"full consolidation: {statistics.median(fulls):.2f} s (without the store: {statistics.median(plains):.2f} s);"
          f" --update of {args.update} of {len(paths)}: "
          f"{statistics.median(updates):.2f} s = {statistics.median(updates) / statistics.median(fulls):.0%} "
          f"(medians of {args.repeat})")
    print(f"store: {size / 2**20:.1f} MiB in {len(files)} files for {complaints:,} complaints = "
          f"{size / complaints * 1_000_000 / 1e6:.0f} MB per 1,000,000 complaints")
    return 0


def load(store: Path, repeat: int) -> int:
    """``connect_parquet`` over the store's partitions, ``repeat`` times: wall, CPU, peak memory."""
    import json

    from xlcomplaints.store.facts_sql import connect_parquet

    paths: list[Path] = []  # the manifest's files in its order, each once: a pack holds several branches (version 3)
    for e in json.loads((store / "manifest.json").read_text())["partitions"]:
        if not paths or paths[-1] != store / e["file"]:
            paths.append(store / e["file"])
    for i in range(repeat):
        started, used = time.perf_counter(), time.process_time()
        con = connect_parquet(paths)
        rows = con.execute("SELECT count(*) FROM cases").fetchone()[0]  # type: ignore[index]
        con.close()
        peak = next(line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith("VmHWM"))
        print(f"  load {i + 1}: {len(paths)} partitions, {rows:,} complaints: wall {time.perf_counter() - started:.2f} s,"
              f" CPU {time.process_time() - used:.2f} s, VmHWM {int(peak) / 1024:.0f} MiB", flush=True)
    return 0


def partitions(paths: list[Path], repeat: int) -> int:
    """Each file's partition written and read back ``repeat`` times (checked equal): size, write and read time."""
    read = [read_file(str(p), MONTH, MONTH.end, NOW) for p in paths]
    writes: list[float] = []
    reads: list[float] = []
    cpu: dict[str, list[float]] = {"write": [], "read": []}  # this process's CPU: steadier than wall on a loaded machine
    size = rows = 0
    with tempfile.TemporaryDirectory() as folder:
        for i in range(repeat):
            for f in read:
                started, used = time.perf_counter(), time.process_time()
                part = write_partition(folder, f.cases, f.texts)
                writes.append(time.perf_counter() - started)
                cpu["write"].append(time.process_time() - used)
                started, used = time.perf_counter(), time.process_time()
                back = read_partition(part)
                reads.append(time.perf_counter() - started)
                cpu["read"].append(time.process_time() - used)
                assert back == (list(f.cases), f.texts), f.name
                if i == 0:
                    size, rows = size + part.size, rows + part.rows
    print(f"{len(read)} partitions of {rows / len(read):.0f} complaints: {size / len(read) / 1024:.1f} KiB each, "
          f"{size / rows * 1_000_000 / 1e6:.0f} MB per 1,000,000 complaints; write {statistics.median(writes) * 1e3:.1f} ms,"
          f" read back {statistics.median(reads) * 1e3:.1f} ms (medians of {len(writes)}); CPU: write "
          f"{statistics.median(cpu['write']) * 1e3:.1f} ms, read back {statistics.median(cpu['read']) * 1e3:.1f} ms")
    return 0


def layouts(paths: list[Path]) -> int:
    """Bytes per partition (and per 1,000,000 complaints) of the store's layout and of the alternatives measured."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from xlcomplaints.store import partition as layout
    from xlcomplaints.store.pack import _PACK_WRITE
    from xlcomplaints.store.schema import to_table

    tables = [to_table(f.cases, f.texts) for f in (read_file(str(p), MONTH, MONTH.end, NOW) for p in paths)]
    rows = sum(t.num_rows for t in tables)

    def size(t: pa.Table, **options: object) -> int:
        sink = pa.BufferOutputStream()
        pq.write_table(t, sink, **{**_PACK_WRITE, **options})  # as the store keeps it (a worker's: LZ4)
        return len(sink.getvalue())

    def by_received(t: pa.Table, place: bool) -> pa.Table:
        order = pc.sort_indices(t, sort_keys=[("received_at", "ascending"), ("no", "ascending")])
        return t.take(order).append_column("ordinal", order.cast(pa.int32())) if place else t.take(order)

    def numbered(t: pa.Table) -> pa.Table:  # numbers given in order of receipt, per month, as a register does
        seen: dict[str, int] = {}
        nos = []
        received = pc.multiply(t.column("received_at"), t.column("ticks")[0].as_py()["received"]).cast(
            pa.timestamp("us"))  # store.ticks
        for branch, at in zip(t.column("branch").to_pylist(), received.to_pylist(), strict=True):
            key = at.strftime("%y%m")
            seen[key] = seen.get(key, 0) + 1
            nos.append(f"{branch}-{key}{seen[key]:04d}")
        return t.set_column(t.schema.get_field_index("no"), "no", pa.array(nos, pa.string()))

    from xlcomplaints.store import ticks

    def retimed(t: pa.Table, base: str = "day", one: int | None = None) -> pa.Table:
        """``t`` with its times as ticks counted from ``base`` (``day``: as stored; ``received``: the time itself),
        in the tick ``one`` for every column (``0``: the finest the file's columns need), else each column's own."""
        u = t.combine_chunks()
        tick = u.column("ticks")[0].as_py()
        received = pc.multiply(u.column("received_at").chunk(0), tick["received"])
        day = ticks._day(received)
        start = day if base == "day" else pc.fill_null(received, 0)
        lists = {name: u.column(name).chunk(0) for name in ("stages", "callbacks")}
        values = {(name, f): pc.add(pc.take(day, pc.list_parent_indices(lists[name])),
                                    pc.multiply(pc.struct_field(pc.list_flatten(lists[name]), f), tick[f]))
                  for name, f in (("stages", "due"), ("stages", "done"), ("callbacks", "at"))}
        after = {k: pc.subtract(v, pc.take(start, pc.list_parent_indices(lists[k[0]]))) for k, v in values.items()}
        each = {k: ticks.coarsest(v) if one is None else one for k, v in after.items()}
        each_r = ticks.coarsest(received) if one is None else one
        if one == 0:
            each_r = min([ticks.coarsest(received), *(ticks.coarsest(v) for v in after.values())])
            each = dict.fromkeys(after, each_r)
        for name in lists:
            items = pc.list_flatten(lists[name])
            fields = [pc.divide(after[(name, f.name)], each[(name, f.name)]) if (name, f.name) in after
                      else pc.struct_field(items, f.name) for f in items.type]
            lists[name] = pa.ListArray.from_arrays(lists[name].offsets, pa.StructArray.from_arrays(
                fields, names=[f.name for f in items.type]))
            u = u.set_column(u.schema.get_field_index(name), name, lists[name])
        return u.set_column(u.schema.get_field_index("received_at"), "received_at", pc.divide(received, each_r))

    def scaled(t: pa.Table) -> pa.Table:  # took and late_by as whole 1/10,000ths and 1/100ths
        u = t.combine_chunks()
        stages = u.column("stages").chunk(0)
        items = pc.list_flatten(stages)
        scale = {"took": 10_000, "late_by": 100}
        fields = [pc.round(pc.multiply(pc.struct_field(items, f.name), scale[f.name])).cast(pa.int64())
                  if f.name in scale else pc.struct_field(items, f.name) for f in items.type]
        return u.set_column(u.schema.get_field_index("stages"), "stages", pa.ListArray.from_arrays(
            stages.offsets, pa.StructArray.from_arrays(fields, names=[f.name for f in items.type])))

    encodings = layout._CASES_WRITE["column_encoding"]
    due = "stages.list.element.due"
    due_delta = {"use_dictionary": [c for c in layout._CASES_WRITE["use_dictionary"] if c != due],
                 "column_encoding": {**encodings, due: "DELTA_BINARY_PACKED"}}
    scaled_delta = {"column_encoding": {**encodings, "stages.list.element.took": "DELTA_BINARY_PACKED",
                                        "stages.list.element.late_by": "DELTA_BINARY_PACKED"}}
    delta = {**layout._CASES_WRITE["column_encoding"], "ordinal": "DELTA_BINARY_PACKED"}
    rows_of = [(f"the store's layout (schema 4, zstd {_PACK_WRITE['compression_level']})", lambda t: size(t)),
               ("rows by received time, their place a column", lambda t: size(by_received(t, True),
                                                                              column_encoding=delta)),
               ("the bench's rows in order of receipt (a register as kept)", lambda t: size(by_received(t, False))),
               ("the same, numbered in that order", lambda t: size(numbered(by_received(t, False)))),
               ("zstd 9", lambda t: size(t, compression_level=9)),
               ("zstd 19", lambda t: size(t, compression_level=19)),
               ("schema 4 as written, again (retimed: checks the rows below)", lambda t: size(retimed(t))),
               ("times counted from the received time, not its day", lambda t: size(retimed(t, "received"))),
               ("one tick for the whole file (the finest its columns need)", lambda t: size(retimed(t, one=0))),
               ("every time in ms", lambda t: size(retimed(t, one=1_000))),
               ("the due times in delta encoding, not a dictionary", lambda t: size(t, **due_delta)),
               ("the same, counted from the received time", lambda t: size(retimed(t, "received"), **due_delta)),
               ("took and late_by as whole 1/10,000ths and 1/100ths", lambda t: size(scaled(t))),
               ("the same in delta encoding", lambda t: size(scaled(t), **scaled_delta))]
    for label, measure in rows_of:
        total = sum(measure(t) for t in tables)
        print(f"{total / len(tables) / 1024:6.1f} KiB a partition, {total / rows * 1e6 / 1e6:4.0f} MB per 1,000,000: "
              f"{label}", flush=True)
    group = 20
    total = sum(size(pa.concat_tables(tables[i:i + group])) for i in range(0, len(tables), group))
    print(f"{total / len(tables) / 1024:6.1f} KiB a partition, {total / rows * 1e6 / 1e6:4.0f} MB per 1,000,000: "
          f"{group} branches in one file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
