"""The ledger's invariants, checked with SQL that runs on SQLite and PostgreSQL: what `pddbatch doctor` reports."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from pddbatch.ledger.database import Database
from pddbatch.ledger.records import IntegrityReport

STALE_AFTER = timedelta(minutes=30)
_SHOW = 5   # examples quoted per problem

# (SQL returning offending rows, Chinese message, English message); "{n}" = count, "{ex}" = examples
_CHECKS: list[tuple[str, str, str]] = [
    ("SELECT tracking_no FROM parcels WHERE state = 'live' GROUP BY tracking_no HAVING count(*) > 1",
     "{n} 个单号同时在多个有效包裹上：{ex}", "{n} numbers are on more than one live parcel: {ex}"),
    ("SELECT tracking_no FROM parcels GROUP BY tracking_no HAVING count(*) > 1",
     "{n} 个单号被用于多个包裹（含已作废）：{ex}", "{n} numbers were used for several parcels (voided included): {ex}"),
    ("SELECT po.order_sn FROM parcel_orders po JOIN parcels p ON p.id = po.parcel_id "
     "WHERE p.state = 'live' GROUP BY po.order_sn HAVING count(*) > 1",
     "{n} 个订单同时在多个有效包裹上：{ex}", "{n} orders are on more than one live parcel: {ex}"),
    ("SELECT p.id FROM parcels p WHERE p.state = 'live' AND NOT EXISTS "
     "(SELECT 1 FROM parcel_orders po WHERE po.parcel_id = p.id AND po.live = 1)",
     "{n} 个有效包裹没有订单：包裹 #{ex}", "{n} live parcels have no orders: parcel #{ex}"),
    ("SELECT CAST(po.parcel_id AS TEXT) || ':' || po.order_sn FROM parcel_orders po JOIN parcels p ON p.id = po.parcel_id "
     "WHERE (CASE WHEN po.live = 1 THEN 1 ELSE 0 END) <> (CASE WHEN p.state = 'live' THEN 1 ELSE 0 END)",
     "{n} 条订单-包裹记录与包裹状态不一致：{ex}", "{n} order-parcel rows disagree with their parcel's state: {ex}"),
    ("SELECT po.order_sn FROM parcel_orders po LEFT JOIN parcels p ON p.id = po.parcel_id WHERE p.id IS NULL",
     "{n} 条订单记录指向不存在的包裹：{ex}", "{n} order rows point at missing parcels: {ex}"),
    ("SELECT n.number FROM numbers n WHERE n.state = 'used' AND NOT EXISTS "
     "(SELECT 1 FROM parcels p WHERE p.tracking_no = n.number AND p.state = 'live')",
     "{n} 个单号标记为已用，但没有有效包裹（半用状态）：{ex}",
     "{n} numbers are marked used but no live parcel carries them (half-used): {ex}"),
    ("SELECT p.tracking_no FROM parcels p LEFT JOIN numbers n ON n.number = p.tracking_no "
     "WHERE n.number IS NULL OR n.state != CASE p.state WHEN 'live' THEN 'used' ELSE 'voided' END",
     "{n} 个包裹的单号状态不对（有效包裹应为已用、作废包裹应为作废）：{ex}",
     "{n} parcels' numbers are in the wrong state (live -> used, voided -> voided): {ex}"),
    ("SELECT p.tracking_no FROM parcels p JOIN numbers n ON n.number = p.tracking_no WHERE n.carrier != p.carrier",
     "{n} 个包裹的快递公司与单号池不符：{ex}", "{n} parcels' carrier differs from their number's pool: {ex}"),
    ("SELECT id FROM parcels p WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = p.run_id)",
     "{n} 个包裹没有对应的运行记录：包裹 #{ex}", "{n} parcels have no run record: parcel #{ex}"),
    ("SELECT b.id FROM pool_batches b JOIN numbers n ON n.batch_id = b.id WHERE b.removed_at IS NOT NULL "
     "GROUP BY b.id",
     "{n} 个已撤销的号段仍有单号：号段 #{ex}", "{n} removed pool batches still hold numbers: batch #{ex}"),
]


def pid_alive(pid: int) -> bool | None:
    """Whether process `pid` on this machine is alive; None when we can't tell safely."""
    if pid == os.getpid():
        return True
    if os.name == "nt":        # os.kill(pid, 0) would terminate the process on Windows
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return None
    return True


def report(db: Database, carriers: set[str], stale_after: timedelta,
           lang: str = "zh") -> IntegrityReport:
    """Run every check; see `_CHECKS` for the invariants."""
    en = lang == "en"
    errors: list[str] = db.physical_problems(lang)
    warnings: list[str] = []
    for sql, zh, english in _CHECKS:
        bad = [str(r[0]) for r in db.execute(sql)]
        if bad:
            errors.append((english if en else zh).format(n=len(bad), ex=_examples(bad)))
    unknown = [r[0] for r in db.execute("SELECT DISTINCT carrier FROM numbers") if r[0] not in carriers]
    if unknown:
        warnings.append(f"pools of unknown carriers: {', '.join(unknown)}" if en
                        else f"单号池中有未知快递公司：{'、'.join(unknown)}")
    warnings.extend(_stale_runs(db, stale_after, en))
    return IntegrityReport(tuple(errors), tuple(warnings))


def _stale_runs(db: Database, stale_after: timedelta, en: bool) -> list[str]:
    out: list[str] = []
    now = datetime.now().astimezone()
    host = socket.gethostname()
    alive: Callable[[int], bool | None] = pid_alive
    for run_id, workbook, started, pid, run_host in db.execute(
            "SELECT id, workbook, started_at, pid, host FROM runs WHERE status = 'running'"):
        try:
            age = now - datetime.fromisoformat(started)
        except (ValueError, TypeError):
            age = stale_after
        if age < stale_after:
            continue
        if run_host == host and alive(pid) is True:
            continue
        out.append(f"run #{run_id} ({workbook}) started {started} never finished (process gone?)" if en
                   else f"运行 #{run_id}（{workbook}）开始于 {started}，一直未结束（进程可能已中断）")
    return out


def _examples(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOW])
    return shown + (f" …(+{len(items) - _SHOW})" if len(items) > _SHOW else "")
