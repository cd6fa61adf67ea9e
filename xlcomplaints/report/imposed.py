"""The office lists in a monthly report: each breakdown's values in the office's order, and a head
office's lists (``--policy`` with ``[lists]``) imposed on every branch's complaints: over the merged cases
(``impose``, the Python engine) or over the facts store's ``cases`` table (``impose_on_store``), both through
``relabelling``, which applies the rule once per value met, not per complaint.

A branch's value that head office's list names (by its code, a name or an alias, or the branch
entry's) is counted under head office's entry; one it does not name is counted under the branch's
own name, never dropped, and listed on the Issues sheet with how many complaints carry it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import duckdb

from xlcomplaints.core.lists import BUILT_IN, BY_KEY, LIST_NOT_ON, OfficeLists, merged, relabel
from xlcomplaints.core.metrics import Case
from xlcomplaints.core.problems import Level, Problem
from xlcomplaints.report.merging import Consolidation
from xlcomplaints.report.summary import DIMENSIONS
from xlcomplaints.spec.vocab import Vocabulary
from xlcomplaints.store.lists_sql import put_on, value_counts

#: The breakdowns an office list drives (the Case field is the list's key).
LISTED = tuple(dim for dim, _ in DIMENSIONS if dim in BY_KEY)
_FIELDS = tuple(k for k in ("category", "case_type", "channel", "department", "handler") if k in BY_KEY)


#: (branch, list, a value its complaints carry) → the value counted instead (head office's code, or the
#: branch entry's name when head office's list does not name it).
Changes = dict[tuple[str, str, str], str]
#: (branch, list, value counted) → how many complaints carry a value head office's list does not name.
Missing = Counter[tuple[str, str, str]]


def imposed_keys(imposed: OfficeLists) -> tuple[str, ...]:
    """The ``Case`` fields head office's lists replace the branches' lists of."""
    return tuple(k for k in _FIELDS if k in imposed.given)


def relabelling(counts: Iterable[tuple[str, str, str, int]], merged_: Consolidation, imposed: OfficeLists,
                ) -> tuple[Changes, Missing]:
    """The one place ``core.lists.relabel`` is applied, whichever engine counts: each (branch, list, value)
    the merged complaints carry, with how many carry it, put on head office's list; what changes, and what
    head office's list does not name. The Python engine counts its cases (``impose``), the store its
    ``cases`` table (``impose_on_store``): a few values per branch and list either way."""
    changes: Changes = {}
    missing: Missing = Counter()
    for branch, key, value, n in counts:
        f = merged_.branches.get(branch)
        own = f.lists if f is not None else BUILT_IN
        code, on = relabel(value, own.get(key), imposed.get(key))
        if code is not None and code != value:
            changes[(branch, key, value)] = code
        if not on and code is not None:
            missing[(branch, key, code)] += n
    return changes, missing


def relabelled(case: Case, changes: Changes, keys: Sequence[str]) -> Case:
    """``case`` with its values of ``keys`` as ``changes`` has them (the same case if none changes)."""
    new: dict[str, Any] = {k: code for k in keys if (code := changes.get((case.branch, k, getattr(case, k)))) is not None}
    return case._replace(**new) if new else case


def impose(merged_: Consolidation, imposed: OfficeLists) -> None:
    """Put the merged cases on head office's lists, and say which branch values are not on them."""
    keys = imposed_keys(imposed)
    if not keys:
        return
    counts = Counter((c.branch, k, v) for c in merged_.cases for k in keys if (v := getattr(c, k)) is not None)
    changes, missing = relabelling(((*kv, n) for kv, n in counts.items()), merged_, imposed)
    merged_.cases = [relabelled(c, changes, keys) for c in merged_.cases]
    merged_.issues += _not_on(merged_, missing)


def impose_on_store(con: duckdb.DuckDBPyConnection, merged_: Consolidation, imposed: OfficeLists,
                    ) -> Callable[[Case], Case]:
    """``impose`` over the facts store's ``cases`` table (``store.lists_sql``), the merged branches' rules
    across branches applied first, as ``impose`` comes after ``merge``; the warnings go on ``merged_.issues``.
    What a ``Case`` read back from its partition (a printed list's row) becomes, as the table has it."""
    keys = imposed_keys(imposed)
    if not keys:
        return lambda c: c
    changes, missing = relabelling(value_counts(con, keys), merged_, imposed)
    put_on(con, changes)
    merged_.issues += _not_on(merged_, missing)
    return lambda c: relabelled(c, changes, keys)


def _not_on(merged_: Consolidation, missing: Missing) -> list[Problem]:
    """A warning per branch value head office's list does not name, with how many complaints carry it."""
    out = []
    for (branch, key, value), n in sorted(missing.items()):
        f = merged_.branches.get(branch)
        lst = BY_KEY[key]
        out.append(Problem(level=Level.WARNING, code=LIST_NOT_ON, file=f.name if f else None, value=value,
                           params={"branch": branch, "list": lst.zh, "list_en": lst.en.lower(), "value": value,
                                   "count": n}))
    return out


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
