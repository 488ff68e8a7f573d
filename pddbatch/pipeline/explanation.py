"""`pddbatch explain`: every decision for one order, in sentences. Changes nothing.

The story comes from the same `prepare` that `process` runs (ledger numbers, voided numbers, rules,
stock, merges), with the planner's tracing on.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from pddbatch.errors import InputError
from pddbatch.ledger import Ledger, ledger_exists
from pddbatch.model import BatchResult
from pddbatch.pipeline.options import Clock, Options, no_progress
from pddbatch.pipeline.prepare import as_backend, config_for, prepare
from pddbatch.plan.parcels import deadline_text
from pddbatch.validate import Validation
from pddbatch.workbook.backend import SheetBackend


def explain(workbook: Path | SheetBackend, order_sn: str, options: Options | None = None) -> list[str]:
    """Every decision pddbatch makes for one order, as sentences (no ledger change, no file written)."""
    opts = options or Options()
    path = Path(workbook) if isinstance(workbook, Path | str) else workbook.path
    config = config_for(path, opts)
    lang = opts.lang or config.lang
    backend = as_backend(workbook, lang)
    clock = Clock(BatchResult("explain", str(path)))

    def open_ledger(stack: ExitStack, v: Validation) -> Ledger | None:
        if not ledger_exists(config.ledger):       # explain never creates a ledger
            return None
        return stack.enter_context(Ledger.open(config.ledger))

    with ExitStack() as stack:
        prep = prepare(backend, opts, lang, clock, no_progress, config=config, stack=stack, open_ledger=open_ledger,
                       tracing=True)
    table, v, plan = prep.table, prep.validation, prep.plan
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
    lines.extend(plan.trace.get(order_sn, []))
    lines.extend(plan.notes.get(order_sn, []))
    d = plan.deadlines.get(order_sn)
    if d is not None:
        lines.append(deadline_text(d, lang))
    rec = prep.known.get(order_sn)
    if rec is not None:
        lines.append(f"台账：已分配 {rec.carrier_code} {rec.tracking_no}（包裹 #{rec.id}，第 {rec.run_id} 次运行）")
    elif row not in plan.outcomes:
        voided = prep.voided.get(order_sn)
        lines.append(f"台账：原单号 {voided} 已作废，处理时会分配新单号" if voided else "台账：尚未分配单号；处理时会分配")
    return lines
