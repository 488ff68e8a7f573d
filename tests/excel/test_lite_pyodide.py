"""The xlwings Lite script's 校验 in Pyodide under Node, offline, with only the wheels `addin lite` pins.

What xlwings Lite does in the browser, minus the browser: Pyodide 0.27.7 (the npm package, Python
3.12; xlwings Lite moved to Pyodide 0.27 in 2025) loads from disk, network refused; the wheels named
by the requirements.txt `pddbatch addin lite` writes are downloaded from the package index with pip
(pure-Python `any` wheels only, dependencies resolved) and unzipped into Pyodide's site-packages;
xlwings_lite/main.py runs through xlwings' own script dispatcher (`custom_scripts_call`, with
`XLWINGS_ON_SERVER=true` as xlwings' server/Lite runtime sets it) on an `xw.Book(json=payload)`.
The actions it returns must equal what the same script produces on this machine's CPython.

Needs `npm install --prefix tests/tools/pyodide` (skipped without it) and the package index.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import xlwings as xw

import pddbatch.excel as px
from pddbatch.excel.lite import build, wheel_name
from pddbatch.workbook.marks import note_text
from tests.excel.payload import payload_from_xlsx
from tests.excel.test_excel_book import _expected_errors
from tests.support import ROOT, SAMPLE, generator, sample_rows

TOOL = ROOT / "tests" / "tools" / "pyodide"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None or not (TOOL / "node_modules" / "pyodide" / "pyodide.asm.wasm").is_file(),
    reason="Pyodide test tool not installed: npm install --prefix tests/tools/pyodide")

# Runs inside Pyodide; /work is the run's folder (payload.json, main.py), results go to /work/out/.
DRIVER = """
import json, os, sys, time
os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
os.environ["XLWINGS_ON_SERVER"] = "true"
import xlwings as xw
from xlwings.pro.udfs_officejs import custom_scripts_call
import main

assert sys.platform == "emscripten"
started = time.perf_counter()
book = xw.Book(json=json.load(open("payload.json", encoding="utf-8")))
book = await custom_scripts_call(main, "validate", typehint_to_value={xw.Book: book})
seconds = time.perf_counter() - started
heavy = sorted(m for m in ("PIL", "python_calamine", "openpyxl", "xlsxwriter", "fontTools", "click",
                           "justmytype", "rpds") if m in sys.modules)
with open("out/result.json", "w", encoding="utf-8") as f:
    json.dump({"actions": book.json()["actions"], "seconds": seconds, "heavy": heavy}, f, ensure_ascii=False)
"""


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheels xlwings Lite would install from `addin lite`'s requirements.txt, fetched with pip."""
    out = tmp_path_factory.mktemp("lite")
    made = build(out)
    dest = out / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                    "--only-binary", ":all:", "--platform", "any", "--python-version", "3.12",
                    "--implementation", "py", "--abi", "none", "-r", made.requirements.name, "-d", str(dest)],
                   cwd=out, check=True, capture_output=True)
    got = {p.name.split("-")[0].lower().replace("_", "-") for p in dest.glob("*.whl")}
    # dependencies resolved by pip: nothing beyond what requirements.txt pins, all of it pure Python
    assert got == set(made.pins) | {"pddbatch"}
    assert len(list(dest.iterdir())) == len(got)
    assert (dest / wheel_name()).read_bytes() == made.wheel.read_bytes()
    return dest


def _in_pyodide(wheels: Path, payload: dict[str, Any], work: Path) -> dict[str, Any]:
    work.mkdir()
    (work / "payload.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    shutil.copy(ROOT / "xlwings_lite" / "main.py", work / "main.py")
    (work / "driver.py").write_text(DRIVER, encoding="utf-8")
    res = subprocess.run([NODE or "node", str(TOOL / "run.mjs"), str(wheels), str(work), "driver.py"],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    result: dict[str, Any] = json.loads((work / "out" / "result.json").read_text(encoding="utf-8"))
    result["timing"] = json.loads((work / "out" / "timing.json").read_text(encoding="utf-8"))
    return result


def _on_cpython(payload: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    book = xw.Book(json=payload)
    result = px.validate_book(book)
    assert result is not None
    acts: list[dict[str, Any]] = book.json()["actions"]
    return acts, result.rejected


def _funcs(acts: list[dict[str, Any]], func: str) -> list[dict[str, Any]]:
    return [a for a in acts if a["func"] == func]


def _check(acts: list[dict[str, Any]], rows: int, rejected: int, errors: dict[str, str]) -> None:
    (alert,) = _funcs(acts, "alert")
    assert alert["args"][0].startswith(f"校验完成：共 {rows} 行，通过 {rows - rejected} 行，有问题 {rejected} 行。")
    assert alert["args"][1] == "拼多多发货"
    assert {a["args"][0]: a["args"][1] for a in _funcs(acts, "addNote")} == \
        {cell: note_text(message) for cell, message in errors.items()}
    adds = {a["args"][1]: a["args"][0] for a in _funcs(acts, "addSheet")}
    assert list(adds) == ["问题清单", "_pddbatch"]
    issues = [r for a in _funcs(acts, "setValues") if a["sheet_position"] == adds["问题清单"] for r in a["values"]]
    assert issues[0] == ["工作表", "单元格", "行号", "字段", "代码", "说明"]
    assert {f"{r[1]}" for r in issues[1:] if r[4] and r[1]} >= {c.replace("$", "") for c in errors}
    statuses = [v[0] for a in _funcs(acts, "setValues") if a["sheet_position"] == 0 for v in a["values"]]
    assert statuses.count("校验失败") == rejected and statuses.count("校验通过") == rows - rejected


@pytest.mark.slow
def test_lite_validate_320_rows_in_pyodide(wheels: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)             # the book is "orders.xlsx" with nothing beside it, as in a browser
    payload = payload_from_xlsx(SAMPLE / "orders.xlsx", "orders.xlsx")
    got = _in_pyodide(wheels, payload, tmp_path / "run")
    assert got["timing"]["pyodide"] == "0.27.7" and got["timing"]["python"].startswith("3.12.")
    assert got["heavy"] == []               # 校验 pulled in none of the desktop-only packages
    acts = got["actions"]
    _check(acts, 320, 12, _expected_errors(SAMPLE / "orders.xlsx"))
    assert acts == _on_cpython(payload)[0]


@pytest.mark.slow
def test_lite_validate_10000_rows_in_pyodide(wheels: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rows = sample_rows(10_000)
    for r in rows[::7]:
        r["手机"] = "12345"                  # ~1,400 bad phone cells spread over the sheet
    generator.write_xlsx(rows, tmp_path / "orders.xlsx")
    payload = payload_from_xlsx(tmp_path / "orders.xlsx", "orders.xlsx")
    got = _in_pyodide(wheels, payload, tmp_path / "run")
    acts = got["actions"]
    errors = _expected_errors(tmp_path / "orders.xlsx")
    assert len(errors) >= 1400
    host, rejected = _on_cpython(payload)
    assert rejected >= 1400
    _check(acts, 10_000, rejected, errors)
    assert acts == host
    print(f"pyodide: load {got['timing']['load_ms']} ms, validate 10,000 rows {got['seconds']:.1f} s")
