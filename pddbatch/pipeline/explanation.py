"""`pddbatch explain`: every decision for one order, in sentences. Changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pddbatch.clock import china_now
from pddbatch.config import find_config, load_config
from pddbatch.errors import InputError
from pddbatch.pipeline.batch import Options, load_table, side_tables
from pddbatch.plan.parcels import deadline_text, make_plan
from pddbatch.validate import validate_table


def explain(path: Path, order_sn: str, options: Options | None = None) -> list[str]:
    """Every decision pddbatch makes for one order, as sentences (no ledger change, no file written)."""
    from pddbatch.ledger import Ledger

    opts = options or Options()
    config = load_config(find_config(path, opts.config))
    lang = opts.lang or config.lang
    now = opts.now or china_now()
    table = load_table(path, opts.sheet)
    v = validate_table(table, lang=lang)
    lines: list[str] = []
    row = next((o.row for o in v.orders if o.order_sn == order_sn), None)
    if row is None:
        sn_col = v.columns.col("order_sn")
        for i, raw in enumerate(table.rows):
            if sn_col and sn_col - 1 < len(raw) and str(raw[sn_col - 1]).strip() == order_sn:
                row = table.sheet_row(i)
                break
    if row is None:
        raise InputError(f"在 {path.name} 中找不到订单 {order_sn}", f"Order {order_sn} is not in {path.name}")
    lines.append(f"订单 {order_sn}：工作表“{table.sheet}”第 {row} 行")
    for issue in v.issues_by_row().get(row, []):
        kind = "错误" if issue.severity == "error" else "提醒"
        lines.append(f"校验{kind}：{issue.cell} {issue.header}：{issue.message}")
    if row in v.rejected_rows:
        lines.append("结论：校验失败，不分配单号")
        return lines
    known: dict[str, Any] = {}
    if config.ledger_path.exists():
        with Ledger.open(config.ledger_path) as ledger:
            known = ledger.existing_for_orders([o.order_sn for o in v.orders])
    catalog, stock = side_tables(path, table, config)
    plan = make_plan(v.orders, config, now=now, lang=lang,
                     ledger_numbers={sn: p.tracking_no for sn, p in known.items()}, catalog=catalog, stock=stock,
                     tracing=True)
    lines.extend(plan.trace.get(order_sn, []))
    d = plan.deadlines.get(order_sn)
    if d is not None:
        lines.append(deadline_text(d, lang))
    rec = known.get(order_sn)
    if rec is not None:
        lines.append(f"台账：已分配 {rec.carrier_code} {rec.tracking_no}（包裹 #{rec.id}，第 {rec.run_id} 次运行）")
    elif row not in plan.outcomes:
        lines.append("台账：尚未分配单号；处理时会分配")
    return lines
