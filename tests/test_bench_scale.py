"""scripts/bench_scale.py's sets: one workbook repeated under distinct branch codes counts as that many
branches in a consolidation (its code and every complaint number changed), not as duplicates."""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime
from pathlib import Path

from xlcomplaints.core.metrics import Month
from xlcomplaints.report.run import ReportHooks, ReportKind, ReportRequest, report_flow

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _load(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_repeated_workbook_counts_as_distinct_branches(tmp_path: Path) -> None:
    scale = _load("bench_scale")
    base = tmp_path / "BR0001-20.xlsx"
    _load("bench_report")._make(str(base), "BR0001", 20, 1, False)
    folder, _, made = scale.make_set(tmp_path / "work", [base], 2, 20)
    files = sorted(folder.iterdir())
    assert made == 2 and [f.name for f in files] == ["S00001-20.xlsx", "S00002-20.xlsx"]

    month = Month(2026, 10)
    out = report_flow(ReportRequest(files, month, tmp_path / "group.xlsx", ReportKind.CONSOLIDATION,
                                    now=datetime(2026, 11, 22, 9, 0)),
                      ReportHooks(workers=1, python_engine=True))  # the Python engine keeps the cases to count
    merged = out.consolidation
    assert sorted(merged.branches) == ["S00001", "S00002"]
    assert len(merged.cases) == 40
    assert {c.no[:6] for c in merged.cases if c.no} == {"S00001", "S00002"}
    assert not [i for i in merged.issues if i.code == "report.duplicate_no"]
