"""An English workbook or report says everything that is ours in English; the office's own data
(customer names, departments, branch names as the clerk typed them) stays as typed.

The rule is checked the only way that stays fixed as sheets grow: every piece of Chinese in an English
output must be part of a value the office typed into an input cell. Titles, headers, statuses, next
actions, Overdue headings, Summary labels, Settings notes, the SLA table's sources, Definitions, Issues
messages, charts, cover notes and print headers are all ours, so none of them may carry Chinese.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.test_cli import run
from xlcomplaints.core.metrics import Period
from xlcomplaints.demo import BRANCHES, run_demo
from xlcomplaints.report.run import ReportRequest, report_flow
from xlcomplaints.spec.branch import CALLBACKS, REGISTER, SETTINGS_FIELDS, TRACKING

TEMPLATES = Path(__file__).resolve().parents[1] / "workbook_templates"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
#: What the office types: the input columns of its input sheets, and the branch name on Settings.
INPUT_SHEETS = (REGISTER, TRACKING, CALLBACKS)


def office_values(branch: Path) -> set[str]:
    """Every text the clerk typed in a branch workbook's input cells (not the columns we compute)."""
    wb = load_workbook(branch)
    typed: set[str] = set()
    for spec in INPUT_SHEETS:
        ws = wb[spec.title("en")]
        inputs = {i for i, c in enumerate(spec.columns) if not c.computed}
        for row in ws.iter_rows(min_row=2, values_only=True):
            typed.update(str(v).strip() for i, v in enumerate(row) if i in inputs and isinstance(v, str) and v.strip())
    settings = wb["Settings"]
    name_label = next(f.label("en") for f in SETTINGS_FIELDS if f.key == "branch_name")
    for label, value, *_ in settings.iter_rows(values_only=True):
        if label == name_label and isinstance(value, str):
            typed.add(value.strip())
    return typed


def ours(text: str, typed: set[str]) -> str:
    """What is left of a text once every office value quoted in it is taken out."""
    for value in sorted((v for v in typed if CJK.search(v) and v in text), key=len, reverse=True):
        text = text.replace(value, "")
    return text


def chinese_of_ours(path: Path, typed: set[str], skip_input_rows: bool = False) -> list[str]:
    """Where an English output still speaks Chinese on its own account: ``sheet!cell: text``."""
    found: list[str] = []
    input_titles = {s.title("en"): s for s in INPUT_SHEETS}
    wb = load_workbook(path)
    for ws in wb.worksheets:
        if CJK.search(ws.title):
            found.append(f"sheet title {ws.title}")
        for part in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.evenFooter, ws.firstHeader, ws.firstFooter):
            for side in (part.left, part.center, part.right):
                if side.text and CJK.search(side.text):
                    found.append(f"{ws.title} print header/footer: {side.text}")
        spec = input_titles.get(ws.title)
        for row in ws.iter_rows():
            for c in row:
                if skip_input_rows and spec and c.row > 1 and not spec.columns[c.column - 1].computed:
                    continue  # the clerk's own cell
                for text in (c.value if isinstance(c.value, str) else None, c.comment.text if c.comment else None):
                    if text and CJK.search(ours(text, typed)):
                        found.append(f"{ws.title}!{c.coordinate}: {text[:120]}")
        for dv in ws.data_validations.dataValidation:
            for text in (dv.formula1, dv.prompt, dv.promptTitle, dv.error, dv.errorTitle):
                if text and CJK.search(text):
                    found.append(f"{ws.title} validation {dv.sqref}: {text[:120]}")
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith(("xl/charts/", "xl/drawings/", "xl/comments")) and name.endswith(".xml"):
                for text in re.findall(r">([^<]+)<", z.read(name).decode("utf-8")):
                    if CJK.search(ours(text, typed)):
                        found.append(f"{name}: {text[:120]}")
    return found


@pytest.fixture(scope="module")
def english_demo(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """``xlcomplaints demo DIR --lang en``: three refreshed branches and their consolidated report."""
    return run_demo(tmp_path_factory.mktemp("demo-en"), lang="en")


def test_the_english_demo_speaks_english_except_the_offices_own_data(english_demo: list[Path]) -> None:
    *branches, report = english_demo
    typed = set().union(*(office_values(b) for b in branches))
    assert any(CJK.search(v) for v in typed)  # the sample offices do type Chinese: the test has teeth
    for branch in branches:
        assert chinese_of_ours(branch, typed, skip_input_rows=True) == [], branch.name
    assert chinese_of_ours(report, typed) == []


def test_an_english_single_branch_report_speaks_english(english_demo: list[Path], tmp_path: Path) -> None:
    branch = english_demo[0]
    out = report_flow(ReportRequest([branch], Period.month(2026, 10), tmp_path / "one.xlsx", lang="en",
                                    now=datetime(2026, 11, 2, 9, 0))).output
    assert chinese_of_ours(Path(out), office_values(branch)) == []


def test_the_english_report_names_each_branch_as_the_office_typed_it(english_demo: list[Path]) -> None:
    """Issue 20: the English report shows the branch names (it used to leave them out)."""
    wb = load_workbook(english_demo[-1])
    cover = " ".join(str(v) for row in wb["Cover"].iter_rows(values_only=True) for v in row if v)
    by_branch = [row[1] for row in wb["By branch"].iter_rows(min_row=2, values_only=True) if row[1]]
    for code, name in BRANCHES:
        assert f"{code} {name}" in cover
        assert f"{code} {name}" in by_branch


def test_a_new_english_workbook_refreshed_speaks_english(tmp_path: Path) -> None:
    wb = tmp_path / "x.xlsx"
    assert run("new", wb, "--lang", "en", "--branch-code", "BJ01", "--branch-name", "北京一店").returncode == 0
    assert run("refresh", wb, "--lang", "en").returncode == 0
    assert chinese_of_ours(wb, {"北京一店"}) == []


@pytest.mark.parametrize("name", ["branch-en.xlsx", "branch-en.xlsm", "monthly-report-en.xlsx"])
def test_the_english_templates_have_no_chinese_at_all(name: str) -> None:
    assert chinese_of_ours(TEMPLATES / name, set()) == []
