"""Validation of the order export: every planted fault found where planted, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from pddbatch.errors import InputError
from pddbatch.pipeline import load_table
from pddbatch.validate import validate_table
from pddbatch.workbook.headers import alias_table
from pddbatch.workbook.read import read_table
from tests.support import generator, sample_rows

HEADER_ROW = 1


def _expected() -> set[tuple[int, str, str]]:
    return {(idx + HEADER_ROW + 1, field, code) for idx, field, code, _ in generator.FAULTS}


def test_bundled_sample_matches_generator() -> None:
    # the committed sample is exactly what the committed generator makes
    table = load_table(Path(__file__).parent.parent / "sample_data" / "orders.xlsx")
    rows = sample_rows()
    assert len(table.rows) == len(rows)
    sn_col = [h.strip() for h in table.headers].index("订单号")
    assert table.rows[0][sn_col] == rows[0]["订单号"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_every_planted_fault_is_found_exactly(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"orders{suffix}"
    rows = sample_rows()
    (generator.write_xlsx if suffix == ".xlsx" else generator.write_csv)(rows, path)
    v = validate_table(load_table(path))
    errors = {(i.row, i.field, i.code) for i in v.issues if i.severity == "error"}
    assert errors == _expected()
    assert v.rejected_rows == {r for r, _, _ in _expected()}
    assert len(v.orders) == len(rows) - len(_expected())


def test_issue_positions_and_messages(orders_xlsx: Path) -> None:
    v = validate_table(load_table(orders_xlsx))
    by_code = {i.code: i for i in v.issues}
    phone = by_code["bad-phone"]
    assert phone.cell.startswith("AB") and phone.header == "手机" and phone.sheet == "订单列表"
    assert "手机号应为11位数字，如 13812345678" in phone.message
    mangled = by_code["excel-mangled-number"]
    assert mangled.cell == "B7" and "Excel" in mangled.message and "260517-607198974342268" in mangled.message
    # personal data is masked in messages
    assert "*" in phone.message


def test_english_messages(orders_xlsx: Path) -> None:
    v = validate_table(load_table(orders_xlsx), lang="en")
    msgs = [i.message for i in v.issues if i.code == "bad-quantity"]
    assert msgs and all("whole number" in m for m in msgs)


def test_phone_stored_as_number_is_a_warning_not_repaired_silently(orders_xlsx: Path) -> None:
    v = validate_table(load_table(orders_xlsx))
    warn = [i for i in v.issues if i.code == "excel-number-phone"]
    assert len(warn) == 1 and warn[0].severity == "warning" and warn[0].row == 151
    order = next(o for o in v.orders if o.row == 151)
    assert order.receiver.phone.isdigit() and len(order.receiver.phone) == 11


def test_privacy_forms_are_valid(tmp_path: Path) -> None:
    rows = sample_rows(20, faults=False)
    for r in rows:
        r["订单状态"], r["售后状态"] = "待发货", "无售后或售后取消"
    rows[0]["手机"], rows[0]["收货人"] = "13812345678-1234", "郭海莉[9964]"
    rows[1]["手机"], rows[1]["详细地址"] = "138****5678", "文三路 90 号[1234]"
    rows[2]["手机"] = "+8613812345678"
    path = tmp_path / "p.xlsx"
    generator.write_xlsx(rows, path)
    v = validate_table(load_table(path))
    assert [i for i in v.issues if i.severity == "error"] == []


def test_non_shipping_rows_are_not_errors(tmp_path: Path) -> None:
    rows = sample_rows(10, faults=False)
    rows[0]["订单状态"], rows[0]["收货人"], rows[0]["详细地址"] = "已取消", "", ""
    path = tmp_path / "c.xlsx"
    generator.write_xlsx(rows, path)
    v = validate_table(load_table(path))
    assert not v.rejected_rows


def test_gbk_csv_and_header_in_row_3(tmp_path: Path) -> None:
    rows = sample_rows(30, faults=False)
    path = tmp_path / "gbk.csv"
    generator.write_csv(rows, path, encoding="gb18030")
    text = path.read_bytes()
    path.write_bytes("导出时间,2026-11-26\n\n".encode("gb18030") + text)
    table = load_table(path)
    assert table.encoding == "gb18030" and table.header_row == 3
    v = validate_table(table)
    assert len(v.orders) == 30 and v.orders[0].row == 4
    assert v.orders[0].receiver.name == rows[0]["收货人"]


def test_header_aliases_and_column_order(tmp_path: Path) -> None:
    import xlsxwriter

    rows = sample_rows(5, faults=False)
    headers = ["手机", "街道/镇", "商家编码-SKU维度", " 订单号 ", "订单状态", "售后状态", "商品", "商品数量（件）",
               "收货人", "省", "市", "区", "详细地址"]
    keys = ["手机", "街道", "商家编码-规格维度", "订单号", "订单状态", "售后状态", "商品", "商品数量(件)", "收货人",
            "省", "市", "区", "详细地址"]
    path = tmp_path / "a.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    ws = wb.add_worksheet("Sheet1")
    ws.write_row(0, 0, headers)
    for r, row in enumerate(rows, start=1):
        ws.write_row(r, 0, [str(row[k]) for k in keys])
    wb.close()
    v = validate_table(load_table(path))
    assert v.columns.col("order_sn") == 4 and v.columns.col("street") == 2 and v.columns.col("sku_spec") == 3
    assert v.orders[0].sku == rows[0]["商家编码-规格维度"]


def test_missing_required_columns_named_together(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("订单号,订单状态,商品\n260517-607198974342268,待发货,毛毯\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        validate_table(load_table(path))
    msg = ei.value.message
    for col in ("售后状态", "商品数量(件)", "收货人", "手机", "详细地址"):
        assert col in msg
    assert "Missing required column" in ei.value.message_en


@pytest.mark.parametrize("content,expect", [
    (b"", "空"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "加密"),
    ("订单号,订单状态\n1,2\n".encode(), "CSV"),
    (b"PK\x03\x04garbage-not-a-zip", "损坏"),
])
def test_unreadable_files_give_clear_errors(tmp_path: Path, content: bytes, expect: str) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    with pytest.raises(InputError) as ei:
        read_table(path, alias_table().is_header_row)
    assert expect in ei.value.message


def test_no_header_row_found(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="表头"):
        load_table(path)


def test_sample_readme_lists_every_planted_fault() -> None:
    from pddbatch.workbook.headers import alias_table
    from tests.support import SAMPLE

    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    for idx, field, code, _ in generator.FAULTS:
        line = f"| {idx + 2} | {alias_table().display[field]} | `{code}` |"
        assert line in text, line
