"""A consolidation's output: held by one run at a time, and its report and facts store of one run (issues 17, 22).

Branch files are real workbooks on disk; the report and its facts store are the real ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.test_consolidate import NOW, branch, write
from tests.test_metrics import OCT
from xlcomplaints.cli import app
from xlcomplaints.report import run as run_module
from xlcomplaints.report.facts import MANIFEST, load_facts, store_path
from xlcomplaints.report.run import ReportHooks, ReportKind, ReportRequest, report_flow
from xlcomplaints.workbook import owners, safety
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.owners import OutputLock


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True, timeout=60)
    return int(proc.stdout)


@pytest.fixture
def branches(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "in" / "a1.xlsx", branch("A1")), write(tmp_path / "in" / "b1.xlsx", branch("B1"))


def killed_after_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next run dies once its report is in place, before its store is saved."""
    def die(*_: object) -> None:
        raise KeyboardInterrupt
    monkeypatch.setattr(run_module, "save_facts", die)


def test_update_refuses_a_report_and_state_of_different_runs(
        tmp_path: Path, branches: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = branches
    out = tmp_path / "group.xlsx"
    report_flow(ReportRequest([a, b], OCT, out, now=NOW))
    with monkeypatch.context() as m:  # B1 is taken out, and the run is killed between its two files
        killed_after_the_report(m)
        with pytest.raises(KeyboardInterrupt):
            report_flow(ReportRequest([a], OCT, out, now=NOW))
    assert sorted(f.branch for f in load_facts(store_path(out), OCT)[0]) == ["A1", "B1"]  # the earlier run's
    with pytest.raises(WorkbookError) as info:  # B1 would come back from the old state
        report_flow(ReportRequest([a], OCT, out, ReportKind.UPDATE, now=NOW))
    assert info.value.code == "report.state_unpaired"
    result = CliRunner().invoke(app, ["consolidate", str(a), "--month", "2026-10", "-o", str(out), "--update",
                                      "--lang", "en"])
    assert result.exit_code == 2 and "without --update" in result.output
    # What it says to do works: consolidate again, then --update pairs the two again.
    report_flow(ReportRequest([a], OCT, out, now=NOW))
    assert report_flow(ReportRequest([a], OCT, out, ReportKind.UPDATE, now=NOW)).consolidation.carried == []


def test_update_refuses_a_state_whose_report_is_gone(tmp_path: Path, branches: tuple[Path, Path]) -> None:
    out = tmp_path / "group.xlsx"
    report_flow(ReportRequest(list(branches), OCT, out, now=NOW))
    out.unlink()
    with pytest.raises(WorkbookError) as info:
        report_flow(ReportRequest([branches[0]], OCT, out, ReportKind.UPDATE, now=NOW))
    assert info.value.code == "report.state_unpaired"


def test_report_and_state_of_one_run_carry_its_id(tmp_path: Path, branches: tuple[Path, Path]) -> None:
    out = tmp_path / "group.xlsx"
    first = report_flow(ReportRequest(list(branches), OCT, out, now=NOW))
    second = report_flow(ReportRequest([branches[1]], OCT, out, ReportKind.UPDATE, now=NOW))
    assert first.run_id and second.run_id and first.run_id != second.run_id
    assert (store_path(out) / MANIFEST).stat().st_mode & 0o777 == owners.default_mode()  # others may --update
    assert second.consolidation.carried == ["A1"]
    load_facts(store_path(out), OCT, second.run_id)  # paired with the report that is on disk


def test_a_second_run_into_the_same_output_is_refused_while_the_first_holds_it(
        tmp_path: Path, branches: tuple[Path, Path]) -> None:
    out = tmp_path / "group.xlsx"
    refused: list[str] = []

    def second_run(_: int) -> None:  # starts while the first is reading its branches
        with pytest.raises(WorkbookError) as info:
            report_flow(ReportRequest([branches[1]], OCT, out, now=NOW))
        refused.append(info.value.code)

    first = report_flow(ReportRequest(list(branches), OCT, out, now=NOW), ReportHooks(on_start=second_run))
    assert refused == ["report.output_busy"]
    assert sorted(f.branch for f in load_facts(store_path(out), OCT, first.run_id)[0]) == ["A1", "B1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["group.facts", "group.xlsx", "in"]  # lock gone


def test_a_lock_of_a_live_run_refuses_and_one_of_a_killed_run_is_taken_over(
        tmp_path: Path, branches: tuple[Path, Path]) -> None:
    out = tmp_path / "group.xlsx"
    lock = OutputLock(out).path
    for pid in (os.getppid(), dead_pid()):
        lock.write_text(json.dumps({"host": owners._host_tag(), "pid": pid, "since": "2026-11-22 08:00:00"}))
        if pid == os.getppid():  # alive: refused, the lock left to its run
            with pytest.raises(WorkbookError) as info:
                report_flow(ReportRequest(list(branches), OCT, out, now=NOW))
            assert info.value.code == "report.output_busy" and lock.exists() and not out.exists()
        else:
            result = report_flow(ReportRequest(list(branches), OCT, out, now=NOW))
            assert [p.params["pid"] for p in result.report.issues if p.code == "report.lock_taken_over"] == [pid]
            assert not lock.exists() and out.exists()


def test_store_files_of_killed_runs_are_cleared_by_the_next_save_and_only_ours(
        tmp_path: Path, branches: tuple[Path, Path]) -> None:
    """A run killed while its workers wrote leaves its staging folder; one killed after moving partitions in
    leaves partitions no manifest names. The next save removes both, and nothing else in the folder."""
    out = tmp_path / "group.xlsx"
    first = report_flow(ReportRequest(list(branches), OCT, out, now=NOW))
    store = store_path(out)
    before = sorted(p.relative_to(store) for p in store.rglob("*") if p.is_file())
    staged = store / ".staging-0123abcd" / "f00d.parquet"
    staged.parent.mkdir()
    staged.write_bytes(b"a killed run's partition, with customer data")
    stray = store / "period=2026-10" / "pack-beef.parquet"
    stray.write_bytes(b"a pack moved in by a run killed before its manifest")
    older = store / "period=2026-10" / "branch=A1" / "beef.parquet"  # a store of version 2 had a folder per branch
    older.parent.mkdir()
    older.write_bytes(b"a partition of version 2 no manifest names")
    mine = store / "notes.txt"
    mine.write_text("someone's own file")
    assert sorted(f.branch for f in load_facts(store, OCT, first.run_id)[0]) == ["A1", "B1"]  # ignored, not read
    again = report_flow(ReportRequest(list(branches), OCT, out, now=NOW))
    after = sorted(p.relative_to(store) for p in store.rglob("*") if p.is_file())
    assert not staged.parent.exists() and not stray.exists() and not older.parent.exists() and mine.exists()
    assert len(after) == len(before) + 1 and not set(before) - {Path(MANIFEST), Path("notes.txt")} & set(after)
    load_facts(store, OCT, again.run_id)


def test_taking_over_a_stale_lock_never_removes_a_fresh_one(tmp_path: Path) -> None:
    """Two runs find the same stale lock; the first takes it over and makes its own; the second,
    judging the stale one, must not remove the first's."""
    out = tmp_path / "group.xlsx"
    stale = {"host": owners._host_tag(), "pid": dead_pid(), "since": "2026-11-22 08:00:00"}
    second = OutputLock(out)
    second.path.write_text(json.dumps(stale))
    judged = second._holder()  # the second run has judged the lock stale ...
    with OutputLock(out) as first:  # ... when the first takes it over
        assert first.taken_over == stale
        fresh = first.path.read_text()
        with pytest.raises(owners.OutputLockedError):
            second._take_over(judged or {})
        assert first.path.read_text() == fresh
    assert not first.path.exists() and not list(tmp_path.iterdir())


def test_a_consolidation_killed_once_its_report_is_in_place_is_not_updated_from(
        tmp_path: Path, branches: tuple[Path, Path]) -> None:
    """The red-team's case, with a real kill: the report is replaced, the store is not yet saved."""
    a, b = branches
    out = tmp_path / "group.xlsx"
    report_flow(ReportRequest([a, b], OCT, out, now=NOW))
    cli = [sys.executable, "-c", "from xlcomplaints.cli import main; main()", "consolidate"]
    env = {**os.environ, safety.KILL_AT_ENV: safety.SaveStep.INSTALLED.value}
    killed = subprocess.run([*cli, str(a), "--month", "2026-10", "-o", str(out), "--workers", "1"], env=env,
                            capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert sorted(f.branch for f in load_facts(store_path(out), OCT)[0]) == ["A1", "B1"]  # the earlier run's
    again = subprocess.run([*cli, str(a), "--month", "2026-10", "-o", str(out), "--update", "--lang", "en"],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "without --update" in again.stderr
