"""The built add-in: ribbon XML names the three buttons; its VBA (read with olevba) runs pddbatch.excel."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from defusedxml import ElementTree
from oletools.olevba import VBA_Parser

import pddbatch.excel as px
from pddbatch.cli.addin import addin
from pddbatch.excel.addin import build_addin, template_path
from pddbatch.excel.ovba import compress, decompress

NS = "{http://schemas.microsoft.com/office/2006/01/customui}"


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_addin(tmp_path_factory.mktemp("addin") / "pddbatch.xlam")


def test_ribbon_names_the_three_buttons(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        root = ElementTree.fromstring(z.read("customUI/customUI.xml"))
        assert z.testzip() is None
    tab = root.find(f".//{NS}tab")
    assert tab is not None and tab.get("label") == "拼多多发货"
    buttons = {b.get("label"): b for b in root.iter(f"{NS}button")}
    assert list(buttons) == ["校验", "处理发货", "对账"]
    tags = {label: b.get("tag") for label, b in buttons.items()}
    assert tags == {"校验": "validate_book", "处理发货": "process_book", "对账": "reconcile_book"}
    assert all(callable(getattr(px, t)) for t in tags.values())
    assert {b.get("onAction") for b in buttons.values()} == {"RibbonMyAddin.RunMain"}


def test_vba_runs_the_pddbatch_functions_and_keeps_xlwings(xlam: Path) -> None:
    parser = VBA_Parser(str(xlam))
    modules = {name: code for _f, _s, name, code in parser.extract_macros()}
    parser.close()
    ribbon = modules["RibbonMyAddin.bas"]
    assert "Sub RunMain(control As IRibbonControl)" in ribbon
    assert 'RunPython "import xlwings as xw, pddbatch.excel as px; px." & control.Tag & ' \
           '"(xw.Book.caller())"' in ribbon
    assert "Public Function RunPython(PythonCommand As String)" in modules["xlwings.bas"]


def test_everything_else_is_the_xlwings_template(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as built, zipfile.ZipFile(template_path()) as tpl:
        assert built.namelist() == tpl.namelist()
        changed = [n for n in tpl.namelist() if built.read(n) != tpl.read(n)]
    assert sorted(changed) == ["customUI/customUI.xml", "xl/vbaProject.bin"]


def test_ovba_compression_round_trips() -> None:
    for data in (b"", b"Sub A()\r\nEnd Sub\r\n" * 300, os.urandom(5000), b"abcabcabcabcx"):
        assert decompress(compress(data)) == data


def test_cli_build_writes_the_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(addin, ["build", "--out", str(tmp_path / "a.xlam")])
    assert result.exit_code == 0 and (tmp_path / "a.xlam").is_file()
    bad = CliRunner().invoke(addin, ["build", "--out", str(tmp_path / "a.zip")])
    assert bad.exit_code == 2 and ".xlam" in bad.output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux refusal is tested on Linux")
def test_cli_install_refuses_plainly_on_linux() -> None:
    result = CliRunner().invoke(addin, ["install"])
    assert result.exit_code == 2
    assert "只能在装有 Excel 的 Windows 或 macOS 上安装" in result.output and "Traceback" not in result.output


def test_xlwings_lite_script_calls_the_same_three_functions() -> None:
    import ast

    root = Path(__file__).resolve().parents[2] / "xlwings_lite"
    tree = ast.parse((root / "main.py").read_text(encoding="utf-8"))
    calls = {f.name: [ast.unparse(c.func) for stmt in f.body for c in ast.walk(stmt) if isinstance(c, ast.Call)]
             for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert calls == {"validate": ["px.validate_book"], "process": ["px.process_book"],
                     "reconcile": ["px.reconcile_book"]}
    assert "pddbatch" in (root / "requirements.txt").read_text(encoding="utf-8").split()
