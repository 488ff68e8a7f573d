"""Build the classic add-in `pddbatch.xlam` from xlwings' own ribbon add-in template.

The template is the file `xlwings quickstart NAME --addin --ribbon` copies
(`xlwings/quickstart_addin_ribbon.xlam`). What changes, everything else is copied byte for byte:

- `customUI/customUI.xml`: a `拼多多发货` tab with the buttons 校验 / 处理发货 / 对账 / 物流跟踪 (2006
  customUI namespace, related from the package with the matching 2006 relationship type). Each
  button's `tag` names the function in `pddbatch.excel` it runs; all call one callback `RunMain`;
- `xl/vbaProject.bin` (see `vba.py`): the project is named `pddbatch` (xlwings' module reads its
  settings from `pddbatch.conf`), `RibbonMyAddin` becomes a `RunMain` that runs
  `RunPython "import xlwings as xw, pddbatch.excel as px; px.<tag>(xw.Book.caller())"`, and no module
  keeps the template's compiled code (no "VBA stomping");
- the template's disabled config sheet `_myaddin.conf` becomes the add-in's own `pddbatch.conf`,
  with `Interpreter_Win` / `Interpreter_Mac` set to the Python that built it (or `--interpreter`),
  so xlwings starts the Python that has pddbatch installed instead of a bare `python`.
"""

from __future__ import annotations

import re
import sys
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from pddbatch.errors import PddBatchError
from pddbatch.excel.vba import VbaProject

RIBBON_PART = "customUI/customUI.xml"
RIBBON_REL_2006 = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
RIBBON_REL_2007 = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
VBA_PART = "xl/vbaProject.bin"
CONF_SHEET_PART = "xl/worksheets/sheet1.xml"
MODULE = "RibbonMyAddin"
PROJECT = "pddbatch"
TAB_LABEL = "拼多多发货"
# (button id, label, function in pddbatch.excel, icon, screentip)
BUTTONS = (
    ("pddValidate", "校验", "validate_book", "AcceptInvitation", "检查每一行，问题单元格标红并加批注"),
    ("pddProcess", "处理发货", "process_book", "MacroPlay", "分配快递单号、生成面单，并填回这张表"),
    ("pddReconcile", "对账", "reconcile_book", "AccountingFormat", "订单 + 售后 + 退货登记 → 对账表"),
    ("pddTrack", "物流跟踪", "track_book", "ViewsAdpDiagramView", "导入轨迹，找出未揽收、停滞、退回的包裹"),
)
VBA_SOURCE = (
    'Attribute VB_Name = "RibbonMyAddin"\r\n'
    "Sub RunMain(control As IRibbonControl)\r\n"
    '    RunPython "import xlwings as xw, pddbatch.excel as px; px." & control.Tag & "(xw.Book.caller())"\r\n'
    "End Sub\r\n"
)


def template_path() -> Path:
    import xlwings

    path = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"
    if not path.is_file():
        raise PddBatchError(f"找不到 xlwings 的加载项模板：{path}（请重新安装 xlwings）",
                            f"xlwings' add-in template is missing: {path} (reinstall xlwings)")
    return path


def ribbon_xml() -> str:
    buttons = "\n".join(
        f'        <button id="{bid}" label={quoteattr(label)} tag="{func}" size="large" '
        f'onAction="RibbonMyAddin.RunMain" imageMso="{icon}" screentip={quoteattr(tip)} />'
        for bid, label, func, icon, tip in BUTTONS)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">\n'
            "  <ribbon>\n    <tabs>\n"
            f'      <tab id="pddbatchTab" label="{TAB_LABEL}">\n'
            '        <group id="pddbatchGroup" label="批量发货">\n'
            f"{buttons}\n"
            "        </group>\n      </tab>\n    </tabs>\n  </ribbon>\n</customUI>\n")


def build_addin(out: Path, interpreter: str | None = None) -> Path:
    """Write `pddbatch.xlam` (or `out`) and return its path.

    `interpreter`: the Python that Excel should start (default: the one running this code).
    """
    template = template_path()
    out = Path(out)
    if out.suffix.lower() != ".xlam":
        raise PddBatchError(f"加载项文件名应以 .xlam 结尾：{out.name}", f"The add-in file must end in .xlam: {out.name}")
    python = interpreter or sys.executable
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(template) as src:
        names = src.namelist()
        if any(n not in names for n in (RIBBON_PART, VBA_PART, CONF_SHEET_PART, "xl/workbook.xml", "_rels/.rels")):
            raise PddBatchError("xlwings 的加载项模板结构与预期不同，无法生成", "Unexpected xlwings add-in template")
        parts = {
            RIBBON_PART: ribbon_xml().encode("utf-8"),
            VBA_PART: vba_project(src.read(VBA_PART)),
            CONF_SHEET_PART: conf_sheet(src.read(CONF_SHEET_PART).decode("utf-8"), python),
            "xl/workbook.xml": _rename_conf_sheet(src.read("xl/workbook.xml").decode("utf-8")),
            "_rels/.rels": src.read("_rels/.rels").decode("utf-8").replace(RIBBON_REL_2007, RIBBON_REL_2006)
                                                                   .encode("utf-8"),
        }
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=out.name, suffix=".tmp", delete=False) as fh:
            partial = Path(fh.name)
        try:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as dst:
                for info in src.infolist():
                    dst.writestr(info, parts.get(info.filename, b"") or src.read(info.filename))
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
    return out


def vba_project(template_bin: bytes) -> bytes:
    """The template's VBA project renamed `pddbatch`, with our ribbon callback, no compiled code."""
    project = VbaProject(template_bin)
    project.rename(PROJECT)
    xlwings_src = project.source("xlwings")
    renamed, n = re.subn(r'(Public Const PROJECT_NAME As String = )"[^"]*"', rf'\1"{PROJECT}"', xlwings_src)
    if n != 1:
        raise PddBatchError("xlwings 模块里找不到 PROJECT_NAME，模板版本可能不兼容",
                            "PROJECT_NAME not found in the xlwings module: incompatible template")
    project.set_source("xlwings", renamed)
    project.set_source(MODULE, VBA_SOURCE)
    return project.to_bytes()


def conf_sheet(xml: str, python: str) -> bytes:
    """The config sheet with Interpreter_Win (A1) and Interpreter_Mac (A2) set to `python`."""
    for row in (1, 2):
        cell = f'<c r="B{row}" s="1" t="inlineStr"><is><t>{escape(python)}</t></is></c>'
        xml, n = re.subn(rf'(<row r="{row}"[^>]*>.*?)(</row>)', rf"\g<1>{cell.replace(chr(92), chr(92) * 2)}\g<2>",
                         xml, count=1)
        if n != 1:
            raise PddBatchError("xlwings 模板的配置表结构与预期不同", "Unexpected config sheet in the template")
    xml = re.sub(r'(<row r="[12]") spans="1:1"', r'\1 spans="1:2"', xml)
    return xml.encode("utf-8")


def _rename_conf_sheet(xml: str) -> bytes:
    new, n = re.subn(r'name="_?[A-Za-z0-9]+\.conf"', f'name="{PROJECT}.conf"', xml, count=1)
    if n != 1:
        raise PddBatchError("xlwings 模板里找不到配置表", "No config sheet in the xlwings template")
    return new.encode("utf-8")


def interpreter_of(xlam: Path) -> str | None:
    """The interpreter written into a built add-in's config sheet (Interpreter_Win), if any."""
    with zipfile.ZipFile(xlam) as z:
        xml = z.read(CONF_SHEET_PART).decode("utf-8")
    m = re.search(r'<c r="B1"[^>]*><is><t>([^<]*)</t>', xml)
    return m.group(1) if m else None
