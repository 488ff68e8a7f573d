"""`pddbatch reconcile` through click's CliRunner: exact summary, --json shape, exit codes, ledger."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pddbatch.cli.reconcile import reconcile as reconcile_cmd
from pddbatch.ledger import Ledger, ParcelRequest
from pddbatch.reconcile import KINDS
from tests.reconcile.reconcile_helpers import AS_HEADERS, O1, Case, write_xlsx


def _args(case: Case, *extra: str) -> list[str]:
    o, a, r = case.files()
    return ["--orders", str(o), "--aftersales", str(a), "--returns", str(r), "-o", str(case.tmp / "rec.xlsx"),
            *extra]


def test_clean_run_exit_0_and_exact_summary(case: Case) -> None:
    res = CliRunner().invoke(reconcile_cmd, _args(case))
    assert res.exit_code == 0, res.output
    assert res.output == (f"售后 2 单（已退款 2 单）：退款合计 ¥76.60，已匹配订单 ¥76.60，找不到订单 ¥0.00；"
                          f"异常 0 条；输入问题 0 个；已写入 {case.tmp / 'rec.xlsx'}\n")
    assert (case.tmp / "rec.xlsx").exists()


def test_exceptions_exit_1_with_counts_per_kind(case: Case) -> None:
    case.returns[0][0] = "JT0000000000099"              # the logged parcel is not AS2's
    res = CliRunner().invoke(reconcile_cmd, _args(case, "--lang", "en"))
    assert res.exit_code == 1
    assert res.output == (
        f"2 after-sales (2 refunded): refunds ¥76.60, matched to orders ¥76.60, without order ¥0.00; "
        f"2 exceptions (Return not received 1, Unknown returned parcel 1); 0 input issues; "
        f"written to {case.tmp / 'rec.xlsx'}\n")


def test_json_summary(case: Case) -> None:
    case.aftersales.append(["AS9", "261019-300412778015342", "仅退款", "退款成功", 0.1, 0.1, "2026-11-03",
                            "2026-11-03", "", "", ""])
    res = CliRunner().invoke(reconcile_cmd, _args(case, "--json"))
    assert res.exit_code == 1
    data = json.loads(res.output)
    assert data == {
        "orders": 4, "aftersales": 3, "returns": 1, "refunded": 3, "refunds_total": "76.70",
        "matched_total": "76.60", "unmatched_total": "0.10",
        "exceptions": {k: int(k == "refund-without-order") for k in KINDS}, "exception_count": 1,
        "issues": 0, "blocking_issues": 0, "warnings": [], "files": [str(case.tmp / "rec.xlsx")]}


def test_missing_columns_exit_2_naming_them(case: Case) -> None:
    o, _, r = case.files()
    a = write_xlsx(case.tmp / "bad.xlsx", [h for h in AS_HEADERS if h not in ("售后状态", "售后类型")],
                   [["AS1", O1, 1.0, 1.0, "", "", "", "", ""]])
    res = CliRunner().invoke(reconcile_cmd, ["--orders", str(o), "--aftersales", str(a), "--returns", str(r)])
    assert res.exit_code == 2
    assert res.output == ("错误：bad.xlsx（售后）：缺少必需的列：售后类型、售后状态（工作表“Sheet1”第 1 行）。"
                          "请在拼多多后台导出售后单时勾选这些字段。\n")
    assert "Traceback" not in res.output


def test_missing_file_exit_2(case: Case) -> None:
    res = CliRunner().invoke(reconcile_cmd, ["--orders", str(case.tmp / "nope.xlsx"), "--aftersales",
                                             str(case.tmp / "nope.xlsx"), "--lang", "en"])
    assert res.exit_code == 2
    assert res.output == f"Error: File not found: {case.tmp / 'nope.xlsx'}\n"


def test_usage_error_exit_2(case: Case) -> None:
    res = CliRunner().invoke(reconcile_cmd, ["--orders", "x.xlsx"])
    assert res.exit_code == 2 and "--aftersales" in res.output


def test_month_option(case: Case) -> None:
    res = CliRunner().invoke(reconcile_cmd, _args(case, "--month", "2026-10", "--json"))
    assert res.exit_code == 0
    assert json.loads(res.output)["aftersales"] == 0


def test_ledger_marks_orders_shipped(case: Case) -> None:
    ledger = case.tmp / "ledger.db"
    with Ledger.open(ledger) as led:
        led.add_range("ZTO", "73100000000010", 2)
        run = led.begin_run("orders.xlsx")
        led.allocate(run, [ParcelRequest("p1", "ZTO", (O1,))])
        led.finish_run(run, "done", {})
    case.aftersales.append(["AS3", O1, "仅退款", "退款成功", 19.9, 19.9, "2026-11-06", "2026-11-06", "", "", ""])
    res = CliRunner().invoke(reconcile_cmd, _args(case, "--json"))
    assert json.loads(res.output)["exception_count"] == 0          # the export alone says 待发货
    res = CliRunner().invoke(reconcile_cmd, _args(case, "--json", "--ledger", str(ledger)))
    assert json.loads(res.output)["exceptions"]["refund-after-shipping-only"] == 1


def test_missing_ledger_is_fatal_and_not_created(case: Case) -> None:
    res = CliRunner().invoke(reconcile_cmd, _args(case, "--ledger", str(case.tmp / "none.db")))
    assert res.exit_code == 2 and "找不到台账文件" in res.output
    assert not (case.tmp / "none.db").exists()


def test_registered_on_the_main_cli() -> None:
    from pddbatch.cli import main

    res = CliRunner().invoke(main, ["reconcile", "--help"])
    assert res.exit_code == 0 and "--aftersales" in res.output and "--basis" in res.output


def test_output_folder_is_created(case: Case, tmp_path: Path) -> None:
    res = CliRunner().invoke(reconcile_cmd, [*_args(case)[:-2], "-o", str(tmp_path / "new" / "r.xlsx")])
    assert res.exit_code == 0 and (tmp_path / "new" / "r.xlsx").exists()
