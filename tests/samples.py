"""Branch workbooks from records, and seeded synthetic branches, for tests and the benchmark.

Tests state their data as models and need a real .xlsx on disk that the reader then
reads like any branch file; the benchmark needs hundreds of realistic ones. Both go
through the template builder, so the files are exactly what ``xlcomplaints new`` makes.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from xlcomplaints.core.models import (
    BranchData,
    CallbackAttempt,
    Complaint,
    Record,
    Settings,
    TrackingStep,
)
from xlcomplaints.core.policy import DONE_FIELD
from xlcomplaints.spec import branch as B
from xlcomplaints.spec.model import ColType, SheetSpec
from xlcomplaints.templates.build import build_branch_workbook


def _cell(value: Any, col_type: ColType, vocab: Any, lang: str) -> Any:
    if value is None:
        return None
    if col_type is ColType.BOOL:
        return ("是" if value else "否") if lang == "zh" else ("Yes" if value else "No")
    if vocab is not None:
        return vocab.label(value, lang)
    return value


def sheet_rows(spec: SheetSpec, records: Sequence[Record], lang: str) -> list[list[Any]]:
    """Records as rows in the spec's column order (labels for choices, blanks for computed)."""
    rows = []
    for rec in records:
        values = {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec)}
        rows.append([None if c.computed else _cell(values.get(c.key), c.type, c.vocab, lang) for c in spec.columns])
    return rows


def write_branch(path: str | Path, data: BranchData, *, lang: str = "zh") -> Path:
    """A branch workbook holding ``data`` (settings, register, tracking, callbacks, calendar)."""
    path = Path(path)
    rows = {
        "register": sheet_rows(B.REGISTER, data.complaints, lang),
        "tracking": sheet_rows(B.TRACKING, data.tracking, lang),
        "callbacks": sheet_rows(B.CALLBACKS, data.callbacks, lang),
        "calendar": sheet_rows(B.CALENDAR, data.calendar, lang),
    }
    build_branch_workbook(path, lang=lang, settings=data.settings, rows=rows, created=None)
    return path


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
_DEPARTMENTS = ("客服部", "工程部", "保安部", "保洁部", "财务部", "销售部", "配送部")
_HANDLERS = ("赵敏", "钱伟", "孙丽", "李强", "周洋", "吴静")
_CONTENT = ("电梯故障多次报修未解决", "收费与合同不符", "快递延误三天", "工作人员态度差",
            "产品有异味", "公共区域卫生差", "门禁系统损坏", "账单重复扣费")


def _pick(rng: random.Random, weighted: dict[str, float]) -> str:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def synthetic_branch(code: str, n: int, *, end: datetime, months: int = 6, seed: int = 0,
                     name: str = "") -> BranchData:
    """``n`` complaints received over the ``months`` before ``end``, handled as offices do.

    Most are handled on time, some late, recent ones still open; a tenth get an unreachable
    first callback, a tenth of the reached ones are unsatisfied. Seeded: same input, same data.
    """
    rng = random.Random(f"{code}-{seed}")
    start = end - timedelta(days=30 * months)
    span = (end - start).total_seconds()
    complaints: list[Complaint] = []
    tracking: list[TrackingStep] = []
    callbacks: list[CallbackAttempt] = []
    for i in range(n):
        received = start + timedelta(seconds=rng.random() * span)
        received = received.replace(hour=rng.randint(8, 19), minute=rng.randint(0, 59), second=0, microsecond=0)
        phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"
        customer = rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(("", *_GIVEN))
        category: str | None = _pick(rng, {"quality": 0.25, "attitude": 0.15, "delay": 0.2, "billing": 0.1,
                                           "facilities": 0.15, "environment": 0.1, "safety": 0.03, "other": 0.02})
        if complaints and rng.random() < 0.03:  # the same customer again about the same thing, soon after
            earlier = rng.choice(complaints[-20:])
            phone, customer, category = earlier.phone or phone, earlier.customer or customer, earlier.category
            assert earlier.received_at is not None
            received = min(earlier.received_at + timedelta(days=rng.uniform(1, 20)),
                           end - timedelta(hours=1)).replace(second=0, microsecond=0)
        no = f"{code}-{received:%y%m}{i + 1:04d}"
        severity = _pick(rng, {"general": 0.7, "important": 0.2, "major": 0.1})
        validity = _pick(rng, {"valid": 0.8, "assist": 0.1, "invalid": 0.1})
        complexity = _pick(rng, {"simple": 0.7, "complex": 0.3})
        dept = rng.choice(_DEPARTMENTS)
        handler = rng.choice(_HANDLERS)
        late = rng.random() < 0.15

        def after(t: datetime, lo_h: float, hi_h: float, *, late: bool = late) -> datetime:
            hours = rng.uniform(lo_h, hi_h) * (2.5 if late else 1.0)
            return (t + timedelta(hours=hours)).replace(second=0, microsecond=0)

        times: dict[str, datetime | None] = dict.fromkeys(DONE_FIELD.values())
        if validity != "invalid":
            times["acknowledged_at"] = after(received, 0.2, 20)
            times["first_contact_at"] = after(received, 0.1, 1.8)
            if severity == "major":
                times["reported_at"] = after(received, 1, 20)
            start_at, reopened = received, False
            for attempt in range(2):  # an unsatisfied customer gets the case handled once more
                resolved = after(start_at, 4, 70)
                if resolved >= end:
                    break
                times["resolved_at"] = resolved
                times["replied_at"] = after(resolved, 0.5, 6, late=False)
                cb = after(resolved, 4, 60)
                if cb < end and rng.random() < 0.1:
                    callbacks.append(CallbackAttempt(no=no, at=cb, method="phone", caller=handler,
                                                     outcome="unreachable"))
                    cb = after(cb, 20, 30, late=False)
                if cb >= end:
                    break
                happy = attempt == 1 or rng.random() < 0.9
                callbacks.append(CallbackAttempt(
                    no=no, at=cb, method=rng.choice(("phone", "sms", "wechat")), caller=handler,
                    outcome="satisfied" if happy else "unsatisfied",
                    score=rng.randint(7, 10) if happy else rng.randint(1, 5)))
                times["callback_at"] = cb
                if not happy:
                    start_at = after(cb, 0.5, 4, late=False)
                    if start_at >= end:
                        break
                    tracking.append(TrackingStep(no=no, at=start_at, step="reopened", handler=handler))
                    reopened = True
                    continue
                times["closed_at"] = after(cb, 0.5, 30, late=False)
                break
            if times["resolved_at"] is not None and not reopened:  # (the validator compares with the first one)
                tracking.append(TrackingStep(no=no, at=times["resolved_at"], step="resolved", handler=handler))
            times = {k: (t if t is not None and t < end else None) for k, t in times.items()}
            assigned = after(received, 0.1, 1, late=False)
            if assigned < end:
                tracking.append(TrackingStep(no=no, at=assigned, step="assigned", to_department=dept,
                                             handler=handler))
        complaints.append(Complaint(
            row=i + 2, no=no, received_at=received, case_type=_pick(rng, {"complaint": 0.7, "repair": 0.15, "inquiry": 0.1,
                                                               "suggestion": 0.05}),
            channel=_pick(rng, {"phone": 0.5, "visit": 0.15, "online": 0.15, "social": 0.1, "transfer": 0.05,
                                "email": 0.05}),
            customer=customer, phone=phone,
            location=f"{rng.randint(1, 30)}栋{rng.randint(1, 30)}0{rng.randint(1, 4)}",
            category=category,
            severity=severity, validity=validity, complexity=complexity, escalated=rng.random() < 0.05,
            content=rng.choice(_CONTENT), department=dept, handler=handler, **cast("dict[str, Any]", times),
        ))
    settings = Settings(branch_code=code, branch_name=name or code, language="zh")
    return BranchData(settings=settings, complaints=tuple(complaints), tracking=tuple(tracking),
                      callbacks=tuple(callbacks))
