"""Build workbooks from the sheet specs with XlsxWriter.

Over 400 lines on purpose: every sheet of the branch template is built here, from its spec.

Everything a template shows — headers, widths, formats, dropdowns, protection,
print setup, the overdue colouring, the hidden stamp — is derived here from
``xlcomplaints.spec``; this module adds looks, never columns.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from xlcomplaints.core.lists import BUILT_IN, OfficeLists
from xlcomplaints.core.models import PolicyRule, Settings
from xlcomplaints.core.policy import DONE_FIELD, default_policy
from xlcomplaints.i18n import pick
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import report as R
from xlcomplaints.spec.model import ColType, Column, Field, SheetSpec
from xlcomplaints.workbook.stamp import SHEET_NAME, TEMPLATE_NAME, sheet_stamp, template_stamp

MAX_ROW = 1_048_575  # last 0-based row Excel allows
#: Fixed creation time, so that building twice gives the same package.
TEMPLATE_CREATED = datetime(2026, 1, 1)

INPUT_HEADER = "#DDEBF7"
COMPUTED_HEADER = "#D9D9D9"
COMPUTED_FILL = "#F2F2F2"
OVERDUE_FILL = "#F8CBAD"
DUE_SOON_FILL = "#FFE699"


@dataclass(frozen=True)
class BuildOptions:
    lang: str = "zh"
    settings: Settings | None = None
    macro_enabled: bool = False


class _Formats:
    """The few cell formats a template needs, created once per workbook."""

    def __init__(self, wb: xlsxwriter.Workbook, lang: str) -> None:
        self.wb = wb
        self.font = pick(lang, "等线", "Calibri")
        self._cache: dict[tuple[Any, ...], Format] = {}

    def get(self, **props: Any) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format({"font_name": self.font, "font_size": 10, **props})
        return self._cache[key]

    def header(self, computed: bool, required: bool) -> Format:
        return self.get(
            bold=True, text_wrap=True, valign="vcenter", align="center", border=1,
            bg_color=COMPUTED_HEADER if computed else INPUT_HEADER,
            font_color="#C00000" if required else "#000000",
        )

    def column(self, col: Column | Field, computed: bool) -> Format:
        props: dict[str, Any] = {"locked": computed}
        fmt = col.format if isinstance(col, Column) else None
        if fmt:
            props["num_format"] = fmt
        if isinstance(col, Column) and col.type is ColType.LONGTEXT:
            props["text_wrap"] = True
            props["valign"] = "top"
        if computed:
            props["bg_color"] = COMPUTED_FILL
        return self.get(**props)


def _validation(col: Column | Field, lang: str, listed: B.OfficeList | None = None) -> dict[str, Any] | None:
    """A dropdown for choice columns, an input message for the rest; a column an office list drives
    (``listed``) drops down that list's range on the Lists sheet, through its defined name."""
    help_text = col.help(lang) if isinstance(col, Column) else col.source(lang)
    title = col.label(lang)[:32]
    if listed is not None:
        where = B.LISTS.title(lang)
        return {
            "validate": "list",
            "source": f"={listed.name}",
            "input_title": title,
            "input_message": (help_text or pick(lang, f"从下拉列表选择；列表在“{where}”表，可在那里增改",
                                                    f"Pick from the list; the list is on the '{where}' sheet, "
                                                    f"where it can be changed"))[:255],
            "error_type": "warning",
            "error_title": title,
            "error_message": pick(lang, f"不在“{where}”表的列表中。请从下拉列表中选择，或先在“{where}”表增加此项。",
                                  f"Not on the '{where}' sheet's list. Pick from the dropdown, or add it on "
                                  f"'{where}' first."),
        }
    if col.vocab is not None:
        return {
            "validate": "list",
            "source": col.vocab.labels(lang),
            "input_title": title,
            "input_message": (help_text or " / ".join(col.vocab.labels(lang)))[:255],
            "error_type": "warning",
            "error_title": title,
            "error_message": pick(lang, "请从下拉列表中选择：", "Pick from the list: ")
            + " / ".join(col.vocab.labels(lang)),
        }
    if help_text:
        return {"validate": "any", "input_title": title, "input_message": help_text[:255]}
    return None


def _protect(ws: Worksheet, *, generated: bool = False) -> None:
    """Lock computed cells without a password; clerks keep sorting, filtering and adding rows.

    A ``generated`` sheet (Overdue, Summary: seed 001, 数据将自动生成，不得手工改动) is all
    computed: it can be filtered, sorted and resized, but no row added or deleted.
    """
    ws.protect("", {
        "autofilter": True, "sort": True, "format_columns": True, "format_rows": True,
        "insert_rows": not generated, "delete_rows": not generated, "select_locked_cells": True,
        "select_unlocked_cells": True,
    })


def _print_setup(ws: Worksheet, title: str, lang: str, *, paper: int = 9) -> None:
    ws.set_landscape()
    ws.set_paper(paper)  # 9 = A4, 8 = A3
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    page = pick(lang, "第 &P 页，共 &N 页", "Page &P of &N")
    ws.set_header(f"&L&\"-,Bold\"{title}&R&D")
    ws.set_footer(f"&C{page}")


def _stamp_sheet(wb: xlsxwriter.Workbook, ws: Worksheet, spec: SheetSpec) -> None:
    wb.define_name(f"'{ws.name}'!{SHEET_NAME}", f'="{sheet_stamp(spec)}"')
    _hide_last_name(wb)


def _hide_last_name(wb: xlsxwriter.Workbook) -> None:
    # XlsxWriter keeps [name, sheet_index, formula, hidden]; our stamps are hidden names.
    wb.defined_names[-1][3] = True


def write_table_sheet(
    wb: xlsxwriter.Workbook, fm: _Formats, spec: SheetSpec, lang: str,
    rows: Sequence[Sequence[Any]] = (), *, first_row: int = 0,
) -> Worksheet:
    """A header row plus column formats, dropdowns, filter, freeze and print setup."""
    ws = wb.add_worksheet(spec.title(lang))
    ws.set_vba_name(f"xlc{spec.kind.title().replace('_', '')}")
    _stamp_sheet(wb, ws, spec)
    write_table(ws, fm, spec, lang, rows, first_row=first_row)
    ws.freeze_panes(first_row + 1, spec.freeze_cols)
    # Wide registers print on A3, the rest on A4.
    _print_setup(ws, spec.title(lang), lang, paper=8 if len(spec.columns) > 20 else 9)
    if spec.computed_columns and spec.input_columns and len(spec.columns) > 20:
        # A wide register prints on A3 two pages across: what the clerk typed, then what we
        # computed, each page led by the complaint number and time received.
        ws.fit_to_pages(2, 0)
        ws.set_v_pagebreaks([len(spec.input_columns)])
        ws.repeat_columns(0, max(spec.freeze_cols - 1, 0))
    if spec.description_zh:
        ws.write_comment(first_row, 0, pick(lang, spec.description_zh, spec.description_en),
                         {"x_scale": 2, "y_scale": 1.2})
    return ws


def _listed(kind: str) -> dict[str, B.OfficeList]:
    """The columns of a sheet kind whose dropdowns an office list drives, by column key."""
    return {key: lst for lst in B.OFFICE_LISTS for k, key in lst.drives if k == kind}


def write_table(
    ws: Worksheet, fm: _Formats, spec: SheetSpec, lang: str,
    rows: Sequence[Sequence[Any]] = (), *, first_row: int = 0, validations: bool = True,
) -> None:
    last_col = len(spec.columns) - 1
    listed = _listed(spec.kind)
    ws.set_row(first_row, 30)
    for i, col in enumerate(spec.columns):
        computed = col.computed or spec.owned
        ws.set_column(i, i, col.width_in(lang), fm.column(col, computed))
        ws.write_string(first_row, i, col.label(lang), fm.header(computed, col.required))
        dv = _validation(col, lang, listed.get(col.key)) if validations and not computed else None
        if dv:
            ws.data_validation(first_row + 1, i, MAX_ROW, i, dv)
    for r, values in enumerate(rows, start=first_row + 1):
        for i, value in enumerate(values):
            if value is not None:
                ws.write(r, i, value, fm.column(spec.columns[i], spec.columns[i].computed or spec.owned))
    ws.autofilter(first_row, 0, first_row + max(len(rows), 0), last_col)


def _register_colouring(ws: Worksheet, wb: xlsxwriter.Workbook, spec: SheetSpec) -> None:
    """Rows of open cases turn red when a stage is past due and not done, amber within a day of it.

    Computed from the due-time columns and NOW(), so the colours stay right between
    refreshes even though the status columns were written at the last refresh. A closed
    case's missed stages are history (their status cells are red), and a callback given up
    is not overdue.
    """
    from xlcomplaints.spec.vocab import STAGE_STATUS

    def ref(key: str) -> str:
        return f"${xl_col_to_name(spec.index(key))}2"

    given_up = "".join(f',{ref("callback_status")}<>"{STAGE_STATUS.label("given_up", lang)}"' for lang in ("zh", "en"))
    overdue, soon = [], []
    for stage, done in DONE_FIELD.items():  # each stage's due column, and the column that completes it
        due, finished = ref(f"{stage}_due"), ref(done)
        unless = given_up if stage == "callback" else ""
        overdue.append(f'AND(ISNUMBER({due}),{finished}="",{due}<NOW(){unless})')
        soon.append(f'AND(ISNUMBER({due}),{finished}="",{due}>=NOW(),{due}-NOW()<1{unless})')
    validity = ref("validity")
    not_invalid = f'{validity}<>"无效",{validity}<>"Invalid",{ref("closed_at")}=""'
    last = xl_col_to_name(len(spec.columns) - 1)
    rng = f"A2:{last}{MAX_ROW + 1}"
    red = wb.add_format({"bg_color": OVERDUE_FILL})
    amber = wb.add_format({"bg_color": DUE_SOON_FILL})
    ws.conditional_format(rng, {"type": "formula", "criteria": f"=AND({not_invalid},OR({','.join(overdue)}))",
                                "format": red, "stop_if_true": True})
    ws.conditional_format(rng, {"type": "formula", "criteria": f"=AND({not_invalid},OR({','.join(soon)}))",
                                "format": amber})


def _status_colouring(ws: Worksheet, wb: xlsxwriter.Workbook, col: int, lang: str) -> None:
    from xlcomplaints.spec.vocab import STAGE_STATUS

    red = wb.add_format({"bg_color": OVERDUE_FILL})
    amber = wb.add_format({"bg_color": DUE_SOON_FILL})
    for code, fmt in (("overdue", red), ("done_late", red), ("missed", red), ("due_soon", amber)):
        ws.conditional_format(1, col, MAX_ROW, col, {
            "type": "cell", "criteria": "==", "value": f'"{STAGE_STATUS.label(code, lang)}"', "format": fmt,
        })


def _summary_handlers(ws: Worksheet, lang: str) -> None:
    """Room for the Summary's table per handler that refresh writes from column E (``B.SUMMARY_HANDLER_COLUMNS``),
    and a data bar on its workload columns (open, overdue now) so the busiest handler stands out."""
    at = B.SUMMARY_HANDLERS_AT - 1
    for i, col in enumerate(B.SUMMARY_HANDLER_COLUMNS):  # as wide as its header (CJK about 2 units), a time's unit too
        label = col.label(lang) + ("（工作日）" if col.key == "resolve_median" else "")
        ws.set_column(at + i, at + i, max(col.width_in(lang), sum(2 if ord(ch) > 0x2E80 else 1.1 for ch in label) + 1))
    keys = [c.key for c in B.SUMMARY_HANDLER_COLUMNS]
    for key, colour in B.SUMMARY_CHART_SERIES:  # rows 4 on: below the table's title and header; the chart's colours
        i = keys.index(key)
        ws.conditional_format(3, at + i, 502, at + i, {"type": "data_bar", "bar_color": f"#{colour}",
                                                       "bar_solid": True})


def _settings_value(field: Field, settings: Settings, lang: str) -> Any:
    value = getattr(settings, field.key)
    if field.vocab is not None:
        return field.vocab.label(value, lang)
    if field.type is ColType.TIME:
        return value.strftime("%H:%M")
    if isinstance(value, tuple):
        return ",".join(x if isinstance(x, str) else f"{x:g}" for x in value)
    return value


def _policy_row(rule: PolicyRule, lang: str) -> list[Any]:
    out: list[Any] = []
    for col in B.POLICY.columns:
        value = getattr(rule, col.key)
        if value is not None and col.vocab is not None:
            value = col.vocab.label(value, lang)
        out.append(value)
    return out


#: Settings columns' least widths: key/value rows use A–C (their notes run across C–H), the policy
#: table A–H; each widens to its longest label in the workbook's language.
SETTINGS_WIDTHS = (30, 22, 12, 12, 10, 8, 12, 60)


def _settings_widths(lang: str) -> list[float]:
    from xlcomplaints.spec.model import fitting_width

    widths = [max(w, c.width_in(lang)) for w, c in zip(SETTINGS_WIDTHS, B.POLICY.columns, strict=True)]
    # Labels in A are one line (not wrapped): as wide as the longest, so none is cut ("(hou").
    widths[0] = max(widths[0], B.SETTINGS.columns[0].width_in(lang),
                    max(fitting_width(f.label(lang), 0, lines=1) for f in B.SETTINGS_FIELDS))
    widths[1] = max(widths[1], B.SETTINGS.columns[1].width_in(lang))
    return widths


def _write_settings(wb: xlsxwriter.Workbook, fm: _Formats, settings: Settings, lang: str) -> Worksheet:
    from xlcomplaints.core.numbering import describe_pattern
    from xlcomplaints.spec.model import wrapped_lines

    spec = B.SETTINGS
    ws = wb.add_worksheet(spec.title(lang))
    ws.set_vba_name("xlcSettings")
    _stamp_sheet(wb, ws, spec)
    widths = _settings_widths(lang)
    label_fmt = fm.get(bold=True, bg_color=INPUT_HEADER, border=1, locked=True, valign="top")
    note_fmt = fm.get(font_color="#595959", locked=True, text_wrap=True, valign="top")
    last = len(widths) - 1
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    for i, col in enumerate(spec.columns):
        if i < 2:
            ws.write_string(0, i, col.label(lang), fm.header(True, False))
    ws.merge_range(0, 2, 0, last, spec.columns[2].label(lang), fm.header(True, False))

    def note(row: int, first: int, text: str) -> None:
        """A wrapped note across the rest of the row, the row as tall as its lines."""
        ws.merge_range(row, first, row, last, text, note_fmt)
        lines = wrapped_lines(text, sum(widths[first:]), bold=False)
        if lines > 1:
            ws.set_row(row, 13 * lines + 3)

    for r, field in enumerate(B.SETTINGS_FIELDS, start=1):
        ws.write_string(r, 0, field.label(lang), label_fmt)
        value_fmt = fm.get(locked=False, border=1, bg_color="#FFFFFF", valign="top",
                           num_format="@" if field.type in (ColType.TEXT, ColType.TIME) else "General")
        value = _settings_value(field, settings, lang)
        if isinstance(value, str):
            ws.write_string(r, 1, value, value_fmt)
        else:
            ws.write(r, 1, value, value_fmt)
        text = field.source(lang)
        if field.key == "number_pattern":  # the pattern in words, with this branch's example
            shown = describe_pattern(settings.number_pattern, settings.branch_code, lang)
            text = f"{shown}{'。' if lang == 'zh' else '. '}{text}"
        if text:
            note(r, 2, text)
        else:
            ws.merge_range(r, 2, r, last, "", note_fmt)
        dv = _validation(field, lang)
        if dv:
            ws.data_validation(r, 1, r, 1, dv)
    policy_title = len(B.SETTINGS_FIELDS) + 2
    ws.write_string(policy_title, 0, B.POLICY.title(lang), fm.get(bold=True, font_size=12, valign="top"))
    note(policy_title, 1, pick(lang, B.POLICY.description_zh, B.POLICY.description_en))
    header = policy_title + 1
    ws.set_row(header, 30)
    rules = settings.policy or default_policy(lang)
    for i, col in enumerate(B.POLICY.columns):
        ws.write_string(header, i, col.label(lang), fm.header(False, col.required))
    cell_fmt = fm.get(locked=False, border=1, valign="top")
    text_fmt = fm.get(locked=False, border=1, valign="top", text_wrap=True)  # the source: long, wrapped
    formats = [text_fmt if i == last else cell_fmt for i in range(len(B.POLICY.columns))]
    for r, rule in enumerate(rules, start=header + 1):
        for i, value in enumerate(_policy_row(rule, lang)):
            if value is None:
                ws.write_blank(r, i, None, formats[i])
            else:
                ws.write(r, i, value, formats[i])
        lines = wrapped_lines(str(rule.source or ""), widths[last], bold=False)
        if lines > 1:
            ws.set_row(r, 13 * lines + 3)
    custom_title = max(header + 22, header + len(rules) + 3)
    listed = _listed(B.POLICY.kind)
    for i, col in enumerate(B.POLICY.columns):
        dv = _validation(col, lang, listed.get(col.key))
        if dv:  # down to the row above the custom stages' title: their own dropdowns start below it
            ws.data_validation(header + 1, i, custom_title - 1, i, dv)
    # Leave room for more rules: unlocked, bordered rows below the defaults.
    for r in range(header + 1 + len(rules), header + 21):
        for i in range(len(B.POLICY.columns)):
            ws.write_blank(r, i, None, formats[i])
    _write_custom_stages(ws, fm, settings, lang, custom_title, note, widths)
    _protect(ws)
    ws.freeze_panes(1, 0)
    _print_setup(ws, spec.title(lang), lang)
    return ws


def list_rows(lists: OfficeLists, lang: str = "zh") -> list[list[str | None]]:
    """The Lists sheet's rows under its header: each list's entries down its four columns. An English
    workbook shows no Chinese: its entries are their English names, codes and Latin aliases."""
    columns: list[list[str | None]] = []
    for lst in B.OFFICE_LISTS:
        entries = list(lists.get(lst.key) or ())
        if lang == "zh":
            columns.append([c.zh for c in entries])
            columns.append([c.en if c.en != c.zh else None for c in entries])
            columns.append(["、".join(c.aliases) or None for c in entries])
        else:
            columns.append([None for c in entries])
            columns.append([c.en for c in entries])
            columns.append([", ".join(a for a in c.aliases if a.isascii()) or None for c in entries])
        shown = pick(lang, lambda c: c.zh, lambda c: c.en)
        # the code whenever it is not the name shown, so an English workbook's entries keep the codes reports merge by
        columns.append([c.code if c.code != shown(c) else None for c in entries])
    height = max((len(c) for c in columns), default=0)
    return [[c[r] if r < len(c) else None for c in columns] for r in range(height)]


def _write_lists(wb: xlsxwriter.Workbook, fm: _Formats, lists: OfficeLists, lang: str) -> Worksheet:
    """The Lists sheet (词表), and one defined name per list for the dropdowns: from row 2 down as
    far as the list's column holds entries (OFFSET over COUNTA), so an entry typed under the last
    one shows in the dropdowns at once, and the dropdown shows no blank rows."""
    spec = B.LISTS
    ws = write_table_sheet(wb, fm, spec, lang)  # its filter on the header alone, as on every input sheet
    for r, values in enumerate(list_rows(lists, lang), start=1):
        for i, value in enumerate(values):
            if value is not None:
                ws.write_string(r, i, value, fm.column(spec.columns[i], False))
    ws.set_row(0, 30)
    sheet = spec.title(lang).replace("'", "''")
    for lst in B.OFFICE_LISTS:
        col = xl_col_to_name(spec.index(pick(lang, lst.key, f"{lst.key}_en")))
        first, last = f"'{sheet}'!${col}$2", f"${col}${B.LIST_ROWS + 1}"
        wb.define_name(lst.name, f"=OFFSET({first},0,0,MAX(1,COUNTA({first}:{last})),1)")
    return ws


CUSTOM_STAGE_ROWS = B.CUSTOM_STAGE_ROWS


def _write_custom_stages(ws: Worksheet, fm: _Formats, settings: Settings, lang: str, title: int,
                         note: Callable[[int, int, str], None], widths: list[float]) -> None:
    """The office's own stages (``B.CUSTOM_STAGES``) under their title, below the SLA policy: the
    settings' rows, then blank unlocked rows to fill in. Their source sits under the policy's (column H);
    a column narrower than its stage column is widened, columns past the policy's get their own widths."""
    from xlcomplaints.core.policy import STAGES
    from xlcomplaints.spec.model import wrapped_lines
    from xlcomplaints.spec.vocab import STAGE

    spec = B.CUSTOM_STAGES
    ws.write_string(title, 0, spec.title(lang), fm.get(bold=True, font_size=12, valign="top"))
    note(title, 1, pick(lang, spec.description_zh, spec.description_en))
    header = title + 1
    ws.set_row(header, 30)
    for i, col in enumerate(spec.columns):
        ws.write_string(header, i, col.label(lang), fm.header(False, col.required))
        if i >= len(widths) or widths[i] < col.width_in(lang):
            ws.set_column(i, i, col.width_in(lang))
    cell_fmt = fm.get(locked=False, border=1, valign="top")
    text_fmt = fm.get(locked=False, border=1, valign="top", text_wrap=True)
    source = spec.columns.index(spec.column("source"))
    rows = list(settings.custom_stages)
    for r in range(header + 1, header + 1 + max(CUSTOM_STAGE_ROWS, len(rows) + 3)):
        stage = rows[r - header - 1] if r - header - 1 < len(rows) else None
        for i, col in enumerate(spec.columns):
            value = None if stage is None else getattr(stage, col.key)
            if value is not None and col.vocab is not None:
                value = col.vocab.label(value if not isinstance(value, bool) else ("yes" if value else "no"), lang)
            if col.key == "start" and value in STAGES:
                value = STAGE.label(value, lang)
            elif col.key == "start" and value == "received":
                value = pick(lang, "受理", "Received")
            fmt = text_fmt if i == source else cell_fmt
            if value is None:
                ws.write_blank(r, i, None, fmt)
            else:
                ws.write(r, i, value, fmt)
        lines = wrapped_lines(str(stage.source or ""), widths[source], bold=False) if stage else 1
        if lines > 1:
            ws.set_row(r, 13 * lines + 3)
    end = header + 200
    starts = [pick(lang, "受理", "Received"), *(STAGE.label(s, lang) for s in STAGES)]
    for i, col in enumerate(spec.columns):
        dv = _validation(col, lang)
        if col.key == "start":  # a built-in stage from the list, or another custom stage's name typed in
            dv = {"validate": "list", "source": starts, "input_title": col.label(lang)[:32],
                  "input_message": (col.help(lang) or "")[:255], "error_type": "information"}
        if dv:
            ws.data_validation(header + 1, i, end, i, dv)


Customizer = Callable[[xlsxwriter.Workbook, dict[str, Worksheet]], None]


def build_branch_workbook(
    target: str | Path | io.BytesIO, *, lang: str = "zh", settings: Settings | None = None,
    created: datetime | None = TEMPLATE_CREATED, customize: Customizer | None = None,
    rows: Mapping[str, Sequence[Sequence[Any]]] | None = None, lists: OfficeLists | None = None,
) -> None:
    """Write a new branch workbook: the template, with this branch's settings and lists (``lists``,
    a preset's; the built-in lists otherwise).

    ``rows`` (by sheet kind, in spec column order) pre-fills input sheets, for samples;
    ``customize`` gets the workbook and its sheets by kind before closing (the macro
    variant adds its VBA project and buttons there).
    """
    sheets: dict[str, Worksheet] = {}
    settings = settings or Settings(language=lang)
    wb = xlsxwriter.Workbook(target, {"strings_to_numbers": False, "strings_to_formulas": False,
                                      "strings_to_urls": False})
    try:
        fm = _Formats(wb, lang)
        wb.set_properties({
            "title": pick(lang, "投诉登记工作簿", "Complaint workbook"),
            "subject": f"{settings.branch_code} {settings.branch_name}".strip(),
            "author": "xlcomplaints", "created": created or datetime.now(),
            "comments": "Created by xlcomplaints",
        })
        wb.define_name(TEMPLATE_NAME, f'="{template_stamp(B.BRANCH_TEMPLATE_KIND, B.BRANCH_TEMPLATE_VERSION, B.BRANCH_SHEETS)}"')
        _hide_last_name(wb)
        for spec in B.BRANCH_SHEETS:
            if spec is B.SETTINGS:
                sheets[spec.kind] = _write_settings(wb, fm, settings, lang)
                continue
            if spec is B.LISTS:
                sheets[spec.kind] = _write_lists(wb, fm, lists or BUILT_IN, lang)
                continue
            ws = write_table_sheet(wb, fm, spec, lang, (rows or {}).get(spec.kind, ()))
            sheets[spec.kind] = ws
            if spec is B.REGISTER:
                ws.set_row(0, 36)
                _register_colouring(ws, wb, spec)
                for col in spec.computed_columns:
                    if col.key.endswith("_status"):
                        _status_colouring(ws, wb, spec.index(col.key), lang)
                ws.activate()
            if spec is B.OVERDUE:
                _status_colouring(ws, wb, spec.index("status"), lang)
            if spec is B.SUMMARY:
                _summary_handlers(ws, lang)
            _protect(ws, generated=spec.owned)
        if customize is not None:
            customize(wb, sheets)
    finally:
        wb.close()


def build_report_template(target: str | Path | io.BytesIO, *, lang: str = "zh",
                          created: datetime | None = TEMPLATE_CREATED) -> None:
    """The empty monthly-report layout; the report writer fills the same sheets."""
    wb = xlsxwriter.Workbook(target)
    try:
        fm = _Formats(wb, lang)
        wb.set_properties({"title": pick(lang, "投诉月报表", "Monthly complaints report"),
                           "author": "xlcomplaints", "created": created or datetime.now()})
        wb.define_name(TEMPLATE_NAME, f'="{template_stamp(R.REPORT_TEMPLATE_KIND, R.REPORT_TEMPLATE_VERSION, R.REPORT_SHEETS)}"')
        _hide_last_name(wb)
        for spec in R.REPORT_SHEETS:
            write_table_sheet(wb, fm, spec, lang)
    finally:
        wb.close()


#: Committed templates: file name → builder.
TEMPLATES: dict[str, Any] = {
    "branch-zh.xlsx": lambda p: build_branch_workbook(p, lang="zh"),
    "branch-en.xlsx": lambda p: build_branch_workbook(p, lang="en"),
    "monthly-report-zh.xlsx": lambda p: build_report_template(p, lang="zh"),
    "monthly-report-en.xlsx": lambda p: build_report_template(p, lang="en"),
    # With buttons (xlcomplaints.templates.macro imports this module, hence the late import).
    "branch-zh.xlsm": lambda p: __import__("xlcomplaints.templates.macro", fromlist=["_"]).build_branch_xlsm(p, lang="zh"),
    "branch-en.xlsm": lambda p: __import__("xlcomplaints.templates.macro", fromlist=["_"]).build_branch_xlsm(p, lang="en"),
}
