"""Benchmark: the store's pack phase, and the staged partitions the workers write for it, side by side across code trees.

    python scripts/bench_pack.py STORE --work DIR [--code BEFORE_CHECKOUT AFTER_CHECKOUT] [--rounds 2]

STORE is a consolidation's store folder (``<report>.facts``, e.g. ``bench_update.py``'s ``DIR/0/group.facts``); its
manifest names the packs (or, in a store of version 2, one file per branch). For each code tree (``--code``: a
checkout put first on ``PYTHONPATH``; this checkout when none), alternately, each round, in a fresh process: every
branch's rows of STORE, read once, written as a worker writes its staged partition (that code's ``table_bytes`` and
``write_bytes``: the CPU per partition, the bytes), then packed as a consolidation packs them before its report (that
code's ``store.pack.pack``: wall, CPU of the process with its threads, the packs' bytes). Outputs go under DIR.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

#: Run in the code tree measured: argv = STORE, WORK. Prints one line of JSON.
PROBE = """
import json, resource, shutil, sys, time
from pathlib import Path
import pyarrow.parquet as pq
from xlcomplaints.store.pack import pack
from xlcomplaints.store.partition import table_bytes, write_bytes

store, work = Path(sys.argv[1]), Path(sys.argv[2])
shutil.rmtree(work, ignore_errors=True)
(work / "staged").mkdir(parents=True)
(work / "packs").mkdir()
entries = json.loads((store / "manifest.json").read_text())["partitions"]
files, tables = {}, []
for e in entries:
    if e["file"] not in files:
        files[e["file"]] = pq.ParquetFile(store / e["file"]).read(use_threads=False)
    tables.append(files[e["file"]].slice(e.get("first", 0), e["rows"]))
del files

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

c0 = time.process_time()
parts = [write_bytes(work / "staged", table_bytes(t), t.num_rows) for t in tables]
c1 = time.process_time()
k0, w0 = cpu(), time.perf_counter()
pack(work / "packs", parts)
k1, w1 = cpu(), time.perf_counter()
print(json.dumps({"branches": len(parts), "staged_ms": (c1 - c0) / len(parts) * 1e3, "staged_cpu": c1 - c0,
                  "staged_mb": sum(p.size for p in parts) / 1e6, "pack_wall": w1 - w0, "pack_cpu": k1 - k0,
                  "packs_mb": sum(f.stat().st_size for f in (work / "packs").iterdir()) / 1e6}))
shutil.rmtree(work, ignore_errors=True)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", type=Path)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--code", type=Path, nargs="*", default=[])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    codes = args.code or [Path(__file__).resolve().parent.parent]
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}")
    rows = []
    for r in range(args.rounds):
        for i, code in enumerate(codes):
            env = {**os.environ, "PYTHONPATH": str(code.resolve())}
            out = subprocess.run([sys.executable, "-c", PROBE, str(args.store.resolve()), str(args.work / f"{i}")],
                                 env=env, cwd=args.work.parent, capture_output=True, text=True, check=True)
            got = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append((code.name, r + 1, got))
            print(f"{code.name} round {r + 1}: staged {got['branches']} partitions, {got['staged_ms']:.2f} ms CPU "
                  f"each ({got['staged_cpu']:.2f} s), {got['staged_mb']:.1f} MB; pack {got['pack_wall']:.2f} s wall,"
                  f" {got['pack_cpu']:.2f} s CPU, {got['packs_mb']:.2f} MB of packs", flush=True)
    print(f"load after: {Path('/proc/loadavg').read_text().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
