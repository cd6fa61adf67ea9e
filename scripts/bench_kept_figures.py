"""Benchmark: what keeping a period's figures costs its run, with and without ``kept_figures.AskedOnce`` (h24d).

    python scripts/bench_kept_figures.py STORE [--rounds 2]

Over one store (``group-2026-10.facts``, loaded once as a later run loads it), in this process (CPU by
``time.process_time``, DuckDB's threads included), alternately with ``Facts`` and with ``AskedOnce``: ``keep`` (the
figures the run writes into its store), then the questions the run's report asks that ``keep`` asked too (the trend,
the cover's figures, the units, this period's backlog ages). With ``AskedOnce`` the second part is answered from the
first.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from xlcomplaints.core.metrics import Period
from xlcomplaints.report import store_history
from xlcomplaints.report.facts import load_facts, read_manifest
from xlcomplaints.report.kept_figures import AskedOnce, keep
from xlcomplaints.report.summary import COVER_KEYS, Branch
from xlcomplaints.store.figures import Facts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", type=Path)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    m = read_manifest(a.store)
    period = Period.parse(m.period)
    summaries, as_of, _ = load_facts(a.store, period, cases=False)
    branches = [Branch(f.branch or "", f.branch_name, f.name) for f in summaries]
    parts = [(e.branch, e.rows, e.sha256) for e in m.partitions]
    loaded = store_history._open(summaries, period, as_of)
    try:
        for _ in range(a.rounds):
            for kind in (Facts, AskedOnce):
                facts = kind(loaded.con)
                t = time.process_time()
                keep(facts, period, branches, parts)
                kept = time.process_time() - t
                facts.trend(period), facts.cover(period, keys=COVER_KEYS), facts.units(), facts.backlog_ages(period)
                print(f"{kind.__name__}: keep {kept:.2f} s; keep and the report's same questions "
                      f"{time.process_time() - t:.2f} s", flush=True)
    finally:
        loaded.con.close()


if __name__ == "__main__":
    main()
