"""The first hour on an office PC: what a newcomer types before anything else works."""

from __future__ import annotations

import subprocess
import sys

from xlcomplaints import __version__
from xlcomplaints.spec import BRANCH_TEMPLATE_VERSION, REPORT_TEMPLATE_VERSION


def test_version_names_the_package_and_the_template_versions_it_writes() -> None:
    """Support asks "which version?" first: one line with the package and both template versions."""
    out = subprocess.run([sys.executable, "-m", "xlcomplaints.cli", "--version"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0
    line = out.stdout.strip()
    assert "\n" not in line
    assert __version__ in line and BRANCH_TEMPLATE_VERSION in line and REPORT_TEMPLATE_VERSION in line
