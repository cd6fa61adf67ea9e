"""The sheet reference (``docs/sheets.md``), written from the specs like the templates are.

Every column of every sheet — labels, key, type, who fills it, dropdown values and the
words the reader also accepts — and the default SLA policy come from the same
declarations the templates, the reader and the validator use; ``scripts/build_templates.py``
writes the file and a test fails while the committed one differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from xlsxwriter.utility import xl_col_to_name

from xlcomplaints.core.policy import DEFAULT_RULES
from xlcomplaints.policy_file import presets
from xlcomplaints.report.definitions import ENGINE_RULES
from xlcomplaints.spec import branch as B
from xlcomplaints.spec import report as R
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.model import ColType, Column, Field, SheetSpec
from xlcomplaints.spec.vocab import Vocabulary

TYPE_WORDS: dict[ColType, str] = {
    ColType.TEXT: "text", ColType.CODE: "code (full-width forms and letter case folded)", ColType.LONGTEXT: "long text",
    ColType.DATETIME: "date and time", ColType.DATE: "date", ColType.TIME: "time", ColType.INT: "whole number",
    ColType.NUMBER: "number", ColType.PERCENT: "percentage", ColType.CHOICE: "choice", ColType.BOOL: "yes / no",
    ColType.PHONE: "phone number",
}


def _cell(text: object) -> str:
    """A table cell: pipes escaped, line breaks as spaces, nothing as blank."""
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(map(_cell, row)) + " |" for row in rows), ""]


def _anchor(vocab: Vocabulary) -> str:
    return f"[{vocab.name}](#vocabulary-{vocab.name.replace('_', '-')})"


def _limits(c: Column | Field) -> str:
    parts = []
    if c.min_value is not None or c.max_value is not None:
        lo = "" if c.min_value is None else f"{c.min_value:g}"
        hi = "" if c.max_value is None else f"{c.max_value:g}"
        parts.append(f"{lo}…{hi}")
    if isinstance(c, Column) and c.max_len:
        parts.append(f"≤ {c.max_len} characters")
    if c.vocab is not None:
        parts.append(_anchor(c.vocab))
    return "; ".join(parts)


def _sheet(spec: SheetSpec, vocabs: dict[str, Vocabulary]) -> list[str]:
    out = [f"### {spec.zh} {spec.en}", ""]
    if spec.description_zh:
        out += [f"{spec.description_zh}  ", f"{spec.description_en}", ""]
    if spec.owned:
        out += ["Written whole by xlcomplaints below the header row.", ""]
    rows = []
    listed = {key: lst for lst in B.OFFICE_LISTS for kind, key in lst.drives if kind == spec.kind}
    for i, c in enumerate(spec.columns):
        if c.vocab is not None:
            vocabs[c.vocab.name] = c.vocab
        allowed = _limits(c)
        if c.key in listed and not c.computed:  # the office's list: its column on the Lists sheet
            allowed = "; ".join(filter(None, (allowed, f"the office's list `{listed[c.key].name}` on "
                                              f"[词表 Lists](#词表-lists)" + (" (built in: the vocabulary)"
                                              if c.vocab is not None else " (empty: free text)"))))
        rows.append((xl_col_to_name(i), c.zh, c.en, f"`{c.key}`", TYPE_WORDS[c.type], c.format or "",
                     "xlcomplaints" if c.computed else "clerk", _required(c), allowed, "、".join(c.synonyms)))
    return out + _table(("col", "列", "Column", "key", "type", "format", "filled by", "required", "allowed",
                         "header also read as"), rows)


def _required(c: Column) -> str:
    """Required of each row, and what stops without the column (``Column.needed_for``)."""
    needed = ("column needed for " + " and ".join(n.value for n in c.needed_for)) if c.needed_for else ""
    return "; ".join(filter(None, ("yes" if c.required else "", needed)))


def _settings(fields: Sequence[Field], vocabs: dict[str, Vocabulary]) -> list[str]:
    out = [f"### {B.SETTINGS.zh} {B.SETTINGS.en}", "", f"{B.SETTINGS.description_zh}  ", B.SETTINGS.description_en, "",
           "Settings are label / value rows (labels in column A, values in column B):", ""]
    for f in fields:
        if f.vocab is not None:
            vocabs[f.vocab.name] = f.vocab
    out += _table(("设置项", "Setting", "key", "type", "default", "allowed", "note"),
                  ((f.zh, f.en, f"`{f.key}`", TYPE_WORDS[f.type], f.default, _limits(f), f.source_en)
                   for f in fields))
    zh, en = B.MORE_SETTINGS_TITLE
    out += ["", f"Setting rows are read above the rule table, and also under the title {zh} (or {en}) in column A "
            "anywhere below the tables, down to that block's first blank row; a table above that title ends there. "
            "`xlcomplaints upgrade` puts new settings into the free rows above the rule table when all of them fit, "
            f"else all of them under a {zh} title below the rule table (never shifting the office's cells)."]
    return out + [f"#### {B.POLICY.zh} {B.POLICY.en}", "", "A table below the settings, on the same sheet.", "",
                  *_sheet(B.POLICY, vocabs)[2:], *_policy_file(), *_custom_stages(vocabs)]


def _custom_stages(vocabs: dict[str, Vocabulary]) -> list[str]:
    """The office's own stages: a table below the policy, found by its title in column A."""
    spec = B.CUSTOM_STAGES
    return [f"#### {spec.zh} {spec.en}", "",
            f"A table below the SLA policy, on the same sheet, under the title {spec.zh} (or {spec.en}) in column A; "
            "the policy table ends above that title.", "", *_sheet(spec, vocabs)[2:],
            "How a custom stage is timed (`xlcomplaints/core/custom_stages.py`):", "",
            "- **Counts from**: 受理 / Received (the received time), or a built-in stage's label (its done time), or "
            "another custom stage's name (its done time); a stage whose start is not done yet is not due yet "
            "(not applicable once the case is closed).",
            "- **Done**: the first Tracking row of the chosen step at or after the start, or the time in the named "
            "Register column (a column the office added; its header as typed, required-field marks ignored). "
            "One or the other, never both.",
            "- **Which complaints**: blank matchers mean all; rows sharing a name are one stage and the most "
            "specific matching row gives the limit (later rows win ties). Invalid complaints and those without a "
            "readable received time have no custom stage.",
            "- **Due time and status**: as the built-in stages — the same working-day calendar, office hours, "
            "pauses (waiting for the customer, cold handling), due-soon share and as-of rule; closed without it: "
            "missed if it was already due, else not applicable.",
            "- **Repeats** (是 / Yes): due one limit after the start, then one limit after each completion, until "
            "the case is closed. Open: the status of the current period. Closed: missed if a period ran out "
            "before the close, else done late if any update came after its due time (late by the largest), "
            "else done on time (not applicable if the case closed before the first was due).",
            "- **Where the results go**: the Overdue sheet (the stage's own name), the Summary's counts "
            "(逾期环节数 and its line 其中自定义环节逾期) and the monthly report. Not the Register: its columns change "
            "only with the template, and a custom stage does not change the Register's status, days overdue, "
            "escalation or next action, which describe the built-in stages.",
            "- **Refused rows**, each an error at its cell in `validate`, the stage not timed (never guessed): "
            "a name that is a built-in stage's; both or neither of the done step and done column; a repeating "
            "stage done by a column; a start that names nothing known, or a circle of starts; rows of one name "
            "that differ in start, done or repeats; a done column the Register does not have.", ""]


def _policy_file() -> list[str]:
    """How a head office writes the same rows in a file (``refresh --policy FILE.toml``)."""
    rule = next(r for r in DEFAULT_RULES if r.severity)
    example = {"stage": rule.stage, "severity": rule.severity, "amount": rule.amount, "unit": rule.unit,
               "source": rule.source_zh}
    keys = ", ".join(f"`{c.key}`" for c in B.POLICY.columns)
    return ["A head office imposes its own rules on every branch with `xlcomplaints refresh FILE --policy "
            "RULES.toml`: the file's rules replace the workbook's table. One `[[rule]]` per row, with the keys "
            f"above ({keys}); values as in the table (a code or a label):", "", "```toml", "[[rule]]",
            *(f"{k} = {v:g}" if isinstance(v, int | float) else f'{k} = "{v}"' for k, v in example.items()), "```", ""]


def _policy() -> list[str]:
    out = ["## Default SLA policy", "",
           "What a new workbook's policy table holds (`xlcomplaints/core/policy.py`). Every limit counts",
           "from receipt (in a reopened case, the stages handled again from the reopening), the callback's",
           "from resolution, or the reply when no resolution time is known. Blank severity or complexity",
           "means every complaint; the most specific matching row wins. Invalid complaints have no handling",
           "deadlines, and only valid and assist ones (or those with validity blank) a first contact.", "",
           "It is one coherent policy a property-management office could adopt as it stands, from the",
           "property rules of seeds 000 and 001: no stage falls due before the stage it follows (the reply",
           "not before the resolve, the callback counted from the resolution, the close not before the",
           "callback), and hours are office hours (Settings), not the clock through nights and weekends.",
           "Each source cites the seed file and the rule; where a seed sets no limit, it says how the",
           "default was derived. Other industries' rules and lists from the seeds are presets, policy files",
           "in `xlcomplaints/data/presets/` that `new --preset NAME` writes on Settings and Lists and",
           f"`refresh --policy` reads: {', '.join(presets())} (a preset whose seed gives no limits keeps these).",
           ""]

    def label(vocab: Vocabulary, code: str | None) -> str:
        return f"{vocab.label(code, 'zh')} {vocab.label(code, 'en').lower()}" if code else ""

    return out + _table(("stage", "severity", "complexity", "limit", "source (zh)", "source (en)"), (
        (label(v.STAGE, r.stage), label(v.SEVERITY, r.severity), label(v.COMPLEXITY, r.complexity),
         f"{r.amount:g} {v.UNIT.label(r.unit, 'en').lower()}", r.source_zh, r.source_en) for r in DEFAULT_RULES))


def _engine_rules() -> list[str]:
    """The rules behind every status and figure, in the same words as the report's Definitions sheet."""
    out = ["## Rules the engine applies", "",
           "The same words as on the monthly report's Definitions sheet (指标说明), from",
           "`xlcomplaints/report/definitions.py`; every status on the Register and every report figure follows them.", ""]
    for zh_name, en_name, zh, en in ENGINE_RULES:
        out += [f"### {zh_name} {en_name}", "", f"{zh}  ", en, ""]
    return out


def _summary_handlers() -> list[str]:
    """The Summary's table per handler, beside its lines."""
    first = xl_col_to_name(B.SUMMARY_HANDLERS_AT - 1)
    names = "; ".join(f"{c.zh} {c.en}" for c in B.SUMMARY_HANDLER_COLUMNS)
    labels = {c.key: f"{c.zh} {c.en}" for c in B.SUMMARY_HANDLER_COLUMNS}
    series = " and ".join(labels[key] for key, _ in B.SUMMARY_CHART_SERIES)
    return [f"Beside these lines, from column {first} (row 2 a title naming the month, row 3 the header, then a row",
            "per handler): the monthly report's By-handler figures (按处理人) for the month of the refresh so far, as the",
            "Definitions sheet words them; rates in % and times and scores to 2 decimals. The template puts a data bar",
            f"on the workload columns (open, overdue now). Columns: {names}.", "",
            "Under the lines (one blank row below the checksum, from column A) refresh draws a native",
            f"bar chart, 「{B.SUMMARY_CHART_TITLE[0]}」 / '{B.SUMMARY_CHART_TITLE[1]}': for each handler of the",
            f"table, in its order, a bar for {series} with its value at the bar's end; its",
            "series refer to the table's cells (so Excel redraws it from them) and carry a copy of their values. It",
            "grows with the handlers (all of them are shown) and is redrawn at each refresh; a month with no handler",
            "has no chart. It is found again by its name in the sheet's drawing "
            f"(`{B.SUMMARY_CHART_KEY}`): a chart or picture the office",
            "added is kept as it is, on this sheet too. Refresh on the file (the command, the API) and the Excel",
            "buttons' refresh in the open workbook (by the chart's name among the sheet's charts) draw it alike.",
            ""]


def _vocabulary(vocab: Vocabulary) -> list[str]:
    return [f"### Vocabulary: {vocab.name}", "", *_table(
        ("code", "中文", "English", "also accepted"),
        ((f"`{c.code}`", c.zh, c.en, ", ".join(c.aliases)) for c in vocab))]


def sheets_markdown() -> str:
    """The whole reference, as committed in ``docs/sheets.md``."""
    vocabs: dict[str, Vocabulary] = {}
    out = ["# Workbook sheets", "",
           "<!-- Generated from xlcomplaints/spec/, xlcomplaints/core/policy.py and xlcomplaints/report/definitions.py by",
           "     `python scripts/build_templates.py`; do not edit by hand. -->", "",
           "Columns are found by their header in Chinese, English or key, or one of the other headers",
           "offices use (\"header also read as\"), in any order; our own label wins over another header,",
           "and columns an office adds are left alone. Required-field markers are ignored: `*` or `＊`,",
           "`(必填)` / `（必填）` / `(required)` before or after the label, a note on a second line of the",
           "header cell, spaces, full-width forms. When a column that deadlines or numbering need (see",
           "\"required\") still cannot be found, `refresh` (deadlines) or `assign-ids` (numbering) stops",
           "with exit 2, naming the column and the headers looked for, and writes nothing.",
           "",
           "Grey (computed) columns are written by `refresh`, which keeps a checksum of what it wrote",
           "on the Summary sheet (计算列校验码 / Computed-cells checksum): while the grey cells still add",
           "up to it, nothing was typed over. When they do not, `validate` warns at each filled grey cell",
           "that holds neither what refresh computes now nor what it would have computed at the last",
           "refresh (the Summary's 刷新时间) from the row as it stands, and `refresh` lists such cells as it",
           "replaces them (the first 20, then a count). A row whose white cells changed since that refresh",
           "may be named with them; a blank grey cell never is. A complaint without a readable received",
           "time gets no deadline, stage status or escalation: its next action names the cell to correct",
           "(受理时间无法识别，请改正 B5), and it is listed last on the Overdue sheet under 需改正的行 and",
           "counted on the Summary (需改正的投诉).",
           "",
           "Letters are where the templates put them. A choice column",
           "takes the Chinese or English label, the code, or one of the words also accepted.", "",
           f"## Branch workbook (template {B.BRANCH_TEMPLATE_VERSION})", ""]
    for spec in B.BRANCH_SHEETS:
        out += _settings(B.SETTINGS_FIELDS, vocabs) if spec is B.SETTINGS else _sheet(spec, vocabs)
        if spec is B.SUMMARY:
            out += _summary_handlers()
    out += _policy()
    out += _engine_rules()
    out += [f"## Monthly report (template {R.REPORT_TEMPLATE_VERSION})", "",
            "Every sheet is written whole by `report` and `consolidate`.", ""]
    for spec in R.REPORT_SHEETS:
        out += _sheet(spec, vocabs)
    out += ["## Vocabularies", ""]
    for name in sorted(vocabs):
        out += _vocabulary(vocabs[name])
    return "\n".join(out).rstrip("\n") + "\n"
