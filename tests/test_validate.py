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


# ---- exports as they arrive (issue 13): address columns, privacy values, flags, dates --------------

BASE = {"订单号": "261125-100000000000001", "订单状态": "待发货", "售后状态": "无售后或售后取消", "商品": "毛毯",
        "商品数量(件)": "1", "收货人": "张三", "手机": "13812345678", "省": "浙江省", "市": "杭州市", "区": "西湖区"}


def _csv(path: Path, headers: list[str], rows: list[dict[str, str]]) -> Path:
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        for r in rows:
            w.writerow([r.get(h.strip(), "") for h in headers])
    return path


@pytest.mark.parametrize("street_header", [" 街道", "街道/镇"])
def test_export_whose_only_address_column_is_street_is_read(tmp_path: Path, street_header: str) -> None:
    headers = [*BASE, street_header]
    row = dict(BASE, **{street_header.strip(): "文三路90号3栋201室"})
    v = validate_table(load_table(_csv(tmp_path / "s.csv", headers, [row])))
    assert v.issues == [] and v.columns.col("address") == len(headers) and v.columns.col("street") is None
    r = v.orders[0].receiver
    assert (r.street, r.address, r.full_address) == ("", "文三路90号3栋201室", "浙江省杭州市西湖区文三路90号3栋201室")


def test_a_street_only_row_without_street_is_missing_its_address(tmp_path: Path) -> None:
    v = validate_table(load_table(_csv(tmp_path / "s.csv", [*BASE, "街道"], [dict(BASE, 街道="")])))
    assert [(i.field, i.code, i.header, i.cell) for i in v.issues] == [("address", "missing-value", "街道", "K2")]


def test_no_address_column_at_all_is_refused_naming_the_alternatives(tmp_path: Path) -> None:
    with pytest.raises(InputError) as ei:
        validate_table(load_table(_csv(tmp_path / "n.csv", list(BASE), [BASE])))
    assert "缺少必需的列：详细地址（或 街道）" in ei.value.message
    assert "详细地址 (or 街道)" in ei.value.message_en


@pytest.mark.parametrize("street,detail,composed", [
    ("西湖街道", "文三路90号", "浙江省杭州市西湖区西湖街道文三路90号"),        # 街道/镇 holds the town
    ("文三路90号", "文三路90号3栋201室", "浙江省杭州市西湖区文三路90号3栋201室"),  # detail repeats the street
    ("西湖街道文三路90号3栋201室", "3栋201室", "浙江省杭州市西湖区西湖街道文三路90号3栋201室"),
    ("", "浙江省杭州市西湖区文三路90号", "浙江省杭州市西湖区文三路90号"),       # detail is the whole address
    ("", "西湖区文三路90号", "浙江省杭州市西湖区文三路90号"),
])
def test_street_and_detail_are_joined_without_repeating(street: str, detail: str, composed: str) -> None:
    from pddbatch.address import full_address
    from pddbatch.model import Receiver

    assert full_address("浙江省", "杭州市", "西湖区", street, detail) == composed
    assert Receiver("张三", "13812345678", "浙江省", "杭州市", "西湖区", street, detail).full_address == composed
    assert full_address("上海市", "上海市", "浦东新区", "", "世纪大道100号") == "上海市浦东新区世纪大道100号"


def test_both_address_columns_give_one_composed_address(tmp_path: Path) -> None:
    row = dict(BASE, 街道="西湖街道", 详细地址="文三路90号【1234】")
    v = validate_table(load_table(_csv(tmp_path / "b.csv", [*BASE, "街道", "详细地址"], [row])))
    assert v.orders[0].receiver.full_address == "浙江省杭州市西湖区西湖街道文三路90号【1234】"


def test_masked_values_are_valid_but_held_and_privacy_numbers_are_kept_exactly(tmp_path: Path) -> None:
    from pddbatch.model import RowStatus
    from pddbatch.outcomes import validation_outcomes

    rows = [dict(BASE, 订单号=f"261125-10000000000000{i}", **kw) for i, kw in enumerate([
        {"收货人": "程**", "手机": "158****4370", "详细地址": "滨江大道***"},
        {"手机": "158****4370-1234", "详细地址": "文三路90号"},
        {"收货人": "张三[1234]", "手机": "13812345678-1234", "详细地址": "文三路90号[1234]"},
        {"收货人": "张三【1234】", "手机": "13812345678-1234", "详细地址": "文三路90号【1234】"},
        {"订单状态": "已发货，待收货", "收货人": "程**", "详细地址": "滨江大道***"},
    ], start=1)]
    headers = [*BASE, "详细地址"]
    v = validate_table(load_table(_csv(tmp_path / "p.csv", headers, rows)))
    assert v.rejected_rows == set()
    masked = [(i.row, i.header, i.severity) for i in v.issues if i.code == "masked-value"]
    assert masked == [(2, "收货人", "warning"), (2, "手机", "warning"), (2, "详细地址", "warning"),
                      (3, "手机", "warning")]      # a shipped row's masks are no one's business
    assert all("发货管理-订单查询" in i.message for i in v.issues if i.code == "masked-value")
    by_row = {o.row: o for o in v.orders}
    assert (by_row[4].receiver.name, by_row[4].receiver.phone) == ("张三[1234]", "13812345678-1234")
    assert (by_row[5].receiver.name, by_row[5].receiver.address) == ("张三【1234】", "文三路90号【1234】")
    outcomes = validation_outcomes(v, "zh")
    assert [outcomes[r].status for r in range(2, 7)] == [RowStatus.INCOMPLETE, RowStatus.INCOMPLETE, RowStatus.VALID,
                                                        RowStatus.VALID, RowStatus.VALID]
    assert outcomes[2].message.startswith("收货人、手机、收货地址是打码的隐私信息")
    assert outcomes[3].message.startswith("手机是打码的隐私信息")


def test_store_pickup_and_review_flags_are_read(tmp_path: Path) -> None:
    rows = [dict(BASE, 订单号="261125-100000000000001", 是否门店自提="是", 是否审核中="否"),
            dict(BASE, 订单号="261125-100000000000002", 是否门店自提="否", 是否审核中="是"),
            dict(BASE, 订单号="261125-100000000000003")]
    v = validate_table(load_table(_csv(tmp_path / "f.csv", [*BASE, "详细地址", "是否门店自提", "是否审核中"],
                                       [dict(r, 详细地址="文三路90号") for r in rows])))
    assert [(o.store_pickup, o.under_review) for o in v.orders] == [(True, False), (False, True), (False, False)]


def test_dates_impossible_date_only_and_decades_away(tmp_path: Path) -> None:
    from datetime import datetime

    headers = [*BASE, "详细地址", "支付时间", "承诺发货时间", "确认收货时间"]
    rows = [dict(BASE, 订单号=f"261125-10000000000000{i}", 详细地址="文三路90号", **kw) for i, kw in enumerate([
        {"支付时间": "2026-11-25 08:00:00", "承诺发货时间": "2026-02-30 12:00:00"},
        {"支付时间": "2026年2月30日 08:00"},
        {"支付时间": "2026-11-25 08:00:00", "承诺发货时间": "2026年11月30日"},
        {"支付时间": "2026/11/25", "承诺发货时间": "2062-11-27 08:00:00"},
        {"支付时间": "2026-11-25 08:00:00", "承诺发货时间": "2026-11-27 08:00:00", "确认收货时间": "1926-12-01 10:00:00"},
    ], start=1)]
    v = validate_table(load_table(_csv(tmp_path / "d.csv", headers, rows)))
    found = [(i.row, i.header, i.code, i.severity) for i in v.issues]
    assert found == [(2, "承诺发货时间", "impossible-date", "error"), (3, "支付时间", "impossible-date", "error"),
                     (5, "承诺发货时间", "far-date", "warning"), (6, "确认收货时间", "far-date", "warning")]
    assert "2026-02-30 12:00:00" in v.issues[0].message
    by_row = {o.row: o for o in v.orders}
    assert by_row[4].promised_ship_at == datetime(2026, 11, 30, 23, 59, 59)     # a date-only deadline: end of day
    assert by_row[5].paid_at == datetime(2026, 11, 25, 0, 0, 0)                 # a date-only payment: its start


def test_excel_date_cells_for_deadlines() -> None:
    from pddbatch.workbook import values

    assert values.deadline(46356.0) == ("2026-11-30 23:59:59", None)     # a date-only serial
    assert values.deadline(46356.5) == ("2026-11-30 12:00:00", None)
    assert values.when(46356.0) == ("2026-11-30 00:00:00", None)
    assert values.when("2026-02-29 10:00:00") == ("2026-02-29 10:00:00", ("impossible-date", "2026-02-29 10:00:00",
                                                                         values.DATE_EXAMPLE))
    assert values.when("2028-02-29 23:59:59") == ("2028-02-29 23:59:59", None)


def test_a_big_table_checked_in_two_processes_gives_the_same_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """From PARALLEL_ROWS rows a forked child checks the second half: issues (with a duplicate 订单号
    across the halves), rejected rows, blank rows and typed orders are exactly one process's."""
    import os

    import pddbatch.validate as validation
    from pddbatch.parallel import can_fork

    if not can_fork():
        pytest.skip("the second process is forked (Linux)")
    table = load_table(Path(__file__).parent.parent / "sample_data" / "orders.xlsx")
    sn_col = [h.strip() for h in table.headers].index("订单号")
    last = list(table.rows[-1])
    last[sn_col] = table.rows[0][sn_col]           # a duplicate of the first half's first order
    table.rows[-1] = tuple(last) if isinstance(table.rows[-1], tuple) else last
    table.rows.insert(len(table.rows) // 2 + 3, [None] * len(table.headers))   # a blank row in the child's half
    one = validate_table(table)
    seen: list[tuple[object, ...]] = []
    real = validation._check_rows

    def spy(*args: object, **kw: object) -> object:
        seen.append((os.getpid(), *args[2:4]))
        return real(*args, **kw)   # type: ignore[arg-type]

    monkeypatch.setattr(validation, "_check_rows", spy)
    monkeypatch.setattr(validation, "PARALLEL_ROWS", 100)
    two = validate_table(table)
    # this process checked the first half; the second was checked elsewhere (a call here would be seen)
    assert seen == [(os.getpid(), 0, len(table.rows) // 2)] and len(table.rows) > 300
    assert two.issues == one.issues and two.rejected_rows == one.rejected_rows
    assert two.blank_rows == one.blank_rows >= 1
    assert two.orders == one.orders and len(one.orders) > 250
    dup = [i for i in one.issues if i.code == "duplicate-order-sn"]
    assert any(i.row == table.sheet_row(len(table.rows) - 1) for i in dup)


def test_with_another_thread_running_nothing_is_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host with threads (a server running the Excel face) gets one-process validation: a child forked
    while another thread holds the import lock could hang the run for good."""
    import threading

    import pddbatch.validate as validation
    from pddbatch.parallel import can_fork

    table = load_table(Path(__file__).parent.parent / "sample_data" / "orders.xlsx")
    seen: list[tuple[object, ...]] = []
    real = validation._check_rows
    monkeypatch.setattr(validation, "_check_rows", lambda *a, **k: seen.append(a[2:4]) or real(*a, **k))
    monkeypatch.setattr(validation, "PARALLEL_ROWS", 100)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
        v = validate_table(table)
    finally:
        stop.set()
        other.join()
    assert seen == [(0, len(table.rows))] and len(v.orders) > 250


def test_a_background_result_not_taken_does_not_hang_the_run() -> None:
    """When the parent can't take a child's result (stopped, out of memory), the child — blocked writing
    a result bigger than the pipe holds — is stopped instead of waited for forever."""
    import signal
    import time

    from pddbatch.parallel import Background, can_fork

    if not can_fork():
        pytest.skip("forks (Linux)")
    bg = Background(lambda: b"x" * 50_000_000)

    def refuse() -> object:
        raise KeyboardInterrupt

    bg._conn.recv = refuse     # type: ignore[attr-defined]  # (as a MemoryError in recv would)
    old = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("join hung")))
    signal.alarm(30)
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            bg.join()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - start < 20      # (without the stop it waits until the alarm)


def test_a_child_out_of_memory_is_out_of_memory_in_the_parent() -> None:
    """A forked stage that runs out of memory (a real address-space limit in the child) comes back as
    OutOfMemory, the one sentence both faces show, not a 'background stage failed: MemoryError'."""
    import resource

    from pddbatch.errors import OutOfMemory
    from pddbatch.parallel import Background, can_fork

    if not can_fork():
        pytest.skip("forks (Linux)")

    def greedy() -> int:
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (size + 64 * 2**20, resource.RLIM_INFINITY))
        return len(bytearray(512 * 2**20))

    with pytest.raises(OutOfMemory) as err:
        Background(greedy).join()
    assert err.value.text("en").startswith("Out of memory: this file is too big for this computer.")
    assert Background(lambda: 7).join() == 7


def test_a_date_cell_as_deadline_runs_to_the_end_of_that_day_in_files_from_excel_and_libreoffice(
        tmp_path: Path) -> None:
    """承诺发货时间 typed into Excel as a date (a date cell, no time): the order is due by the end of
    that day, not its midnight start (which flagged a day's orders as overdue all day). A date cell in
    支付时间 is still the start of its day; a date-and-time cell keeps its time, also at 00:00:00 — the file
    stores the same 46356 for 2026-11-30 and its midnight and calamine hands both over as a date, so the
    cell's number format decides (a midnight deadline read as a date would be 24 hours late)."""
    import datetime as dt

    import openpyxl

    from tests.support import soffice_convert

    rows = sample_rows(6, faults=False)
    for r in rows:
        r["订单状态"], r["售后状态"] = "待发货", "无售后或售后取消"
    book = tmp_path / "orders.xlsx"
    generator.write_xlsx(rows, book)
    wb = openpyxl.load_workbook(book)
    ws = wb["订单列表"]
    head = [c.value for c in ws[1]]
    due, paid = head.index("承诺发货时间") + 1, head.index("支付时间") + 1
    ws.cell(2, due, dt.date(2026, 11, 30)).number_format = "yyyy-mm-dd"
    ws.cell(3, due, dt.datetime(2026, 11, 30, 10, 0)).number_format = "yyyy-mm-dd hh:mm:ss"
    ws.cell(2, paid, dt.date(2026, 11, 28)).number_format = "yyyy-mm-dd"
    ws.cell(4, due, dt.datetime(2026, 11, 30)).number_format = "yyyy-mm-dd hh:mm:ss"    # a midnight deadline
    ws.cell(5, due, dt.datetime(2026, 12, 1)).number_format = "m/d/yy h:mm"           # built-in format 22
    ws.cell(6, due, dt.date(2026, 12, 1)).number_format = 'yyyy"年"m"月"d"日"'
    wb.save(book)
    saved_by_lo = soffice_convert(book, tmp_path / "lo", "xlsx")
    for path in (book, saved_by_lo):
        v = validate_table(load_table(path))
        by_row = {o.row: o for o in v.orders}
        assert by_row[2].promised_ship_at == dt.datetime(2026, 11, 30, 23, 59, 59), path
        assert by_row[3].promised_ship_at == dt.datetime(2026, 11, 30, 10, 0, 0), path
        assert by_row[2].paid_at == dt.datetime(2026, 11, 28, 0, 0, 0), path
        assert by_row[4].promised_ship_at == dt.datetime(2026, 11, 30, 0, 0, 0), path
        assert by_row[5].promised_ship_at == dt.datetime(2026, 12, 1, 0, 0, 0), path
        assert by_row[6].promised_ship_at == dt.datetime(2026, 12, 1, 23, 59, 59), path


def test_a_csv_saved_as_a_workbook_by_libreoffice_keeps_its_midnight_deadlines(tmp_path: Path) -> None:
    """An export opened as CSV and saved as a workbook: "2026-11-30 00:00:00" becomes a date-time cell at
    midnight, which calamine reads as a bare date. It is due at midnight, not at the end of the day; a
    typed "2026-12-01" (a date cell) is due by the end of that day."""
    import datetime as dt
    import shutil
    import subprocess

    rows = sample_rows(5, faults=False)
    for r in rows:
        r["订单状态"], r["售后状态"] = "待发货", "无售后或售后取消"
    rows[0]["承诺发货时间"] = "2026-11-30 00:00:00"
    rows[1]["承诺发货时间"] = "2026-12-01"
    rows[2]["承诺发货时间"] = "2026-11-30 18:30:00"
    csv_path = tmp_path / "orders.csv"
    generator.write_csv(rows, csv_path)
    exe = shutil.which("soffice")
    assert exe, "LibreOffice (soffice) is required: .ci/run installs libreoffice-calc-nogui"
    subprocess.run([exe, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                    "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"),
                    str(csv_path)], check=True, capture_output=True, timeout=180)
    book = tmp_path / "lo" / "orders.xlsx"
    from python_calamine import CalamineWorkbook

    cells = CalamineWorkbook.from_path(str(book)).get_sheet_by_index(0).to_python()
    col = list(cells[0]).index("承诺发货时间")
    assert cells[1][col] == dt.date(2026, 11, 30), "LibreOffice made a date-time cell, calamine a date"
    by_row = {o.row: o for o in validate_table(load_table(book)).orders}
    assert by_row[2].promised_ship_at == dt.datetime(2026, 11, 30, 0, 0, 0)
    assert by_row[3].promised_ship_at == dt.datetime(2026, 12, 1, 23, 59, 59)
    assert by_row[4].promised_ship_at == dt.datetime(2026, 11, 30, 18, 30, 0)


@pytest.mark.parametrize("hour", ["00", "09", "23", "24", "29"])
@pytest.mark.parametrize("day", ["2026-02-28", "2026-02-29", "2024-02-29", "2026-04-31", "2026-13-01", "0000-01-01"])
def test_canonical_datetime_reads_what_datetime_would(day: str, hour: str) -> None:
    """The C parser (fromisoformat) gives the same moment, and refuses the same impossible ones."""
    from datetime import datetime

    from pddbatch.workbook.values import canonical_datetime

    text = f"{day} {hour}:59:07"
    y, mo, d = (int(p) for p in day.split("-"))
    try:
        expected: datetime | None = datetime(y, mo, d, int(hour), 59, 7)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError):
            canonical_datetime(text)
    else:
        assert canonical_datetime(text) == expected


def test_repeated_values_are_judged_for_every_row(tmp_path: Path) -> None:
    """Converted values are remembered per field: a repeated bad value is still reported on every row
    that has it, and a good value after it is still good (rows alternate good / bad)."""
    import pddbatch.validate as V

    rows = sample_rows(40, faults=False)
    for i, r in enumerate(rows):
        r["订单状态"], r["售后状态"] = "待发货", "无售后或售后取消"
        r["支付时间"] = "2026-02-30 10:00:00" if i % 2 else "2026-11-24 22:08:00"
        r["商品总价(元)"] = "12.3.4" if i % 4 == 1 else "39.90"
    path = tmp_path / "r.xlsx"
    generator.write_xlsx(rows, path)
    table = load_table(path)
    v = validate_table(table)
    by_code: dict[str, set[int]] = {}
    for issue in v.issues:
        by_code.setdefault(issue.code, set()).add(issue.row)
    sheet_rows = [table.sheet_row(i) for i in range(len(rows))]
    assert by_code.get("impossible-date") == {r for i, r in enumerate(sheet_rows) if i % 2}
    assert {r for i, r in enumerate(sheet_rows) if i % 4 == 1} <= v.rejected_rows
    assert len(v.orders) == 20 and all(o.paid_at is not None and o.paid_at.day == 24 for o in v.orders)
    # the same answers with nothing remembered
    memo_max = V.CONVERTED_MEMO_MAX
    V.CONVERTED_MEMO_MAX = 0
    try:
        plain = validate_table(load_table(path))
    finally:
        V.CONVERTED_MEMO_MAX = memo_max
    assert [(i.row, i.code, i.message) for i in plain.issues] == [(i.row, i.code, i.message) for i in v.issues]
    assert plain.orders == v.orders


def test_a_handoff_reaches_a_child_forked_before_the_value_existed() -> None:
    """The write-back is forked before the render pool and given its plan afterwards: the value
    crosses to the forked child (a real fork and pipe), and inline it is simply what was given."""
    from pddbatch.parallel import Background, Handoff, can_fork

    if not can_fork():
        pytest.skip("forks (Linux)")
    box: Handoff[dict[tuple[int, int], str]] = Handoff()
    box.across_fork()
    child = Background(lambda: sorted(box.take().items()))
    plan = {(r, 3): f"7310000000{r:04d}" for r in range(2, 30_002)}   # bigger than a pipe holds
    box.give(plan)
    assert child.join() == sorted(plan.items())
    with pytest.raises(RuntimeError):
        box.give({})
    inline: Handoff[str] = Handoff()          # run when joined: a value bigger than a pipe holds must not block
    later = Background.deferred(lambda: inline.take()[:3])
    inline.give("732" * 100_000)
    assert later.join() == "732"
