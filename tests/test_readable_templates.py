"""A clerk reads every header and note without guessing: no header is cut mid-word in either
language ("Complexit/y", "(hou" were), the Settings notes wrap in columns wide enough to read, and
the numbering pattern is explained in a clerk's words with an example of this branch's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlcomplaints.api import new_workbook
from xlcomplaints.core.numbering import describe_pattern
from xlcomplaints.spec.branch import BRANCH_SHEETS, POLICY, SETTINGS, SETTINGS_FIELDS
from xlcomplaints.spec.model import HEADER_LINES, text_width, words, wrapped_lines
from xlcomplaints.spec.report import REPORT_SHEETS

TEMPLATES = Path(__file__).resolve().parents[1] / "workbook_templates"
DEFAULT_WIDTH = 8.43


def widths(ws: Worksheet) -> dict[int, float]:
    out: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        if dim.width:
            for i in range(dim.min, dim.max + 1):
                out[i] = dim.width
    return out


def headers(path: Path, lang: str) -> list[tuple[str, str, float]]:
    """(sheet, header, column width) for every spec header in row 1 of a template."""
    labels = {c.label(lang) for spec in (*BRANCH_SHEETS, POLICY, *REPORT_SHEETS) for c in spec.columns}
    found = []
    for ws in load_workbook(path).worksheets:
        w = widths(ws)
        for cell in ws[1]:
            if isinstance(cell.value, str) and cell.value in labels and cell.coordinate not in ws.merged_cells:
                found.append((ws.title, cell.value, w.get(cell.column, DEFAULT_WIDTH)))
    return found


@pytest.mark.parametrize("name", ["branch-zh.xlsx", "branch-en.xlsx", "monthly-report-zh.xlsx",
                                  "monthly-report-en.xlsx"])
def test_no_header_is_cut_mid_word(name: str) -> None:
    lang = "en" if "-en" in name else "zh"
    found = headers(TEMPLATES / name, lang)
    assert len(found) > 40
    for sheet, label, width in found:
        for word in words(label):
            # a plain count first (each letter at least one unit, plus the cell's margin), then our measure
            assert width >= len(word) + 1 if word.isascii() else True, (sheet, label, width)
            assert width >= text_width(word) + 1, (sheet, label, width)
        assert wrapped_lines(label, width) <= HEADER_LINES, (sheet, label, width)


def test_the_english_headers_that_were_cut_now_fit() -> None:
    found = {(s, h): w for s, h, w in headers(TEMPLATES / "branch-en.xlsx", "en")}
    assert found[("Register", "Complexity")] >= len("Complexity") + 1
    ws = load_workbook(TEMPLATES / "branch-en.xlsx")[SETTINGS.title("en")]
    longest = max(len(f.label("en")) for f in SETTINGS_FIELDS)  # "…when the customer cannot be reached (hours)"
    assert widths(ws)[1] >= longest + 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_settings_notes_wrap_across_the_wide_columns(lang: str) -> None:
    ws = load_workbook(TEMPLATES / f"branch-{lang}.xlsx")[SETTINGS.title(lang)]
    w = widths(ws)
    notes = [ws.cell(r, 3) for r in range(2, len(SETTINGS_FIELDS) + 2) if ws.cell(r, 3).value]
    assert len(notes) >= 8
    merged = {str(m) for m in ws.merged_cells.ranges}
    last = len(POLICY.columns)
    for cell in notes:
        assert cell.alignment.wrap_text, cell.coordinate
        assert f"C{cell.row}:{chr(64 + last)}{cell.row}" in merged, cell.coordinate  # C to the Source column
    assert sum(w[i] for i in range(3, last + 1)) >= 100
    # the SLA table's Source column: wide and wrapped, so a seed's rule reads as a sentence
    source_header = next(c for c in ws.iter_rows(min_col=last, max_col=last)
                         if c[0].value == POLICY.columns[-1].label(lang))[0]
    assert w[last] >= 48
    assert ws.cell(source_header.row + 1, last).alignment.wrap_text


@pytest.mark.parametrize(("lang", "words"), [("zh", "网点代码"), ("en", "branch code")])
def test_the_numbering_pattern_is_explained_with_this_branchs_example(tmp_path: Path, lang: str,
                                                                      words: str) -> None:
    path = tmp_path / "bj01.xlsx"
    new_workbook(path, branch_code="BJ01", lang=lang)
    ws = load_workbook(path)[SETTINGS.title(lang)]
    label = next(f.label(lang) for f in SETTINGS_FIELDS if f.key == "number_pattern")
    row = next(r for r in ws.iter_rows() if r[0].value == label)
    assert row[1].value == "{branch}-{yy}{mm}{seq:03}"
    assert words in row[2].value and "BJ01-2611007" in row[2].value


def test_a_pattern_in_words() -> None:
    assert describe_pattern("{branch}-{yy}{mm}{seq:03}", "BJ01", "zh") == (
        "网点代码 + “-” + 两位年份 + 两位月份 + 三位流水号，例如 2026年11月第7宗为 BJ01-2611007")
    assert describe_pattern("TS{yyyy}{mm}{dd}-{seq:04}", "SH02", "en") == (
        '"TS" + 4-digit year + 2-digit month + 2-digit day + "-" + 4-digit serial number; '
        "e.g. the 7th complaint of November 2026 is TS20261101-0007")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_choice_reads_whole_in_its_column(lang: str) -> None:
    """Our own lists (stages, units, categories) are not cut in the cells they fill: 'Investigate &
    reso' and 'Working hou' were, on the English Overdue sheet."""
    from xlcomplaints.spec.branch import OVERDUE
    from xlcomplaints.spec.model import CHOICE_WIDTH_MAX

    ws = load_workbook(TEMPLATES / f"branch-{lang}.xlsx")[OVERDUE.title(lang)]
    w = widths(ws)
    checked = 0
    for i, col in enumerate(OVERDUE.columns, start=1):
        if col.vocab is None:
            continue
        for label in col.vocab.labels(lang):
            if len(label) + 1 <= CHOICE_WIDTH_MAX:
                assert w[i] >= text_width(label, bold=False) + 1, (col.key, label, w[i])
                checked += 1
    assert checked > 20
