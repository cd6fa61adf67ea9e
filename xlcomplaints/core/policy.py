"""The SLA policy: which limit applies to which stage of which complaint.

The defaults below come from the seed procedures distilled in ``shared/domain.md``;
each rule says where it comes from, and the template writes that source next to it
in the Settings sheet so a supervisor can see why a limit is what it is.

Stages and the time each counts from (its *anchor*):
- acknowledge, first_contact, report, resolve, reply, close: from receipt;
- callback: from resolution (or the reply, when no resolution time is known).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xlcomplaints.core.models import Complaint, PolicyRule


@dataclass(frozen=True)
class Rule:
    stage: str
    amount: float
    unit: str
    source_zh: str
    source_en: str
    severity: str | None = None
    complexity: str | None = None

    def to_model(self, lang: str = "zh") -> PolicyRule:
        return PolicyRule(
            stage=self.stage, severity=self.severity, complexity=self.complexity,
            amount=self.amount, unit=self.unit,
            source=self.source_zh if lang == "zh" else self.source_en,
        )


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("acknowledge", 24, "hours",
         "物业部门规定：24小时内发出受理通知", "Property rules: acknowledgement within 24 hours"),
    Rule("first_contact", 2, "hours",
         "物业规定：主管2小时内联系业主约定答复时间", "Property rules: supervisor contacts the owner within 2 hours"),
    Rule("report", 24, "hours",
         "重大投诉24小时内上报管理层并跟踪至结案", "Major complaints reported to management within 24 hours",
         severity="major"),
    Rule("resolve", 3, "working_days",
         "汽车经销商：调查处理3个工作日内完成", "Car dealer: investigation finished within 3 working days"),
    Rule("reply", 2, "calendar_days",
         "零售：一般投诉2天内答复", "Retail: general complaints answered within 2 days", severity="general"),
    Rule("reply", 4, "calendar_days",
         "零售：特殊投诉4天内答复", "Retail: special complaints answered within 4 days", severity="important"),
    Rule("reply", 4, "calendar_days",
         "零售：重大投诉按决定时限（默认4天，可改）", "Retail: major ones as decided (default 4 days; edit)",
         severity="major"),
    Rule("callback", 3, "working_days",
         "每日回访计划：简单投诉处理后3个工作日内回访", "Daily callback plan: simple cases within 3 working days",
         complexity="simple"),
    Rule("callback", 5, "working_days",
         "每日回访计划：复杂投诉处理后5个工作日内回访", "Daily callback plan: complex cases within 5 working days",
         complexity="complex"),
    Rule("close", 9, "calendar_days",
         "保险：9个自然日未结案即超时，列入超时上报表", "Insurer: not closed within 9 calendar days is overdue",
         severity="general"),
    Rule("close", 14, "calendar_days",
         "乳业：受理后14–21天内结案（重要取14天）", "Dairy: close within 14–21 days (important: 14)",
         severity="important"),
    Rule("close", 21, "calendar_days",
         "乳业：受理后14–21天内结案（重大取21天）", "Dairy: close within 14–21 days (major: 21)",
         severity="major"),
)

STAGES: tuple[str, ...] = ("acknowledge", "first_contact", "report", "resolve", "reply", "callback", "close")


def default_policy(lang: str = "zh") -> tuple[PolicyRule, ...]:
    return tuple(r.to_model(lang) for r in DEFAULT_RULES)


def rule_for(stage: str, complaint: Complaint, rules: Sequence[PolicyRule]) -> PolicyRule | None:
    """The most specific rule for a stage that matches the complaint; later rows win ties."""
    best: PolicyRule | None = None
    for rule in rules:
        if rule.stage != stage or rule.amount is None or rule.unit is None or not rule.matches(complaint):
            continue
        if best is None or rule.specificity() >= best.specificity():
            best = rule
    return best



POLICY_MESSAGES = {
    "policy.toml_unreadable": ("时限规则文件 {path} 无法读取：{detail}", "Policy file {path} cannot be read: {detail}"),
    "policy.toml_no_rules": ("时限规则文件 {path} 中没有 [[rule]]。", "Policy file {path} has no [[rule]] entries."),
    "policy.toml_not_table": ("时限规则文件 {path} 第 {n} 条规则不是 [[rule]] 表（应为 键 = 值 的若干行）。",
                              "Policy file {path}, rule {n} is not a [[rule]] table of key = value lines."),
    "policy.toml_bad": ("时限规则文件 {path} 第 {n} 条规则的“{key}”：{detail_zh}",
                        "Policy file {path}, rule {n}, '{key}': {detail_en}"),
}


class PolicyFileError(Exception):
    """A head-office policy file that cannot be used, located to the rule and key."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params

    def message(self, lang: str = "zh") -> str:
        from xlcomplaints.core.problems import render

        return render(self.code, lang, self.params)


def load_policy_file(path: str | Path, lang: str = "zh") -> tuple[PolicyRule, ...]:
    """Rules from a TOML file a head office imposes on every branch, replacing the Settings table.

    ::

        [[rule]]
        stage = "resolve"          # code or label: 调查处理 / resolve
        severity = "major"         # optional, like category, channel, complexity
        amount = 2
        unit = "working_days"      # hours, calendar_days, working_days, working_hours (or 工作日 …)
        source = "集团规定"

    A file that cannot be used raises PolicyFileError, whose message is rendered in either
    language when shown (``lang`` is kept for callers that pass it).
    """
    import tomllib

    from xlcomplaints.core import cells
    from xlcomplaints.core.problems import render
    from xlcomplaints.core.rows import parse_cell
    from xlcomplaints.spec.branch import POLICY

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise PolicyFileError("policy.toml_unreadable", path=path.name, detail=str(e)) from e
    raw_rules = data.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise PolicyFileError("policy.toml_no_rules", path=path.name)
    rules: list[PolicyRule] = []
    for n, raw in enumerate(raw_rules, start=1):
        values: dict[str, object] = {}
        if not isinstance(raw, dict):
            raise PolicyFileError("policy.toml_not_table", path=path.name, n=n)
        for key in set(raw) - {c.key for c in POLICY.columns}:
            keys = ", ".join(c.key for c in POLICY.columns)
            raise PolicyFileError("policy.toml_bad", path=path.name, n=n, key=key,
                                  detail_zh=f"不是规则的键；可用：{keys}", detail_en=f"not a rule key; use: {keys}")
        for col in POLICY.columns:
            try:
                values[col.key] = parse_cell(raw.get(col.key), col)
            except cells.CellError as e:
                # Rendered from every registered catalogue, in both languages: CellError.message knows
                # only the cell parsers' own codes, not the limits' (number.too_small/too_large, in
                # core.rows), and the error is shown later in whatever language the caller asks.
                raise PolicyFileError("policy.toml_bad", path=path.name, n=n, key=col.key,
                                      detail_zh=render(e.code, "zh", e.params),
                                      detail_en=render(e.code, "en", e.params)) from e
            if col.required and values[col.key] is None:
                raise PolicyFileError("policy.toml_bad", path=path.name, n=n, key=col.key,
                                      detail_zh="必填", detail_en="required")
        rules.append(PolicyRule(**values))  # type: ignore[arg-type]
    return tuple(rules)


def _register() -> None:
    from xlcomplaints.core.problems import register_messages

    register_messages(POLICY_MESSAGES)


_register()
