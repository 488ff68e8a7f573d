"""An installed pddbatch carries every subpackage, schema and template (not only the editable checkout)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support import ROOT


def test_every_subpackage_is_listed_in_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    listed = set(re.findall(r'"(pddbatch(?:\.\w+)*)"', text.split("[tool.setuptools]")[1].split("[tool.setuptools.package-dir]")[0]))
    on_disk = {"pddbatch." + p.parent.name for p in (ROOT / "pddbatch").glob("*/__init__.py")}
    assert on_disk <= listed, on_disk - listed


def test_wheel_holds_code_schemas_and_templates(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("pddbatch-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for schema in (ROOT / "schemas").glob("*.json"):
        assert f"pddbatch/schemas/{schema.name}" in names
    for tpl in (ROOT / "templates").iterdir():
        if tpl.is_file() and tpl.suffix != ".py":
            assert f"pddbatch/templates/{tpl.name}" in names
    for module in (ROOT / "pddbatch").rglob("*.py"):
        assert module.relative_to(ROOT).as_posix() in names
