"""A region consolidating again while head office rolls it up (issue 22's closing note), with two processes.

Head office copies a region's partitions into its own staging folder, each checked against the one manifest it
read, before it computes anything (``report.regions``). These tests stop one process at the point that matters
(``tests/region_race.py``) and let the other run: the region's old partitions swept away between two copies; its
report saved and its manifest not yet (its store's lock held); its run killed there (a lock left behind); its run
going on while its last store is whole. Nothing half-read is ever counted, what happened is said on the Issues
sheet or as a refusal, and a lock left by a killed run is never waited for.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.audit.report import read_report
from tests.test_facts_store import cells
from tests.test_regions import NOW, OCT, REPORT, region, regions
from xlcomplaints.cli import app
from xlcomplaints.demo import run_demo
from xlcomplaints.report import regions as regions_module
from xlcomplaints.report.facts import read_manifest, store_path
from xlcomplaints.report.request import REGION_WAIT
from xlcomplaints.report.run import ReportRequest, report_flow
from xlcomplaints.workbook.errors import WorkbookError

ROOT = Path(__file__).resolve().parents[1]
LONGEST = 300.0  # a process that never gets where it is awaited fails the test, never hangs it


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("races")
    run_demo(d / "demo", now=NOW)
    return d / "demo"


def start(role: str, signals: Path, output: Path, *inputs: Path) -> subprocess.Popen[str]:
    signals.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "tests.region_race", role, str(signals), str(output),
                             *map(str, inputs)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def await_signal(p: subprocess.Popen[str], signals: Path, name: str) -> None:
    deadline = time.monotonic() + LONGEST
    while not (signals / name).exists():
        if p.poll() is not None:
            pytest.fail(f"the process ended before {name}: {p.communicate()}")
        assert time.monotonic() < deadline, f"no {name} after {LONGEST} s"
        time.sleep(0.05)


def finished(p: subprocess.Popen[str]) -> dict[str, list[str]]:
    out, err = p.communicate(timeout=LONGEST)
    assert p.returncode == 0, err
    said: dict[str, list[str]] = json.loads(out.strip().splitlines()[-1])
    return said


def alike_but_a_note(got: Path, want: Path, file: str) -> None:
    """Two reports alike in every figure (as the auditor reads them off the files), the Issues sheet (the last)
    of ``got`` holding one row more, of ``file`` (how reading that region went)."""
    assert read_report(got) == read_report(want)
    issues, expected = list(cells(got).values())[-1], list(cells(want).values())[-1]
    [said] = [row for row in issues if row[0] == file]
    assert [row for row in issues if row is not said] == expected


def stored(out: Path) -> dict[str, str]:
    """The branches of a store and their partitions' SHA-256."""
    return {e.branch: e.sha256 for e in read_manifest(store_path(out)).partitions}


def test_a_region_consolidated_again_between_two_copies_is_read_again_whole(
        demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The north's branches in two packs (a region's pack is copied whole and checked at once: a region of one pack is
    read as one manifest named it, whatever its run does next)."""
    from xlcomplaints.store import pack
    monkeypatch.setattr(pack, "PACK_BRANCHES", 1)
    north, south = regions(demo, tmp_path)
    signals, out = tmp_path / "signals", tmp_path / "group.xlsx"
    head = start("head-copying", signals, out, north, south)
    await_signal(head, signals, "copied")  # north's first pack copied, the second not yet
    region(tmp_path / "north", demo / "BJ01.xlsx")  # the north consolidates again (BJ01 only): its old files swept
    (signals / "go").touch()
    said = finished(head)
    assert said["branches"] == ["BJ01", "GZ03"] and "report.region_reread" in said["codes"]
    fresh = report_flow(ReportRequest([north, south], OCT, tmp_path / "fresh.xlsx", now=NOW))
    assert "report.region_reread" not in [p.code for p in fresh.report.issues]
    alike_but_a_note(out, tmp_path / "fresh.xlsx", "north/" + REPORT)  # the new north whole, nothing of the old
    north_now = stored(north)
    assert stored(out) == {**north_now, "GZ03": stored(south)["GZ03"]}


def test_a_region_saving_its_store_is_waited_for_and_a_bounded_wait(demo: Path, tmp_path: Path) -> None:
    north, south = regions(demo, tmp_path)
    signals = tmp_path / "signals"
    again = start("region-saving", signals, north, demo / "BJ01.xlsx")
    try:
        await_signal(again, signals, "saving")  # its report saved, its manifest not yet: the two of two runs
        started = time.monotonic()
        with pytest.raises(WorkbookError) as info:  # waited for, and no longer than the run says
            report_flow(ReportRequest([north, south], OCT, tmp_path / "soon.xlsx", now=NOW, region_wait=0.5))
        assert info.value.code == "report.region_changing" and info.value.params["seconds"] == "0.5"
        assert time.monotonic() - started < REGION_WAIT  # not the default two minutes
        assert not (tmp_path / "soon.xlsx").exists() and not store_path(tmp_path / "soon.xlsx").exists()
        said = CliRunner().invoke(app, ["consolidate", str(north), str(south), "-o", str(tmp_path / "now.xlsx"),
                                        "--month", "2026-10", "--now", f"{NOW:%Y-%m-%d %H:%M}", "--region-wait", "0",
                                        "--lang", "en"])
        assert said.exit_code == 2 and "waited 0 s" in " ".join(said.output.split())  # not waited: refused at once
        assert not (tmp_path / "now.xlsx").exists()
        head = start("head", signals, tmp_path / "group.xlsx", north, south)
        await_signal(head, signals, "waiting")  # head office waits while the north's run holds its lock ...
    finally:
        (signals / "go").touch()
    finished(again)
    said = finished(head)  # ... and counts the new north once its run is done
    assert said["branches"] == ["BJ01", "GZ03"] and "report.region_reread" in said["codes"]
    assert stored(tmp_path / "group.xlsx") == {**stored(north), "GZ03": stored(south)["GZ03"]}


def test_a_lock_left_by_a_killed_regions_run_is_not_waited_for(
        demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    north, south = regions(demo, tmp_path)
    signals = tmp_path / "signals"
    killed = start("region-saving", signals, north, demo / "BJ01.xlsx")
    await_signal(killed, signals, "saving")
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=LONGEST)
    assert (north.parent / f".{store_path(north).name}.lock").exists()  # its lock left behind

    def no_wait() -> None:
        raise AssertionError("waited for a run that was killed")

    monkeypatch.setattr(regions_module, "_pause", no_wait)
    out = tmp_path / "group.xlsx"
    with pytest.raises(WorkbookError) as info:  # a report and a store of two runs, nothing writing them
        report_flow(ReportRequest([north, south], OCT, out, now=NOW))
    assert info.value.code == "report.region_unpaired"
    assert not out.exists() and not store_path(out).exists()
    region(tmp_path / "north", demo / "BJ01.xlsx")  # the region's next run takes its lock over
    group = report_flow(ReportRequest([north, south], OCT, out, now=NOW))
    assert sorted(group.consolidation.branches) == ["BJ01", "GZ03"]


def test_a_region_whose_run_is_going_on_counts_its_last_store_and_says_so(demo: Path, tmp_path: Path) -> None:
    north, south = regions(demo, tmp_path)
    before = report_flow(ReportRequest([north, south], OCT, tmp_path / "before.xlsx", now=NOW))
    signals = tmp_path / "signals"
    again = start("region-reading", signals, north, demo / "BJ01.xlsx")
    try:
        await_signal(again, signals, "reading")
        group = report_flow(ReportRequest([north, south], OCT, tmp_path / "group.xlsx", now=NOW))
    finally:
        (signals / "go").touch()
    finished(again)
    [running] = [p for p in group.report.issues if p.code == "report.region_running"]
    assert running.params["pid"] == again.pid and running.file == "north/" + REPORT
    assert sorted(group.consolidation.branches) == ["BJ01", "GZ03", "SH02"]
    assert group.report.cover == before.report.cover
