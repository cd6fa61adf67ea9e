"""The specs are the single source: models, templates and stamps follow them."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import HAS_SOFFICE, ROOT, soffice_convert
from xlcomplaints.core import models
from xlcomplaints.core.policy import DEFAULT_RULES
from xlcomplaints.spec import BRANCH_SHEETS, REPORT_SHEETS
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.model import ColType
from xlcomplaints.spec.problems import PROBLEMS
from xlcomplaints.templates.build import TEMPLATES
from xlcomplaints.templates.docs import sheets_markdown
from xlcomplaints.workbook.file import FileWorkbook
from xlcomplaints.workbook.reader import find_stamps

TEMPLATE_DIR = ROOT / "workbook_templates"
MODEL_OF = {"register": models.Complaint, "tracking": models.TrackingStep, "callbacks": models.CallbackAttempt,
            "calendar": models.CalendarEntry, "policy": models.PolicyRule}


@pytest.mark.parametrize("kind", sorted(MODEL_OF))
def test_models_carry_exactly_the_input_columns(kind: str) -> None:
    spec = {s.kind: s for s in (*BRANCH_SHEETS, B.POLICY)}[kind]
    fields = {f.name for f in dataclasses.fields(MODEL_OF[kind])} - {"row"}
    assert fields == {c.key for c in spec.input_columns}


def test_keys_are_unique_and_labels_present() -> None:
    for spec in (*BRANCH_SHEETS, *REPORT_SHEETS, B.POLICY):
        keys = [c.key for c in spec.columns]
        assert len(keys) == len(set(keys)), spec.kind
        for c in spec.columns:
            assert c.zh and c.en, (spec.kind, c.key)
            assert (c.vocab is not None) == (c.type in (ColType.CHOICE,) or (c.type is ColType.BOOL and c.vocab is not None))


def test_register_holds_what_the_domain_brief_lists() -> None:
    keys = {c.key for c in B.REGISTER.columns}
    assert {"no", "received_at", "channel", "customer", "phone", "location", "product", "order_ref", "category",
            "severity", "validity", "content", "request", "department", "handler", "acknowledged_at",
            "first_contact_at", "resolved_at", "replied_at", "callback_at", "closed_at", "result", "root_cause",
            "corrective_action", "remarks", "status", "days_overdue", "escalation", "repeat_of",
            "next_action"} <= keys
    computed = {c.key for c in B.REGISTER.computed_columns}
    assert {"acknowledge_due", "close_status", "status", "next_action"} <= computed
    # computed columns sit together at the end, so a clerk's typing area is one block
    idx = [B.REGISTER.index(k) for k in computed]
    assert sorted(idx) == list(range(len(B.REGISTER.input_columns), len(B.REGISTER.columns)))


def _contents(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_committed_template_matches_its_spec(name: str) -> None:
    buf = io.BytesIO()
    TEMPLATES[name](buf)
    committed = (TEMPLATE_DIR / name).read_bytes()
    assert _contents(buf.getvalue()) == _contents(committed), (
        f"{name} is stale: run `python scripts/build_templates.py`")


def test_committed_sheet_reference_matches_the_specs() -> None:
    committed = (ROOT / "docs" / "sheets.md").read_text(encoding="utf-8")
    assert committed == sheets_markdown(), "docs/sheets.md is stale: run `python scripts/build_templates.py`"


def test_sheet_reference_lists_every_column_setting_choice_and_default_rule() -> None:
    text = sheets_markdown()
    for spec in (*BRANCH_SHEETS, *REPORT_SHEETS, B.POLICY):
        assert re.search(rf"^###+ {spec.zh} {spec.en}$", text, re.M), spec.kind
        for c in () if spec is B.SETTINGS else spec.columns:  # label / value rows: the fields below
            assert f"| {c.zh} | {c.en} | `{c.key}` |" in text, (spec.kind, c.key)
    assert all(f"| {f.zh} | {f.en} | `{f.key}` |" in text for f in B.SETTINGS_FIELDS)
    links = set(re.findall(r"\(#(vocabulary-[a-z-]+)\)", text))
    targets = {"vocabulary-" + name.replace("_", "-") for name in re.findall(r"^### Vocabulary: (\w+)$", text, re.M)}
    assert v.CHANNEL.name in text and links and links <= targets
    assert all(f"| `{c.code}` | {c.zh} | {c.en} | {', '.join(c.aliases)} |" in text for c in v.CHANNEL)
    assert all(r.source_zh in text and r.source_en in text for r in DEFAULT_RULES)
    assert "| 回访 callback |  | 复杂 complex | 5 working days |" in text


def test_fingerprint_changes_with_the_spec() -> None:
    from dataclasses import replace

    changed = replace(B.REGISTER, columns=(replace(B.REGISTER.columns[0], width=99), *B.REGISTER.columns[1:]))
    assert changed.fingerprint() != B.REGISTER.fingerprint()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_template_structure(lang: str) -> None:
    path = TEMPLATE_DIR / f"branch-{lang}.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [s.title(lang) for s in BRANCH_SHEETS]
    ws = wb[B.REGISTER.title(lang)]
    assert [c.value for c in ws[1]] == [c.label(lang) for c in B.REGISTER.columns]
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
    assert ws.protection.sheet and not ws.protection.password
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    # input columns unlocked, computed ones locked; every choice column has a dropdown
    dims = list(ws.column_dimensions.values())
    for i, col in enumerate(B.REGISTER.columns, start=1):
        dim = next(d for d in dims if d.min <= i <= d.max)  # adjacent identical columns share a <col>
        protection = wb._protections[wb._cell_styles[dim.style_id].protectionId]  # noqa: SLF001
        assert (protection.locked is not False) == col.computed, col.key
    lists = {next(iter(dv.sqref.ranges)).min_col: dv for dv in ws.data_validations.dataValidation if dv.type == "list"}
    office = {key: lst.name for lst in B.OFFICE_LISTS for kind, key in lst.drives if kind == "register"}
    for i, col in enumerate(B.REGISTER.columns, start=1):
        if col.key in office:  # the office's own list: its range on the Lists sheet (tests/test_office_lists.py)
            assert lists[i].formula1 == office[col.key], col.key
        elif col.vocab is not None and not col.computed:
            assert i in lists, col.key
            assert lists[i].formula1.strip('"').split(",") == col.vocab.labels(lang)
    assert ws.conditional_formatting, "overdue colouring"
    rules = [r.formula[0] for cf in ws.conditional_formatting for r in cf.rules if r.formula]
    assert any("NOW()" in f for f in rules)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_template_stamps_survive_a_rename(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "renamed.xlsx"
    path.write_bytes((TEMPLATE_DIR / f"branch-{lang}.xlsx").read_bytes())
    # An office translates its sheet names and moves the register to the end (Excel keeps the names).
    wb = openpyxl.load_workbook(path)
    wb[B.REGISTER.title(lang)].title = "Complaints 2026"
    wb.move_sheet("Complaints 2026", offset=5)
    wb.save(path)
    stamp, sheets = find_stamps(FileWorkbook(path))
    assert stamp.kind == "branch" and stamp.version == B.BRANCH_TEMPLATE_VERSION
    assert sheets["register"] == "Complaints 2026"
    assert set(sheets) == {s.kind for s in BRANCH_SHEETS}


def test_stamp_names_are_hidden() -> None:
    with zipfile.ZipFile(TEMPLATE_DIR / "branch-zh.xlsx") as z:
        xml = z.read("xl/workbook.xml").decode()
    assert xml.count('name="xlcomplaints.sheet"') == len(BRANCH_SHEETS)
    for part in xml.split("<definedName ")[1:]:
        if "xlcomplaints." in part.split(">")[0]:
            assert 'hidden="1"' in part.split(">")[0]


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_templates_open_in_libreoffice(tmp_path: Path, name: str) -> None:
    out = soffice_convert(TEMPLATE_DIR / name, tmp_path, "xlsx")
    """LibreOffice opens every template and keeps every sheet, in template order, under its title."""
    lang = "en" if "-en." in name else "zh"
    specs = BRANCH_SHEETS if name.startswith("branch") else REPORT_SHEETS
    expected = [s.title(lang) for s in specs]
    if name.endswith(".xlsm"):  # the buttons' Problems sheet, and xlwings' (inactive) settings sheet
        expected += [PROBLEMS.title(lang), "_xlwings.conf"]
    assert CalamineWorkbook.from_path(out).sheet_names == expected


@pytest.mark.libreoffice
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) not installed")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_blank_branch_workbook_prints_every_sheet_with_its_headers(tmp_path: Path) -> None:
    """The blank branch workbook prints: each sheet on its own pages, its title atop every page, and
    every column's header on paper (the Register's wide rows over two pages)."""
    pdf = soffice_convert(TEMPLATE_DIR / "branch-zh.xlsx", tmp_path, "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    heads = [p.strip().split()[0] for p in pages]
    assert list(dict.fromkeys(heads)) == [s.zh for s in BRANCH_SHEETS]
    for spec in BRANCH_SHEETS:
        printed = "\n".join(p for p, head in zip(pages, heads, strict=True) if head == spec.zh)
        assert [c.zh for c in spec.columns if c.zh not in printed] == [], spec.zh


def test_the_policy_file_example_in_the_sheet_reference_loads(tmp_path: Path) -> None:
    from xlcomplaints.policy_file import load_policy_file

    example = re.search(r"```toml\n(.*?)```", sheets_markdown(), re.S)
    assert example is not None
    (tmp_path / "rules.toml").write_text(example.group(1), encoding="utf-8")
    (rule,) = load_policy_file(tmp_path / "rules.toml")
    assert (rule.stage, rule.severity, rule.amount, rule.unit) == ("report", "important", 2, "working_hours")


@pytest.mark.parametrize("name", ["branch-zh.xlsx", "branch-en.xlsx"])
def test_no_cell_of_the_templates_has_two_dropdowns(name: str) -> None:
    """Excel applies one data validation per cell, and which of two overlapping ones wins is not
    defined: the rule table's dropdowns on Settings stop above the custom stages' own (and so on)."""
    wb = openpyxl.load_workbook(ROOT / "workbook_templates" / name)
    for ws in wb.worksheets:
        boxes = [(i, r.min_row, r.max_row, r.min_col, r.max_col)
                 for i, dv in enumerate(ws.data_validations.dataValidation) for r in dv.sqref.ranges]
        overlaps = [(a, b) for n, a in enumerate(boxes) for b in boxes[n + 1:] if a[0] != b[0]
                    and a[1] <= b[2] and b[1] <= a[2] and a[3] <= b[4] and b[3] <= a[4]]
        assert not overlaps, (ws.title, overlaps[:3])
