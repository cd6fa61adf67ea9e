"""The branch workbooks' input columns, read as a clerk typed them (openpyxl only).

Choice values are recognised from the vocabulary tables of docs/sheets.md (code, 中文,
English or an "also accepted" word); a value not recognised is blank. Times are Excel
date-times or text in the forms clerks type (2026-10-05 13:00, 2026/10/5 13:00,
2026年10月5日 13时00分); text that is not a real time is unreadable (None).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sheets.md"


def vocabularies(path: Path = DOCS) -> dict[str, dict[str, str]]:
    """Vocabulary name → {every accepted spelling, lower-cased: code}, from docs/sheets.md."""
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"### Vocabulary: (\w+)", line)
        if m:
            current = out.setdefault(m.group(1), {})
            continue
        if line.startswith("#"):
            current = None
        if current is None or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        code = cells[0].strip("`")
        words = [code, cells[1], cells[2], *[w.strip() for w in cells[3].split(",")]]
        for w in words:
            if w:
                current[w.lower()] = code
    return out


VOCAB = vocabularies()
def choice(vocab: str, value: object) -> str | None:
    """The code a typed choice stands for; None when blank or not recognised."""
    if value is None:
        return None
    text = str(value).strip().lower()
    return VOCAB[vocab].get(text) if text else None


_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[时:](\d{2})分?)?$"),
)


def when(value: object) -> datetime | None:
    """A typed date-time; None when blank or unreadable."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    for p in _PATTERNS:
        m = p.match(text)
        if m:
            y, mo, d, h, mi, s = (*(int(g) if g else 0 for g in m.groups(default=None)), 0, 0)[:6]
            try:
                return datetime(y, mo, d, h, mi, s)
            except ValueError:
                return None
    return None


def text(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


@dataclass
class Complaint:
    branch: str
    row: int
    no: str | None
    received: datetime | None
    type: str | None
    channel: str | None
    customer: str | None
    phone: str | None
    category: str | None
    severity: str | None
    validity: str | None
    complexity: str | None
    escalated: bool
    department: str | None
    typed: dict[str, datetime | None]  # stage → the Register's done time
    handler: str | None = None  # the Register's 处理人, as typed
    #: Every cell of the row by its header (the office's own columns included).
    cells: dict[str, object] = field(default_factory=dict)


@dataclass
class Step:
    no: str
    at: datetime
    step: str
    order: int


@dataclass
class Callback:
    no: str
    at: datetime
    outcome: str
    score: float | None
    order: int


@dataclass
class Rule:
    stage: str
    severity: str | None
    category: str | None
    channel: str | None
    complexity: str | None
    amount: float
    unit: str


@dataclass
class CustomRule:
    """A row of the Settings' 自定义环节 table (docs/sheets.md, "Custom stages"), as typed."""

    name: str
    start: str  # as typed: 受理, a stage's label, or another custom stage's name
    done_step: str | None
    done_column: str | None
    severity: str | None
    category: str | None
    channel: str | None
    complexity: str | None
    amount: float
    unit: str
    recurring: bool


@dataclass
class Branch:
    code: str
    name: str
    office_start: time
    office_end: time
    due_soon_percent: float
    repeat_window_days: int
    max_attempts: int
    #: 回访重试间隔(小时): after the 1st, 2nd … unreachable attempt (the last one repeats)
    retry_hours: tuple[float, ...]
    register_first: bool
    handoff_hours: float
    handoff_unreachable_hours: float
    rules: list[Rule]
    closures: set[date]
    working: set[date]
    #: 考核排名最少件数 (the Settings row; its default when the row is not there)
    rank_min: int = 5
    custom: list[CustomRule] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)
    #: Tracking rows naming a 经办人: (complaint number, time, name, sheet row), whatever their step
    handlers: list[tuple[str, datetime, str, int]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)


#: Register column (中文 header) of each stage's done time.
DONE_COLUMN = {
    "acknowledge": "受理通知时间", "first_contact": "首次联系时间", "report": "上报管理层时间",
    "resolve": "处理完成时间", "reply": "答复时间", "callback": "回访时间", "close": "结案时间",
}


def _rows(ws: Any) -> tuple[dict[str, int], list[tuple[int, tuple[Any, ...]]]]:
    rows = list(ws.iter_rows(values_only=True))
    header = {str(v).strip(): i for i, v in enumerate(rows[0]) if v is not None}
    return header, [(n, r) for n, r in enumerate(rows[1:], start=2) if any(v is not None for v in r)]


def _clock(value: object) -> time:
    if isinstance(value, time):
        return value
    h, m = str(value).strip().split(":")[:2]
    return time(int(h), int(m))


def read_branch(path: Path) -> Branch:
    """The workbook's input columns (read once per saved version of the file)."""
    return _read_branch(Path(path).resolve(), Path(path).stat().st_mtime_ns)


#: The office's lists on 词表 Lists (docs/sheets.md): the list's title → the vocabulary it replaces.
OFFICE_LISTS = {"投诉类别": "category", "类型": "case_type", "投诉渠道": "channel", "责任部门": "department"}


def office_lists(wb: Any) -> dict[str, dict[str, str]]:
    """词表：每个列表四列（名称、英文、别名、代码），每行一项 … 校验只接受列表中的项（或其别名）；代码可空，默认为
    中文名称；别名用顿号分隔. A list with no entry is left out (its column keeps the built-in words, or is free
    text); a workbook without the sheet has none."""
    if "词表" not in wb.sheetnames:
        return {}
    header, rows = _rows(wb["词表"])
    out: dict[str, dict[str, str]] = {}
    for title, vocab in OFFICE_LISTS.items():
        if title not in header:
            continue
        words: dict[str, str] = {}
        for _, r in rows:
            name, en, aliases, code = (text(r[header[h]]) if h in header else None
                                       for h in (title, f"{title}·英文", f"{title}·别名", f"{title}·代码"))
            label = name or en
            if label:
                for w in (code or label, label, en, *re.split("[、,，;；\n]", aliases or "")):
                    if w and w.strip():
                        words.setdefault(w.strip().lower(), code or label)
        if words:
            out[vocab] = words
    return out


@functools.lru_cache(maxsize=16)
def _read_branch(path: Path, mtime_ns: int) -> Branch:
    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    lists = office_lists(wb)

    def pick(vocab: str, value: object) -> str | None:
        """A value of one of the office's lists (its 词表 entry's code), else of the built-in vocabulary."""
        if vocab not in lists:
            return choice(vocab, value) if vocab in VOCAB else text(value)
        typed = text(value)
        return lists[vocab].get(typed.lower()) if typed else None

    settings: dict[str, object] = {}
    rules: list[Rule] = []
    in_rules = False
    custom: list[CustomRule] = []
    custom_header: dict[str, int] | None = None
    in_custom = False
    for r in wb["设置"].iter_rows(values_only=True):
        if not r or r[0] is None:
            continue
        if r[0] == "自定义环节":  # the custom stages' table, under its title (docs/sheets.md)
            in_custom, in_rules = True, False
            continue
        if in_custom:
            if custom_header is None:
                custom_header = {str(v): i for i, v in enumerate(r) if v is not None}
                continue
            h = custom_header

            def at(name: str, r: tuple = r, h: dict[str, int] = h) -> object:
                return r[h[name]] if h[name] < len(r) else None

            custom.append(CustomRule(
                str(at("环节名称")).strip(), str(at("起算")).strip(), choice("step", at("完成步骤(处理跟踪)")),
                text(at("完成列(登记表)")), choice("severity", at("严重程度")), choice("category", at("投诉类别")),
                choice("channel", at("投诉渠道")), choice("complexity", at("难易程度")), float(at("时限")),  # type: ignore[arg-type]
                choice("unit", at("单位")) or "", choice("yes_no", at("重复")) == "yes"))
            continue
        if r[0] == "环节" and r[1] == "严重程度":
            in_rules = True
            continue
        if in_rules:
            stage = choice("stage", r[0])
            if stage and r[5] is not None:
                rules.append(Rule(stage, choice("severity", r[1]), pick("category", r[2]),
                                  pick("channel", r[3]), choice("complexity", r[4]),
                                  float(r[5]), choice("unit", r[6]) or ""))
        else:
            settings[str(r[0]).strip()] = r[1]
    closures: set[date] = set()
    working: set[date] = set()
    header, rows = _rows(wb["日历"])
    for _, r in rows:
        d, kind = when(r[header["日期"]]), choice("calendar_kind", r[header["类型"]])
        if d is not None:
            (closures if kind == "closure" else working if kind == "working" else set()).add(d.date())
    b = Branch(
        code=str(settings["网点代码"]), name=str(settings["网点名称"]),
        office_start=_clock(settings["上班时间"]), office_end=_clock(settings["下班时间"]),
        due_soon_percent=float(settings["即将到期提醒(剩余时限%)"]),  # type: ignore[arg-type]
        repeat_window_days=int(settings["重复投诉判定期(天)"]),  # type: ignore[call-overload]
        max_attempts=int(settings["回访最多尝试次数"]),  # type: ignore[call-overload]
        retry_hours=tuple(float(x) for x in str(settings["回访重试间隔(小时)"] or "24").replace("，", ",").split(",")
                          if x.strip()),
        register_first=choice("timestamps_rule", settings["环节时间以哪张表为准"]) != "tracking",
        handoff_hours=float(settings["部门接单处理时限(小时)"]),  # type: ignore[arg-type]
        handoff_unreachable_hours=float(settings["联系不上客户时(小时)"]),  # type: ignore[arg-type]
        rank_min=int(settings.get("考核排名最少件数") or 5),  # type: ignore[call-overload]
        rules=rules, closures=closures, working=working, custom=custom)
    header, rows = _rows(wb["投诉登记"])

    def cell(r: tuple, name: str) -> object:
        return r[header[name]] if name in header else None

    for n, r in rows:
        phone = text(cell(r, "联系电话"))
        b.complaints.append(Complaint(
            branch=b.code, row=n, no=text(cell(r, "投诉编号")), received=when(cell(r, "受理时间")),
            type=pick("case_type", cell(r, "类型")), channel=pick("channel", cell(r, "投诉渠道")),
            customer=text(cell(r, "客户姓名")), phone=phone,
            category=pick("category", cell(r, "投诉类别")), severity=choice("severity", cell(r, "严重程度")),
            validity=choice("validity", cell(r, "有效性")), complexity=choice("complexity", cell(r, "难易程度")),
            escalated=choice("yes_no", cell(r, "投诉升级")) == "yes", department=pick("department", cell(r, "责任部门")),
            typed={s: when(cell(r, col)) for s, col in DONE_COLUMN.items()}, handler=text(cell(r, "处理人")),
            cells={name: r[i] for name, i in header.items() if i < len(r)}))
    header, rows = _rows(wb["处理跟踪"])
    for n, r in rows:
        no, at, step = text(r[header["投诉编号"]]), when(r[header["时间"]]), choice("step", r[header["步骤"]])
        who = text(r[header["经办人"]]) if "经办人" in header else None
        if no and at and who:
            b.handlers.append((no, at, who, n))
        if no and at and step:
            b.steps.append(Step(no, at, step, n))
    header, rows = _rows(wb["回访记录"])
    for n, r in rows:
        no, at = text(r[header["投诉编号"]]), when(r[header["回访时间"]])
        outcome = choice("callback_outcome", r[header["回访结果"]])
        score = r[header["评分(1-10)"]]
        if no and at and outcome:
            b.callbacks.append(Callback(no, at, outcome, float(score) if isinstance(score, int | float) else None, n))
    wb.close()
    return b
