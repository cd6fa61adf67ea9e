"""Render a workbook to PNG pages (LibreOffice → PDF → pdftoppm), to look at what users see.

    python scripts/render.py FILE.xlsx [OUTDIR]   → OUTDIR/<stem>-<page>.png
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path


def render(path: Path, outdir: Path, dpi: int = 70) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
             "--convert-to", "pdf", "--outdir", str(outdir), str(path)],
            check=True, capture_output=True, timeout=300,
        )
    pdf = outdir / (path.stem + ".pdf")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(outdir / path.stem)], check=True)
    return sorted(outdir.glob(f"{path.stem}-*.png"))


if __name__ == "__main__":
    src = Path(sys.argv[1])
    for page in render(src, Path(sys.argv[2]) if len(sys.argv) > 2 else Path("out/render")):
        print(page)
