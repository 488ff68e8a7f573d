"""Build the classic add-in `pddbatch.xlam` from xlwings' own ribbon add-in template.

The template is the file `xlwings quickstart NAME --addin --ribbon` copies
(`xlwings/quickstart_addin_ribbon.xlam`). Two parts change, everything else is copied byte for byte:

- `customUI/customUI.xml`: a `拼多多发货` tab with three buttons 校验 / 处理发货 / 对账. Each button's
  `tag` names the Python function it runs; all call the template's one ribbon callback `RunMain`;
- `xl/vbaProject.bin`: the template's `RibbonMyAddin` module source becomes a `RunMain` that runs
  `RunPython "import xlwings as xw, pddbatch.excel as px; px.<tag>(xw.Book.caller())"`. The
  template's project is source-only (no compiled cache), so Excel compiles the new source on load;
  see `ovba.py` for how the module is rewritten in place. xlwings' own `xlwings` module (RunPython)
  is untouched.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pddbatch.errors import PddBatchError
from pddbatch.excel.ovba import replace_module_source

RIBBON_PART = "customUI/customUI.xml"
VBA_PART = "xl/vbaProject.bin"
MODULE = "RibbonMyAddin"
TAB_LABEL = "拼多多发货"
# (button id, label, function in pddbatch.excel, icon, screentip)
BUTTONS = (
    ("pddValidate", "校验", "validate_book", "AcceptInvitation", "检查每一行，问题单元格标红并加批注"),
    ("pddProcess", "处理发货", "process_book", "MacroPlay", "分配快递单号、生成面单，并填回这张表"),
    ("pddReconcile", "对账", "reconcile_book", "AccountingFormat", "订单 + 售后 + 退货登记 → 对账表"),
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


def build_addin(out: Path) -> Path:
    """Write `pddbatch.xlam` (or `out`) and return its path."""
    template = template_path()
    out = Path(out)
    if out.suffix.lower() != ".xlam":
        raise PddBatchError(f"加载项文件名应以 .xlam 结尾：{out.name}", f"The add-in file must end in .xlam: {out.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pddbatch-addin-") as tmp, zipfile.ZipFile(template) as src:
        names = src.namelist()
        if RIBBON_PART not in names or VBA_PART not in names:
            raise PddBatchError("xlwings 的加载项模板结构与预期不同，无法生成", "Unexpected xlwings add-in template")
        vba_in = Path(tmp) / "template.bin"
        vba_in.write_bytes(src.read(VBA_PART))
        vba_out = Path(tmp) / "vbaProject.bin"
        replace_module_source(vba_in, MODULE, VBA_SOURCE, vba_out)
        partial = out.with_name(out.name + ".tmp")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                if info.filename == RIBBON_PART:
                    dst.writestr(info, ribbon_xml().encode("utf-8"))
                elif info.filename == VBA_PART:
                    dst.writestr(info, vba_out.read_bytes())
                else:
                    dst.writestr(info, src.read(info.filename))
    partial.replace(out)
    return out
