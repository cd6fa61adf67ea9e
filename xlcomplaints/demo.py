"""Sample branch workbooks that look like what clerks really keep.

``make_branch`` writes one branch's month of complaints — Chinese names, every channel
and severity, cases crossing the National Day holidays, late and on-time handling,
tracking steps, callbacks (satisfied, unreachable, unsatisfied → reopened) and, on
request, a few typing mistakes — as raw cell values, the way they would be typed.
``run_demo`` is the README's first command: generate, validate, refresh, report.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from xlcomplaints.core.models import Settings
from xlcomplaints.spec import vocab as v
from xlcomplaints.spec.branch import REGISTER
from xlcomplaints.templates.build import build_branch_workbook

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞"]
DEPARTMENTS = ["客服部", "工程部", "保安部", "保洁部", "财务部", "销售部", "售后服务部"]
STAFF = ["陈经理", "刘主管", "王工", "赵敏", "孙磊", "周洁", "吴强"]
CONTENT = {
    "quality": ["新买的热水器漏水", "车辆保养后发动机异响", "牛奶有异味", "快递包裹破损"],
    "attitude": ["前台人员态度冷淡", "保安说话粗鲁", "客服电话多次被挂断"],
    "delay": ["报修三天无人上门", "快递超时未送达", "维修进度无人告知"],
    "billing": ["物业费多收", "维修收费与报价不符", "重复扣款"],
    "facilities": ["电梯经常停运", "小区路灯不亮", "门禁卡失灵"],
    "environment": ["楼道垃圾无人清理", "装修噪音扰民", "地下车库积水"],
    "safety": ["消防通道被占用", "小区出现陌生人尾随", "燃气管道有异味"],
    "other": ["建议增加停车位", "咨询发票开具"],
}
REQUESTS = ["尽快处理并答复", "要求赔偿", "要求道歉", "要求退款", "希望上门查看", None]
#: What a resolved complaint's Register row says was done, why it happened and what changed, by category
#: (picked by row number, not drawn, so that the rest of the sample stays as it was).
WRITE_UP = {
    "quality": [("更换新品并上门安装", "供应商批次质量问题", "该批次下架，入库抽检比例提高到10%")],
    "attitude": [("当事员工当面致歉", "员工服务意识不足", "全员服务礼仪培训，投诉计入绩效")],
    "delay": [("当天派工完成维修", "派工单漏派", "派工系统增加超时提醒")],
    "billing": [("退还多收费用", "收费系统单价未更新", "每月核对收费单价")],
    "facilities": [("维修更换故障部件", "设备老化，保养不到位", "制定月度巡检计划")],
    "environment": [("安排专人清理", "保洁排班不足", "增加晚间保洁班次")],
    "safety": [("立即清理并排查隐患", "巡逻频次不足", "夜间巡逻改为每两小时一次")],
    "other": [("已答复客户", "信息告知不到位", "在公告栏公示办理流程")],
}
BRANCHES = [("BJ01", "北京朝阳店"), ("SH02", "上海浦东店"), ("GZ03", "广州天河店")]
#: The Register column of the time reported to management, in a sample row.
REPORTED_COL = REGISTER.index("reported_at")


@dataclass(frozen=True)
class Sample:
    """One generated branch: the raw rows per sheet kind."""

    settings: Settings
    rows: dict[str, list[list[Any]]]


def _fmt_time(t: datetime, rng: random.Random) -> Any:
    """A time as clerks type it: a real datetime cell most of the time, text in a few habits."""
    style = rng.random()
    if style < 0.7:
        return t
    if style < 0.8:
        return t.strftime("%Y/%m/%d %H:%M").replace("/0", "/")
    if style < 0.9:
        return t.strftime("%Y-%m-%d %H:%M")
    return f"{t.year}年{t.month}月{t.day}日 {t.hour}时{t.minute:02d}分"


def _phone(rng: random.Random) -> Any:
    n = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
    style = rng.random()
    if style < 0.5:
        return n
    if style < 0.7:
        return int(n)
    if style < 0.85:
        return f"{n[:3]} {n[3:7]} {n[7:]}"
    return f"{n[:3]}-{n[3:7]}-{n[7:]}"


def make_sample(code: str, name: str, *, n: int = 40, seed: int = 1, year: int = 2026, month: int = 10,
                mistakes: bool = True, lang: str = "zh") -> Sample:
    rng = random.Random(f"{code}-{seed}-{year}-{month}")
    # what the clerks have typed by the time the demo refreshes: the morning of the 2nd of next month
    recorded_until = datetime(year + (month == 12), month % 12 + 1, 2, 9)
    start = datetime(year, month, 1) - timedelta(days=5)
    span = (datetime(year + (month == 12), month % 12 + 1, 1) - start).days
    register: list[list[Any]] = []
    tracking: list[list[Any]] = []
    callbacks: list[list[Any]] = []
    serial: dict[str, int] = {}
    customers: list[tuple[str, Any]] = []
    for i in range(n):
        received = start + timedelta(days=rng.randrange(span), hours=rng.randrange(8, 20), minutes=rng.randrange(60))
        ym = received.strftime("%y%m")
        serial[ym] = serial.get(ym, 0) + 1
        no = f"{code}-{ym}{serial[ym]:03d}"
        if customers and rng.random() < 0.08:
            customer, phone = rng.choice(customers)  # the same customer again: maybe a repeat complaint
        else:
            customer = rng.choice(SURNAMES) + rng.choice(GIVEN)
            phone = _phone(rng)
            customers.append((customer, phone))
        category = rng.choice(v.CATEGORY.codes)
        severity = rng.choices(v.SEVERITY.codes, weights=(70, 22, 8))[0]
        validity = rng.choices(v.VALIDITY.codes, weights=(85, 10, 5))[0]
        complexity = "complex" if severity != "general" and rng.random() < 0.6 else "simple"
        channel = v.CHANNEL.codes[i % len(v.CHANNEL.codes)] if i < len(v.CHANNEL.codes) else rng.choice(v.CHANNEL.codes)
        dept = rng.choice(DEPARTMENTS)
        handler = rng.choice(STAFF)
        diligent = rng.random() < 0.8  # a diligent handler works well within the limits
        pace = 0.3 if diligent else 1.6

        def later(t: datetime, hours: float, pace: float = pace) -> datetime:
            return t + timedelta(hours=hours * pace * rng.uniform(0.5, 1.2))

        ack: datetime | None = later(received, 20)
        contact = later(received, 2) if validity != "invalid" else None
        reported = later(received, 20) if severity == "major" else None
        resolved = later(received, 72) if rng.random() < 0.9 else None
        replied = later(resolved, 10) if resolved and rng.random() < 0.9 else None
        now_limit = recorded_until
        stamps = [ack, contact, reported, resolved, replied]
        stamps = [t if t and t < now_limit else None for t in stamps]
        ack, contact, reported, resolved, replied = stamps
        callback_at = closed = None
        outcome = None
        if resolved:
            tracking.append([no, received + timedelta(minutes=20), v.STEP.label("assigned", lang), "客服部", dept, handler, None])
            if rng.random() < 0.2:
                wait = received + timedelta(hours=5)
                tracking.append([no, wait, v.STEP.label("waiting_customer", lang), None, None, handler, "客户出差，约定回来后上门"])
                tracking.append([no, wait + timedelta(days=2), v.STEP.label("resumed", lang), None, None, handler, None])
            tracking.append([no, resolved, v.STEP.label("resolved", lang), None, None, handler, None])
            first_call = later(resolved, 30)
            if first_call < now_limit:
                outcome = rng.choices(("satisfied", "unreachable", "unsatisfied"), weights=(70, 18, 12))[0]
                callbacks.append([no, first_call, v.CALLBACK_METHOD.label("phone", lang), "回访专员小林",
                                  v.CALLBACK_OUTCOME.label(outcome, lang),
                                  rng.randint(8, 10) if outcome == "satisfied" else (rng.randint(2, 5) if outcome == "unsatisfied" else None),
                                  {"satisfied": "处理及时，满意", "unsatisfied": "问题没有彻底解决", "unreachable": "电话无人接听"}[outcome]])
                if outcome == "unreachable":
                    again = first_call + timedelta(hours=26)
                    outcome = "satisfied"
                    callbacks.append([no, again, v.CALLBACK_METHOD.label("sms", lang), "回访专员小林",
                                      v.CALLBACK_OUTCOME.label(outcome, lang), 9, "短信回复满意"])
                    first_call = again
                if outcome == "satisfied":
                    callback_at = first_call
                    closed = later(first_call, 4) if rng.random() < 0.85 else None
                elif outcome == "unsatisfied":
                    tracking.append([no, first_call + timedelta(hours=1), v.STEP.label("reopened", lang), None, dept, handler, "客户不满意，重新处理"])
        row = [
            no, _fmt_time(received, rng), v.CASE_TYPE.label("complaint" if rng.random() < 0.85 else rng.choice(v.CASE_TYPE.codes), lang),
            v.CHANNEL.label(channel, lang), customer, phone, f"{rng.randint(1, 20)}栋{rng.randint(1, 30)}{rng.randint(1, 4):02d}",
            None, None, v.CATEGORY.label(category, lang), v.SEVERITY.label(severity, lang),
            v.VALIDITY.label(validity, lang), v.COMPLEXITY.label(complexity, lang),
            v.YES_NO.label("yes" if severity == "major" and rng.random() < 0.5 else "no", lang),
            rng.choice(CONTENT[category]), rng.choice(REQUESTS), None, dept, handler,
            *[_fmt_time(t, rng) if t else None for t in (ack, contact, reported, resolved, replied, callback_at, closed)],
            *(WRITE_UP[category][i % len(WRITE_UP[category])] if resolved else (None, None, None)), None,
        ]
        if severity == "important" and contact is not None:
            # The default policy has important complaints reported to the manager too: with the first
            # contact, typed as a real time and drawing nothing from rng, so the rest of the sample stays.
            row[REPORTED_COL] = contact
        register.append(row)
    if mistakes and register:
        # What clerks really get wrong, each once: the validator must point at every one.
        register[1][1] = "2026/10/32 10:00"                        # no such date
        register[2][3] = "飞信"                                    # not a channel
        register[3][5] = "138-1234-567"                            # a digit short
        register[4][10] = ""                                       # severity left blank
        register.append([None, datetime(year, month, 20, 9, 30), v.CASE_TYPE.label("complaint", lang),
                         v.CHANNEL.label("phone", lang), "钱多多", _phone(rng), "8栋1001", None, None,
                         v.CATEGORY.label("billing", lang), v.SEVERITY.label("general", lang),
                         v.VALIDITY.label("valid", lang), None, None, "停车费收费标准不清", None,
                         None, "财务部", "刘主管", *([None] * 11)])        # number not assigned yet
    settings = Settings(branch_code=code, branch_name=name, language=lang)
    return Sample(settings, {"register": register, "tracking": tracking, "callbacks": callbacks})


def make_branch(path: Path, code: str, name: str, **kw: Any) -> Path:
    sample = make_sample(code, name, **kw)
    build_branch_workbook(path, lang=sample.settings.language, settings=sample.settings, rows=sample.rows,
                          created=None)
    return path


def run_demo(directory: Path, *, lang: str = "zh", console: Console | None = None,
             branches: Sequence[tuple[str, str]] = BRANCHES, now: datetime = datetime(2026, 11, 2, 9, 0)) -> list[Path]:
    """Generate sample branches, validate and refresh each, and consolidate October's report."""
    from xlcomplaints.console import SAID, show_problems
    from xlcomplaints.flows import refresh_flow
    from xlcomplaints.i18n import say
    from xlcomplaints.workbook.file import FileWorkbook

    console = console or Console(markup=False)  # paths and messages are text, "[...]" too
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for i, (code, name) in enumerate(branches):
        path = directory / f"{code}.xlsx"
        if path.exists():
            path.unlink()
        make_branch(path, code, name, n=60, seed=i, lang=lang)  # the office's name, as typed, in either language
        result = refresh_flow(FileWorkbook(path), now=now, lang=lang)
        show_problems(result.problems, lang, path.name)
        console.print(Text.assemble(
            (str(path), "bold"),
            say(SAID["demo.branch"], lang, outcome=result.plan.outcome(lang), errors=result.errors,
                now=f"{now:%Y-%m-%d %H:%M}") if result.plan else ""))
        paths.append(path)
    from xlcomplaints.core.metrics import Period
    from xlcomplaints.report.run import ReportKind, ReportRequest, report_flow

    report = directory / say(SAID["demo.report_file"], lang)
    run = report_flow(ReportRequest(tuple(paths), Period.month(2026, 10), report, ReportKind.CONSOLIDATION,
                                    lang=lang, now=now))
    issues = len(run.report.issues)
    console.print(Text.assemble((str(run.output), "bold"),
                                say(SAID["demo.report"], lang, branches=len(paths), issues=issues)))
    console.print(say(SAID["demo.open_first"], lang, report=run.output, branch=paths[0]),
                  highlight=False, soft_wrap=True)
    return [*paths, run.output]


__all__ = ["make_branch", "make_sample", "run_demo"]
