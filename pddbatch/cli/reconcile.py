"""`pddbatch reconcile`: the accountant's command (a thin face over `pddbatch.reconcile`).

Exit codes: 0 nothing to check, 1 exceptions found (or unreadable after-sales/returns rows), 2 usage
or fatal.
"""

from __future__ import annotations

from pathlib import Path

import click

from pddbatch.cli.app import Out, exit_with, face
from pddbatch.money import format_yuan
from pddbatch.reconcile import ReconcileResult
from pddbatch.reconcile import reconcile as run_reconcile
from pddbatch.reconcile.exceptions import kind_name

_PATH = click.Path(path_type=Path, dir_okay=False)


@click.command("reconcile")
@click.option("--orders", "orders", multiple=True, required=True, type=_PATH,
              help="Order export(s) (.xlsx/.csv); repeat for several.")
@click.option("--aftersales", "aftersales", multiple=True, required=True, type=_PATH,
              help="After-sales (售后) export(s); repeat for several.")
@click.option("--returns", "returns", multiple=True, type=_PATH,
              help="Warehouse returns log(s) (退货登记); repeat for several.")
@click.option("--ledger", default=None,
              help="Ledger file or postgresql:// URL: orders with a live parcel count as shipped.")
@click.option("--month", default=None, metavar="YYYY-MM", help="Only after-sales refunded (else applied) that month.")
@click.option("-o", "--out", "out_file", type=_PATH, default=Path("reconciliation.xlsx"), show_default=True,
              help="Reconciliation workbook to write.")
@click.option("--basis", type=click.Choice(["buyer_paid", "merchant_received"]), default="buyer_paid",
              show_default=True, help="Compare refunds with 用户实付金额 or 商家实收金额.")
@click.option("--write-back", is_flag=True, help="Write a 对账状态 column into the after-sales workbook(s).")
@face
def reconcile(orders: tuple[Path, ...], aftersales: tuple[Path, ...], returns: tuple[Path, ...],
              ledger: str | None, month: str | None, out_file: Path, basis: str, write_back: bool,
              out: Out) -> None:
    """对账：订单 + 售后 + 退货登记 -> 对账工作簿（汇总 / 已匹配 / 异常 / 问题清单）。

    Reconcile refunds and returned parcels against the orders and write a workbook of totals,
    matches and exceptions.
    """
    result = run_reconcile(list(orders), list(aftersales), list(returns), ledger=ledger, month=month,
                           out=out_file, basis="merchant_received" if basis == "merchant_received" else "buyer_paid",
                           lang=out.lang, write_back=write_back)
    if out.json:
        out.emit_json(result.as_json())
    else:
        click.echo(summary_line(result, out.lang))
        for warning in result.warnings:
            click.echo(f"  {warning}")
    exit_with(1 if result.exception_count or result.blocking_issues else 0)


def summary_line(r: ReconcileResult, lang: str) -> str:
    """One line: after-sales, refund totals, exceptions per kind, input problems, the file written."""
    kinds = [(kind_name(k, lang), n) for k, n in r.exceptions.items() if n]
    out = ", ".join(str(p) for p in r.files_written)
    if lang == "en":
        detail = f" ({', '.join(f'{k} {n}' for k, n in kinds)})" if kinds else ""
        return (f"{r.aftersales} after-sales ({r.refunded} refunded): refunds {format_yuan(r.refunds_total)}, "
                f"matched to orders {format_yuan(r.matched_total)}, without order "
                f"{format_yuan(r.unmatched_total)}; {r.exception_count} exceptions{detail}; "
                f"{len(r.issues)} input issues; written to {out}")
    detail = f"（{'，'.join(f'{k} {n}' for k, n in kinds)}）" if kinds else ""
    return (f"售后 {r.aftersales} 单（已退款 {r.refunded} 单）：退款合计 {format_yuan(r.refunds_total)}，"
            f"已匹配订单 {format_yuan(r.matched_total)}，找不到订单 {format_yuan(r.unmatched_total)}；"
            f"异常 {r.exception_count} 条{detail}；输入问题 {len(r.issues)} 个；已写入 {out}")
