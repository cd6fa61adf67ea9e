"""The fast path of the typed-over check, held to the plain one.

refresh and validate look for grey cells a clerk typed over by comparing the checksum of the grey
cells with the one the last refresh kept on the Summary. The reader takes that checksum while it
streams the sheets once (core.validation.DigestTap); the plain way reads the sheets again
(read_computed). Both must give the same number, or a workbook would be passed as untouched when it
is not (or read twice for nothing).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from xlcomplaints.core.validation import COMPUTED_KEYS, read_computed
from xlcomplaints.demo import make_branch
from xlcomplaints.flows import _checksum, _computed_of, _plan, _summary_marks, refresh_flow
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import read_branch

NOW = datetime(2026, 11, 2, 9, 0)


def _plain_digest(path: Path) -> int:
    port = FileWorkbook(path)
    _, sheets, _, plan = _plan(port, now=NOW, lang="zh", policy=None)
    read = read_branch(FileWorkbook(path))
    return sum(read_computed(FileWorkbook(path).rows(sheets[kind]), read.layouts[kind],
                             _computed_of(plan, kind)).digest
               for kind in COMPUTED_KEYS if kind in read.layouts)


def test_the_checksum_taken_while_reading_equals_a_second_read(tmp_path: Path) -> None:
    path = make_branch(tmp_path / "BJ01.xlsx", "BJ01", "北京一店", n=40, seed=5)
    for _ in range(2):  # never refreshed (grey cells blank), then as a refresh left them
        read = read_branch(FileWorkbook(path))
        assert read.computed_digest == _plain_digest(path)
        refresh_flow(FileWorkbook(path), now=NOW)


def test_right_after_a_refresh_the_grey_cells_add_up_to_the_kept_checksum(tmp_path: Path) -> None:
    """The fast path's premise: what refresh wrote reads back to the checksum it kept."""
    path = make_branch(tmp_path / "BJ01.xlsx", "BJ01", "北京一店", n=40, seed=5)
    refresh_flow(FileWorkbook(path), now=NOW)
    read = read_branch(FileWorkbook(path))
    _, stored = _summary_marks(FileWorkbook(path), read.sheets)
    assert read.computed_digest is not None and stored == _checksum(read.computed_digest)


def test_a_never_refreshed_register_has_no_grey_cell_filled(tmp_path: Path) -> None:
    """The second shortcut: with every grey cell blank there is nothing to report, read once."""
    path = make_branch(tmp_path / "BJ01.xlsx", "BJ01", "北京一店", n=40, seed=5)
    assert read_branch(FileWorkbook(path)).computed_filled is False
    refresh_flow(FileWorkbook(path), now=NOW)
    assert read_branch(FileWorkbook(path)).computed_filled is True


def test_a_read_without_the_checksum_is_the_same_read(tmp_path: Path) -> None:
    """A consolidation reads without the checksum (``read_branch(digest=False)``: refresh's alone); every
    record, office column, layout and problem is the same, on a branch as refreshed and on one whose
    office columns (read through the same tap) the Settings name."""
    from tests.test_custom_stages import make_branch as with_office_columns

    refreshed = make_branch(tmp_path / "BJ01.xlsx", "BJ01", "北京一店", n=40, seed=5)
    refresh_flow(FileWorkbook(refreshed), now=NOW)
    (tmp_path / "office").mkdir()
    for path in (refreshed, with_office_columns(tmp_path / "office", dims=("楼栋",), buildings={"BJ01-2611001": "3栋"})):
        full, lean = read_branch(FileWorkbook(path)), read_branch(FileWorkbook(path), digest=False)
        assert full.computed_digest is not None and lean.computed_digest is None
        assert lean.data == full.data and lean.problems == full.problems and lean.missing == full.missing
        assert lean.layouts == full.layouts and lean.sheets == full.sheets and lean.lists == full.lists
    assert lean.data.office_columns and any(c.values for c in lean.data.office_columns.values())
