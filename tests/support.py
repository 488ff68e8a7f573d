"""Helpers shared by the tests (import them as `tests.support`; pyproject puts the project root on sys.path)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pddbatch_sample_generate", SAMPLE / "generate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


generator = _load_generator()


def sample_rows(rows: int = 320, seed: int = 2026, faults: bool = True) -> list[dict[str, Any]]:
    data = list(generator.iter_orders(rows, seed))
    if faults:
        generator.plant_faults(data)
    return data


def set_cell_text(path: Path, ref: str, text: str, sheet_part: str = "xl/worksheets/sheet1.xml") -> None:
    """Do what a seller typing in Excel does: replace one cell's value with text, keeping its style.

    A deliberately small zip rewrite for tests (the cell must exist in the sheet XML).
    """
    import re
    import zipfile
    from xml.sax.saxutils import escape

    with zipfile.ZipFile(path) as zin:
        items = [(i, zin.read(i.filename)) for i in zin.infolist()]
    out = path.with_suffix(".tmp")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            if info.filename == sheet_part:
                xml = data.decode("utf-8")
                pat = re.compile(r'<c\b([^>]*?\br="' + ref + r'"[^>]*?)(/>|>.*?</c>)', re.S)
                m = pat.search(xml)
                assert m, f"cell {ref} not in {sheet_part}"
                attrs = re.sub(r'\s+t="[^"]*"', "", " " + m.group(1).strip()).rstrip("/")
                cell = f'<c{attrs} t="inlineStr"><is><t>{escape(text)}</t></is></c>'
                data = (xml[:m.start()] + cell + xml[m.end():]).encode("utf-8")
            zout.writestr(info, data)
    out.replace(path)


def soffice_convert(path: Path, outdir: Path, fmt: str = "csv") -> Path:
    """Convert with LibreOffice headless; raises if it fails. A second, independent reader."""
    import shutil
    import subprocess

    exe = shutil.which("soffice") or shutil.which("libreoffice")
    target_fmt = 'csv:Text - txt - csv (StarCalc):44,34,76,1' if fmt == "csv" else fmt
    assert exe, "LibreOffice (soffice) is required: .ci/run installs libreoffice-calc-nogui"
    profile = outdir / "lo-profile"
    proc = subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", target_fmt,
                           "--outdir", str(outdir), str(path)], capture_output=True, text=True, timeout=180)
    target = outdir / (path.stem + "." + fmt)
    assert proc.returncode == 0 and target.exists(), proc.stderr + proc.stdout
    return target
