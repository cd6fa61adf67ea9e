"""Read the Settings sheet: key/value rows, then the SLA policy table below them, the office's own stages
and a "more settings" block of key/value rows, each table ending at the next block's title (docs/sheets.md)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, cast

from xlcomplaints.core import cells
from xlcomplaints.core.calendar.holiday_data import known_country
from xlcomplaints.core.custom_stages import check_stages
from xlcomplaints.core.models import CustomStage, PolicyRule, Settings
from xlcomplaints.core.numbering import example_number, pattern_problem
from xlcomplaints.core.policy import MATCHERS, PolicyTie, default_policy, ties
from xlcomplaints.core.problems import Level, Problem, a1, register_messages
from xlcomplaints.core.rows import Layout, _blank, find_layout, parse_cell, read_records
from xlcomplaints.i18n import pick
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.branch import (
    CUSTOM_STAGES,
    MORE_SETTINGS_TITLE,
    POLICY,
    REGISTER,
    SETTINGS_FIELDS,
)
from xlcomplaints.spec.model import SheetSpec

MESSAGES = {
    "setting.bad_list": ("“{column}”应为逗号分隔的数字，如 24,48。", "'{column}' must be numbers separated by commas, e.g. 24,48."),
    "setting.country_unknown": ("“{column}”没有这个国家/地区的节假日数据，已按 CN 计算；请填写两位国家代码，如 CN。",
                                "'{column}' names a country without holiday data; CN is used. Type a two-letter "
                                "country code such as CN."),
    "setting.office_hours": ("下班时间应晚于上班时间。", "The office must close after it opens."),
    "policy.empty": ("时限规则表为空，已使用默认时限。", "The SLA policy table is empty; the default limits are used."),
    "setting.branch_code_blank": (
        "“{column}”为空：请填写本网点的代码（如 BJ01）。投诉编号以它开头，填写之前不会自动编号。",
        "'{column}' is blank: type this branch's code (e.g. BJ01). Complaint numbers start with it; "
        "none are assigned until it is filled in."),
    "setting.branch_code_missing": (
        "“{sheet}”表中没有“{column}”这一行：请在 A 列加回“{column}”，在 B 列填写本网点的代码（如 BJ01）。"
        "在此之前不会自动编号。",
        "The '{sheet}' sheet has no '{column}' row: put '{column}' back in column A with this branch's code "
        "(e.g. BJ01) in column B. No numbers are assigned until then."),
    "pattern.unknown_token": ("“{column}”中的“{token}”无法识别；只能使用：{allowed}",
                              "'{token}' in '{column}' is not a token; use only: {allowed}"),
    "pattern.unbalanced": ("“{column}”中的大括号不成对；大括号只能成对包住以下标记：{allowed}",
                           "'{column}' has a brace without its pair; braces only go around these tokens: {allowed}"),
    "pattern.no_seq": ("“{column}”中没有序号 {{seq}}，编号会重复；请加上 {{seq}} 或 {{seq:03}}。可用标记：{allowed}",
                       "'{column}' has no serial {{seq}}, so numbers would repeat; add {{seq}} or {{seq:03}}. "
                       "Tokens: {allowed}"),
    "pattern.many_seq": ("“{column}”中只能有一个序号 {{seq}}。可用标记：{allowed}",
                         "'{column}' may hold only one serial {{seq}}. Tokens: {allowed}"),
    "pattern.seq_width": ("“{column}”中序号的位数“{token}”应在 1 到 {max_width} 位之间，如 {{seq:03}}。",
                          "The serial's width '{token}' in '{column}' must be 1 to {max_width} digits, e.g. {{seq:03}}."),
    "pattern.too_long": ("按“{column}”生成的编号（如 {example}）超过 {max_len} 个字符，“投诉编号”列放不下；"
                         "请缩短编号规则或网点代码。",
                         "Numbers made by '{column}' (e.g. {example}) are longer than {max_len} characters, too long "
                         "for the Complaint No. column; shorten the pattern or the branch code."),
    PolicyTie.DIFFERENT_LIMITS: (
        "第 {other} 行和第 {later} 行的“{stage_zh}”时限同样具体，都适用于{case_zh}的投诉，但时限不同"
        "（{other_limit_zh} 与 {limit_zh}）；在改正之前按后一行（第 {later} 行）计算。请删去一行，或把一行写得更具体。",
        "Rows {other} and {later} give '{stage_en}' limits that are equally specific and both apply to {case_en} "
        "complaints, but differ ({other_limit_en} and {limit_en}); until this is fixed the later row ({later}) is "
        "used. Delete one, or make one more specific."),
    PolicyTie.SAME_LIMIT: (
        "第 {later} 行与第 {other} 行对{case_zh}的投诉给出同样的“{stage_zh}”时限（{limit_zh}），重复了一行。",
        "Row {later} repeats row {other}: the same '{stage_en}' limit ({limit_en}) for {case_en} complaints."),
}
register_messages(MESSAGES)

#: The Settings sheet's fields by key, for the messages that name one.
_FIELDS = {f.key: f for f in SETTINGS_FIELDS}
#: Each setting by its label folded as ``cells.header_key`` folds a cell: Chinese, English, or its key.
_BY_LABEL = {k: f for f in SETTINGS_FIELDS for k in (cells.header_key(f.zh), cells.header_key(f.en),
                                                     cells.header_key(f.key))}

#: Settings that complaint numbers are made of: while one is wrong, none may be assigned.
NUMBERING_SETTINGS = frozenset({"branch_code", "number_pattern"})


def numbering_blockers(problems: Iterable[Problem]) -> list[Problem]:
    """The problems, among those read_settings reported, that make complaint numbers unsafe to assign
    (numbers never change once written): an error in the branch code or the numbering pattern."""
    return [p for p in problems if p.level is Level.ERROR and p.params.get("setting") in NUMBERING_SETTINGS]


def read_settings(grid: Sequence[Sequence[object]], sheet: str, *, date1904: bool = False,
                  lang: str = "zh", policy_spec: SheetSpec = POLICY) -> tuple[Settings, list[Problem]]:
    """The Settings sheet; ``policy_spec`` is the policy table's spec with the office's lists
    (``core.lists.specs_with``)."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    raw_grid = grid
    by_label = _BY_LABEL
    start = len(SETTINGS_FIELDS) + 2
    custom_title = _title_row(grid, start, _CUSTOM_TITLES)
    more_title = _title_row(grid, start, _MORE_TITLES)
    custom_grid = grid if more_title is None or custom_title is None or more_title < custom_title else (
        grid[:more_title - 1])  # the custom stages end where the more-settings block is
    custom_layout, custom_problems = (None, []) if custom_title is None else find_layout(
        custom_grid, CUSTOM_STAGES, sheet, start_row=custom_title + 1)
    ends = [t for t in (custom_title, more_title) if t is not None]
    if ends:  # the policy table ends at the first block title below it
        grid = grid[:min(ends) - 1]
    policy_layout, policy_problems = find_layout(grid, policy_spec, sheet, start_row=start)
    stop = policy_layout.header_row - 1 if policy_layout else len(grid)
    rows_of: dict[str, int] = {}
    for r in [*range(1, stop + 1), *_block_rows(raw_grid, more_title)]:
        row = raw_grid[r - 1]
        if not row or not isinstance(row[0], str):
            continue
        field = by_label.get(cells.header_key(row[0]))
        if field is None:
            continue
        rows_of[field.key] = r
        raw = row[1] if len(row) > 1 else None

        def problem(code: str, raw: object = raw, r: int = r, field: Any = field, **params: Any) -> Problem:
            return Problem(level=Level.ERROR, code=code, sheet=sheet, cell=a1(r, 2), column=field.label(lang),
                           value=None if raw is None else str(raw),
                           params={"column": field.label(lang), "setting": field.key, **params})

        if _blank(raw):
            if field.key == "branch_code":
                problems.append(problem("setting.branch_code_blank"))
            continue
        if field.key == "report_dimensions":
            names = tuple(n.strip() for n in cells.normalize_text(str(raw)).replace("，", ",").replace("、", ",")
                          .split(",") if n.strip())
            if names:
                values[field.key] = names
            continue
        if field.key == "callback_retry_hours":
            hours, bad = _hour_list(raw, field)
            if bad is not None:
                problems.append(problem(bad[0], **cast("dict[str, Any]", bad[1])))
            else:
                values[field.key] = hours
            continue
        try:
            parsed = parse_cell(raw, field, date1904=date1904)
        except cells.CellError as e:
            problems.append(problem(e.code, **cast("dict[str, Any]", e.params)))
            continue
        if field.key == "number_pattern" and parsed is not None and (bad := pattern_problem(parsed)) is not None:
            problems.append(problem(bad[0], **cast("dict[str, Any]", bad[1])))
            continue
        if field.key == "country" and parsed is not None and not known_country(parsed):
            problems.append(problem("setting.country_unknown"))  # the default is used, not a crash later
            continue
        if field.key == "branch_code" and parsed is None:  # only invisible characters
            problems.append(problem("setting.branch_code_blank"))
            continue
        if parsed is not None:
            values[field.key] = parsed
    if "branch_code" not in rows_of:
        code_field = _FIELDS["branch_code"]
        problems.append(Problem(level=Level.ERROR, code="setting.branch_code_missing", sheet=sheet,
                                column=code_field.label(lang),
                                params={"sheet": sheet, "column": code_field.label(lang), "setting": "branch_code"}))
    problems += _pattern_length(values, rows_of, sheet, lang)
    if "office_start" in values and "office_end" in values and values["office_start"] >= values["office_end"]:
        problems.append(Problem(level=Level.ERROR, code="setting.office_hours", sheet=sheet))
        values.pop("office_start"), values.pop("office_end")
    policy: tuple[PolicyRule, ...] = ()
    if policy_layout is not None:
        rules, rule_problems = read_records(grid, policy_layout, PolicyRule, date1904=date1904)
        problems += policy_problems + rule_problems
        policy = tuple(r for r in rules if r.stage and r.amount is not None and r.unit)
        problems += _tie_problems(policy, policy_layout)
    if not policy:
        problems.append(Problem(level=Level.WARNING, code="policy.empty", sheet=sheet))
        policy = default_policy(lang)
    custom: tuple[CustomStage, ...] = ()
    if custom_layout is not None:
        rows, row_problems = read_records(custom_grid, custom_layout, CustomStage,
                                          date1904=date1904)
        custom, more = check_stages(rows, custom_layout)
        problems += custom_problems + row_problems + more
    where = {"report_dimensions": a1(rows_of["report_dimensions"], 2)} if "report_dimensions" in rows_of else {}
    return Settings(**values, policy=policy, custom_stages=custom, sheet=sheet, cells=where,
                    custom_columns=dict(custom_layout.columns) if custom_layout else {}), problems


#: The custom stages' title in column A, in either language (``spec.branch.CUSTOM_STAGES``).
_CUSTOM_TITLES = frozenset(cells.header_key(t) for t in (CUSTOM_STAGES.zh, CUSTOM_STAGES.en,
                                                        CUSTOM_STAGES.title("zh"), CUSTOM_STAGES.title("en")))


#: The more-settings block's title in column A, in either language (``spec.branch.MORE_SETTINGS_TITLE``).
_MORE_TITLES = frozenset(cells.header_key(t) for t in MORE_SETTINGS_TITLE)


def _title_row(grid: Sequence[Sequence[object]], start: int, titles: frozenset[str]) -> int | None:
    """The first 1-based row from ``start`` whose first cell is one of ``titles``."""
    for r in range(start, len(grid) + 1):
        row = grid[r - 1]
        if row and isinstance(row[0], str) and cells.header_key(row[0]) in titles:
            return r
    return None


def _block_rows(grid: Sequence[Sequence[object]], title: int | None) -> list[int]:
    """The rows of the more-settings block under its title, down to its first blank row (none without it)."""
    out: list[int] = []
    for r in range(title + 1, len(grid) + 1) if title is not None else ():
        if all(_blank(x) for x in grid[r - 1]):
            break
        out.append(r)
    return out


def _hour_list(raw: object, field: Any) -> tuple[tuple[float, ...], tuple[str, dict[str, object]] | None]:
    """Hours separated by commas ("24,48"), each finite and within the field's limits."""
    try:
        hours = tuple(float(x) for x in cells.normalize_text(str(raw)).replace("，", ",").split(",") if x.strip())
    except ValueError:
        return (), ("setting.bad_list", {})
    for x in hours:
        if not math.isfinite(x):
            return (), ("setting.bad_list", {})
        if field.min_value is not None and x < field.min_value:
            return (), ("number.too_small", {"value": f"{x:g}", "min": f"{field.min_value:g}"})
        if field.max_value is not None and x > field.max_value:
            return (), ("number.too_large", {"value": f"{x:g}", "max": f"{field.max_value:g}"})
    return hours, None


def _pattern_length(values: dict[str, Any], rows_of: dict[str, int], sheet: str, lang: str) -> list[Problem]:
    """A pattern whose numbers would not fit the Register's number column, at the pattern's cell."""
    if "number_pattern" not in values:
        return []
    max_len = REGISTER.column("no").max_len
    example = example_number(values["number_pattern"], values.get("branch_code", Settings().branch_code))
    if max_len is None or len(example) <= max_len:
        return []
    field = _FIELDS["number_pattern"]
    return [Problem(level=Level.ERROR, code="pattern.too_long", sheet=sheet, cell=a1(rows_of["number_pattern"], 2),
                    column=field.label(lang), value=values["number_pattern"],
                    params={"column": field.label(lang), "setting": "number_pattern", "example": example,
                            "max_len": max_len})]


_MATCHER_VOCABS = {"severity": v.SEVERITY, "category": v.CATEGORY, "channel": v.CHANNEL, "complexity": v.COMPLEXITY}


def _tie_problems(rules: Sequence[PolicyRule], layout: Layout) -> list[Problem]:
    """Two rows of the policy table that nothing but their order decides between, at the later row."""
    out = []
    for tie in ties(rules):
        params: dict[str, Any] = {"later": tie.later.row, "other": tie.earlier.row}
        for lang in ("zh", "en"):
            params[f"stage_{lang}"] = v.STAGE.label(tie.stage, lang)
            params[f"case_{lang}"] = _case_text(tie.case, lang, layout.spec)
            params[f"limit_{lang}"] = _limit_text(tie.later, lang)
            params[f"other_limit_{lang}"] = _limit_text(tie.earlier, lang)
        level = Level.ERROR if tie.kind is PolicyTie.DIFFERENT_LIMITS else Level.WARNING
        out.append(layout.problem(level, tie.kind, tie.later.row, "stage", tie.later.stage, **params))
    return out


def _case_text(case: dict[str, str], lang: str, spec: SheetSpec = POLICY) -> str:
    """“严重程度为重大、投诉类别为安全隐患” / “severity Major, category Safety”; every complaint when empty."""
    def shown(f: str) -> str:
        vocab = spec.column(f).vocab or _MATCHER_VOCABS[f]
        return vocab.label(case[f], lang) if case[f] in vocab.codes else case[f]

    parts = [(spec.column(f).label(lang), shown(f)) for f in MATCHERS if f in case]
    if not parts:
        return pick(lang, "所有", "all")
    return pick(lang, "、", ", ").join(pick(lang, f"{col}为{val}", f"{col.lower()} {val}") for col, val in parts)


def _limit_text(rule: PolicyRule, lang: str) -> str:
    unit = v.UNIT.label(rule.unit, lang) if rule.unit else ""
    unit = unit.lower() if lang == "en" else unit
    return f"{rule.amount:g} {unit}" if lang == "en" else f"{rule.amount:g}{unit}"
