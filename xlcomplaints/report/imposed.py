"""The office lists in a monthly report: each breakdown's values in the office's order, and a head
office's lists (``--policy`` with ``[lists]``) imposed on every branch's complaints.

A branch's value that head office's list names (by its code, a name or an alias, or the branch
entry's) is counted under head office's entry; one it does not name is counted under the branch's
own name, never dropped, and listed on the Issues sheet with how many complaints carry it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from xlcomplaints.core.lists import BUILT_IN, BY_KEY, LIST_NOT_ON, OfficeLists, merged, relabel
from xlcomplaints.core.problems import Level, Problem
from xlcomplaints.report.consolidate import Consolidation
from xlcomplaints.report.summary import DIMENSIONS
from xlcomplaints.spec.vocab import Vocabulary

#: The breakdowns an office list drives (the Case field is the list's key).
LISTED = tuple(dim for dim, _ in DIMENSIONS if dim in BY_KEY)
_FIELDS = tuple(k for k in ("category", "case_type", "channel", "department", "handler") if k in BY_KEY)


def impose(merged_: Consolidation, imposed: OfficeLists) -> None:
    """Put the merged cases on head office's lists, and say which branch values are not on them."""
    keys = [k for k in _FIELDS if k in imposed.given]
    if not keys:
        return
    missing: Counter[tuple[str, str, str]] = Counter()
    cases = []
    for case in merged_.cases:
        f = merged_.branches.get(case.branch)
        own = f.lists if f is not None else BUILT_IN
        changes: dict[str, Any] = {}
        for k in keys:
            value = getattr(case, k)
            code, on = relabel(value, own.get(k), imposed.get(k))
            if code != value:
                changes[k] = code
            if not on and code is not None:
                missing[(case.branch, k, code)] += 1
        cases.append(case._replace(**changes) if changes else case)
    merged_.cases = cases
    for (branch, key, value), n in sorted(missing.items()):
        f = merged_.branches.get(branch)
        lst = BY_KEY[key]
        merged_.issues.append(Problem(level=Level.WARNING, code=LIST_NOT_ON, file=f.name if f else None, value=value,
                                      params={"branch": branch, "list": lst.zh, "list_en": lst.en.lower(),
                                              "value": value, "count": n}))


def dimensions(merged_: Consolidation, imposed: OfficeLists | None = None,
               ) -> tuple[tuple[str, Vocabulary | None], ...]:
    """The report's breakdowns, each listed one in the office's order: head office's list where it
    imposes one, else the branches' lists merged (the first branch's order, then others' entries)."""
    branch_lists = [merged_.branches[code].lists for code in sorted(merged_.branches)]
    out = []
    for dim, vocab in DIMENSIONS:
        if dim in LISTED:
            vocab = imposed.get(dim) if imposed is not None and dim in imposed.given else merged(branch_lists, dim)
        out.append((dim, vocab))
    return tuple(out)
