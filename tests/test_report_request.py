"""The report is one flow asked for by a request: what the report is (``ReportRequest``, its
``ReportKind``) apart from how it is run (``ReportHooks``). Real branch files, real reports."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest

from tests.test_consolidate import NOW, branch, write
from xlcomplaints.core.metrics import Month, Period
from xlcomplaints.report.facts import store_path
from xlcomplaints.report.run import Contacts, ReportHooks, ReportKind, ReportRequest, report_flow


def test_a_request_is_one_shape_whatever_the_caller_had() -> None:
    loose = ReportRequest(["in/a1.xlsx"], Month(2026, 10), "out.xlsx", history=["old.xlsx"])  # type: ignore[arg-type]
    exact = ReportRequest((Path("in/a1.xlsx"),), Period.month(2026, 10), Path("out.xlsx"), ReportKind.CONSOLIDATION,
                          contacts=Contacts.MASKED, history=(Path("old.xlsx"),))
    assert loose == exact and hash(loose) == hash(exact)
    assert ReportRequest((), Period.month(2026, 10), Path("o.xlsx"), "update").kind is ReportKind.UPDATE  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        exact.kind = ReportKind.BRANCH  # type: ignore[misc]
    with pytest.raises(ValueError):
        ReportRequest((), Period.month(2026, 10), Path("o.xlsx"), "merge")  # type: ignore[arg-type]


def test_only_consolidations_leave_a_state_file_and_hooks_hear_every_file(tmp_path: Path) -> None:
    a = write(tmp_path / "in" / "a1.xlsx", branch("A1"))
    b = write(tmp_path / "in" / "b1.xlsx", branch("B1"))
    october = Period.month(2026, 10)
    one = report_flow(ReportRequest((a,), october, tmp_path / "a1-report.xlsx", ReportKind.BRANCH, now=NOW))
    assert one.state is None and one.run_id is None and not store_path(one.output).exists()
    started: list[int] = []
    heard: list[str] = []
    hooks = ReportHooks(workers=1, on_start=started.append, on_file=lambda f: heard.append(f.name))
    group = report_flow(ReportRequest((tmp_path / "in",), october, tmp_path / "group.xlsx", now=NOW), hooks)
    assert group.state is not None and group.state.exists() and group.run_id
    assert started == [2] and sorted(heard) == ["a1.xlsx", "b1.xlsx"]
    update = ReportRequest((b,), october, tmp_path / "group.xlsx", ReportKind.UPDATE, now=NOW,
                           as_of=datetime(2026, 11, 1))
    assert report_flow(update).consolidation.carried == ["A1"]
