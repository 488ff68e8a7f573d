"""What happened to every row: statuses and the sentences in 处理说明, the run's counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from operator import attrgetter

from pddbatch.allocate import Numbered
from pddbatch.ledger import Ledger
from pddbatch.messages import held_count_text, masked_text, pick
from pddbatch.model import BatchResult, Order, Parcel, RowIssue, RowOutcome, RowStatus
from pddbatch.plan.parcels import Plan, deadline_text
from pddbatch.validate import Validation


def validation_outcomes(v: Validation, lang: str) -> dict[int, RowOutcome]:
    by_row = v.issues_by_row()
    outcomes: dict[int, RowOutcome] = {}
    for o in v.orders:
        warn = [i.message for i in by_row.get(o.row, []) if i.code != "masked-value"]
        masked = o.receiver.masked if o.order_status == "待发货" else []
        if masked:     # valid data, but no label can carry it: 待补全 says so already at 校验
            outcomes[o.row] = RowOutcome(o.row, o.order_sn, RowStatus.INCOMPLETE,
                                         "；".join([masked_text(masked, lang), *warn]))
            continue
        outcomes[o.row] = RowOutcome(o.row, o.order_sn, RowStatus.VALID, "；".join(warn))
    for row in v.rejected_rows:
        outcomes[row] = rejected(row, by_row.get(row, []), lang)
    return outcomes


def rejected(row: int, issues: Sequence[RowIssue], lang: str) -> RowOutcome:
    errors = [i for i in issues if i.severity == "error"]
    sep = "；" if lang != "en" else "; "
    text = sep.join(f"{i.cell}：{i.message}" if lang != "en" else f"{i.cell}: {i.message}" for i in errors)
    return RowOutcome(row, "", RowStatus.INVALID, text)


def fill_counts(result: BatchResult, v: Validation, outcomes: dict[int, RowOutcome], lang: str = "zh") -> None:
    result.rows = v.checked
    result.rejected = len(v.rejected_rows)
    result.issues = list(v.issues)
    result.outcomes = [outcomes[r] for r in sorted(outcomes)]
    counts = Counter(map(attrgetter("status"), outcomes.values()))      # (one pass, not eight)
    result.intercepted = counts[RowStatus.INTERCEPTED]
    result.skipped = counts[RowStatus.SKIPPED]
    result.short = counts[RowStatus.SHORT]
    result.held = counts[RowStatus.HELD]
    result.out_of_stock = counts[RowStatus.OUT_OF_STOCK]
    result.incomplete = counts[RowStatus.INCOMPLETE]
    result.store_pickup = counts[RowStatus.STORE_PICKUP]
    result.under_review = counts[RowStatus.UNDER_REVIEW]
    for note in not_shipped_notes(result, lang):
        if note not in result.notes:
            result.notes.append(note)


def not_shipped_notes(r: BatchResult, lang: str) -> list[str]:
    """Run-level remarks for orders held without a number: masked receivers, store pickup, PDD review."""
    counts = ((RowStatus.INCOMPLETE, r.incomplete), (RowStatus.STORE_PICKUP, r.store_pickup),
              (RowStatus.UNDER_REVIEW, r.under_review))
    return [held_count_text(status, n, lang) for status, n in counts if n]




def process_outcomes(v: Validation, plan: Plan, numbered: Numbered, lang: str, *, parcels: bool = True
                     ) -> tuple[dict[int, RowOutcome], list[Parcel]]:
    """Row outcomes for every row, and the numbered parcels (as they will be printed; `parcels=False`:
    none — a run's labels start from `numbered_parcels` before this)."""

    by_row = v.issues_by_row()
    outcomes: dict[int, RowOutcome] = dict(plan.outcomes)
    for row in v.rejected_rows:
        outcomes[row] = rejected(row, by_row.get(row, []), lang)
    ready: list[Parcel] = []
    no_issues: list[RowIssue] = []
    for parcel in plan.parcels:
        orders = parcel.orders
        if len(orders) == 1:        # most parcels: no grouping (100,000 orders: 1.2 -> 0.9 CPU-s for the step)
            o = orders[0]
            hit = numbered.get(o.order_sn)
            groups = {hit[0] if hit else "": [o]}
        else:
            # the ledger may split a planned parcel (some orders kept an earlier number): group again
            groups = {}
            for o in orders:
                hit = numbered.get(o.order_sn)
                groups.setdefault(hit[0] if hit else "", []).append(o)
        for tracking, members in groups.items():
            sns = [o.order_sn for o in members]
            for o in members:
                notes = row_notes(o, sns, parcel, plan, by_row.get(o.row, no_issues), lang)
                if not tracking:
                    short = pick(lang, f"{parcel.carrier.pdd_name}单号不足，未分配；请补充号段后重新处理",
                                 f"Not enough {parcel.carrier.pdd_name} numbers; add numbers and run again")
                    outcomes[o.row] = RowOutcome(o.row, o.order_sn, RowStatus.SHORT, _join([short, *notes], lang))
                    continue
                outcomes[o.row] = RowOutcome(o.row, o.order_sn, RowStatus.ALLOCATED, _join(notes, lang),
                                             parcel.carrier.pdd_name, tracking)
            if tracking and parcels:
                ready.append(parcel.numbered(tuple(members), tracking,
                                             parcel.key if len(members) == len(orders) else
                                             f"{parcel.key}-{tracking}"))
    return outcomes, ready


def numbered_parcels(plan: Plan, numbered: Numbered) -> list[Parcel]:
    """The parcels as they will be printed: each planned parcel's orders grouped by the number they
    got (the ledger may split a parcel: some orders kept an earlier number), the ones without a
    number left out. The same list `process_outcomes` gives, without the rows' texts (the labels
    start from this while the rows' outcomes are worked out)."""
    ready: list[Parcel] = []
    for parcel in plan.parcels:
        orders = parcel.orders
        if len(orders) == 1:
            hit = numbered.get(orders[0].order_sn)
            if hit:
                ready.append(parcel.numbered(orders, hit[0], parcel.key))
            continue
        groups: dict[str, list[Order]] = {}
        for o in orders:
            hit = numbered.get(o.order_sn)
            groups.setdefault(hit[0] if hit else "", []).append(o)
        for tracking, members in groups.items():
            if tracking:
                ready.append(parcel.numbered(tuple(members), tracking,
                                             parcel.key if len(members) == len(orders) else f"{parcel.key}-{tracking}"))
    return ready


def note_live_numbers(outcomes: dict[int, RowOutcome], v: Validation, ledger: Ledger, lang: str) -> None:
    """A rejected row whose order already has a live number says so: the label may be printed already.

    The number stays the order's own (a corrected rerun reuses it); `pddbatch void` frees it.
    """
    col = v.columns.col("order_sn")
    if col is None or not v.rejected_rows:
        return
    rows: dict[str, int] = {}
    for row in v.rejected_rows:
        cells = v.table.rows[row - v.table.header_row - 1]
        raw = cells[col - 1] if col <= len(cells) else None
        if isinstance(raw, str) and raw.strip():
            rows[raw.strip()] = row
    if not rows:
        return
    cs = _carrier_names()
    for sn, rec in ledger.existing_for_orders(list(rows)).items():
        row = rows[sn]
        o = outcomes.get(row)
        if o is None:
            continue
        name = cs.get(rec.carrier_code, rec.carrier_code)
        note = pick(lang, f"该订单已有单号 {name} {rec.tracking_no}（台账中仍有效，面单可能已打印）；改正下面的问题后"
                          f"重新处理会沿用这个单号；不再发货请用 pddbatch void {rec.tracking_no} 作废",
                    f"This order already has live number {rec.carrier_code} {rec.tracking_no} (its label may be "
                    f"printed); fix the problems below and run again to keep it, or free it with "
                    f"pddbatch void {rec.tracking_no}")
        outcomes[row] = replace(o, order_sn=sn, message=_join([note, o.message], lang))


def _carrier_names() -> dict[str, str]:
    from pddbatch.carriers import all_carriers

    return {code: c.pdd_name for code, c in all_carriers().items()}


MERGE_NOTE_MAX = 5      # order numbers a row's "merged with" note names


def row_notes(o: Order, sns: Sequence[str], parcel: Parcel, plan: Plan, issues: Sequence[RowIssue],
               lang: str) -> list[str]:
    notes: list[str] = []
    others = [s for s in sns if s != o.order_sn] if len(sns) > 1 else None
    if others:
        # a parcel of thousands of orders (hostile input) must not give every row a note naming them all:
        # that is quadratic (200k rows of one recipient took > 20 GB)
        shown, more = others[:MERGE_NOTE_MAX], len(others) - MERGE_NOTE_MAX
        tail_zh, tail_en = (f" 等 {len(others)} 单", f" and {more} more") if more > 0 else ("", "")
        notes.append(pick(lang, f"与订单 {'、'.join(shown)}{tail_zh} 合并为一个包裹",
                          f"Merged into one parcel with {', '.join(shown)}{tail_en}"))
    if parcel.rule:
        notes.append(pick(lang, f"快递按规则“{parcel.rule}”选择", f"Carrier chosen by rule '{parcel.rule}'"))
    planned = plan.notes.get(o.order_sn)
    if planned:
        notes.extend(planned)
    d = plan.deadlines.get(o.order_sn)
    if d is not None:
        notes.append(deadline_text(d, lang))
    if issues:
        notes.extend(i.message for i in issues if i.severity == "warning")
    return notes


def _join(parts: Sequence[str], lang: str) -> str:
    return ("；" if lang != "en" else "; ").join(p for p in parts if p)


def short_notes(short: dict[str, int], lang: str) -> list[str]:
    from pddbatch.carriers import all_carriers

    cs = all_carriers()
    return [pick(lang, f"{cs[c].pdd_name if c in cs else c}单号不足：还差 {n} 个",
                 f"{c}: {n} more numbers needed") for c, n in short.items()]


def urgent_list(plan: Plan, lang: str) -> list[dict[str, object]]:
    """即将超时: orders past or near their promised ship time, most urgent first."""
    out = []
    shown: dict[datetime, str] = {}     # a big day's orders share their due minutes
    for d in sorted(plan.deadlines.values(), key=attrgetter("hours_left")):
        t = d.due
        due = shown.get(t)
        if due is None:
            due = shown[t] = f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"
        hours = d.hours_left
        out.append({"order_sn": d.order_sn, "row": d.row, "due": due, "hours_left": round(hours, 1),
                    "overdue": hours < 0, "derived": d.derived})
    return out
