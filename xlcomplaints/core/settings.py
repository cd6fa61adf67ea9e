"""Read the Settings sheet: key/value rows, then the SLA policy table below them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from xlcomplaints.core import cells
from xlcomplaints.core.models import PolicyRule, Settings
from xlcomplaints.core.policy import default_policy
from xlcomplaints.core.problems import Level, Problem, a1, register_messages
from xlcomplaints.core.rows import _blank, find_layout, parse_cell, read_records
from xlcomplaints.spec.branch import POLICY, SETTINGS_FIELDS

MESSAGES = {
    "setting.bad_list": ("“{column}”应为逗号分隔的数字，如 24,48。", "'{column}' must be numbers separated by commas, e.g. 24,48."),
    "setting.office_hours": ("下班时间应晚于上班时间。", "The office must close after it opens."),
    "policy.empty": ("时限规则表为空，已使用默认时限。", "The SLA policy table is empty; the default limits are used."),
}
register_messages(MESSAGES)


def read_settings(grid: Sequence[Sequence[object]], sheet: str, *, date1904: bool = False,
                  lang: str = "zh") -> tuple[Settings, list[Problem]]:
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    by_label = {k: f for f in SETTINGS_FIELDS for k in (cells.header_key(f.zh), cells.header_key(f.en),
                                                       cells.header_key(f.key))}
    policy_layout, policy_problems = find_layout(grid, POLICY, sheet, start_row=len(SETTINGS_FIELDS) + 2)
    stop = policy_layout.header_row - 1 if policy_layout else len(grid)
    for r in range(1, stop + 1):
        row = grid[r - 1]
        if not row or not isinstance(row[0], str):
            continue
        field = by_label.get(cells.header_key(row[0]))
        if field is None:
            continue
        raw = row[1] if len(row) > 1 else None
        if _blank(raw):
            continue

        def problem(code: str, raw: object = raw, r: int = r, field: Any = field, **params: Any) -> Problem:
            return Problem(level=Level.ERROR, code=code, sheet=sheet, cell=a1(r, 2), column=field.label(lang),
                           value=str(raw), params={"column": field.label(lang), **params})

        if field.key == "callback_retry_hours":
            try:
                values[field.key] = tuple(float(x) for x in cells.normalize_text(str(raw)).replace("，", ",").split(",") if x.strip())
            except ValueError:
                problems.append(problem("setting.bad_list"))
            continue
        try:
            parsed = parse_cell(raw, field, date1904=date1904)
        except cells.CellError as e:
            problems.append(problem(e.code, **cast("dict[str, Any]", e.params)))
            continue
        if parsed is not None:
            values[field.key] = parsed
    if "office_start" in values and "office_end" in values and values["office_start"] >= values["office_end"]:
        problems.append(Problem(level=Level.ERROR, code="setting.office_hours", sheet=sheet))
        values.pop("office_start"), values.pop("office_end")
    policy: tuple[PolicyRule, ...] = ()
    if policy_layout is not None:
        rules, rule_problems = read_records(grid, policy_layout, PolicyRule, date1904=date1904)
        problems += policy_problems + rule_problems
        policy = tuple(r for r in rules if r.stage and r.amount is not None and r.unit)
    if not policy:
        problems.append(Problem(level=Level.WARNING, code="policy.empty", sheet=sheet))
        policy = default_policy(lang)
    return Settings(**values, policy=policy), problems
