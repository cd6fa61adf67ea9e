"""Benchmark: a region's roll-up from its store, and a trend read from earlier periods' stores (issue 22).

    python scripts/bench_history.py --set /tmp/h22b-scale/set-200 --work /tmp/h23t-bench --base /tmp/h23t-base \
        [--reps 2] [--earlier 11]

``--base`` is a checkout of the code before (``git worktree add /tmp/h23t-base <commit>``); each job runs the CLI
once with it and once with this checkout, alternately, ``--reps`` times, in a subprocess whose code is chosen by
putting that checkout first on ``sys.path`` (the editable install's finder taken out; the pool's workers are forked
from it, so they run the same code). Measured as ``bench_scale`` measures: CPU of all processes (RUSAGE_CHILDREN),
the main process's peak (VmHWM, sampled) and the largest of any process; wall time is loose on a shared machine.

Jobs, over the set's branch workbooks (read-only) with every output under ``--work``:

- ``regions``: the set split in two regions (first half north, second half south), each consolidated once with this
  checkout; then head office consolidates ``north-2026-10.xlsx south-2026-10.xlsx``. Before: the regions' cases
  read back and the Python engine; after: their partitions queried where they lie (since h24c: copied into head
  office's store first, then queried there).
- ``regions-shown``: the same, the regions consolidated with ``--show-contacts`` and head office masking. Before
  (54233c8): the regions' cases read back, masked, and the Python engine; after (h24c): each partition masked as it
  is copied into head office's store, the report from the store.
- ``trend``: October of the whole set with a twelve-month trend. Before: ``--history`` given ``--earlier`` reports
  (copies of October's report: reading a report's sheets costs the same whatever its month); after: ``--earlier``
  stores found by name (October's store copied as ``group-2026-09.facts`` … with their manifests' periods set and
  digests made again, partitions hard-linked). And after with neither (``plain``): the run itself.
- ``months``: October with eleven earlier stores each made by a real consolidation of the set for its month
  (``--month 2025-11`` … ``2026-09``, ``--now`` the 22nd of the month after), once with each checkout
  (``--made DIR``: ``DIR/before`` with ``--base``, ``DIR/after`` with this one; made if missing, kept for the next
  run), October found by name beside them. Before: ``--base`` over its stores; after: this checkout over its own
  (the stores keep their period's figures: ``report.kept_figures``); ``fallback``: this checkout over the stores
  ``--base`` made (no figures kept: queried as before); and each checkout's October alone (``plain``, an empty
  folder: what keeping the figures costs the run itself). Then, as ``stores``, the earlier stores read alone by
  each checkout from its own folder (and this one from ``--base``'s: ``fallback``).
- ``stores``: the earlier stores alone, forged as ``trend`` forges them but from each checkout's own October (made
  once in ``stores-before``/``stores-after``, its run measured: the store's version is the checkout's): a process of
  each checkout (``--base`` first, then this one, alternately) finds them by name and reads them (``store_history.earlier_stores`` + ``with_stores``),
  nothing else; its CPU (``time.process_time``) and peak (VmHWM). ``--base`` is then the branch's code before
  (``git worktree add /tmp/h23t-base b52a8bc``: every earlier store checked, parsed, loaded and its cover made).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import sample  # noqa: E402

HERE = Path(__file__).resolve().parent.parent
MONTH, NOW = "2026-10", "2026-11-22 09:00"
_STORES = """
import json, sys, time
sys.meta_path = [f for f in sys.meta_path if 'editable' not in str(f)]
sys.path.insert(0, {root!r})
from pathlib import Path
from xlcomplaints.core.metrics import Period
from xlcomplaints.report.history import History
from xlcomplaints.report.store_history import earlier_stores, with_stores
period = Period.parse({month!r})
found = earlier_stores(Path({report!r}), period)
t = time.process_time()
got, _ = with_stores(History({{}}, {{}}, [], []), found, period)
cpu = time.process_time() - t
hwm = next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM'))
print(json.dumps([len(found), len(got.trend), len(got.covers), len(got.problems), cpu, hwm / 1024]))
"""
_LAUNCH = ("import sys; sys.meta_path = [f for f in sys.meta_path if 'editable' not in str(f)]; "
           "sys.path.insert(0, {root!r}); from xlcomplaints.cli import main; main()")


def cli(root: Path, *args: str, interval: float = 0.2) -> tuple[float, float, float, float]:
    """Run the CLI of the checkout ``root``: (wall s, CPU s of all processes, main peak MiB, largest peak MiB)."""
    cmd = [sys.executable, "-c", _LAUNCH.format(root=str(root)), *args]
    ran = sample(cmd, interval)
    if ran.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({ran.returncode}):\n{ran.err[-3000:]}")
    return ran.wall, ran.cpu, ran.main_mib, ran.largest_mib


def _consolidate(*inputs: str | Path, out: Path, extra: tuple[str, ...] = (), month: str = MONTH,
                 now: str = NOW) -> tuple[str, ...]:
    return ("consolidate", *map(str, inputs), "--month", month, "--now", now, "-o", str(out), *extra)


def made_earlier(root: Path, data: Path, folder: Path, n: int) -> None:
    """The ``n`` months before October consolidated from ``data`` by the checkout ``root`` into ``folder`` (each
    ``--now`` the 22nd of the month after it), those made already kept."""
    sys.path.insert(0, str(HERE))
    from xlcomplaints.core.metrics import Period

    folder.mkdir(parents=True, exist_ok=True)
    october = Period.parse(MONTH)
    for i in range(n, 0, -1):
        month = october.shift(-i)
        out = folder / f"group-{month}.xlsx"
        if not (out.with_suffix(".facts") / "manifest.json").is_file():
            cli(root, *_consolidate(data, out=out, month=str(month), now=f"{month.shift(1)}-22 09:00"))


def stores_alone(root: Path, report: Path) -> tuple[int, int, int, int, float, float]:
    """``with_stores`` over the stores found beside ``report`` by the checkout ``root``, in a process of its own:
    (stores found, trend rows, covers, warnings, CPU s, VmHWM MiB)."""
    code = _STORES.format(root=str(root), month=MONTH, report=str(report))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(x for x in reversed(out.stdout.splitlines()) if x.startswith("["))  # not DuckDB's progress bar
    n, trend, covers, problems, cpu, hwm = json.loads(line)
    return n, trend, covers, problems, cpu, hwm


def forge_earlier(store: Path, n: int) -> list[Path]:
    """``n`` copies of ``store`` as the stores of the periods before it (same name, earlier period), their
    partitions hard-linked, each manifest's period set and its digest made again (as a run would have); its kept
    figures (``report.kept_figures``), if any, put under the earlier period too: the same figures each time, to
    measure what reading them costs, not what they are (``months`` makes real ones)."""
    sys.path.insert(0, str(HERE))
    from xlcomplaints.core.metrics import Period
    from xlcomplaints.report.facts import _digest

    doc = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    period = Period.parse(doc["period"])
    made = []
    for i in range(1, n + 1):
        earlier = str(period.shift(-i))
        target = store.with_name(store.name.replace(doc["period"], earlier))
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(store, target, copy_function=os.link)
        (target / "manifest.json").unlink()
        body = {k: v for k, v in doc.items() if k != "digest"}
        body["period"] = earlier
        if body.get("figures"):  # the period's figures kept (store version 2): theirs, under the earlier period
            kept = json.loads((store / body["figures"]["file"]).read_text(encoding="utf-8"))
            data = json.dumps({**kept, "period": earlier}).encode()
            (target / body["figures"]["file"]).unlink()
            (target / body["figures"]["file"]).write_bytes(data)
            body["figures"] = {**body["figures"], "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        (target / "manifest.json").write_text(json.dumps({**body, "digest": _digest(body)}, ensure_ascii=False))
        made.append(target)
    return made


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--earlier", type=int, default=11)
    ap.add_argument("--jobs", nargs="+", default=["regions", "trend"],
                    choices=["regions", "regions-shown", "trend", "stores", "months"])
    ap.add_argument("--made", type=Path, help="months: where the earlier stores each checkout made are kept")
    a = ap.parse_args()
    files = sorted(a.set.glob("*.xlsx"))
    a.work.mkdir(parents=True, exist_ok=True)
    sides = {"before": a.base.resolve(), "after": HERE}
    rows: list[str] = []

    def measure(job: str, side: str, args: tuple[str, ...]) -> None:
        wall, cpu, main_mib, largest = cli(sides["after" if side == "plain" else side], *args)
        rows.append(f"| {job} | {side} | {wall:.1f} s | {cpu:.1f} s | {main_mib:.0f} MiB | {largest:.0f} MiB |")
        print(rows[-1], flush=True)

    for job in (j for j in ("regions", "regions-shown") if j in a.jobs):
        reg = a.work / job
        reg.mkdir(exist_ok=True)
        half = len(files) // 2
        north, south = reg / f"north-{MONTH}.xlsx", reg / f"south-{MONTH}.xlsx"
        shown = ("--show-contacts",) if job == "regions-shown" else ()
        for out, part in ((north, files[:half]), (south, files[half:])):
            if not out.exists():
                cli(HERE, *_consolidate(*part, out=out, extra=shown))
        for _ in range(a.reps):
            for side in ("before", "after"):
                measure(job, side, _consolidate(north, south, out=reg / f"ho-{side}.xlsx"))
    if "months" in a.jobs:
        made = a.made or a.work / "months"
        for side in ("before", "after"):
            made_earlier(sides[side], a.set, made / side, a.earlier)
        folders = {"before": a.work / "months-before", "after": a.work / "months-after",
                   "fallback": a.work / "months-fallback"}
        for side, folder in folders.items():  # the earlier stores hard-linked: October's is written beside them
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(made / ("before" if side == "fallback" else side), folder, copy_function=os.link,
                            ignore=shutil.ignore_patterns(f"*{MONTH}*", "log-*"))
        for side in ("before", "after"):
            (a.work / f"months-plain-{side}").mkdir(exist_ok=True)
        for _ in range(a.reps):
            for side, folder in folders.items():
                code = sides["before" if side == "before" else "after"]
                wall, cpu, main_mib, largest = cli(code, *_consolidate(a.set, out=folder / f"group-{MONTH}.xlsx"))
                rows.append(f"| months: October, {a.earlier} earlier stores | {side} | {wall:.1f} s | {cpu:.1f} s | "
                            f"{main_mib:.0f} MiB | {largest:.0f} MiB |")
                print(rows[-1], flush=True)
            for side in ("before", "after"):
                wall, cpu, main_mib, largest = cli(sides[side], *_consolidate(
                    a.set, out=a.work / f"months-plain-{side}" / f"group-{MONTH}.xlsx"))
                rows.append(f"| months: October alone | {side} (plain) | {wall:.1f} s | {cpu:.1f} s | "
                            f"{main_mib:.0f} MiB | {largest:.0f} MiB |")
                print(rows[-1], flush=True)
        for _ in range(a.reps):
            for side, folder in folders.items():
                n, trend, covers, problems, cpu, hwm = stores_alone(sides["before" if side == "before" else "after"],
                                                                    folder / f"group-{MONTH}.xlsx")
                rows.append(f"| months: earlier stores read alone ({n} found: {trend} trend rows, {covers} covers, "
                            f"{problems} warnings) | {side} | — | {cpu:.2f} s | {hwm:.0f} MiB | — |")
                print(rows[-1], flush=True)
    if "trend" in a.jobs:
        tr = a.work / "trend"
        tr.mkdir(exist_ok=True)
        october = tr / f"group-{MONTH}.xlsx"
        if not october.exists():
            cli(HERE, *_consolidate(a.set, out=october))
        forge_earlier(october.with_suffix(".facts"), a.earlier)
    if "stores" in a.jobs:  # each checkout's own October (its store's version), forged into earlier periods
        octobers = {side: a.work / f"stores-{side}" / f"group-{MONTH}.xlsx" for side in sides}
        for side, october in octobers.items():
            october.parent.mkdir(exist_ok=True)
            if not october.exists():
                measure("stores: October made", side, _consolidate(a.set, out=october))
            forge_earlier(october.with_suffix(".facts"), a.earlier)
        for _ in range(a.reps):
            for side in ("before", "after"):
                n, trend, covers, problems, cpu, hwm = stores_alone(sides[side], octobers[side])
                rows.append(f"| stores ({n} found: {trend} trend rows, {covers} covers, {problems} warnings) | {side} "
                            f"| — | {cpu:.2f} s | {hwm:.0f} MiB | — |")
                print(rows[-1], flush=True)
    if "trend" in a.jobs:
        reports = tr / "reports"
        reports.mkdir(exist_ok=True)
        given = [shutil.copy(october, reports / f"r{i:02d}.xlsx") for i in range(a.earlier)]
        hist = tuple(x for g in given for x in ("--history", str(g)))
        (tr / "before").mkdir(exist_ok=True)
        for _ in range(a.reps):
            measure("trend", "before", _consolidate(a.set, out=tr / "before" / f"g-{MONTH}.xlsx", extra=hist))
            measure("trend", "after", _consolidate(a.set, out=october))
            measure("trend", "plain", _consolidate(a.set, out=tr / "plain.xlsx"))
    print("\n| job | code | wall | CPU (all processes) | main peak | largest process |\n|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
