"""The process pool a consolidation reads its branch workbooks with, when the caller gives no executor
(``consolidate.read_all``), and how it starts its worker processes (``START_METHOD``)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor

#: The module of the function the workers run (``consolidate.read_file``), imported once by a forkserver.
WORKER_MODULE = "xlcomplaints.report.consolidate"

#: How the pool starts its worker processes: by spawn on Windows (the offices' PCs: the only way there) and macOS
#: (its default: fork is unsafe there), by a forkserver on Linux (Python 3.14's default there). Never by fork,
#: Linux's default before 3.14: when the pool starts, the head office's process has threads alive (the progress
#: bar's, pyarrow's allocator's; in ``--update`` and a region's roll-up pyarrow's readers'; in a script, DuckDB's or
#: a Dask client's), and a child forked from it inherits their locks in whatever state they were (Python 3.12+
#: warns: "use of fork() may lead to deadlocks in the child"). The forkserver is one small process, started at the
#: first pool, that imports this module once (``set_forkserver_preload``) and forks each worker from there: no
#: thread of ours runs in it, only pyarrow's jemalloc background thread, which jemalloc's own fork handlers look
#: after. Spawn starts a fresh interpreter per worker, which imports the package itself. Measured at 200 branches ×
#: 500 complaints, 2 workers, 3 rounds side by side (docs/benchmarks.md, "Worker processes: fork, forkserver,
#: spawn"): CPU of all processes, medians, fork 15.1 s, forkserver 14.6 s (its server 0.3 s), spawn 15.6 s (about
#: 0.6 s more a worker); wall alike (14.6, 14.6, 15.7 s); a spawned worker's peak 153 MiB, 117 MiB forked. A worker
#: takes all it needs from its arguments (``read_file``'s: absolute paths, the period, the times, the language),
#: never from the parent's memory or environment, so every method gives the same report cell for cell
#: (``tests/test_start_methods.py``, spawn against fork, from ``python -c`` as the Excel buttons' xlwings starts it).
START_METHOD = "forkserver" if sys.platform.startswith("linux") else "spawn"


def default_executor(workers: int | None = None, method: str | None = None) -> ProcessPoolExecutor:
    """A process per core, started by ``method`` (default ``START_METHOD``). Workers run with the cycle
    collector on, whatever the parent's state when they start (the parent pauses it while gathering cases).
    The forkserver's preload is the process's own setting (``multiprocessing``'s): the script's main module and
    ours, for every forkserver pool of the process, taken when its server starts (its first such pool)."""
    context = multiprocessing.get_context(method or START_METHOD)
    if context.get_start_method() == "forkserver":  # the server imports the workers' code once, not each worker
        context.set_forkserver_preload(["__main__", WORKER_MODULE])
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, mp_context=context,
                               initializer=gc.enable)
