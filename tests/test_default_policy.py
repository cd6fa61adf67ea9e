"""The default SLA policy is one coherent policy a property-management office could adopt.

No stage falls due before the stage it follows (the reply not before the investigation it
reports on, the callback counted from the resolution, the close not before the callback),
hours are office hours, and every rule cites the seed procedure it comes from. Other
industries' rules are presets: policy files shipped as data, each loadable.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import product
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xlcomplaints.core.calendar import Unit, WorkCalendar
from xlcomplaints.core.models import Complaint, PolicyRule
from xlcomplaints.core.policy import (
    BEFORE_HANDLING,
    DEFAULT_RULES,
    FOLLOWS,
    default_policy,
    rule_for,
)
from xlcomplaints.policy_file import load_preset, preset_path, presets
from xlcomplaints.spec import vocab as v

ROOT = Path(__file__).resolve().parent.parent
SEED_DIRS = [ROOT.parent / "shared" / "seeds", ROOT.parent.parent / "shared" / "seeds"]
SEEDS = next((d for d in SEED_DIRS if d.is_dir()), None)
CAL = WorkCalendar("CN")  # the Settings' default office hours, 09:00–18:00
RULES = default_policy()
KINDS = list(product((None, *v.SEVERITY.codes), (None, *v.COMPLEXITY.codes), (None, *v.CATEGORY.codes)))


def _due(rule: PolicyRule | None, anchor: datetime) -> datetime | None:
    if rule is None:
        return None
    return CAL.add(anchor, rule.amount or 0, Unit(rule.unit)).at


def _latest_on_time(c: Complaint, received: datetime) -> dict[str, datetime | None]:
    """Each stage's due time when every stage before it was done at the last on-time moment.

    The callback counts from the resolution, or from the reply when no resolution time is
    known: the later of the two is the latest it can fall due."""
    dues = {s: _due(rule_for(s, c, RULES), received)
            for s in ("acknowledge", "first_contact", "report", "resolve", "reply", "close")}
    anchors = [t for t in (dues["resolve"], dues["reply"]) if t is not None]
    callback = rule_for("callback", c, RULES)
    dues["callback"] = max((d for a in anchors if (d := _due(callback, a)) is not None), default=None)
    return dues


@settings(max_examples=150, deadline=None)
@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 20)))
@example(datetime(2026, 9, 30, 17, 30))  # the eve of the National Day holiday
@example(datetime(2026, 10, 1, 10, 0))  # during it
@example(datetime(2026, 10, 9, 18, 30))  # Friday evening before the make-up Saturday 10-10
@example(datetime(2026, 2, 13, 23, 59))  # the Friday before the Spring Festival
@example(datetime(2026, 2, 14, 9, 0))  # a make-up Saturday
@example(datetime(2026, 12, 31, 17, 0))  # into 2027, not yet published: statutory holidays only
def test_no_stage_falls_due_before_the_stage_it_follows(received: datetime) -> None:
    for severity, complexity, category in KINDS:
        c = Complaint(received_at=received, severity=severity, complexity=complexity, category=category,
                      validity="valid")
        dues = _latest_on_time(c, received)
        for later, earlier in FOLLOWS:
            if dues[later] is not None and dues[earlier] is not None:
                assert dues[later] >= dues[earlier], (severity, complexity, category, later, earlier, dues)
        for stage in BEFORE_HANDLING:
            if dues[stage] is not None:
                assert dues[stage] <= dues["resolve"], (severity, complexity, category, stage, dues)


def test_every_stage_has_a_limit_for_every_kind_of_complaint() -> None:
    """A policy with a hole would leave some complaints without a deadline for a stage."""
    for severity, complexity, category in KINDS:
        c = Complaint(severity=severity, complexity=complexity, category=category, validity="valid")
        for stage in ("acknowledge", "first_contact", "resolve", "reply", "callback", "close"):
            assert rule_for(stage, c, RULES) is not None, (stage, severity, complexity, category)
        assert (rule_for("report", c, RULES) is not None) == (severity in ("important", "major"))


def test_hours_are_office_hours_not_the_clock_through_nights_and_weekends() -> None:
    assert {r.unit for r in DEFAULT_RULES} <= {"working_hours", "working_days"}
    # A valid complaint received on Friday evening: the supervisor contacts the owner by
    # Monday 11:00 (2 office hours from Monday 09:00), not by Friday 20:00.
    friday_evening = datetime(2026, 11, 6, 18, 0)
    c = Complaint(received_at=friday_evening, validity="valid")
    assert _due(rule_for("first_contact", c, RULES), friday_evening) == datetime(2026, 11, 9, 11, 0)


def test_a_received_case_is_due_in_the_order_an_office_handles_it() -> None:
    """Received Wednesday 2026-09-30 10:00, before the National Day holiday (10-01..07 off,
    Saturday 10-10 a make-up working day); working days counted from 10-08:
    acknowledgement 24 office hours → 09-30 8 h, 10-08 9 h, 10-09 7 h = 10-09 16:00;
    resolve 3 working days → 10-08, 10-09, 10-10 → 10-10 23:59:59;
    reply 4 → 10-11 is Sunday, so 10-12; close (simple) 7 → 10-08, 09, 10, 12, 13, 14, 15 → 10-15."""
    received = datetime(2026, 9, 30, 10, 0)
    dues = _latest_on_time(Complaint(received_at=received, validity="valid"), received)
    end = timedelta(hours=23, minutes=59, seconds=59)
    assert dues["acknowledge"] == datetime(2026, 10, 9, 16, 0)
    assert dues["resolve"] == datetime(2026, 10, 10) + end
    assert dues["reply"] == datetime(2026, 10, 12) + end
    assert dues["callback"] == datetime(2026, 10, 15) + end  # 3 working days from the reply's due
    assert dues["close"] == datetime(2026, 10, 15) + end


@pytest.mark.parametrize("rule", DEFAULT_RULES, ids=lambda r: f"{r.stage}-{r.severity or r.complexity or 'all'}")
def test_each_default_rule_cites_an_existing_seed_and_its_words(rule) -> None:
    assert re.fullmatch(r"00[0-4]", rule.seed)
    assert rule.source_zh.startswith(f"种子{rule.seed}") and rule.source_en.startswith(f"Seed {rule.seed}")
    if SEEDS is None:
        pytest.skip("the seed procedures (shared/seeds) are not next to this checkout")
    (path,) = SEEDS.glob(f"{rule.seed}_*.txt")
    text = re.sub(r"\s+", "", path.read_text(encoding="utf-8"))
    assert rule.quote in text


def test_presets_are_data_each_loadable() -> None:
    names = presets()
    assert {"retail", "insurer", "manufacturer", "dealer"} <= set(names)
    for name in names:  # a preset whose seed gives no limits has none (its file says so; tests/test_office_lists.py)
        rules = load_preset(name)
        assert all(r.stage and r.amount is not None and r.unit for r in rules)
        assert all(re.match(r"种子00[0-4] ", r.source or "") for r in rules), name
    assert all(load_preset(name) for name in ("retail", "insurer", "manufacturer", "dealer"))
    retail = {(r.stage, r.severity): (r.amount, r.unit) for r in load_preset("retail")}
    assert retail[("reply", "general")] == (2, "calendar_days")
    assert {(r.stage, r.amount, r.unit) for r in load_preset("insurer")} == {("close", 9, "calendar_days")}


def test_an_unknown_preset_names_the_presets() -> None:
    with pytest.raises(ValueError, match="retail"):
        preset_path("bakery")


def test_a_preset_is_what_refresh_policy_reads(branch) -> None:
    """The insurer's rule, applied to a branch through ``--policy``: a case received on
    Monday 10-26 must be closed by the end of 11-04, 9 calendar days later."""
    from xlcomplaints.api import refresh

    path = branch(register=[{"received_at": "2026-10-26 10:00", "channel": "电话", "customer": "张三",
                             "category": "其他", "severity": "一般", "validity": "有效", "content": "x"}])
    result = refresh(path, now=datetime(2026, 11, 2, 9), policy=preset_path("insurer"))
    assert result.plan is not None
    assert result.plan.register.get(2, "close_due") == datetime(2026, 11, 4, 23, 59, 59)
    assert result.plan.register.get(2, "resolve_due") is None  # the preset replaces the whole table
