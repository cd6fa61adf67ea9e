"""Render a workbook to PNG pages (LibreOffice → PDF → pdftoppm), to look at what users see.

    python scripts/render.py FILE.xlsx [OUTDIR] [--sheet 逾期清单] [--dpi 70]

Writes OUTDIR/<stem>-<page>.png. With --sheet, only the pages whose printed header
names that sheet (branch templates print the sheet title top left, reports "<title> · <sheet>").
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path


def render(path: Path, outdir: Path, dpi: int = 70, sheet: str | None = None) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
             "--convert-to", "pdf", "--outdir", str(outdir), str(path)],
            check=True, capture_output=True, timeout=300,
        )
    pdf = outdir / (path.stem + ".pdf")
    pages = [None]
    if sheet:
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout.split("\f")
        # branch templates print the sheet title top left; reports print "<report title> · <sheet>"
        pages = [i for i, page in enumerate(text, start=1)
                 if (head := (page.strip().splitlines() or [""])[0].split("  ")[0].strip()) == sheet
                 or head.startswith(sheet) or head.endswith(f"· {sheet}")]
    out: list[Path] = []
    for page in pages:
        span = ["-f", str(page), "-l", str(page)] if page else []
        prefix = outdir / (path.stem + (f"-{sheet}" if sheet else ""))
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), *span, str(pdf), str(prefix)], check=True)
    out = sorted(outdir.glob(f"{path.stem}{'-' + sheet if sheet else ''}-*.png"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("outdir", type=Path, nargs="?", default=Path("out/render"))
    parser.add_argument("--sheet")
    parser.add_argument("--dpi", type=int, default=70)
    args = parser.parse_args()
    for page in render(args.file, args.outdir, args.dpi, args.sheet):
        print(page)


if __name__ == "__main__":
    main()
