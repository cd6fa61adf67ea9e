"""The SLA policy: which limit applies to which stage of which complaint.

The default is one coherent policy a property-management office (物业服务中心) could
adopt as it stands, built from the property rules in the seed procedures distilled in
``shared/domain.md`` (seeds 000 and 001). Each rule cites the seed file and the rule it
comes from, and the template writes that citation next to it in the Settings sheet so a
supervisor can see why a limit is what it is. Where a seed sets no limit for a stage
(the reply, the close), the default is derived from the stages it follows, and the
citation says so.

Coherent means: no stage falls due before the stage it follows (``FOLLOWS``) — the reply
not before the investigation it reports on, the callback counted from the resolution,
the close not before the callback — and hour limits count office hours (Settings), since
only the duty desk, not the supervisor or the department, works nights and weekends.

Other industries' rules from the seeds (a retail chain, an insurer, a manufacturer, a car
dealer, a telecom operator) are presets: policy files in ``xlcomplaints/data/presets/``,
in the format ``--policy`` reads (``xlcomplaints.policy_file`` reads them; :func:`parse_policy` here
makes their rules and lists).

Stages and the time each counts from (its *anchor*):
- acknowledge, first_contact, report, resolve, reply, close: from receipt;
- callback: from resolution (or the reply, when no resolution time is known).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from xlcomplaints.core.lists import BUILT_IN, OfficeLists, from_toml
from xlcomplaints.core.models import Complaint, PolicyRule
from xlcomplaints.errors import XlcError
from xlcomplaints.i18n import pick


@dataclass(frozen=True)
class Rule:
    """A default rule and its citation: ``seed`` is the seed file's number (``000``…``004``)
    and ``quote`` the seed's own words the limit rests on (checked against the seed text)."""

    stage: str
    amount: float
    unit: str
    seed: str
    quote: str
    source_zh: str
    source_en: str
    severity: str | None = None
    complexity: str | None = None

    def to_model(self, lang: str = "zh") -> PolicyRule:
        return PolicyRule(
            stage=self.stage, severity=self.severity, complexity=self.complexity,
            amount=self.amount, unit=self.unit,
            source=pick(lang, self.source_zh, self.source_en),
        )


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("acknowledge", 24, "working_hours", "001", "在收到投诉后的24小时内完成受理通知的发送",
         "种子001 物业部处理客户投诉规定“时效要求”：收到投诉后24小时内发出受理通知（按办公时间计）",
         "Seed 001, property department's complaint rules (time limits): acknowledgement sent within "
         "24 hours of receipt (office hours)"),
    Rule("first_contact", 2, "working_hours", "000", "客服主管对有效投诉,应在2小时内与业主联系",
         "种子000 物业投诉处理4.3.1：客服主管对有效投诉2小时内与业主联系、约定回复时间（按办公时间计）",
         "Seed 000, property complaint rules 4.3.1: the customer-service supervisor contacts the owner of a "
         "valid complaint within 2 hours to agree a reply time (office hours)"),
    Rule("report", 2, "working_hours", "000", "对重要投诉、重大投诉,服务处要及时上报分管经理",
         "种子000 物业：重要、重大投诉服务处要及时上报分管经理（种子未定时限；默认与主管联系业主同为2个办公小时，可改）",
         "Seed 000, property rules: important and major complaints are reported promptly to the manager in "
         "charge (no limit given; default 2 office hours, like the supervisor's contact; edit)",
         severity="important"),
    Rule("report", 2, "working_hours", "000", "对重要投诉、重大投诉,服务处要及时上报分管经理",
         "种子000 物业：重要、重大投诉服务处要及时上报分管经理（种子未定时限；默认与主管联系业主同为2个办公小时，可改）",
         "Seed 000, property rules: important and major complaints are reported promptly to the manager in "
         "charge (no limit given; default 2 office hours, like the supervisor's contact; edit)",
         severity="major"),
    Rule("resolve", 3, "working_days", "001", "在受理后的3个工作日内完成调查核实工作",
         "种子001 物业部处理客户投诉规定“时效要求”：受理后3个工作日内完成调查核实",
         "Seed 001, property department's complaint rules (time limits): investigation finished within "
         "3 working days of acceptance"),
    Rule("reply", 4, "working_days", "000", "将处理结果以口头或书面形式答复业主",
         "种子000 物业投诉处理4.3.7：调查处理后将结果答复业主（种子未定时限；默认调查的3个工作日后再留1个工作日）",
         "Seed 000, property complaint rules 4.3.7: the result is told to the owner after the investigation "
         "(no limit given; default: 1 working day after the 3 working days of the investigation)"),
    Rule("callback", 3, "working_days", "000", "对于简单的投诉案件,我们公司规定为3个工作日内完成回访",
         "种子000《日常投诉回访方案》：简单投诉处理后3个工作日内完成回访（从处理完成起算）",
         "Seed 000, daily complaint callback plan: simple cases called back within 3 working days "
         "(counted from the resolution)",
         complexity="simple"),
    Rule("callback", 5, "working_days", "000", "对于复杂的案件,我们将在5个工作日内完成回访",
         "种子000《日常投诉回访方案》：复杂投诉处理后5个工作日内完成回访（从处理完成起算）",
         "Seed 000, daily complaint callback plan: complex cases called back within 5 working days "
         "(counted from the resolution)",
         complexity="complex"),
    Rule("close", 7, "working_days", "000", "投诉处理人应及时跟踪了解业主对投诉处理的意见或建议,必要时采取相应措施,直至业主满意",
         "种子000 物业投诉处理4.3.6：跟踪了解业主对处理的意见，直至业主满意（种子未定时限；默认答复的4个工作日＋简单投诉回访的3个工作日）",
         "Seed 000, property complaint rules 4.3.6: the handler follows the owner's view of the handling until "
         "the owner is satisfied (no limit given; default: the reply's 4 working days + a simple case's "
         "3-working-day callback)",
         complexity="simple"),
    Rule("close", 9, "working_days", "000", "投诉处理人应及时跟踪了解业主对投诉处理的意见或建议,必要时采取相应措施,直至业主满意",
         "种子000 物业投诉处理4.3.6：跟踪了解业主对处理的意见，直至业主满意（种子未定时限；默认答复的4个工作日＋复杂投诉回访的5个工作日）",
         "Seed 000, property complaint rules 4.3.6: the handler follows the owner's view of the handling until "
         "the owner is satisfied (no limit given; default: the reply's 4 working days + a complex case's "
         "5-working-day callback)",
         complexity="complex"),
)

#: Each stage, in order, and the Register column that marks it done.
DONE_FIELD: dict[str, str] = {
    "acknowledge": "acknowledged_at",
    "first_contact": "first_contact_at",
    "report": "reported_at",
    "resolve": "resolved_at",
    "reply": "replied_at",
    "callback": "callback_at",
    "close": "closed_at",
}
STAGES: tuple[str, ...] = tuple(DONE_FIELD)

#: (stage, the stage it follows): a coherent policy never makes the first due before the second.
FOLLOWS: tuple[tuple[str, str], ...] = (
    ("reply", "resolve"), ("callback", "resolve"), ("callback", "reply"), ("close", "callback"), ("close", "reply"),
)
#: The stages that come before the handling itself; a coherent policy has them due no later than the resolve.
BEFORE_HANDLING: tuple[str, ...] = ("acknowledge", "first_contact", "report")


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


class PolicyTie(StrEnum):
    """Two rules of one stage equally specific for some complaints: which to apply is not written anywhere."""

    #: Their limits differ: the engine applies the later row, but the office never said so.
    DIFFERENT_LIMITS = "policy.ambiguous"
    #: The same limit twice: nothing changes, one row is superfluous.
    SAME_LIMIT = "policy.duplicate"


#: The complaint fields a rule narrows on, in the order a case is described.
MATCHERS: tuple[str, ...] = ("severity", "category", "channel", "complexity")


@dataclass(frozen=True)
class Tie:
    """``later`` and ``earlier`` are the best rules of ``stage`` for the complaints of ``case``
    (field → code; a field not named holds a value no rule narrows on)."""

    kind: PolicyTie
    stage: str
    earlier: PolicyRule
    later: PolicyRule
    case: dict[str, str]


def ties(rules: Sequence[PolicyRule]) -> list[Tie]:
    """Pairs of rules for one stage that are equally specific and the most specific for some
    complaint, so that nothing but their order decides between them. One tie per later rule.

    Two rules can apply to one complaint when every field both narrow on holds the same code;
    the complaint narrowed on exactly what either names (a blank complexity counting as simple,
    both complexities tried when neither names one) then shows whether a more specific rule
    settles it."""
    usable = [r for r in rules if r.stage and r.amount is not None and r.unit]
    found: list[Tie] = []
    for j, later in enumerate(usable):
        for earlier in usable[:j]:
            if earlier.stage != later.stage or earlier.specificity() != later.specificity():
                continue
            union: dict[str, str] = {}
            for f in MATCHERS:
                a, b = getattr(earlier, f), getattr(later, f)
                if a is not None and b is not None and a != b:
                    break
                if a is not None or b is not None:
                    union[f] = a if a is not None else b
            else:
                case = _tied_case(later, union, usable)
                if case is not None:
                    same = (earlier.amount, earlier.unit) == (later.amount, later.unit)
                    found.append(Tie(PolicyTie.SAME_LIMIT if same else PolicyTie.DIFFERENT_LIMITS,
                                     later.stage or "", earlier, later, case))
                    break
    return found


def _tied_case(rule: PolicyRule, union: dict[str, str], rules: Sequence[PolicyRule]) -> dict[str, str] | None:
    """The complaints of ``union`` for which no rule more specific than ``rule`` applies, if any."""
    options = [union] if "complexity" in union else [{**union, "complexity": cx} for cx in ("simple", "complex")]
    unsettled = []
    for case in options:
        c = Complaint(severity=case.get("severity"), category=case.get("category"), channel=case.get("channel"),
                      complexity=case.get("complexity"))
        if not any(r.stage == rule.stage and r.specificity() > rule.specificity() and r.matches(c) for r in rules):
            unsettled.append(case)
    if not unsettled:
        return None
    return union if len(unsettled) == len(options) else unsettled[0]


@dataclass(frozen=True)
class PolicyFile:
    """What a policy file imposes: SLA rules (none: the workbook's own stay) and lists (``[lists]``,
    ``core.lists.from_toml``; none given: the workbook's own stay)."""

    rules: tuple[PolicyRule, ...]
    lists: OfficeLists

    @property
    def rules_or_none(self) -> tuple[PolicyRule, ...] | None:
        return self.rules or None


POLICY_MESSAGES = {
    "policy.toml_unreadable": ("时限规则文件 {path} 无法读取：{detail}", "Policy file {path} cannot be read: {detail}"),
    "policy.toml_no_rules": ("时限规则文件 {path} 中没有 [[rule]]。", "Policy file {path} has no [[rule]] entries."),
    "policy.toml_bad_lists": ("规则文件 {path} 的 [lists]：{detail}", "Policy file {path}, [lists]: {detail}"),
    "policy.toml_not_table": ("时限规则文件 {path} 第 {n} 条规则不是 [[rule]] 表（应为 键 = 值 的若干行）。",
                              "Policy file {path}, rule {n} is not a [[rule]] table of key = value lines."),
    "policy.toml_bad": ("时限规则文件 {path} 第 {n} 条规则的“{key}”：{detail_zh}",
                        "Policy file {path}, rule {n}, '{key}': {detail_en}"),
}


class PolicyFileError(XlcError):
    """A head-office policy file that cannot be used, located to the rule and key."""


def parse_policy(data: dict[str, object], name: str) -> PolicyFile:
    """Rules and lists from a head office's policy, as its TOML file holds them (``policy_file`` reads
    the file): ``[[rule]]`` tables and ``[lists]``; ``name`` is the file's, for the messages.

    ::

        [[rule]]
        stage = "resolve"          # code or label: 调查处理 / resolve
        severity = "major"         # optional, like category, channel, complexity
        amount = 2
        unit = "working_days"      # hours, calendar_days, working_days, working_hours (or 工作日 …)
        source = "集团规定"

    A policy that cannot be used raises PolicyFileError, located to the rule and key, whose message
    is rendered in either language when shown.
    """
    from xlcomplaints.core import cells
    from xlcomplaints.core.rows import parse_cell
    from xlcomplaints.spec.branch import POLICY

    lists = BUILT_IN
    if "lists" in data:
        lists, wrong = from_toml(data["lists"])
        if wrong:
            raise PolicyFileError("policy.toml_bad_lists", path=name, detail="; ".join(wrong))
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or (not raw_rules and not lists.own and not _says_why(data)):
        raise PolicyFileError("policy.toml_no_rules", path=name)
    rules: list[PolicyRule] = []
    for n, raw in enumerate(raw_rules, start=1):
        values: dict[str, object] = {}
        if not isinstance(raw, dict):
            raise PolicyFileError("policy.toml_not_table", path=name, n=n)
        for key in set(raw) - {c.key for c in POLICY.columns}:
            keys = ", ".join(c.key for c in POLICY.columns)
            raise PolicyFileError("policy.toml_bad", path=name, n=n, key=key,
                                  detail_zh=f"不是规则的键；可用：{keys}", detail_en=f"not a rule key; use: {keys}")
        for col in POLICY.columns:
            try:
                values[col.key] = parse_cell(raw.get(col.key), col)
            except cells.CellError as e:
                # In both languages: the error is shown later in whatever language the caller asks.
                raise PolicyFileError("policy.toml_bad", path=name, n=n, key=col.key,
                                      detail_zh=e.message("zh"), detail_en=e.message("en")) from e
            if col.required and values[col.key] is None:
                raise PolicyFileError("policy.toml_bad", path=name, n=n, key=col.key,
                                      detail_zh="必填", detail_en="required")
        rules.append(PolicyRule(**values))  # type: ignore[arg-type]
    return PolicyFile(tuple(rules), lists)


def _says_why(data: dict[str, object]) -> bool:
    """A preset that sets neither rules nor lists says why in ``about`` (no seed gives them)."""
    return isinstance(data.get("about"), str) and bool(str(data["about"]).strip())


def _register() -> None:
    from xlcomplaints.core.problems import register_messages

    register_messages(POLICY_MESSAGES)


_register()
