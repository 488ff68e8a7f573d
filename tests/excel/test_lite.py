"""`pddbatch addin lite`: the wheel for xlwings Lite and its requirements.txt, opened and checked."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata
import io
import zipfile
from pathlib import Path

from click.testing import CliRunner

import pddbatch
from pddbatch.cli import main as cli
from pddbatch.excel.lite import PINNED, REQUIRES, pins, wheel_name
from tests.support import ROOT

# Desktop-only dependencies that must not reach the browser (the CJK font wheel alone is ~30 MB).
DESKTOP_ONLY = {"justmytype-intl-cjk", "pillow", "python-calamine", "fonttools", "xlsxwriter", "openpyxl",
                "olefile", "click", "jinja2", "defusedxml"}


def _lite(out: Path, *args: str) -> str:
    res = CliRunner().invoke(cli, ["addin", "lite", "--out", str(out), *args])
    assert res.exit_code == 0, res.output
    return res.output


def _metadata(wheel: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(f"pddbatch-{pddbatch.__version__}.dist-info/METADATA").decode()
    return [(k, v) for k, _, v in (line.partition(": ") for line in text.splitlines() if line)]


def test_wheel_requires_only_what_validation_needs(tmp_path: Path) -> None:
    out = _lite(tmp_path)
    wheel = tmp_path / wheel_name()
    assert wheel.is_file() and str(wheel) in out
    meta = _metadata(wheel)
    assert ("Name", "pddbatch") in meta and ("Version", pddbatch.__version__) in meta
    requires = [v for k, v in meta if k == "Requires-Dist"]
    assert requires == list(REQUIRES)
    names = {r.split(">")[0].split("=")[0].lower() for r in requires}
    assert names == {"xlwings", "jsonschema", "fastjsonschema"} and not names & DESKTOP_ONLY


def test_wheel_is_complete_and_its_record_matches(tmp_path: Path) -> None:
    _lite(tmp_path)
    with zipfile.ZipFile(tmp_path / wheel_name()) as zf:
        names = set(zf.namelist())
        # the package, its data (mapped from schemas/ and templates/ in a checkout), nothing compiled
        for need in ("pddbatch/__init__.py", "pddbatch/excel/buttons.py", "pddbatch/validate.py",
                     "pddbatch/schemas/order.schema.json", "pddbatch/schemas/columns.json",
                     "pddbatch/templates/label-100x180.json", "pddbatch/py.typed"):
            assert need in names, need
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
        info = f"pddbatch-{pddbatch.__version__}.dist-info"
        wheel_txt = zf.read(f"{info}/WHEEL").decode()
        assert "Root-Is-Purelib: true" in wheel_txt and "Tag: py3-none-any" in wheel_txt
        record = list(csv.reader(io.StringIO(zf.read(f"{info}/RECORD").decode())))
        assert {r[0] for r in record} == names
        for name, digest, size in record:
            if name.endswith("RECORD"):
                assert digest == size == ""
                continue
            data = zf.read(name)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={want}" and int(size) == len(data), name
        # the same source as the installed package, byte for byte
        src = Path(pddbatch.__file__).parent
        assert zf.read("pddbatch/validate.py") == (src / "validate.py").read_bytes()


def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    _lite(tmp_path / "a")
    _lite(tmp_path / "b")
    assert (tmp_path / "a" / wheel_name()).read_bytes() == (tmp_path / "b" / wheel_name()).read_bytes()


def test_requirements_pin_every_package_and_name_the_wheel(tmp_path: Path) -> None:
    _lite(tmp_path)
    lines = [ln for ln in (tmp_path / "requirements.txt").read_text(encoding="utf-8").splitlines()
             if ln and not ln.startswith("#")]
    assert lines[-1] == wheel_name()
    pinned = dict(ln.split("==") for ln in lines[:-1])
    assert pinned == pins()
    assert pinned["xlwings"] == importlib.metadata.version("xlwings")
    assert pinned["fastjsonschema"] == importlib.metadata.version("fastjsonschema")
    assert pinned["jsonschema"] == PINNED["jsonschema"] == "4.17.3"     # the last one without rpds-py
    assert not {k.lower() for k in pinned} & DESKTOP_ONLY


def test_url_option_puts_the_hosted_address_in_requirements(tmp_path: Path) -> None:
    out = _lite(tmp_path, "--url", "https://example.com/shop/")
    url = f"https://example.com/shop/{wheel_name()}"
    assert (tmp_path / "requirements.txt").read_text(encoding="utf-8").splitlines()[-1] == url
    assert url in out


def test_committed_requirements_match_the_build() -> None:
    """xlwings_lite/requirements.txt (for readers of the repository) lists the packages the build pins."""
    text = (ROOT / "xlwings_lite" / "requirements.txt").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    pinned = dict(ln.split("==") for ln in lines if "==" in ln)
    assert set(pinned) == set(pins())
    assert {k: pinned[k] for k in PINNED} == PINNED
    assert all(ln.endswith(".whl") for ln in lines if "==" not in ln)
