#!/usr/bin/env bash
# The one-file install for an office PC: build the wheel, install it into a fresh venv (not
# editable, outside the source tree) and run the demo and --version from it.
# Usage: bash scripts/check_wheel.sh [PYTHON]   (CI runs it after the tests; about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" -m pip install -q build
"$py" -m build --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/xlcomplaints-*.whl)
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$wheel"
cd "$work"   # away from the source tree, so only the installed wheel can be imported
"$work/venv/bin/xlcomplaints" --version
"$work/venv/bin/xlcomplaints" demo "$work/demo" >"$work/demo.log" 2>&1 || { cat "$work/demo.log"; exit 1; }
test -s "$work/demo/BJ01.xlsx" && ls "$work"/demo/*月报*.xlsx >/dev/null
# The templates and VBA sources ship inside the wheel (excel new needs them).
"$work/venv/bin/xlcomplaints" excel new "$work/bj01.xlsm" --branch-code BJ01 >/dev/null
echo "wheel $(basename "$wheel"): installs, --version and demo run from it"
