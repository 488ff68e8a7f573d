"""`pddbatch ledger migrate`: copy a whole ledger into another database, checked.

Every table the source has is copied (pools, batches, parcels, voids, runs, reprints, and any table
a later release adds, such as tracking events), in foreign-key order, inside one transaction on
each side: the source is read from one consistent snapshot and the target gets all of it or none.
The target keeps the source's ledger id, so workbooks and pool files numbered from the old ledger
recognise the new one. A target that already holds any row is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from pddbatch.errors import LedgerError
from pddbatch.ledger.schema import META_TABLE, copy_order
from pddbatch.ledger.store import Ledger

BATCH = 20_000


@dataclass(frozen=True, slots=True)
class CopyReport:
    """Rows copied per table (equal on both sides, checked) and the target's health."""

    tables: dict[str, int]
    ledger_id: str
    target: str


def data_rows(led: Ledger) -> dict[str, int]:
    """Rows per table, the bookkeeping table left out."""
    db = led.database
    return {t: int(db.execute(f"SELECT count(*) FROM {t}")[0][0]) for t in copy_order(db.tables()) if t != META_TABLE}


def copy_ledger(source: Ledger, target: Ledger, lang: str = "zh") -> CopyReport:
    """Copy everything in `source` into the empty `target`; LedgerError (target unchanged) on any problem."""
    src, dst = source.database, target.database
    if source.kind == target.kind and str(source.location) == str(target.location):
        raise LedgerError("迁移的来源和目标是同一个台账", "The source and the target are the same ledger")
    busy = {t: n for t, n in data_rows(target).items() if n}
    if busy:
        shown = "、".join(f"{t} {n} 行" for t, n in busy.items())
        shown_en = ", ".join(f"{t} {n} rows" for t, n in busy.items())
        raise LedgerError(f"目标台账不是空的（{shown}）：迁移只写入空台账，不会覆盖已有数据（{target.shown}）",
                          f"The target ledger is not empty ({shown_en}): migrate only fills an empty ledger and "
                          f"never overwrites one ({target.shown})")
    missing = [t for t in src.tables() if t not in dst.tables()]
    if missing:
        raise LedgerError(f"目标台账缺少表 {', '.join(missing)}：请在两边使用同一版本的 pddbatch",
                          f"The target ledger lacks tables {', '.join(missing)}: use the same pddbatch on both sides")
    tables = [t for t in copy_order(src.tables()) if t != META_TABLE]
    copied: dict[str, int] = {}
    with src.transaction(), dst.transaction():
        expected = data_rows(source)
        for table in tables:
            cols = [c for c in src.columns(table) if c in set(dst.columns(table))]
            order = "id" if "id" in cols else ", ".join(cols[:2])
            n = 0
            for batch in src.stream(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}", BATCH):
                dst.bulk_insert(table, cols, batch)
                n += len(batch)
            copied[table] = n
        for key, value in src.execute(f"SELECT key, value FROM {META_TABLE} WHERE key != 'schema_version'"):
            dst.execute(f"DELETE FROM {META_TABLE} WHERE key = ?", (key,))
            dst.execute(f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?)", (key, value))
        dst.after_copy(tables)
        got = data_rows(target)
        wrong = [t for t in tables if got.get(t) != expected.get(t) or copied[t] != expected.get(t)]
        if wrong:
            raise LedgerError(f"迁移核对失败：{', '.join(wrong)} 的行数不一致，目标台账没有写入任何数据",
                              f"Migration check failed: row counts differ for {', '.join(wrong)}; nothing was "
                              "written to the target")
        report = integrity_errors(target, lang)
        if report:
            raise LedgerError("迁移后目标台账检查不通过，没有写入任何数据：" + "；".join(report),
                              "The target ledger failed its checks after copying; nothing was written: "
                              + "; ".join(report))
    ledger_id = str(dst.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'ledger_id'")[0][0])
    target.ledger_id = ledger_id
    return CopyReport(copied, ledger_id, target.shown)


def integrity_errors(led: Ledger, lang: str) -> list[str]:
    return list(led.integrity_report(lang=lang).errors)
