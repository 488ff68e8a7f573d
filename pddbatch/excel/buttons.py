"""The Excel face: the ribbon buttons 校验 / 处理发货 / 对账 / 物流跟踪 on the open workbook (an `xlwings.Book`).

    import xlwings as xw, pddbatch.excel as px
    px.process_book(xw.Book.caller())        # classic add-in (RunPython)
    px.validate_book(book)                   # xlwings Lite: the injected book

Each call runs the same `pipeline` code as the CLI with the live-book backend
(`pddbatch.workbook.livebook` / `livewrites`), then shows one message box. Fatal problems become a message box with a
plain sentence; queued writes (remote engine) are dropped so the sheet stays as it was.
Config (`pddbatch.toml`) and outputs (`<stem>.pddbatch/`, `<stem>-对账.xlsx`) live beside the workbook.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pddbatch.config import CONFIG_NAME, load_config
from pddbatch.errors import InputError, OutOfMemory, PddBatchError
from pddbatch.ledger.location import LedgerLocation
from pddbatch.messages import pick
from pddbatch.model import BatchResult
from pddbatch.money import format_yuan
from pddbatch.pipeline import Options, process, validate
from pddbatch.pipeline.tracking import TrackOptions, TrackResult, track
from pddbatch.reconcile import KINDS, ReconcileResult, reconcile
from pddbatch.workbook.backend import LiveSheet
from pddbatch.workbook.livebook import read_book, snapshot_xlsx

TITLE = "拼多多发货"
TITLE_EN = "PDD shipping"
AFTERSALES_HINTS = ("售后", "aftersale", "after-sale", "after_sale")
RETURNS_HINTS = ("退货", "returns")
TRACKING_HINTS = ("轨迹", "物流", "tracking", "kuaidi100")
_SUFFIXES = {".xlsx", ".xlsm", ".csv"}
log = logging.getLogger("pddbatch.excel")
T = TypeVar("T")


def validate_book(book: Any, *, lang: str | None = None) -> BatchResult | None:
    """校验: check every row, mark bad cells red with a note, list problems in 问题清单."""
    lg = lang or "zh"

    def run() -> BatchResult:
        return validate(LiveSheet(book, lg), Options(lang=lg))

    result = _guarded(book, lg, run)
    if result is not None:
        _alert(book, validate_summary(result, lg), lg)
    return result


def process_book(book: Any, *, lang: str | None = None) -> BatchResult | None:
    """处理发货: validate, plan, number, render labels beside the workbook and fill the sheet in."""
    lg = lang or "zh"

    def run() -> BatchResult:
        _saved_path(book, lg)
        return process(LiveSheet(book, lg), Options(lang=lang))

    result = _guarded(book, lg, run)
    if result is not None:
        _alert(book, process_summary(result, lg), lg)
    return result


def reconcile_book(book: Any, *, lang: str | None = None) -> ReconcileResult | None:
    """对账: this workbook's orders + the after-sales and returns files beside it -> `<stem>-对账.xlsx`.

    After-sales exports are the files in the workbook's folder whose name contains 售后 (or
    "aftersale"); returns logs those whose name contains 退货 (or "returns"); .xlsx/.xlsm/.csv.
    The orders come from the open workbook as it is now (unsaved edits included). The ledger named
    in `pddbatch.toml` beside the workbook is used when it exists.
    """
    lg = lang or "zh"

    def run() -> ReconcileResult:
        path = _saved_path(book, lg)
        aftersales, returns = find_reconcile_inputs(path)
        table = read_book(book, lang=lg)
        with tempfile.TemporaryDirectory(prefix="pddbatch-") as tmp:
            orders = snapshot_xlsx(table, Path(tmp) / path.name)
            return reconcile([orders], aftersales, returns, ledger=_ledger_beside(path),
                             out=path.with_name(f"{path.stem}-对账.xlsx"), lang=lg)

    result = _guarded(book, lg, run)
    if result is not None:
        _alert(book, reconcile_summary(result, lg), lg)
    return result


def track_book(book: Any, *, lang: str | None = None, now: datetime | None = None) -> TrackResult | None:
    """物流跟踪: import the tracking exports beside the workbook, ask 快递100 when configured, fill in
    物流状态 / 最新轨迹 (alert rows filled, with a note saying what to do) and write tracking.xlsx.

    Exports are the files in the workbook's folder whose name contains 轨迹, 物流, "tracking" or
    "kuaidi100" (.xlsx/.xlsm/.csv, or 快递100 .json). The live query runs when pddbatch.toml has a
    [tracking.kuaidi100] account. `now` (China time) is for tests.
    """
    lg = lang or "zh"

    def run() -> TrackResult:
        path = _saved_path(book, lg)
        files = find_tracking_files(path)
        cfg = path.parent / CONFIG_NAME
        live = cfg.is_file() and bool(load_config(cfg).tracking.kuaidi100_key)
        if not files and not live:
            raise InputError(f"在 {path.parent} 中找不到物流轨迹文件：请把快递公司或快递100 导出的轨迹（文件名含“轨迹”或“物流”）"
                             "放在这个工作簿旁边，或在 pddbatch.toml 里配置 [tracking.kuaidi100]，再点“物流跟踪”",
                             f"No tracking export in {path.parent}: put one beside this workbook (file name containing "
                             "轨迹, 物流 or 'tracking'), or configure [tracking.kuaidi100], then click 物流跟踪 again")
        return track(LiveSheet(book, lg), TrackOptions(lang=lg, events=tuple(files), live=live, now=now))

    result = _guarded(book, lg, run)
    if result is not None:
        _alert(book, track_summary(result, lg), lg)
    return result


# ---- helpers ------------------------------------------------------------------------------------------

def find_reconcile_inputs(workbook: Path) -> tuple[list[Path], list[Path]]:
    """The after-sales and returns files beside `workbook` (see `reconcile_book`)."""
    aftersales: list[Path] = []
    returns: list[Path] = []
    for p in sorted(workbook.parent.iterdir()):
        name = p.name.lower()
        if not p.is_file() or p.suffix.lower() not in _SUFFIXES or name.startswith("~$") or p == workbook:
            continue
        if any(h in name for h in AFTERSALES_HINTS):
            aftersales.append(p)
        elif any(h in name for h in RETURNS_HINTS):
            returns.append(p)
    if not aftersales:
        raise InputError(
            f"在 {workbook.parent} 中找不到售后导出文件：请把售后导出（文件名含“售后”，如 售后-11月.xlsx）"
            f"放在这个工作簿旁边再点“对账”",
            f"No after-sales export found in {workbook.parent}: put it (file name containing 售后 or "
            f"'aftersale') beside this workbook and click 对账 again")
    return aftersales, returns


def find_tracking_files(workbook: Path) -> list[Path]:
    """The tracking exports beside `workbook` (see `track_book`)."""
    out: list[Path] = []
    for p in sorted(workbook.parent.iterdir()):
        name = p.name.lower()
        if not p.is_file() or name.startswith("~$") or p == workbook:
            continue
        if p.suffix.lower() in (*_SUFFIXES, ".json") and any(h in name for h in TRACKING_HINTS):
            out.append(p)
    return out


def _ledger_beside(workbook: Path) -> LedgerLocation | None:
    """The ledger the config beside the workbook names (file or PostgreSQL URL), when it exists."""
    from pddbatch.ledger import ledger_exists

    cfg = workbook.parent / CONFIG_NAME
    if not cfg.is_file():
        return None
    ledger = load_config(cfg).ledger
    return ledger if ledger_exists(ledger) else None


def _saved_path(book: Any, lang: str) -> Path:
    if sys.platform == "emscripten":      # xlwings Lite: a browser sandbox, no ledger or pools on disk
        raise InputError("xlwings Lite（浏览器里的 Python）只能“校验”：处理发货和对账需要本机文件夹里的配置、"
                         "台账和号段，请在 Windows/Mac 的 Excel 里用 pddbatch 加载项",
                         "xlwings Lite (Python in the browser) can only validate: processing and reconciling "
                         "need the config, ledger and pools in a local folder; use the desktop add-in")
    full = str(book.fullname)
    if full.lower().startswith(("http://", "https://")):
        raise InputError("这个工作簿保存在云端（OneDrive/SharePoint）：请先另存到本机文件夹，再点按钮",
                         "This workbook lives in the cloud (OneDrive/SharePoint): save it to a local folder first")
    path = Path(full)
    if not path.is_absolute() or not path.parent.is_dir():
        raise InputError("请先保存工作簿：配置文件、面单和对账表都放在工作簿所在的文件夹",
                         "Save the workbook first: config, labels and reports live in its folder")
    return path


def _guarded(book: Any, lang: str, run: Callable[[], T]) -> T | None:
    """Run `run`; a fatal error becomes a message box and no queued write survives it."""
    queued = _queued_actions(book)
    mark = len(queued) if queued is not None else 0
    try:
        return run()
    except PddBatchError as exc:
        _drop_queued(queued, mark)
        _alert(book, exc.text(lang), lang, critical=True)
    except MemoryError:
        _drop_queued(queued, mark)
        _alert(book, OutOfMemory().text(lang), lang, critical=True)
    except Exception as exc:  # last line of defence: a sentence, never a traceback
        log.exception("pddbatch Excel button failed")
        _drop_queued(queued, mark)
        detail = f"{type(exc).__name__}: {exc}"[:300]
        _alert(book, pick(lang, f"出现意外错误，工作表未改动。请把这句话发给技术支持：{detail}",
                          f"Unexpected error; the sheet was not changed. Please report: {detail}"),
               lang, critical=True)
    return None


def _queued_actions(book: Any) -> list[Any] | None:
    """The remote engine's action queue (None on desktop Excel, where writes happen at once)."""
    try:
        data = book.json()
    except Exception:  # desktop engines have no queue
        return None
    actions = data.get("actions") if isinstance(data, dict) else None
    return actions if isinstance(actions, list) else None


def _drop_queued(queued: list[Any] | None, mark: int) -> None:
    if queued is not None:
        del queued[mark:]


def _alert(book: Any, text: str, lang: str, *, critical: bool = False) -> None:
    book.app.alert(text, title=pick(lang, TITLE, TITLE_EN), mode="critical" if critical else "info")


def validate_summary(r: BatchResult, lang: str) -> str:
    ok = r.rows - r.rejected
    if lang == "en":
        text = f"Check done: {r.rows} rows, {ok} valid, {r.rejected} with problems."
        return text + (" Bad cells are red with a note; see the 问题清单 sheet." if r.issues else "")
    text = f"校验完成：共 {r.rows} 行，通过 {ok} 行，有问题 {r.rejected} 行。"
    return text + ("\n有问题的单元格已标红并加批注，明细见“问题清单”工作表。" if r.issues else "")


def process_summary(r: BatchResult, lang: str) -> str:
    if lang == "en":
        lines = [f"Done: {r.rows} rows. Tracking numbers: {r.allocated} ({r.allocated_new} new), "
                 f"{r.parcels} parcels.",
                 f"Intercepted (after-sales/refund) {r.intercepted}, skipped {r.skipped}, held {r.held}, "
                 f"short of numbers {r.short}, invalid {r.rejected}, near/past deadline {r.deadline_warnings}."]
    else:
        lines = [f"处理完成：共 {r.rows} 行。已分配单号 {r.allocated} 个（本次新分配 {r.allocated_new} 个），"
                 f"包裹 {r.parcels} 个。",
                 f"已拦截（售后/退款）{r.intercepted}，已跳过 {r.skipped}，暂缓 {r.held}，单号不足 {r.short}，"
                 f"校验失败 {r.rejected}，临近/超过发货时限 {r.deadline_warnings}。"]
    lines.extend(r.notes)
    if r.out_dir:
        lines.append(pick(lang, f"面单、拣货单和批量发货表已写入：{r.out_dir}",
                          f"Labels, pick list and bulk-ship file written to: {r.out_dir}"))
    if r.rejected:
        lines.append(pick(lang, "有问题的单元格已标红并加批注，明细见“问题清单”工作表。",
                          "Bad cells are red with a note; see the 问题清单 sheet."))
    return "\n".join(lines)


def reconcile_summary(r: ReconcileResult, lang: str) -> str:
    kinds = [(KINDS[k][1] if lang == "en" else KINDS[k][0], n) for k, n in r.exceptions.items() if n]
    out = "、".join(str(p) for p in r.files_written)
    if lang == "en":
        detail = f" ({', '.join(f'{k} {n}' for k, n in kinds)})" if kinds else ""
        return (f"Reconciliation done: {r.aftersales} after-sales ({r.refunded} refunded), refunds "
                f"{format_yuan(r.refunds_total)}; {r.exception_count} exceptions{detail}; "
                f"{len(r.issues)} input issues.\nWritten to: {out}")
    detail = f"（{'，'.join(f'{k} {n}' for k, n in kinds)}）" if kinds else ""
    return (f"对账完成：售后 {r.aftersales} 单（已退款 {r.refunded} 单），退款合计 {format_yuan(r.refunds_total)}；"
            f"异常 {r.exception_count} 条{detail}；输入问题 {len(r.issues)} 个。\n对账表已写入：{out}")


def track_summary(r: TrackResult, lang: str) -> str:
    a = r.alerts
    if lang == "en":
        lines = [f"Tracking done: {r.parcels} parcels, {r.by_status.get('delivered', 0)} delivered; {r.alerted} need you "
                 f"(not picked up {a.get('unpicked', 0)}, stalled {a.get('stalled', 0)}, refused {a.get('refused', 0)}, "
                 f"returned {a.get('returned', 0)}, problem {a.get('problem', 0)}, picked up late {a.get('late-pickup', 0)})."]
    else:
        lines = [f"物流跟踪完成：共 {r.parcels} 个包裹，已签收 {r.by_status.get('delivered', 0)} 个；需要处理 {r.alerted} 个"
                 f"（未揽收 {a.get('unpicked', 0)}，停滞 {a.get('stalled', 0)}，拒收 {a.get('refused', 0)}，"
                 f"退回 {a.get('returned', 0)}，疑难 {a.get('problem', 0)}，揽收超时 {a.get('late-pickup', 0)}）。"]
    if r.alerted:
        lines.append(pick(lang, "需要处理的行已标红，批注写明该怎么做。", "Rows that need you are red, with a note saying what to do."))
    lines.extend(r.notes[:5])
    if r.report:
        lines.append(pick(lang, f"明细见：{r.report}", f"Details: {r.report}"))
    return "\n".join(lines)
