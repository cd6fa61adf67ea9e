#!/usr/bin/env bash
# Run the test suite in .venv (created here if the README's first command has not made it).
# LibreOffice tests run when `soffice` is on PATH (Debian: libreoffice-calc-nogui) and skip otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "scripts/test.sh: installs xlcomplaints with its test extras into .venv, then ruff, mypy and pytest" \
     "(about 2 minutes on 2 cores; the LibreOffice tests skip without soffice)." >&2
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q -e '.[test]'
# Lint, then the package's type hints (it ships py.typed; settings in pyproject.toml), then the tests.
.venv/bin/python -m ruff check --quiet .
.venv/bin/python -m mypy
exec .venv/bin/python -m pytest "$@"
