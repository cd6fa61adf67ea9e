"""The registered metrics (``METRICS``): each figure's function with its zh/en name, definition and month rule."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from xlcomplaints.core.metrics.facts import _SECOND, Case
from xlcomplaints.core.metrics.index import CaseIndex, durations, median, p90, rate
from xlcomplaints.core.metrics.months import Month, month_end, month_start

Kind = Literal["count", "rate", "duration", "score"]


@dataclass(frozen=True)
class Metric:
    key: str
    zh: str
    en: str
    kind: Kind
    what_zh: str
    what_en: str
    month_zh: str
    month_en: str
    fn: Callable[[CaseIndex, Month], float | None]
    stage: str | None = None  # duration metrics: the stage they time

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def definition(self, lang: str) -> str:
        return self.what_zh if lang == "zh" else self.what_en

    def month_rule(self, lang: str) -> str:
        return self.month_zh if lang == "zh" else self.month_en

    def __call__(self, ix: CaseIndex, m: Month) -> float | None:
        return self.fn(ix, m)


METRICS: dict[str, Metric] = {}
RECEIVED = ("受理时间在本月", "Time received falls in the month")
CLOSED = ("结案时间在本月", "Time closed falls in the month")
DUE = ("环节时限（应完成时间）在本月", "The stage's due time falls in the month")


def metric(key: str, zh: str, en: str, kind: Kind, what: tuple[str, str], month: tuple[str, str],
           stage: str | None = None) -> Callable[[Callable[[CaseIndex, Month], float | None]], Metric]:
    def register(fn: Callable[[CaseIndex, Month], float | None]) -> Metric:
        m = Metric(key, zh, en, kind, what[0], what[1], month[0], month[1], fn, stage)
        METRICS[key] = m
        return m
    return register


def _received(ix: CaseIndex, m: Month) -> list[Case]:
    return ix.received(m)


def _handled(ix: CaseIndex, m: Month) -> list[Case]:
    return ix.handled(m)


@metric("received", "受理件数", "Complaints received", "count",
        ("本月受理的全部登记，不分类型与有效性（含无效投诉）。",
         "Everything registered in the month, whatever its type or validity (invalid ones included)."),
        RECEIVED)
def received(ix: CaseIndex, m: Month) -> float | None:
    return len(_received(ix, m))


def _validity_metric(code: str, zh: str, en: str, note_zh: str = "", note_en: str = "") -> None:
    metric(f"validity_{code}", zh, en, "count",
           (f"本月受理、有效性为“{zh[:2]}”的件数。{note_zh}", f"Received in the month and marked {en.lower()}.{note_en}"),
           RECEIVED)(lambda ix, m: sum(1 for c in _received(ix, m) if c.validity == code))


_validity_metric("valid", "有效投诉", "Valid")
_validity_metric("assist", "协助处理", "Needs another department")
_validity_metric("invalid", "无效投诉", "Invalid",
                 "无效投诉没有处理时限，不计入各项比率。", " Invalid ones have no deadlines and are left out of every rate.")


@metric("handled", "需处理件数", "Complaints to handle", "count",
        ("本月受理、有效性不是“无效”的件数（有效、协助及未填有效性的）；下列各率以此为基础。",
         "Received in the month and not marked invalid (valid, needs another department, or blank); "
         "the rates below are over these."),
        RECEIVED)
def handled(ix: CaseIndex, m: Month) -> float | None:
    return len(_handled(ix, m))


@metric("major", "重大投诉", "Major complaints", "count",
        ("需处理投诉中严重程度为“重大”的件数。", "Complaints to handle whose severity is major."), RECEIVED)
def major(ix: CaseIndex, m: Month) -> float | None:
    return sum(1 for c in _handled(ix, m) if c.severity == "major")


@metric("escalations", "投诉升级", "Escalated complaints", "count",
        ("需处理投诉中登记为“投诉升级”（客户越级投诉或监管转办），或处理跟踪中有“升级”步骤的件数。",
         "Complaints to handle marked escalated (customer went over our head, or a regulator transfer) or with an "
         "'escalated' step on the Tracking sheet."),
        RECEIVED)
def escalations(ix: CaseIndex, m: Month) -> float | None:
    return sum(1 for c in _handled(ix, m) if c.escalated)


@metric("closed", "结案件数", "Closed", "count",
        ("结案时间（登记表“结案时间”，或处理跟踪中的“结案”步骤）在本月的投诉件数，不论何时受理；不含无效投诉。",
         "Complaints whose closing time (the Register's 'Closed', or a 'closed' step on the Tracking sheet) falls in "
         "the month, whenever they were received; invalid ones excluded."),
        CLOSED)
def closed(ix: CaseIndex, m: Month) -> float | None:
    return len(ix.closed(m))


@metric("closure_rate", "结案率", "Closure rate", "rate",
        ("本月受理的需处理投诉中，到月末已结案的比例。", "Of the complaints to handle received in the month, the share "
         "closed by the end of the month."),
        ("受理时间在本月；结案须在月末之前", "Time received falls in the month; closed before the month ended"))
def closure_rate(ix: CaseIndex, m: Month) -> float | None:
    cases, end = _handled(ix, m), month_end(m)
    return rate(sum(1 for c in cases if (t := c.closed_at) is not None and t < end), len(cases))


@metric("open_end", "月末未结案", "Open at month end", "count",
        ("月末仍未结案的需处理投诉件数：月末前受理，且没有结案时间或结案在月末之后（含以前月份受理的）。",
         "Complaints to handle still open when the month ended: received before the end and not closed by then "
         "(earlier months' included)."),
        ("月末时点", "The end of the month"))
def open_end(ix: CaseIndex, m: Month) -> float | None:
    return len(ix.open_at(month_end(m)))


@metric("backlog_in", "上月结转未结案", "Backlog carried over", "count",
        ("本月开始时仍未结案的需处理投诉件数（即上月月末未结案）；按月初时已受理的自然日数分为 0–3、4–7、8–14、15 天以上。",
         "Complaints to handle still open when the month began (last month's open at month end); by age at the start "
         "of the month in calendar days since receipt: 0–3, 4–7, 8–14, 15 and more."),
        ("月初时点", "The start of the month"))
def backlog_in(ix: CaseIndex, m: Month) -> float | None:
    return len(ix.open_at(month_start(m)))


@metric("on_time_rate", "处理及时率", "On-time rate", "rate",
        ("本月到期的各环节时限（受理通知、首次联系、上报、处理、答复、回访、结案）中按时完成的比例。"
         "按统计时点时工作簿的样子计算：时间晚于统计时点的步骤、回访和结案当作尚未发生。"
         "一个时限在统计时点结果已知才计入：到统计时点已完成的，完成时间不晚于时限为按时，晚于时限为未按时；"
         "到统计时点未完成而时限已到（不晚于统计时点）的为未按时；既未完成也未到期的不计。"
         "已结案投诉中未完成的环节：结案时时限已过的仍算未按时（逾期未完成），结案时尚未到期的为“不适用”，不计。"
         "按“设置”的次数未接通而放弃的回访不算逾期，不计。无效投诉不计。",
         "Of all stage deadlines (acknowledge, first contact, report, resolve, reply, callback, close) falling due in "
         "the month, the share met. The workbook is seen as it stood at the as-of time: a step, callback or close "
         "recorded after it has not happened yet. A deadline counts once its outcome is known at the as-of time: "
         "done by then (met if done at or before its due time, else missed), or due at or before the as-of time "
         "and not done by then (missed); one neither done nor due at the as-of time is left out. In a closed case, "
         "a stage not done whose due time had passed at the close stays missed; one not yet due at the close is not "
         "applicable and left out. A callback given up (the Settings' number of unreachable attempts) is not late "
         "and is left out. Invalid complaints are left out."),
        DUE)
def on_time_rate(ix: CaseIndex, m: Month) -> float | None:
    met, missed, _ = ix.tally(m)
    return rate(met, met + missed)


@metric("late_complaints", "逾期件数", "Complaints with a missed deadline", "count",
        ("至少有一个环节时限在本月到期而未按时完成（逾期完成、到统计时点仍未完成，或结案时已过时限而未完成）的需处理投诉件数。",
         "Complaints to handle with at least one stage deadline falling due in the month that was missed (done "
         "late, not done by the as-of time, or not done and already due when the case was closed)."),
        DUE)
def late_complaints(ix: CaseIndex, m: Month) -> float | None:
    return ix.tally(m)[2]


def _duration_metric(stage: str, zh: str, en: str) -> None:
    from_zh, from_en = ("处理完成（或答复）", "resolution (or the reply)") if stage == "callback" else ("受理", "receipt")
    unit_zh = ("按该环节时限规则的单位计（小时、自然日或工作日；工作日按国家节假日、调休和本网点日历计算，"
               "每个工作日按全天24小时计、休息日不计）")
    unit_en = ("in the unit of the stage's SLA rule (hours, calendar days or working days; working days follow the "
               "national holidays, make-up days and the branch's own calendar, each counting its whole 24 hours and "
               "closed days nothing)")
    for key, stat, fn in (("median", ("中位数", "median"), median), ("p90", ("90%分位", "90th percentile"), p90)):
        how_zh = "一半投诉不超过此值" if key == "median" else "按用时从短到长排列第 ⌈0.9×n⌉ 件的用时，即 90% 的投诉不超过此值"
        how_en = ("half the complaints took no longer" if key == "median" else
                  "the ⌈0.9×n⌉-th shortest time, so 90% of complaints took no longer")

        def duration(ix: CaseIndex, m: Month, stage: str = stage,
                     fn: Callable[[Sequence[float]], float | None] = fn) -> float | None:
            return fn(durations(ix, m, stage))

        metric(f"{stage}_{key}", f"{zh}用时{stat[0]}", f"Time to {en}, {stat[1]}", "duration",
               (f"本月完成“{zh}”环节的投诉，从{from_zh}到完成的用时的{stat[0]}：{how_zh}；{unit_zh}。",
                f"For complaints that completed '{en}' in the month, the {stat[1]} of the time from {from_en} to "
                f"completion: {how_en}; {unit_en}."),
               (f"“{zh}”完成时间在本月", f"The time '{en}' was done falls in the month"), stage=stage,
               )(duration)


_duration_metric("acknowledge", "受理通知", "acknowledge")
_duration_metric("first_contact", "首次联系", "first contact")
_duration_metric("resolve", "处理", "resolve")
_duration_metric("close", "结案", "close")


@metric("callback_rate", "回访率", "Callback rate", "rate",
        ("本月结案的投诉中，有回访（登记表“回访时间”，或回访记录中联系上客户的一次回访）的比例。"
         "放弃回访（按“设置”的次数未接通）算已尝试、未联系上，不算有回访。",
         "Of the complaints closed in the month, the share with a callback (the Register's 'Called back', or a "
         "callback that reached the customer on the Callbacks sheet). A callback given up (the Settings' number of "
         "unreachable attempts) counts as attempted, not reached: not called back."),
        CLOSED)
def callback_rate(ix: CaseIndex, m: Month) -> float | None:
    cases = ix.closed(m)
    return rate(sum(1 for c in cases if c.done_at("callback") is not None), len(cases))


@metric("callback_on_time_rate", "回访及时率", "Callback on-time rate", "rate",
        ("“回访”环节的及时率：定义同处理及时率，只计回访环节。回访时限从处理完成时间（没有时用答复时间）起算，不从受理起算；"
         "放弃回访的不计。",
         "The on-time rate of the callback stage alone (same definition as the on-time rate). The callback limit "
         "counts from the resolution (or the reply when no resolution time is known), not from receipt; callbacks "
         "given up are left out."),
        ("回访时限在本月", "The callback's due time falls in the month"), stage="callback")
def callback_on_time_rate(ix: CaseIndex, m: Month) -> float | None:
    met, missed = ix.stage_tally(m, "callback")
    return rate(met, met + missed)


@metric("satisfaction_rate", "满意率", "Satisfaction rate", "rate",
        ("本月联系上客户的回访中，结果为“满意”的比例；同一投诉本月回访多次只计最后一次，未联系上的不计；无效投诉的回访不计。",
         "Of the callbacks in the month that reached the customer, the share 'satisfied'; a complaint called back "
         "more than once in the month counts by its last callback; unreachable attempts are left out, and so are "
         "the callbacks of invalid complaints."),
        ("回访时间在本月", "Time of the callback falls in the month"))
def satisfaction_rate(ix: CaseIndex, m: Month) -> float | None:
    outcomes = list(map(_SECOND, ix.callbacks(m)))
    return rate(outcomes.count("satisfied"), len(outcomes))


@metric("average_score", "平均评分", "Average score", "score",
        ("上述回访（需处理投诉每宗本月最后一次联系上的回访，不含无效投诉）中填写了评分的，评分（1–10）的平均值。",
         "The mean score (1–10) of those callbacks (each complaint's last reached callback in the month, invalid "
         "complaints left out) that have a score."),
        ("回访时间在本月", "Time of the callback falls in the month"))
def average_score(ix: CaseIndex, m: Month) -> float | None:
    scores = [s for _, _, s in ix.callbacks(m) if s is not None]
    return statistics.fmean(scores) if scores else None


@metric("reopen_rate", "重开率", "Reopen rate", "rate",
        ("本月结案的投诉中，曾重新处理（回访“不满意”或处理跟踪中“重新处理”）至少一次的比例。",
         "Of the complaints closed in the month, the share reopened at least once (an unsatisfied callback or a "
         "'reopened' step on the Tracking sheet)."),
        CLOSED)
def reopen_rate(ix: CaseIndex, m: Month) -> float | None:
    cases = ix.closed(m)
    return rate(sum(1 for c in cases if c.reopen_count > 0), len(cases))


@metric("repeat_rate", "重复投诉率", "Repeat-complaint rate", "rate",
        ("本月受理的需处理投诉中，重复投诉的比例：同一客户（按电话判定，没有电话时按姓名）、同一投诉类别，在“设置”的判定期（默认30天）内再次投诉；"
         "先在各网点自己的登记中判定，汇总多个网点时不同网点之间也判定（按后一宗投诉所在网点的判定期；电话已打码时姓名也须相同）。",
         "Of the complaints to handle received in the month, the share that repeat an earlier one: same customer "
         "(matched on the phone number, on the name only when there is no phone), same category, within the Settings window (30 days by default); judged within each "
         "branch's register, and across branches when several are consolidated (by the window of the later complaint's "
         "branch; where phone numbers are masked, the names must match too)."),
        RECEIVED)
def repeat_rate(ix: CaseIndex, m: Month) -> float | None:
    cases = _handled(ix, m)
    return rate(sum(1 for c in cases if c.repeat_of), len(cases))
