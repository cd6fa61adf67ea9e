#!/usr/bin/env bash
# Run the test suite in .venv (created here if the README's first command has not made it).
# LibreOffice tests run when `soffice` is on PATH (Debian: libreoffice-calc-nogui) and skip otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest "$@"
