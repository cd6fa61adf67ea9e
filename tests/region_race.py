"""A second process for ``tests/test_region_races.py``: a region's consolidation or head office's, stopped at one
chosen point until the test lets it go on (a file ``go`` in the folder ``signals``), saying where it stopped by
writing a file there. Run as ``python -m tests.region_race ROLE SIGNALS OUTPUT INPUT…`` from the checkout; prints
the run's issue codes and branches as JSON.

Roles: ``region-saving`` (a region's run, stopped once its report is saved and before its store is: the report and
the manifest of two runs, its store's lock held), ``region-reading`` (stopped before it reads a branch: its lock
held, its last store whole), ``head-copying`` (head office, stopped once it has copied a region's first partition),
``head`` (head office, saying when it first waits for a region's run).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from xlcomplaints.core.metrics import Month
from xlcomplaints.report import regions
from xlcomplaints.report import run as run_module
from xlcomplaints.report.run import ReportHooks, ReportRequest, report_flow

NOW = datetime(2026, 11, 2, 9, 0)
#: The longest a stopped run waits to be let go: a test that failed never leaves a process behind for long.
LONGEST = 300.0


def stop_at(signals: Path, name: str, original: Callable[..., Any], after: bool = False) -> Callable[..., Any]:
    """``original``, whose first call says ``name`` (a file in ``signals``) and waits for ``go`` before it runs
    (``after``: once it has run)."""
    stopped: list[bool] = []

    def call(*args: Any, **kw: Any) -> Any:
        result = original(*args, **kw) if after else None
        if not stopped:
            stopped.append(True)
            (signals / name).touch()
            deadline = time.monotonic() + LONGEST
            while not (signals / "go").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return result if after else original(*args, **kw)

    return call


def main(role: str, signals: Path, output: Path, inputs: list[Path]) -> None:
    if role == "region-saving":
        run_module.save_facts = stop_at(signals, "saving", run_module.save_facts)  # type: ignore[assignment]
    elif role == "region-reading":
        run_module.read_all = stop_at(signals, "reading", run_module.read_all)  # type: ignore[assignment]
    elif role == "head-copying":
        regions.checked_bytes = stop_at(signals, "copied", regions.checked_bytes, after=True)  # type: ignore[assignment]
    elif role == "head":
        original = regions._pause

        def pause() -> None:
            (signals / "waiting").touch()
            original()

        regions._pause = pause  # type: ignore[assignment]
    result = report_flow(ReportRequest(tuple(inputs), Month(2026, 10), output, now=NOW), ReportHooks(workers=1))
    print(json.dumps({"codes": [p.code for p in result.report.issues],
                      "branches": sorted(result.consolidation.branches)}))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), [Path(a) for a in sys.argv[4:]])
