"""The policy's rules as the deadline engine counts with them: each stage's rule for a kind of complaint
(:class:`RuleBook`), prepared once per rule (:class:`Limit`), and which stages a pause or a reopening moves.

Split from ``core.deadlines`` (which still exports RuleBook, Limit, PAUSABLE and RESTARTED) along its seam: what a
rule says, worked out once per branch, apart from the clocks that count with it. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from xlcomplaints.core.calendar import Unit
from xlcomplaints.core.models import Complaint, PolicyRule
from xlcomplaints.core.policy import STAGES, rule_for

UNITS: dict[str, Unit] = {u.value: u for u in Unit}  # a dict lookup, not an Enum call per stage
#: Units whose due time is the end of a day, so that cases received the same day share it.
DAY_UNITS = frozenset({Unit.CALENDAR_DAYS, Unit.WORKING_DAYS})
#: Stages whose clock stops while the case waits on the customer or is in cold handling.
PAUSABLE = frozenset({"resolve", "reply", "close"})
#: Stages a reopening starts again; acknowledgement, first contact and the report stay done.
RESTARTED = frozenset({"resolve", "reply", "callback", "close"})
#: Complaint fields a policy rule can narrow on (``PolicyRule.matches``).
MATCH_FIELDS = ("severity", "category", "channel", "complexity")

_STAGE_INDEX = {s: i for i, s in enumerate(STAGES)}


@dataclass(frozen=True, slots=True, eq=False)
class Limit:
    """A stage's rule as the engine counts with it, prepared once per rule of a ``RuleBook``.

    Compared and hashed by identity: one per rule, never a key by value.
    """

    stage: str
    rule: PolicyRule
    amount: float
    unit: Unit
    #: The due time is the end of a day set by the anchor's date alone (when nothing pauses the clock).
    by_day: bool
    #: The clock stops while the case waits on the customer or is in cold handling.
    pausable: bool
    #: Counts from the reopening in a reopened case (else from receipt; the callback from resolution).
    restarted: bool

    @classmethod
    def of(cls, stage: str, rule: PolicyRule) -> Limit:
        unit = UNITS[rule.unit]  # type: ignore[index]
        return cls(stage, rule, rule.amount or 0.0, unit, unit in DAY_UNITS, stage in PAUSABLE, stage in RESTARTED)


class RuleBook:
    """The policy's rules, looked up once per kind of complaint for all stages.

    A rule can narrow on four complaint fields, but a policy usually narrows only on
    severity and complexity: keyed on just the fields some rule narrows on, a branch's
    complaints come in a handful of kinds instead of hundreds.
    """

    def __init__(self, rules: Sequence[PolicyRule]) -> None:
        self.rules = tuple(rules)
        used = [f for f in MATCH_FIELDS if any(getattr(r, f) is not None for r in self.rules)]
        self._kind: Callable[[Complaint], object] = attrgetter(*used) if used else _same_kind
        self._kind_and_validity = attrgetter(*used, "validity")
        self._rules: dict[object, tuple[PolicyRule | None, ...]] = {}
        self._limits: dict[object, tuple[Limit | None, ...]] = {}
        self._limit_of: dict[int, Limit] = {}  # by id of the rule: one Limit per rule, whatever the kind

    def for_complaint(self, c: Complaint) -> tuple[PolicyRule | None, ...]:
        """The rule of each stage, in ``STAGES`` order (None: no rule applies)."""
        key = self._kind(c)
        found = self._rules.get(key)
        if found is None:
            found = self._rules[key] = tuple(rule_for(s, c, self.rules) for s in STAGES)
        return found

    def limits(self, c: Complaint) -> tuple[Limit | None, ...]:
        """The limit of each stage, in ``STAGES`` order; None where the stage has no rule or
        does not apply to the complaint (invalid complaints have no handling deadlines, and
        only valid ones a first contact)."""
        key = self._kind_and_validity(c)
        found = self._limits.get(key)
        if found is None:
            found = self._limits[key] = tuple(
                None if rule is None or not _applies(stage, c) else self._limit(stage, rule)
                for stage, rule in zip(STAGES, self.for_complaint(c), strict=True))
        return found

    def _limit(self, stage: str, rule: PolicyRule) -> Limit:
        found = self._limit_of.get(id(rule))
        if found is None:
            found = self._limit_of[id(rule)] = Limit.of(stage, rule)
        return found

    def get(self, stage: str, c: Complaint) -> PolicyRule | None:
        i = _STAGE_INDEX.get(stage)
        return rule_for(stage, c, self.rules) if i is None else self.for_complaint(c)[i]


def _same_kind(c: Complaint) -> object:
    """The kind of every complaint under a policy that narrows on nothing."""
    return ()


def _applies(stage: str, c: Complaint) -> bool:
    if c.validity == "invalid":
        return False
    return not (stage == "first_contact" and c.validity not in (None, "valid", "assist"))
