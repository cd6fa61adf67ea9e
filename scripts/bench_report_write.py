"""Benchmark: writing the report workbook (``report.workbook.write_report``) of a given report, for several code
trees side by side (issue 22: what ``--update`` still costs at 1 M complaints).

    python scripts/bench_report_write.py capture OUT.pkl -- consolidate ARGS...
    python scripts/bench_report_write.py time OUT.pkl [--code DIR ...] [--rounds 3] [--lang zh]

``capture`` runs the command line in this process with ``report.run.write_report`` wrapped to pickle the
``MonthlyReport`` it is given (then writes it as usual), and prints the time ``report.store_report.rows_of`` took. ``time`` writes that report into memory in a
subprocess per code tree (``--code``: a checkout put first on ``PYTHONPATH``; this checkout when none),
alternately, each round: wall and CPU of the write, the part spent in ``Workbook.close`` (the sheets' XML and
the zip), the process's peak (VmHWM), the cells per sheet and µs of CPU per cell, and the file's SHA-256 of
its sheets' XML (the same cells, formats and order give the same digest). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

#: Runs in the child: loads the report, writes it, prints one line of JSON.
CHILD = r"""
import hashlib, io, json, pickle, sys, time, zipfile
from xlsxwriter.workbook import Workbook
import xlcomplaints.report.workbook as W
report = pickle.load(open(sys.argv[1], "rb"))
lang = sys.argv[2]
close = Workbook.close
spent = {"close": 0.0, "close_cpu": 0.0}
cells = {}
def timed_close(self):
    for ws in self.worksheets():
        cells[ws.name] = sum(len(r) for r in ws.table.values()) if ws.table else 0
    w, c = time.perf_counter(), time.process_time()
    out = close(self)
    spent["close"] += time.perf_counter() - w
    spent["close_cpu"] += time.process_time() - c
    return out
Workbook.close = timed_close
buffer = io.BytesIO()
w, c = time.perf_counter(), time.process_time()
W.write_report(buffer, report, lang=lang, run="bench")
wall, cpu = time.perf_counter() - w, time.process_time() - c
digest = hashlib.sha256()
with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
    for name in sorted(z.namelist()):
        if name.startswith("xl/"):  # not docProps: it holds the time of writing
            digest.update(name.encode()); digest.update(z.read(name))
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"wall": wall, "cpu": cpu, **spent, "hwm_mib": hwm / 1024, "cells": cells,
                  "bytes": len(buffer.getvalue()), "sha": digest.hexdigest()[:16]}))
"""


def capture(out: Path, argv: list[str]) -> int:
    import xlcomplaints.report.run as run
    from xlcomplaints import cli

    write = run.write_report

    def keep(target, report, **kw):  # type: ignore[no-untyped-def]
        with out.open("wb") as f:
            pickle.dump(report, f, protocol=pickle.HIGHEST_PROTOCOL)
        return write(target, report, **kw)

    run.write_report = keep  # type: ignore[assignment]
    import xlcomplaints.report.store_report as store_report

    fetch = store_report.rows_of

    def timed(*a, **kw):  # type: ignore[no-untyped-def]
        w, c = time.perf_counter(), time.process_time()
        out = fetch(*a, **kw)
        print(f"rows_of: {len(out):,} rows, {time.perf_counter() - w:.2f} s wall, {time.process_time() - c:.2f} s CPU",
              file=sys.stderr)
        return out

    store_report.rows_of = timed  # type: ignore[assignment]
    sys.argv = ["xlcomplaints", *argv]
    return cli.main() or 0


def timing(pkl: Path, codes: list[Path], rounds: int, lang: str) -> int:
    import json

    print(f"load before: {Path('/proc/loadavg').read_text().strip()}  ({time.strftime('%H:%M:%S')} UTC)", flush=True)
    rows = []
    for _ in range(rounds):
        for code in codes:
            env = {**os.environ, "PYTHONPATH": str(code.resolve())}
            done = subprocess.run([sys.executable, "-P", "-c", CHILD, str(pkl), lang], env=env, capture_output=True,
                                  text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            total = sum(r["cells"].values())
            rows.append((code.name, r, total))
            print(code.name, json.dumps(r, ensure_ascii=False), flush=True)
    print(f"load after: {Path('/proc/loadavg').read_text().strip()}  ({time.strftime('%H:%M:%S')} UTC)")
    print("| code | wall | CPU | of it in close | peak | cells | µs CPU per cell | sheets' SHA-256 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r, total in rows:
        print(f"| {name} | {r['wall']:.2f} s | {r['cpu']:.2f} s | {r['close_cpu']:.2f} s | {r['hwm_mib']:.0f} MiB | "
              f"{total:,} | {r['cpu'] / max(total, 1) * 1e6:.1f} | {r['sha']} |")
    big = max(rows[0][1]["cells"].items(), key=lambda kv: kv[1]) if rows else None
    if big:
        print(f"cells per sheet: {rows[0][1]['cells']}  (largest: {big[0]} {big[1]:,})")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("out", type=Path)
    c.add_argument("args", nargs=argparse.REMAINDER)
    t = sub.add_parser("time")
    t.add_argument("pkl", type=Path)
    t.add_argument("--code", type=Path, nargs="*", default=[])
    t.add_argument("--rounds", type=int, default=3)
    t.add_argument("--lang", default="zh")
    a = ap.parse_args()
    if a.cmd == "capture":
        return capture(a.out, [x for x in a.args if x != "--"])
    return timing(a.pkl, a.code or [Path(__file__).resolve().parent.parent], a.rounds, a.lang)


if __name__ == "__main__":
    raise SystemExit(main())
