"""Helpers for write-back tests: seller workbooks carrying what openpyxl is known to drop."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import xlsxwriter

from pddbatch.model import IssuesSheet, OwnedColumn, WritePlan

HEADERS = ["订单号", "收货人", "手机", "详细地址", "金额"]
ISSUES_HEADER = ("工作表", "单元格", "行号", "字段", "代码", "说明")


def real_vba_project() -> bytes:
    """A real VBA project: the one in xlwings' own macro workbook template (read, never committed)."""
    import zipfile

    import xlwings

    template = Path(xlwings.__file__).parent / "quickstart.xlsm"
    with zipfile.ZipFile(template) as zf:
        return zf.read("xl/vbaProject.bin")


VBA_PROJECT = real_vba_project()


def png_bytes() -> bytes:
    """A 4x4 red PNG made here (no image files needed)."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def build_rich(path: Path, rows: int = 20) -> Path:
    """An orders sheet plus everything a seller might have put in the workbook."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("订单")
    other = wb.add_worksheet("汇总")
    bold = wb.add_format({"bold": True, "bg_color": "#DDEEFF"})
    red = wb.add_format({"bg_color": "#FF0000"})
    money = wb.add_format({"num_format": "0.00"})
    ws.write_row(0, 0, HEADERS, bold)
    for i in range(1, rows + 1):
        ws.write_string(i, 0, f"260517-{i:015d}")
        ws.write_string(i, 1, f"张{i}")
        ws.write_string(i, 2, f"138{i:08d}")
        ws.write_string(i, 3, f"杭州市西湖区文一西路{i}号")
        ws.write_number(i, 4, 10.5 * i, money)
    ws.write("C4", "13800000000", red)                       # seller's own red fill
    ws.write_comment("B5", "卖家自己的批注", {"x_scale": 2, "y_scale": 1.5, "author": "店主"})
    ws.write_rich_string("D6", "普通", bold, "加粗", "文字")
    ws.write_url("F2", "https://example.com/order/1", string="查看")   # outside the table's columns
    ws.write_formula(f"E{rows + 3}", f"=SUM(E2:E{rows + 1})")
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, rows, 4)
    ws.data_validation(1, 1, rows, 1, {"validate": "list", "source": ["张1", "张2"]})
    ws.conditional_format(1, 4, rows, 4, {"type": "data_bar", "data_bar_2010": True})
    ws.conditional_format(1, 4, rows, 4, {"type": "icon_set", "icon_style": "3_arrows"})
    ws.add_sparkline("H2", {"range": f"订单!E2:E{rows + 1}"})
    ws.insert_textbox("J2", "卖家的文本框", {"width": 200, "height": 60})
    ws.insert_image("J8", "red.png", {"image_data": io.BytesIO(png_bytes())})
    ws.set_column(0, 0, 26)
    other.add_table(0, 0, 3, 2, {"columns": [{"header": "店铺"}, {"header": "单量"}, {"header": "金额"}]})
    other.write_formula("E1", "=订单!E2*2")
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": f"=订单!$E$2:$E${rows + 1}"})
    other.insert_chart("B8", chart)
    wb.define_name("金额合计", f"=订单!$E${rows + 3}")
    if path.suffix == ".xlsm":
        wb.add_vba_project(io.BytesIO(VBA_PROJECT), is_stream=True)
        ws.insert_button("L2", {"macro": "pddbatch_demo", "caption": "运行"})
    wb.close()
    return path


def plan_for(rows: int = 20, *, new: bool = True, marks: dict[tuple[int, int], str] | None = None,
             status: str = "校验通过", skip: set[int] | None = None) -> WritePlan:
    cols = (OwnedColumn("处理状态", 6 + 1, new), OwnedColumn("处理说明", 6 + 2, new))
    values: dict[tuple[int, int], object] = {}
    for r in range(2, rows + 2):
        if skip and r in skip:
            continue
        values[(r, 7)] = status
        values[(r, 8)] = f"第{r}行"
    marks = marks if marks is not None else {(3, 3): "手机号应为11位数字，如 13812345678", (5, 2): "收货人为空"}
    issues = IssuesSheet("问题清单", ISSUES_HEADER,
                         tuple(("订单", f"{chr(64 + c)}{r}", r, "字段", "bad", m) for (r, c), m in sorted(marks.items())))
    return WritePlan("订单", 1, cols, values, marks, issues, last_row=rows + 1)  # type: ignore[arg-type]
