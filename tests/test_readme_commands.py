"""The README read as a newcomer: every `xlcomplaints …` command it shows runs as written.

Commands are taken from the README itself (code blocks and inline code), so an example that drifts
from the command line fails here. Skipped: lines with placeholders (FILE, OUT.xlsx, […], …, a Dask
scheduler's HOST), which are syntax summaries, not commands. They run in a folder holding what the
README assumes is there: the demo's branch workbooks as `bj01.xlsx` and `branches/`.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import head_office

README = Path(__file__).resolve().parents[1] / "README.md"
PLACEHOLDER = re.compile(r"…|\[|\bFILE\b|\bOUT\b|OUT\.|IN\.|DIR\b|DIR_OR|EARLIER|\bN\b|\bHOST\b")


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    found: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            for part in line.split("&&"):
                part = part.split("  #")[0].strip()
                if part.startswith("xlcomplaints "):
                    found.append(part)
        else:
            found += [m for m in re.findall(r"`(xlcomplaints [^`]*)`", line)]
    return [c for c in dict.fromkeys(found) if not PLACEHOLDER.search(c)]


def test_the_readme_shows_the_daily_commands() -> None:
    shown = {shlex.split(c)[1] for c in readme_commands()}
    assert {"demo", "new", "validate", "assign-ids", "refresh", "report", "consolidate", "excel"} <= shown


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return head_office(tmp_path_factory.mktemp("office"), "demo-output")


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_runs(command: str, office: Path) -> None:
    args = shlex.split(command)[1:]
    if args[0] == "new":  # `new` refuses to overwrite: make it in a folder of its own
        args = [*args, "--force"]
    if args[:2] == ["excel", "new"]:
        args = [*args, "--force"]
    if args[0] in ("validate", "refresh", "assign-ids", "report", "upgrade") and not (office / "bj01.xlsx").exists():
        shutil.copy(office / "demo-output" / "BJ01.xlsx", office / "bj01.xlsx")
    out = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", *args], cwd=office, capture_output=True,
                         text=True, timeout=300)
    # validate exits 1 when it finds problems (the demo has a few on purpose); anything else is a failure
    allowed = (0, 1) if args[0] == "validate" else (0,)
    assert out.returncode in allowed, (command, out.stdout[-2000:], out.stderr[-2000:])
    assert "Traceback" not in out.stderr


def test_readme_python_example_runs(office: Path, tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]  # not the Dask one
    shutil.copytree(office / "branches", tmp_path / "branches")
    out = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "bj01-2026-10.xlsx").exists() and (tmp_path / "group-2026-10.xlsx").exists()
