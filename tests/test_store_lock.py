"""One facts store written by one run at a time: two reports of the same file name in two folders, sharing one
``--store`` folder, would write the same store (``report.held``). Real runs in separate processes, real files.

A first run, in a process of its own, holds the store while it reads its branches (it waits there until told to
go on); a second run into the same store — here, and on the command line in a third process — is refused with
who holds it, reading and writing nothing; once the first is done the second runs. A run killed while it held
the store leaves its lock behind: the next run takes it over and says so on the Issues sheet.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.test_consolidate import NOW, branch, write
from tests.test_metrics import OCT
from xlcomplaints.cli import app
from xlcomplaints.report.facts import load_facts, store_path
from xlcomplaints.report.run import ReportRequest, report_flow
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.owners import OutputLock

#: The first run: holds the store from the start; says it has started, then waits for ``go`` (or is killed).
FIRST = """
import sys, time
from datetime import datetime
from pathlib import Path
from xlcomplaints.report.run import ReportHooks, ReportRequest, report_flow
from xlcomplaints.core.metrics import Month

branch, output, store, started, go = map(Path, sys.argv[1:6])

def wait(_):
    started.write_text("reading")
    while not go.exists():  # the test says when to go on (or kills this process)
        time.sleep(0.05)

report_flow(ReportRequest((branch,), Month(2026, 10), output, now=datetime(2026, 11, 2, 9, 0), store=store),
            ReportHooks(workers=1, on_start=wait))
"""


def _start(tmp_path: Path, branch_file: Path, output: Path, store: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    started, go = tmp_path / f"started-{output.parent.name}", tmp_path / f"go-{output.parent.name}"
    proc = subprocess.Popen([sys.executable, "-c", FIRST, str(branch_file), str(output), str(store), str(started),
                             str(go)], cwd=Path(__file__).resolve().parents[1])
    for _ in range(2400):  # until the first run holds the store and reads (a loaded machine: up to 2 minutes)
        if started.exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert started.exists(), f"the first run did not start (exit {proc.poll()})"
    return proc, started, go


@pytest.fixture
def setting(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """A branch, two reports of one file name in two folders, and the shared store folder."""
    for d in ("north", "south", "shared"):
        (tmp_path / d).mkdir()
    return (write(tmp_path / "in" / "a1.xlsx", branch("A1")), tmp_path / "north" / "group.xlsx",
            tmp_path / "south" / "group.xlsx", tmp_path / "shared")


def test_a_second_run_writing_the_same_store_is_refused_while_the_first_runs(
        tmp_path: Path, setting: tuple[Path, Path, Path, Path]) -> None:
    a1, north, south, shared = setting
    first, _, go = _start(tmp_path, a1, north, shared)
    try:
        with pytest.raises(WorkbookError) as info:
            report_flow(ReportRequest([a1], OCT, south, now=NOW, store=shared))
        assert info.value.code == "report.store_busy"
        assert info.value.params["report"] == str(north) and info.value.params["pid"] == first.pid
        assert not south.exists() and not list(south.parent.iterdir())  # nothing written beside its report
        said = CliRunner().invoke(app, ["consolidate", str(a1), "--month", "2026-10", "-o", str(south), "--store",
                                        str(shared), "--now", "2026-11-02 09:00", "--lang", "en"])
        assert said.exit_code == 2 and "being written by another run" in said.output, said.output
        assert "Traceback" not in said.output and not south.exists()
    finally:
        go.write_text("go")
        assert first.wait(timeout=600) == 0
    assert north.exists() and not OutputLock(store_path(north, shared)).path.exists()  # its lock released
    result = report_flow(ReportRequest([a1], OCT, south, now=NOW, store=shared))  # now the store is free
    assert [f.branch for f in load_facts(store_path(south, shared), OCT, result.run_id)[0]] == ["A1"]


def test_a_store_lock_left_by_a_killed_run_is_taken_over(tmp_path: Path, setting: tuple[Path, Path, Path, Path],
                                                        ) -> None:
    a1, north, south, shared = setting
    killed, _, _ = _start(tmp_path, a1, north, shared)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    lock = OutputLock(store_path(north, shared)).path
    assert lock.exists()  # left behind
    result = report_flow(ReportRequest([a1], OCT, south, now=NOW, store=shared))
    taken = [p.params["pid"] for p in result.report.issues if p.code == "report.store_lock_taken_over"]
    assert taken == [killed.pid] and not lock.exists() and south.exists()
