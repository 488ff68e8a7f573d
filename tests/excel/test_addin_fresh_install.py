"""`pip install .` (no test extras) then `pddbatch addin build` and `addin install` work in a fresh venv."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from pddbatch.excel.addin import interpreter_of

ROOT = Path(__file__).resolve().parents[2]


def test_addin_builds_and_installs_from_a_plain_install(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    pip = subprocess.run([str(py), "-m", "pip", "install", "-q", str(ROOT)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-2000:]
    # no test extras: oletools (and pytest) must be absent for the check to mean anything
    probe = subprocess.run([str(py), "-c", "import importlib.util as u; print(u.find_spec('oletools') is None)"],
                           capture_output=True, text=True)
    assert probe.stdout.strip() == "True"
    exe = env_dir / "bin" / "pddbatch"
    built = subprocess.run([str(exe), "addin", "build", "--out", str(tmp_path / "pddbatch.xlam")],
                           capture_output=True, text=True, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert interpreter_of(tmp_path / "pddbatch.xlam") == str(py)
    installed = subprocess.run([str(exe), "addin", "install", "--dir", str(tmp_path / "XLSTART")],
                               capture_output=True, text=True, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / "XLSTART" / "pddbatch.xlam").is_file()
    assert "Traceback" not in built.stderr + installed.stderr
    assert sys.executable != str(py)
