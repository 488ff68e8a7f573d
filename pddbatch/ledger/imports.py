"""Which ledgers a pool file went into: `<pool file>.pddbatch-imports.json` beside the file.

A new day's run after the ledger was deleted or emptied would otherwise import the
`[[pools.import]]` files again into a fresh ledger and hand out numbers that were already printed.
The record beside the pool file outlives the ledger: importing the file into a ledger with another
id is refused unless the seller says so explicitly (`pool import --allow-other-ledger`).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pddbatch.errors import LedgerError

SUFFIX = ".pddbatch-imports.json"


@dataclass(frozen=True, slots=True)
class ImportRecord:
    ledger_id: str
    ledger: str          # where that ledger was (URL with the password hidden)
    carrier: str
    at: str
    added: int


def record_path(pool_file: Path) -> Path:
    return pool_file.with_name(pool_file.name + SUFFIX)


def read_records(pool_file: Path) -> list[ImportRecord]:
    """The imports recorded beside `pool_file` (none when there is no record yet)."""
    p = record_path(pool_file)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise LedgerError(f"单号文件的导入记录 {p.name} 无法读取（{exc}）：为防止单号被重复分配，没有导入。"
                          "请检查或删除该记录文件后重试",
                          f"The import record {p.name} cannot be read ({exc}); nothing was imported so that no "
                          "number is handed out twice. Check or delete that file and try again") from exc
    out: list[ImportRecord] = []
    for item in data.get("imports", []) if isinstance(data, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("ledger_id"), str):
            out.append(ImportRecord(item["ledger_id"], str(item.get("ledger", "")), str(item.get("carrier", "")),
                                    str(item.get("at", "")), int(item.get("added", 0))))
    return out


def check_same_ledger(pool_file: Path, ledger_id: str, allow_other: bool) -> list[ImportRecord]:
    """Refuse a pool file already imported into another ledger (unless `allow_other`); its records."""
    records = read_records(pool_file)
    others = [r for r in records if r.ledger_id != ledger_id]
    if others and not allow_other and not any(r.ledger_id == ledger_id for r in records):
        first = others[0]
        raise LedgerError(
            f"单号文件 {pool_file.name} 已于 {first.at} 导入过另一个台账（编号 {first.ledger_id[:8]}，{first.ledger}），"
            f"其中的单号可能已经打印在面单上。当前台账（编号 {ledger_id[:8]}）是新的或另一个，为防止单号重复分配，"
            "没有导入。旧台账丢失时请从备份恢复；确认这些单号从未用过时，可运行 "
            f"pddbatch pool import \"{pool_file}\" --allow-other-ledger",
            f"The number file {pool_file.name} was imported into another ledger on {first.at} (id "
            f"{first.ledger_id[:8]}, {first.ledger}); its numbers may already be printed on labels. This ledger "
            f"(id {ledger_id[:8]}) is new or a different one, so nothing was imported to keep numbers from being "
            "handed out twice. Restore the old ledger from a backup if it was lost; if these numbers were never "
            f"used, run pddbatch pool import \"{pool_file}\" --allow-other-ledger")
    return records


def add_record(pool_file: Path, record: ImportRecord) -> None:
    """Append `record` beside `pool_file` (atomic replace); LedgerError when the folder is not writable."""
    p = record_path(pool_file)
    existing = read_records(pool_file)
    data: dict[str, Any] = {
        "$comment": "pddbatch: the ledgers these numbers were imported into. Keep this file with the pool file.",
        "imports": [vars_of(r) for r in [*existing, record]],
    }
    try:
        fd, tmp = tempfile.mkstemp(prefix=".pddbatch-", suffix=".tmp", dir=p.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, indent=2)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise LedgerError(f"无法在单号文件旁写入导入记录 {p}（{exc.strerror}）：为防止单号以后被重复导入，没有导入。"
                          "请把单号文件放到可写的文件夹",
                          f"Cannot write the import record {p} ({exc.strerror}); nothing was imported so that the "
                          "numbers cannot be imported twice later. Put the pool file in a writable folder") from exc


def vars_of(r: ImportRecord) -> dict[str, object]:
    return {"ledger_id": r.ledger_id, "ledger": r.ledger, "carrier": r.carrier, "at": r.at, "added": r.added}
