"""What is not a file is named for what it is, never opened, and never stops a batch: links that
dangle or loop, a FIFO, a device — in a folder given to consolidate, or given by name."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from xlcomplaints.core.metrics import Period
from xlcomplaints.report.run import ReportHooks, ReportRequest, report_flow
from xlcomplaints.workbook.errors import WorkbookError
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.filekind import NotAFile

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX links and FIFOs")


class WatchedFifo:
    """A FIFO with a writer waiting on it: if anything opens it for reading, the writer gets in,
    notes it and closes at once (so a regression reads an empty file instead of hanging)."""

    def __init__(self, path: Path) -> None:
        self.path, self.opened = path, False
        os.mkfifo(path)
        self._thread = threading.Thread(target=self._wait, daemon=True)
        self._thread.start()

    def _wait(self) -> None:
        with open(self.path, "wb"):  # blocks until someone opens the FIFO for reading
            self.opened = True

    def release(self) -> None:
        """Let the waiting writer go (our own non-blocking reader), then forget it."""
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        self._thread.join(timeout=10)
        os.close(fd)


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Callable[[Path], WatchedFifo]]:
    made: list[WatchedFifo] = []

    def make(path: Path) -> WatchedFifo:
        made.append(WatchedFifo(path))
        return made[-1]

    yield make
    for f in made:
        f.release()


def test_a_folder_of_odd_entries_gives_an_issue_for_each_and_reports_the_rest(
        branch: Callable[..., Path], tmp_path: Path, fifo: Callable[[Path], WatchedFifo]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = branch()
    (folder / "good.xlsx").write_bytes(good.read_bytes())
    (folder / "dangling.xlsx").symlink_to(folder / "gone.xlsx")
    (folder / "loop-a.xlsx").symlink_to(folder / "loop-b.xlsx")
    (folder / "loop-b.xlsx").symlink_to(folder / "loop-a.xlsx")
    (folder / "null.xlsx").symlink_to(os.devnull)
    pipe = fifo(folder / "pipe.xlsx")
    result = report_flow(ReportRequest([folder, Path("/dev/zero")], Period.month(2026, 10), tmp_path / "report.xlsx",
                                       now=datetime(2026, 11, 2)), ReportHooks(workers=1))
    issues = {p.file: p.code for p in result.consolidation.issues if p.file and p.file != "good.xlsx"}
    assert issues == {"dangling.xlsx": NotAFile.DANGLING_LINK, "loop-a.xlsx": NotAFile.LINK_LOOP,
                      "loop-b.xlsx": NotAFile.LINK_LOOP, "null.xlsx": NotAFile.DEVICE, "pipe.xlsx": NotAFile.FIFO,
                      "zero": NotAFile.DEVICE}
    assert not pipe.opened
    assert list(result.consolidation.branches) == ["BJ01"]


def test_a_fifo_given_by_name_is_called_a_fifo_not_missing(tmp_path: Path,
                                                          fifo: Callable[[Path], WatchedFifo]) -> None:
    pipe = fifo(tmp_path / "bj01.xlsx")
    with pytest.raises(WorkbookError) as e:
        FileWorkbook(pipe.path)
    assert e.value.code == NotAFile.FIFO and not pipe.opened
    done = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "validate", str(pipe.path), "--lang", "en"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "FIFO" in done.stderr and not pipe.opened


def test_missing_stays_missing_and_a_device_is_a_device(tmp_path: Path) -> None:
    for path, code in ((tmp_path / "nowhere.xlsx", NotAFile.MISSING), (Path(os.devnull), NotAFile.DEVICE),
                       (tmp_path, NotAFile.FOLDER)):
        with pytest.raises(WorkbookError) as e:
            FileWorkbook(path)
        assert e.value.code == code
