"""Probe: where the store's load (``store.facts_sql``) spends its time, statement by statement, and layouts of the
packs measured against it (docs/benchmarks.md, "The store's load at 1,000,000 complaints").

    python scripts/probe_store_load.py STORE VARIANT [--limit 192MB] [--threads N] [--first N] [--packs DIR]
    python scripts/probe_store_load.py STORE rewrite --packs DIR [--how plain|flat|flat-due-delta] [--level 14]

``STORE`` is a store folder (``group.facts``): its manifest's packs are read in its order. Each variant runs in a
fresh DuckDB connection at ``--limit`` (the consolidation's 192 MB at 1,000,000 complaints) and prints one line per
statement, ``name  wall  CPU`` (seconds; CPU of this process, every thread), then the process's user and system CPU
and its peak. Variants:

- ``one-table``: the relations as one ``facts`` table of every column they use makes them (the load before
  ``facts_sql._load``), each statement timed;
- ``load``: ``facts_sql._load`` as the code has it (the stages' table first);
- ``split``: the one-table ``facts`` statement cut by column groups (the complaint's columns, the times, each
  stage's seven fields, each field over the seven stages, the list copied as it is), each its own table;
- ``decode``: read-only queries (``max`` of each column group): the files' decoding without a table written;
- ``direct``: each relation straight from the files (no ``facts`` table: the list read once per stage);
- ``flat``: ``one-table`` over packs rewritten with the stages as 49 plain columns (``--packs``, made by
  ``rewrite --how flat``);
- ``rewrite``: the packs written again into ``--packs``: ``plain`` (no compression), ``flat`` (a column per stage
  and field, the store's encodings per field, zstd ``--level``), ``flat-due-delta`` (the due times in delta
  encoding); prints their bytes.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from xlcomplaints.core.policy import STAGES
from xlcomplaints.store import facts_sql as F
from xlcomplaints.store import pack, ticks

RELATIONS = (("cases", F.CASES_VIEW), ("stages", F.STAGES_VIEW), ("callbacks", F.CALLBACKS_VIEW),
             ("custom", F.CUSTOM_VIEW), ("office", F.OFFICE_VIEW))


def packs(store: Path) -> list[str]:
    """The store's files in its manifest's order, each once."""
    out: list[str] = []
    for e in json.loads((store / "manifest.json").read_text())["partitions"]:
        if not out or out[-1] != e["file"]:
            out.append(e["file"])
    return out


def rewrite(store: Path, folder: Path, how: str, level: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    options = dict(pack._PACK_WRITE)
    if how == "plain":
        options.update(compression="none", compression_level=None)
    else:
        options["compression_level"] = level
        few = [c for c in options["use_dictionary"] if not c.startswith("stages.")]
        encodings = {c: e for c, e in options["column_encoding"].items() if not c.startswith("stages.")}
        for i in range(len(STAGES)):
            few += [f"s{i}_status", f"s{i}_unit", f"s{i}_handler"]
            encodings[f"s{i}_done"] = "DELTA_BINARY_PACKED"
            if how == "flat-due-delta":
                encodings[f"s{i}_due"] = "DELTA_BINARY_PACKED"
            else:
                few.append(f"s{i}_due")
        options.update(use_dictionary=few, column_encoding=encodings)
    size = cpu = 0.0
    for name in packs(store):
        table = pq.ParquetFile(store / name).read()
        used = time.process_time()
        if how != "plain":
            items = table.column("stages").combine_chunks().values  # seven a complaint, in STAGES order
            at = table.schema.get_field_index("stages")
            table = table.remove_column(at)
            for i in range(len(STAGES)):
                rows = pa.array(range(i, len(items), len(STAGES)))
                for field in F._FIELDS:
                    table = table.append_column(f"s{i}_{field}", pc.take(items.field(field), rows))
        out = folder / Path(name).name
        pq.write_table(table, out, row_group_size=max(1, table.num_rows), **options)
        cpu += time.process_time() - used
        size += out.stat().st_size
    print(f"{how} (zstd {level}): {size / 1e6:.2f} MB in {len(packs(store))} files "
          f"(the store's packs {sum((store / n).stat().st_size for n in packs(store)) / 1e6:.2f} MB); "
          f"written in {cpu:.2f} s of CPU")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", type=Path)
    ap.add_argument("variant", choices=("one-table", "load", "split", "decode", "direct", "flat", "rewrite"))
    ap.add_argument("--limit", default="192MB", help="DuckDB's memory_limit ('none': its own default)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--first", type=int, default=0, help="only the first N packs")
    ap.add_argument("--packs", type=Path, help="a folder of the packs rewritten (flat; rewrite's output)")
    ap.add_argument("--how", default="flat", choices=("plain", "flat", "flat-due-delta"))
    ap.add_argument("--level", type=int, default=pack.PACK_LEVEL)
    args = ap.parse_args()
    if args.variant == "rewrite":
        rewrite(args.store, args.packs, args.how, args.level)
        return 0
    names = packs(args.store)[:args.first or None]
    paths = [str((args.packs / Path(n).name) if args.packs else args.store / n) for n in names]
    con = duckdb.connect()
    con.execute(f"SET temp_directory = {F._literal(str(F.temp_folder()))}")
    if args.limit != "none":
        con.execute(f"SET memory_limit = {F._literal(args.limit)}")
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    for setting in ("enable_progress_bar = false", "preserve_insertion_order = false",
                    f"nested_loop_join_threshold = {F.NESTED_LOOP_ROWS}"):
        con.execute(f"SET {setting}")
    F.declare_codes(con)
    files = "[" + ", ".join(map(F._literal, paths)) + "]"
    source = (f"(SELECT *, {F.ORDINAL} AS ordinal FROM read_parquet({files}, file_row_number = true, "
              "hive_partitioning = false))")
    rows = f"(SELECT *, {ticks.DAY_SQL} AS _base FROM {source})"

    def timed(name: str, sql: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        con.execute(sql).fetchall()
        print(f"{name}\t{time.perf_counter() - wall:.3f}\t{time.process_time() - cpu:.3f}", flush=True)

    flat = F._FLAT
    if args.variant == "flat":  # the stages' fields are the packs' own columns
        flat = tuple(f"{F._flat(i, f).replace(f'stages[{i + 1}].{f}', f's{i}_{f}')} AS s{i}_{f}"
                     for i in range(len(STAGES)) for f in F._FIELDS)
    every = ", ".join(F._READ + F._TIMES + flat)
    wall, cpu = time.perf_counter(), time.process_time()
    if args.variant in ("one-table", "flat"):
        timed("facts", f"CREATE TEMP TABLE facts AS SELECT ordinal, {every} FROM {rows}")
        for name, sql in RELATIONS:
            timed(name, sql.replace("{facts}", "facts"))
        timed("drop", "DROP TABLE facts")
    elif args.variant == "load":
        F._load(con, rows)
    elif args.variant == "direct":
        for name, sql in RELATIONS:
            timed(name, sql.replace("{facts}", "facts").replace("FROM facts", f"FROM (SELECT ordinal, {every} FROM {rows})"))
    elif args.variant == "split":
        lists = ("callbacks", "custom", "office")
        groups = {"ordinal": "ordinal", "the complaint's columns": ", ".join(F._READ),
                  "the complaint's columns but its lists": ", ".join(c for c in F._READ if c not in lists),
                  "the times": ", ".join(F._TIMES), "the list as it is": "stages", "the 49 stage columns": ", ".join(flat)}
        for i, s in enumerate(STAGES):
            groups[f"stage {s}"] = ", ".join(flat[i * len(F._FIELDS):(i + 1) * len(F._FIELDS)])
        for k, f in enumerate(F._FIELDS):
            groups[f"field {f}"] = ", ".join(flat[k::len(F._FIELDS)])
        for name, columns in groups.items():
            timed(name, f"CREATE OR REPLACE TEMP TABLE t AS SELECT ordinal, {columns} FROM {rows}")
    elif args.variant == "decode":
        timed("ordinal", f"SELECT max(ordinal) FROM {source}")
        timed("some of the complaint's columns", f"SELECT max(length(customer)), max(length(phone)), max(branch), "
                                                 f"max(no), max(department), max(len(callbacks)) FROM {source}")
        timed("the list's length", f"SELECT max(len(stages)) FROM {source}")
        timed("the 49 stage fields, raw", "SELECT " + ", ".join(f"max(stages[{i + 1}].{f})" for i in range(len(STAGES))
                                                                for f in F._FIELDS) + f" FROM {source}")
        timed("the 49 stage fields as loaded (times, ENUMs)",
              "SELECT " + ", ".join(f"max({c.split(' AS ')[0]})" for c in F._FLAT) + f" FROM {rows}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"in all\t{time.perf_counter() - wall:.3f}\t{time.process_time() - cpu:.3f}\tuser {usage.ru_utime:.2f} s, "
          f"system {usage.ru_stime:.2f} s, peak {usage.ru_maxrss / 1024:.0f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
