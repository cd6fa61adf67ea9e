"""Benchmark: how a consolidation grows with the number of branches (issue 22's scale table).

    python scripts/bench_scale.py [--work DIR] [--branches 50 200 800 2000] [--complaints 500] [--workers N]

Makes once (cached in ``--base``, ``bench_report.generate``'s folder by default) 200 real branch workbooks of
``--complaints`` complaints. A set of N branches repeats them under distinct branch codes: branch j is
base file j mod 200 with its code ``BR0001`` replaced by ``S{j:05d}`` (same length) in
``xl/sharedStrings.xml``, the one part that holds it: the Settings sheet's branch code (what a
consolidation files a branch under, ``report.consolidate.read_file``) and every complaint number
(``S00001-2610...``: the numbers must differ too, or ``_count_once`` keeps a number once across branches).
The variants are made once per code (``--work``/variants, timed apart, never inside a run) and each set
is a folder of hard links to them (``--work``/set-N).

Each N runs ``xlcomplaints consolidate SET -o OUT --month 2026-10 --now "2026-11-22 09:00"`` (the CLI,
in a subprocess, its default worker pool unless ``--workers``), and the process tree is sampled every
``--interval`` seconds with psutil (it comes with the ``distributed`` extra): each process's peak is its
``VmHWM`` (the kernel's high-water mark of its resident memory, exact up to the last sample before it
ends). Per N: wall time, CPU of all processes (user + system of the CLI and every child it waited for:
``RUSAGE_CHILDREN`` before and after), the main process's peak, the largest peak of any single process
(the main one or a worker) and of any worker alone, the store's size on disk, the complaints and branches the store holds (its
manifest's partitions: the check that every copy counted as its own branch), and µs of wall and CPU per complaint.
Prints a Markdown table. Needs about 0.14 MB of disk per variant (N = 2,000: 270 MB; 20,000: 2.7 GB).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import generate  # noqa: E402

BASE = 200
SHARED = "xl/sharedStrings.xml"
MONTH, NOW = "2026-10", "2026-11-22 09:00"


def code_of(j: int) -> str:
    """The j-th (from 1) branch code of a set: six characters, as ``BR0001``."""
    return f"S{j:05d}"


def variant(source: Path, old: str, new: str, target: Path) -> None:
    """``source`` with the branch code ``old`` made ``new`` wherever the workbook holds it (its shared
    strings), written to ``target`` (every other part copied as it is)."""
    tmp = target.with_name(target.name + ".part")
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == SHARED:
                if old.encode() not in data:
                    raise SystemExit(f"{source}: {old} is not in {SHARED}")
                data = data.replace(old.encode(), new.encode())
            zout.writestr(info, data, compress_type=info.compress_type)
    tmp.replace(target)


def make_set(work: Path, base: list[Path], n: int, complaints: int) -> tuple[Path, float, int]:
    """The folder of ``n`` branches under distinct codes; the seconds and count of variants made now."""
    variants = work / "variants"
    variants.mkdir(parents=True, exist_ok=True)
    folder = work / f"set-{n}"
    folder.mkdir(exist_ok=True)
    started, made = time.perf_counter(), 0
    for j in range(1, n + 1):
        code = code_of(j)
        v = variants / f"{code}-{complaints}.xlsx"
        if not v.exists():
            variant(base[(j - 1) % len(base)], f"BR{(j - 1) % len(base) + 1:04d}", code, v)
            made += 1
        link = folder / v.name
        if not link.exists():
            os.link(v, link)
    for stale in folder.iterdir():  # a set is exactly its n files
        if stale.name > f"{code_of(n)}-{complaints}.xlsx":
            stale.unlink()
    return folder, time.perf_counter() - started, made


def _hwm_kib(p: psutil.Process) -> int:
    """The process's peak resident memory so far (VmHWM), else its resident memory now."""
    try:
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return p.memory_info().rss // 1024


@dataclass
class Run:
    n: int
    wall: float
    cpu: float
    main_mib: float
    largest_mib: float
    worker_mib: float
    processes: int
    store_mib: float
    complaints: int
    branches: int


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("xlcomplaints")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from xlcomplaints.cli import main; main()"]


@dataclass
class Sampled:
    """A subprocess run to its end, its process tree sampled (``sample``)."""

    pid: int
    returncode: int
    wall: float
    cpu: float  # user + system of its whole tree (RUSAGE_CHILDREN before and after, orphans adopted)
    peaks_kib: dict[int, int]  # each process's VmHWM, by pid
    err: str

    @property
    def main_mib(self) -> float:
        return self.peaks_kib.get(self.pid, 0) / 1024

    @property
    def largest_mib(self) -> float:
        return max(self.peaks_kib.values(), default=0) / 1024

    @property
    def worker_mib(self) -> float:
        return max((kib for pid, kib in self.peaks_kib.items() if pid != self.pid), default=0) / 1024


def adopt_orphans() -> None:
    """Make this process the reaper of its descendants whose parent ends first (Linux's child subreaper), so that
    their CPU reaches ``RUSAGE_CHILDREN`` here. A consolidation's workers are a forkserver's children, not the
    command's (``report/pool.py``), and the forkserver outlives the command by a moment: without this, the CPU of
    every worker was lost from the figures (a full run of 1,000,000 complaints measured 28 s of CPU, not ~150)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap_orphans(within: float = 30.0) -> None:
    """Wait (at most ``within`` seconds) for the descendants ``adopt_orphans`` gave this process, reaping each."""
    deadline = time.perf_counter() + within
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.perf_counter() > deadline:
                return
            time.sleep(0.02)


def sample(cmd: list[str], interval: float, env: dict[str, str] | None = None) -> Sampled:
    """Run ``cmd`` to its end, sampling every process of its tree's peak every ``interval`` seconds (psutil);
    on Ctrl-C the command and its workers are stopped too, not left running. The one sampler of the bench scripts.
    CPU counts every process of the tree, a forkserver's workers too (``adopt_orphans``)."""
    adopt_orphans()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    peaks: dict[int, int] = {}
    tree: list[psutil.Process] = []
    try:
        while proc.poll() is None:
            with contextlib.suppress(psutil.NoSuchProcess):
                tree = [root, *root.children(recursive=True)]
            for p in tree:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
                    peaks[p.pid] = max(peaks.get(p.pid, 0), _hwm_kib(p))
            time.sleep(interval)
    except BaseException:
        for p in reversed(tree):
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        raise
    wall = time.perf_counter() - started
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Sampled(proc.pid, proc.returncode, wall, cpu, peaks, err)


def run(folder: Path, n: int, out_dir: Path, workers: int | None, interval: float) -> Run:
    output = out_dir / f"group-{n}.xlsx"
    cmd = [*_cli(), "consolidate", str(folder), "-o", str(output), "--month", MONTH, "--now", NOW]
    if workers:
        cmd += ["--workers", str(workers)]
    ran = sample(cmd, interval)
    if ran.returncode != 0:
        raise SystemExit(f"consolidate of {n} branches failed ({ran.returncode}):\n{ran.err[-3000:]}")
    store = output.with_name(f"{output.stem}.facts")
    files = [f for f in store.rglob("*") if f.is_file()]
    manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    parts = manifest.get("partitions", [])  # one per branch and period, its rows the branch's complaints
    rows, branches = sum(p["rows"] for p in parts), len({p["branch"] for p in parts})
    return Run(n, ran.wall, ran.cpu, ran.main_mib, ran.largest_mib, ran.worker_mib, len(ran.peaks_kib),
               sum(f.stat().st_size for f in files) / 2**20, rows, branches)


def table(runs: list[Run], complaints: int) -> str:
    lines = ["| branches | complaints | wall | CPU (all processes) | main peak | largest process peak | "
             "largest worker | processes seen | store | µs wall / complaint | µs CPU / complaint |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        total = r.n * complaints
        lines.append(f"| {r.n:,} | {total:,} | {r.wall:.1f} s | {r.cpu:.1f} s | {r.main_mib:.0f} MiB | "
                     f"{r.largest_mib:.0f} MiB | {r.worker_mib:.0f} MiB | {r.processes} | {r.store_mib:.1f} MiB | "
                     f"{r.wall / total * 1e6:.0f} | {r.cpu / total * 1e6:.0f} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "xlcomplaints-bench-scale")
    ap.add_argument("--base", type=Path, default=Path(tempfile.gettempdir()) / "xlcomplaints-bench-report",
                    help="the 200 base workbooks (bench_report.py's cache, made there when missing)")
    ap.add_argument("--branches", type=int, nargs="+", default=[50, 200, 800, 2000])
    ap.add_argument("--complaints", type=int, default=500)
    ap.add_argument("--workers", type=int, default=None, help="default: the CLI's own pool")
    ap.add_argument("--interval", type=float, default=0.05, help="seconds between samples of the process tree")
    args = ap.parse_args()
    base = generate(args.base, BASE, args.complaints)
    runs: list[Run] = []
    out_dir = Path(tempfile.mkdtemp(prefix="xlc-bench-scale-"))
    for n in args.branches:
        folder, seconds, made = make_set(args.work, base, n, args.complaints)
        if made:
            print(f"set of {n}: {made} variants made in {seconds:.1f} s ({seconds / made * 1e3:.0f} ms each; "
                  "not in the timing)", flush=True)
        r = run(folder, n, out_dir, args.workers, args.interval)
        if r.complaints != n * args.complaints or r.branches != n:
            print(f"WARNING: the store of {n} holds {r.complaints:,} complaints of {r.branches} branches, "
                  f"not {n * args.complaints:,} of {n}", flush=True)
        print(f"  {n} branches: {r.wall:.1f} s, main {r.main_mib:.0f} MiB, largest {r.largest_mib:.0f} MiB",
              flush=True)
        runs.append(r)
        for f in out_dir.iterdir():  # the next set's disk
            shutil.rmtree(f) if f.is_dir() else f.unlink()
    out_dir.rmdir()
    print(table(runs, args.complaints))
    return 0


if __name__ == "__main__":
    sys.exit(main())
