"""Controlled vocabularies: every dropdown's values, as data.

Each choice has a stable ``code`` (stored in models and JSON), a zh-CN label (what
templates show by default and clerks pick), an English label, and aliases that
clerks really type. The reader accepts any of them; templates offer the labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from xlcomplaints.i18n import pick


@dataclass(frozen=True)
class Choice:
    code: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return pick(lang, self.zh, self.en)


@dataclass(frozen=True)
class Vocabulary:
    name: str
    choices: tuple[Choice, ...]

    def __iter__(self) -> Iterator[Choice]:
        return iter(self.choices)

    def __len__(self) -> int:
        return len(self.choices)

    def labels(self, lang: str) -> list[str]:
        return [c.label(lang) for c in self.choices]

    def by_code(self, code: str) -> Choice:
        for c in self.choices:
            if c.code == code:
                return c
        raise KeyError(f"{self.name} has no choice {code!r}")

    def label(self, code: str, lang: str) -> str:
        return self.by_code(code).label(lang)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.choices)

    def fingerprint_data(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        return [(c.code, c.zh, c.en, c.aliases) for c in self.choices]


def vocab(name: str, *choices: Choice) -> Vocabulary:
    return Vocabulary(name, tuple(choices))


C = Choice

CASE_TYPE = vocab(
    "case_type",
    C("complaint", "投诉", "Complaint"),
    C("repair", "报修", "Repair request"),
    C("suggestion", "建议", "Suggestion"),
    C("inquiry", "咨询", "Inquiry"),
    C("help", "求助", "Request for help"),
    C("housekeeping", "家政", "Housekeeping"),
    C("other", "其他", "Other", ("其它",)),
)

CHANNEL = vocab(
    "channel",
    C("phone", "电话", "Phone", ("热线", "hotline", "来电", "电话投诉")),
    C("visit", "来访", "Visit", ("当面", "现场", "in person", "walk-in")),
    C("letter", "信函", "Letter", ("来信", "书面")),
    C("fax", "传真", "Fax"),
    C("email", "电子邮件", "Email", ("邮件", "e-mail")),
    C("online", "在线", "Online form/app", ("网站", "app", "网上", "online")),
    C("social", "微信/社交媒体", "WeChat/social media", ("微信", "wechat", "微博", "social media")),
    C("comment_book", "意见本", "Comment book", ("意见簿", "意见箱")),
    C("transfer", "转诉", "Transferred (regulator/head office)", ("12315", "12345", "消协", "上级转办")),
    C("other", "其他", "Other", ("其它",)),
)

CATEGORY = vocab(
    "category",
    C("quality", "产品质量", "Product quality", ("质量",)),
    C("attitude", "服务态度", "Service attitude", ("态度",)),
    C("delay", "时效延误", "Delay", ("延误", "时效", "超时")),
    C("billing", "收费", "Billing", ("收费问题", "费用", "账单")),
    C("facilities", "设施设备", "Facilities", ("设施", "设备")),
    C("environment", "环境卫生", "Environment", ("环境", "卫生")),
    C("safety", "安全", "Safety", ("安全问题",)),
    C("other", "其他", "Other", ("其它",)),
)

SEVERITY = vocab(
    "severity",
    C("general", "一般", "General", ("普通", "normal")),
    C("important", "重要", "Important", ("较大", "较重")),
    C("major", "重大", "Major", ("严重", "critical")),
)
#: Most severe first: the order of every list of open or overdue complaints and of the Summary's
#: open-by-severity rows (the reverse of the dropdown's order).
SEVERITY_MOST_FIRST: tuple[str, ...] = SEVERITY.codes[::-1]


def severity_rank(code: str | None) -> int:
    """Where a severity sorts, most severe first; blank or unknown after all the others."""
    return SEVERITY_MOST_FIRST.index(code) if code in SEVERITY_MOST_FIRST else len(SEVERITY_MOST_FIRST)

VALIDITY = vocab(
    "validity",
    C("valid", "有效", "Valid", ("有效投诉",)),
    C("assist", "协助", "Needs another department", ("协助处理", "assist")),
    C("invalid", "无效", "Invalid", ("无效投诉",)),
)

COMPLEXITY = vocab(
    "complexity",
    C("simple", "简单", "Simple", ("一般",)),
    C("complex", "复杂", "Complex", ("疑难",)),
)

STEP = vocab(
    "step",
    C("assigned", "分派", "Assigned", ("派单", "指派")),
    C("transferred", "转派", "Transferred", ("转交", "移交")),
    C("contacted", "联系客户", "Contacted customer", ("联系", "首次联系")),
    C("investigating", "调查处理", "Investigating", ("处理中", "调查")),
    C("waiting_customer", "等待客户", "Waiting for customer", ("待客户回复", "客户未联系上")),
    C("cold_handling", "冷处理", "Cold handling"),
    C("resumed", "恢复处理", "Resumed", ("恢复",)),
    C("resolved", "处理完成", "Resolved", ("已处理", "完成")),
    C("replied", "答复客户", "Replied", ("已答复", "答复")),
    C("reported", "上报管理层", "Reported to management", ("上报",)),
    C("reopened", "重新处理", "Reopened", ("重开", "重新打开")),
    C("escalated", "升级", "Escalated", ("升级处理",)),
    C("closed", "结案", "Closed", ("关闭", "已结案")),
    C("note", "备注", "Note"),
)

CALLBACK_METHOD = vocab(
    "callback_method",
    C("phone", "电话", "Phone", ("电话回访",)),
    C("sms", "短信", "SMS"),
    C("visit", "上门", "Visit", ("面谈", "上门回访")),
    C("survey", "问卷", "Survey", ("调查问卷",)),
    C("wechat", "微信", "WeChat"),
    C("email", "电子邮件", "Email", ("邮件",)),
)

CALLBACK_OUTCOME = vocab(
    "callback_outcome",
    C("satisfied", "满意", "Satisfied", ("基本满意", "非常满意")),
    C("unsatisfied", "不满意", "Not satisfied", ("不满", "dissatisfied")),
    C("unreachable", "未联系上", "Unreachable", ("联系不上", "未接通", "无人接听")),
)

CALENDAR_KIND = vocab(
    "calendar_kind",
    C("closure", "休息", "Closed", ("放假", "停业", "closure", "off")),
    C("working", "上班", "Working day", ("补班", "加班", "营业", "working")),
)

STAGE = vocab(
    "stage",
    C("acknowledge", "受理通知", "Acknowledge"),
    C("first_contact", "首次联系", "First contact"),
    C("report", "上报管理层", "Report to management"),
    C("resolve", "调查处理", "Investigate & resolve"),
    C("reply", "答复客户", "Reply to customer"),
    C("callback", "回访", "Callback"),
    C("close", "结案", "Close"),
)

STAGE_STATUS = vocab(
    "stage_status",
    C("not_due", "未到期", "Not due"),
    C("due_soon", "即将到期", "Due soon"),
    C("overdue", "已逾期", "Overdue"),
    C("done_on_time", "按时完成", "Done on time"),
    C("done_late", "逾期完成", "Done late"),
    C("not_applicable", "不适用", "Not applicable"),
    C("missed", "逾期未完成", "Missed (closed without it)"),
    C("given_up", "放弃回访", "Given up"),
)

OVERALL_STATUS = vocab(
    "overall_status",
    C("open", "处理中", "Open"),
    C("paused", "暂停", "Paused"),
    C("awaiting_callback", "待回访", "Awaiting callback"),
    C("awaiting_close", "待结案", "Awaiting close"),
    C("reopened", "重新处理", "Reopened"),
    C("closed", "已结案", "Closed"),
    C("invalid", "无效", "Invalid"),
)

ESCALATION = vocab(
    "escalation",
    C("none", "无", "None"),
    C("supervisor", "主管", "Supervisor"),
    C("manager", "经理", "Manager"),
    C("general_manager", "总经理", "General manager"),
)

UNIT = vocab(
    "unit",
    C("hours", "小时", "Hours", ("h", "小时数")),
    C("calendar_days", "自然日", "Calendar days", ("天", "日", "days")),
    C("working_days", "工作日", "Working days", ("个工作日",)),
    C("working_hours", "工作小时", "Working hours"),
)

LANGUAGE = vocab(
    "language",
    C("zh", "中文", "Chinese", ("zh-cn", "简体中文", "chinese")),
    C("en", "英文", "English", ("english",)),
)

YES_NO = vocab("yes_no", C("yes", "是", "Yes"), C("no", "否", "No"))

TIMESTAMPS_RULE = vocab(
    "timestamps_rule",
    C("register", "登记表优先", "Register first", ("登记表",)),
    C("tracking", "跟踪表优先", "Tracking first", ("跟踪表", "处理跟踪")),
)
