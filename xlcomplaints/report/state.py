"""The consolidation's memory of a month, so a branch can be re-run without re-reading the rest.

``consolidate ... -o group.xlsx`` also writes ``group.state.json.gz``: per branch code, the
facts and problems its file gave, with the file's name and time. ``--update`` loads it,
lets the branches in the new run replace theirs and keeps the others, then writes both
again. JSON (not pickle), so a state file found on a shared drive is data, never code.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from xlcomplaints.core.metrics import Case, Month, StageFact
from xlcomplaints.core.problems import Problem
from xlcomplaints.report.consolidate import Consolidation, FileSummary

FORMAT = "xlcomplaints.consolidation-state"
#: ASCII escapes and no cycle check: measured the quickest way to write 100,000 cases.
_ENCODER = json.JSONEncoder(ensure_ascii=True, check_circular=False, separators=(",", ":"))
VERSION = 1


class StateError(ValueError):
    """The state file is missing, damaged, or for another month."""


def state_path(output: str | Path) -> Path:
    p = Path(output)
    return p.with_name(f"{p.stem}.state.json.gz")


EPOCH = datetime(2000, 1, 1)
SECOND = timedelta(seconds=1)


def _t(value: datetime | None) -> int | None:
    """Times as whole seconds since 2000-01-01 (local wall time): compact and quick both ways."""
    return (value - EPOCH) // SECOND if value is not None else None


def _dt(value: int | None) -> datetime | None:
    return EPOCH + timedelta(seconds=value) if value is not None else None


_RECEIVED = Case._fields.index("received_at")


def _case_out(c: Case) -> list[Any]:
    row: list[Any] = list(c[:-2])
    row[_RECEIVED] = _t(c.received_at)
    row.append([None if s is None else [s.status, _t(s.due), _t(s.done_at), s.late_by, s.unit, s.took]
                for s in c.stages])
    row.append([[_t(at), outcome, score] for at, outcome, score in c.callbacks])
    return row


def _case_in(row: list[Any]) -> Case:
    *head, stages, calls = row
    head[_RECEIVED] = _dt(head[_RECEIVED])
    facts = tuple(None if s is None else StageFact(s[0], _dt(s[1]), _dt(s[2]), s[3], s[4], s[5]) for s in stages)
    return Case(*head, facts, tuple((_dt(at), outcome, score) for at, outcome, score in calls))  # type: ignore[arg-type]


def save_state(path: Path, result: Consolidation) -> None:
    doc = {
        "format": FORMAT, "version": VERSION, "month": str(result.month),
        "as_of": result.as_of.isoformat(timespec="seconds"),
        "contacts_shown": result.contacts_shown,
        "branches": [
            {"branch": code, "branch_name": f.branch_name, "path": f.path, "mtime": f.mtime,
             "problems": [p.model_dump(mode="json") for p in f.problems],
             "cases": [_case_out(c) for c in f.cases]}
            for code, f in sorted(result.branches.items())
        ],
    }
    blob = _ENCODER.encode(doc).encode()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(gzip.compress(blob, compresslevel=1))
    tmp.replace(path)


def load_state(path: Path, month: Month) -> tuple[list[FileSummary], datetime, bool]:
    """The branches of a previous run of ``month``: (summaries, as-of time, contacts shown)."""
    try:
        doc = json.loads(gzip.decompress(path.read_bytes()))
    except FileNotFoundError:
        raise StateError(f"{path.name}: not found") from None
    except (OSError, EOFError, ValueError) as e:
        raise StateError(f"{path.name}: {e}") from e
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise StateError(f"{path.name}: not a state file this version can read")
    if doc.get("month") != str(month):
        raise StateError(f"{path.name}: holds {doc.get('month')}, not {month}")
    try:
        out = [FileSummary(b["path"], b["mtime"], b["branch"], b["branch_name"],
                           tuple(_case_in(r) for r in b["cases"]),
                           tuple(Problem.model_validate(p) for p in b["problems"]))
               for b in doc["branches"]]
        return out, datetime.fromisoformat(doc["as_of"]), bool(doc["contacts_shown"])
    except (KeyError, TypeError, ValueError, IndexError) as e:  # edited by hand, or cut short
        raise StateError(f"{path.name}: damaged ({type(e).__name__}: {e})") from e
