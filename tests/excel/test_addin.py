"""The built add-in: ribbon XML valid and wired to VBA callbacks, a VBA project named pddbatch with
its interpreter configured and no stale compiled code (read back with olevba), install/uninstall."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xmlschema
from click.testing import CliRunner
from defusedxml import ElementTree
from oletools.olevba import VBA_Parser

import pddbatch.excel.buttons as buttons
from pddbatch.cli.addin import addin
from pddbatch.excel.addin import BUTTONS, RIBBON_REL_2006, build_addin, interpreter_of, template_path
from pddbatch.excel.vba import VbaProject, compress, decompress

NS = "{http://schemas.microsoft.com/office/2006/01/customui}"
XSD = Path(__file__).with_name("customui-subset.xsd")


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_addin(tmp_path_factory.mktemp("addin") / "pddbatch.xlam", interpreter=r"C:\Py\python.exe")


def _modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {name: code for _f, _s, name, code in parser.extract_macros()}
    finally:
        parser.close()


def test_ribbon_is_valid_and_every_button_reaches_a_function(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        assert z.testzip() is None
        ribbon = z.read("customUI/customUI.xml")
        rels = z.read("_rels/.rels").decode()
    xmlschema.XMLSchema(str(XSD)).validate(ribbon.decode("utf-8"))     # raises on any violation
    root = ElementTree.fromstring(ribbon)
    tab = root.find(f".//{NS}tab")
    assert tab is not None and tab.get("label") == "拼多多发货"
    found = [(b.get("label"), b.get("tag")) for b in root.iter(f"{NS}button")]
    assert found == [(label, func) for _id, label, func, _i, _t in BUTTONS]
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    for _label, func in found:
        assert callable(getattr(buttons, func)), func
    # the 2006 namespace goes with the 2006 relationship type, pointing at this part
    assert re.search(rf'Type="{re.escape(RIBBON_REL_2006)}" Target="customUI/customUI.xml"', rels)
    assert "2007/relationships/ui" not in rels
    # each onAction callback is a Sub of that name in the VBA
    modules = _modules(xlam)
    for action in {b.get("onAction") for b in root.iter(f"{NS}button")}:
        module, sub = action.split(".")
        assert re.search(rf"(?m)^Sub {sub}\(control As IRibbonControl\)", modules[f"{module}.bas"])


def test_an_invalid_ribbon_is_caught_by_the_schema() -> None:
    schema = xmlschema.XMLSchema(str(XSD))
    good = ('<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui"><ribbon><tabs>'
            '<tab id="t"><group id="g"><button id="b" size="large"/></group></tab></tabs></ribbon></customUI>')
    assert schema.is_valid(good)
    assert not schema.is_valid(good.replace('id="g"', 'id="b"'))          # duplicate id
    assert not schema.is_valid(good.replace('size="large"', 'size="huge"'))
    assert not schema.is_valid(good.replace("2006/01", "2009/07"))


def test_vba_project_is_pddbatch_runs_our_functions_and_keeps_xlwings(xlam: Path) -> None:
    modules = _modules(xlam)
    ribbon = modules["RibbonMyAddin.bas"]
    assert 'RunPython "import xlwings as xw, pddbatch.excel as px; px." & control.Tag & ' \
           '"(xw.Book.caller())"' in ribbon
    assert "Public Function RunPython(PythonCommand As String)" in modules["xlwings.bas"]
    assert 'Public Const PROJECT_NAME As String = "pddbatch"' in modules["xlwings.bas"]
    with zipfile.ZipFile(xlam) as z:
        project = VbaProject(z.read("xl/vbaProject.bin"))
    assert project.name == "pddbatch"
    with zipfile.ZipFile(xlam) as z:
        assert 'Name="pddbatch"' in z.read("xl/vbaProject.bin").decode("latin-1")


def test_config_sheet_names_the_interpreter(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        book = z.read("xl/workbook.xml").decode()
    assert 'name="pddbatch.conf"' in book and "_myaddin.conf" not in book
    assert interpreter_of(xlam) == r"C:\Py\python.exe"
    from python_calamine import CalamineWorkbook  # a second reader sees the same keys and values

    rows = CalamineWorkbook.from_path(str(xlam)).get_sheet_by_name("pddbatch.conf").to_python()
    assert rows[0] == ["Interpreter_Win", r"C:\Py\python.exe"]
    assert rows[1] == ["Interpreter_Mac", r"C:\Py\python.exe"]


def _olevba(path: Path) -> list[dict[str, str]]:
    out = subprocess.run([sys.executable, "-m", "oletools.olevba", "-a", "--json", str(path)],
                         capture_output=True, text=True, check=False).stdout
    results = [r for r in json.loads(out) if r.get("type") in ("OLE", "OpenXML")]
    assert results, out[:500]
    return [a for r in results for a in (r.get("analysis") or [])]


def test_no_vba_stomping_and_no_keyword_beyond_the_template(xlam: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        (tmp_path / "built.bin").write_bytes(z.read("xl/vbaProject.bin"))
    with zipfile.ZipFile(template_path()) as z:
        (tmp_path / "template.bin").write_bytes(z.read("xl/vbaProject.bin"))
    built = _olevba(tmp_path / "built.bin")
    assert not [a for a in built if "stomp" in a["keyword"].lower()]
    def kinds(found: list[dict[str, str]]) -> set[tuple[str, str]]:
        return {(a["type"], a["keyword"]) for a in found if a["type"] in ("Suspicious", "AutoExec")}
    assert kinds(built) <= kinds(_olevba(tmp_path / "template.bin"))
    # every module stream holds its source only: no compiled code of the template's sources is left
    project = VbaProject((tmp_path / "built.bin").read_bytes())
    import olefile

    with olefile.OleFileIO(str(tmp_path / "built.bin")) as ole:
        for module, src in project.sources.items():
            assert decompress(ole.openstream(f"VBA/{module}").read()) == src


def test_compression_round_trips() -> None:
    for data in (b"", b"Sub A()\r\nEnd Sub\r\n" * 300, os.urandom(5000), b"abcabcabcabcx", bytes(9000)):
        assert decompress(compress(data)) == data


def test_everything_else_is_the_xlwings_template(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as built, zipfile.ZipFile(template_path()) as tpl:
        assert built.namelist() == tpl.namelist()
        changed = [n for n in tpl.namelist() if built.read(n) != tpl.read(n)]
    assert sorted(changed) == ["_rels/.rels", "customUI/customUI.xml", "xl/vbaProject.bin", "xl/workbook.xml",
                               "xl/worksheets/sheet1.xml"]


def test_cli_build_writes_the_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(addin, ["build", "--out", str(tmp_path / "a.xlam"), "--interpreter", "/opt/py"])
    assert result.exit_code == 0 and (tmp_path / "a.xlam").is_file()
    assert interpreter_of(tmp_path / "a.xlam") == "/opt/py"
    bad = CliRunner().invoke(addin, ["build", "--out", str(tmp_path / "a.zip")])
    assert bad.exit_code == 2 and ".xlam" in bad.output


def test_install_lands_verifies_and_uninstalls(tmp_path: Path) -> None:
    folder = tmp_path / "XLSTART"
    result = CliRunner().invoke(addin, ["install", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    landed = folder / "pddbatch.xlam"
    assert str(landed) in result.output and interpreter_of(landed) == sys.executable
    assert _modules(landed)["RibbonMyAddin.bas"]
    gone = CliRunner().invoke(addin, ["uninstall", "--dir", str(folder)])
    assert gone.exit_code == 0 and not landed.exists() and str(landed) in gone.output
    again = CliRunner().invoke(addin, ["uninstall", "--dir", str(folder)])
    assert again.exit_code == 0 and "没有找到" in again.output


def test_install_into_a_folder_it_cannot_write_is_a_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(addin, ["install", "--dir", str(blocker / "XLSTART")])
    assert result.exit_code == 2 and "Traceback" not in result.output and "错误：" in result.output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux refusal is tested on Linux")
def test_cli_install_refuses_plainly_on_linux() -> None:
    result = CliRunner().invoke(addin, ["install"])
    assert result.exit_code == 2
    assert "只能在装有 Excel 的 Windows 或 macOS 上安装" in result.output and "Traceback" not in result.output


def test_startup_folders() -> None:
    from pddbatch.excel.install import startup_folder

    os.environ.setdefault("APPDATA", r"C:\Users\a\AppData\Roaming")
    assert str(startup_folder("win32")).endswith(os.path.join("Microsoft", "Excel", "XLSTART"))
    assert str(startup_folder("darwin")).endswith("Startup.localized/Excel")
