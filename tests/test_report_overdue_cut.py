"""An Overdue detail longer than an Excel sheet holds is cut at the sheet's last row, with a note
there, on the cover and on Issues counting what is left out; the figures still count every row.

A million rows are not written here: the sheet's row limit is injected small (``EXCEL_MAX_ROWS``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest
import python_calamine

from tests.test_excel_opens_clean import problems, validator  # noqa: F401  (validator: a fixture)
from xlcomplaints.api import monthly_report
from xlcomplaints.core.problems import render
from xlcomplaints.demo import make_branch
from xlcomplaints.report import workbook as W
from xlcomplaints.report.labels import OVERDUE_CUT
from xlcomplaints.spec import report as R

NOW = datetime(2026, 11, 2, 9, 0)
LIMIT = 6  # the header, four rows of the list, the note


def _grid(path: Path, sheet: str) -> list[list[object]]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


@pytest.fixture(scope="module")
def branch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_branch(tmp_path_factory.mktemp("cut") / "BJ01.xlsx", "BJ01", "北京一店", n=60, seed=3)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_list_longer_than_a_sheet_is_cut_with_a_note(branch: Path, tmp_path: Path, lang: str,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       validator: ModuleType) -> None:  # noqa: F811
    whole = monthly_report(branch, "2026-10", tmp_path / "whole.xlsx", now=NOW, lang=lang)
    total = len(whole.report.overdue)
    assert total > LIMIT
    monkeypatch.setattr(W, "EXCEL_MAX_ROWS", LIMIT)
    cut = monthly_report(branch, "2026-10", tmp_path / "cut.xlsx", now=NOW, lang=lang)
    assert cut.report.overdue == whole.report.overdue  # the report's figures keep every row

    name = R.OVERDUE_DETAIL.title(lang)
    full, shown = _grid(whole.output, name), _grid(cut.output, name)
    assert len(shown) == LIMIT  # the sheet ends at its last row
    assert shown[:LIMIT - 1] == full[:LIMIT - 1]  # the header and the first rows, in the list's order
    note = shown[-1][0]
    assert isinstance(note, str) and f"{total - (LIMIT - 2):,}" in note and f"{total:,}" in note

    said = [p for p in cut.report.issues if p.code == OVERDUE_CUT]
    assert not said  # the report itself is not changed: the note is the writer's
    issues = _grid(cut.output, R.ISSUES.title(lang))
    assert [row for row in issues if note in row]  # the same words on Issues, and the count on the cover,
    cover = _grid(cut.output, R.COVER.title(lang))
    on_cover = render(f"{OVERDUE_CUT}.cover", lang, {"left_out": f"{total - (LIMIT - 2):,}"})
    assert [row for row in cover if any(isinstance(v, str) and v.startswith(on_cover) for v in row)]  # …its first

    # the whole report's cells are the same elsewhere, but for the cover's count of warnings and the note
    for spec in (R.STAGES, R.TYPICAL, R.DEFINITIONS):
        assert _grid(cut.output, spec.title(lang)) == _grid(whole.output, spec.title(lang))
    assert problems(validator, cut.output) == []


def test_a_list_that_fits_is_not_touched(branch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = monthly_report(branch, "2026-10", tmp_path / "whole.xlsx", now=NOW)
    monkeypatch.setattr(W, "EXCEL_MAX_ROWS", len(whole.report.overdue) + 2)  # exactly the list, header and a note
    fits = monthly_report(branch, "2026-10", tmp_path / "fits.xlsx", now=NOW)
    name = R.OVERDUE_DETAIL.title("zh")
    assert _grid(fits.output, name) == _grid(whole.output, name)
    assert W.fit_overdue(fits.report) is fits.report
