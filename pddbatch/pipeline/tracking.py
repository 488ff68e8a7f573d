"""`track(workbook)`: after the handover, where is every parcel and which ones need the seller now.

events in (export files, 快递100 JSON, or the live service) -> the ledger's events table (an event
stored once, however often it is imported) -> every parcel of the workbook's orders with its status
and alerts -> 物流状态 / 最新轨迹 written back into the orders sheet (alert rows filled, through the
same lossless write-back as `process`) -> `<stem>.pddbatch/tracking.xlsx`. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pddbatch.clock import CHINA, china_now
from pddbatch.config import Config, find_config, load_config
from pddbatch.documents import default_out_dir
from pddbatch.errors import ConfigError, LedgerError
from pddbatch.ledger import Ledger, ParcelRecord
from pddbatch.ledger.events import EventRow
from pddbatch.messages import pick
from pddbatch.model import CellValue, OwnedColumn, RowIssue, WritePlan
from pddbatch.pipeline.batch import with_ledger_id
from pddbatch.pipeline.guards import check_ledger_identity
from pddbatch.pipeline.options import Clock, no_progress
from pddbatch.pipeline.prepare import as_backend
from pddbatch.tracking.alerts import ParcelTrack, Thresholds, alert_counts, assess
from pddbatch.tracking.events import EventImport, TrackingEvent, UnknownNumber, parse_time, read_events
from pddbatch.tracking.provider import LiveQuery, LiveRun, TrackingProvider, ask_live
from pddbatch.tracking.status import Status
from pddbatch.validate import Validation, validate_table
from pddbatch.workbook.backend import SheetBackend
from pddbatch.workbook.headers import norm_header
from pddbatch.workbook.read import Table
from pddbatch.workbook.values import order_sn as order_sn_value
from pddbatch.workbook.writeplan import _last_used_col

STATUS_HEADER = "物流状态"
LATEST_HEADER = "最新轨迹"
Progress = Callable[[str, int, int], None]


@dataclass
class TrackOptions:
    """What a face asks for; unset values come from the config."""

    config: Path | None = None
    sheet: str | None = None
    lang: str | None = None
    events: tuple[Path, ...] = ()
    live: bool = False
    now: datetime | None = None          # China time
    dry_run: bool = False
    backup: bool = True
    out_dir: Path | None = None


@dataclass
class TrackResult:
    """What `track` found; faces turn it into a summary line, JSON or a message box."""

    path: str
    sheet: str = ""
    dry_run: bool = False
    parcels: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    urgent: list[dict[str, Any]] = field(default_factory=list)      # alerted parcels, most urgent first
    events_read: int = 0
    events_added: int = 0
    import_issues: list[dict[str, Any]] = field(default_factory=list)
    unknown_numbers: list[str] = field(default_factory=list)
    live: dict[str, Any] | None = None
    report: str | None = None
    backup: str | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def alerted(self) -> int:
        return len(self.urgent)

    @property
    def exit_code(self) -> int:
        return 1 if self.urgent else 0

    def to_json(self) -> dict[str, Any]:
        return {"command": "track", "path": self.path, "sheet": self.sheet, "dry_run": self.dry_run,
                "parcels": self.parcels, "by_status": self.by_status, "alerts": self.alerts,
                "alerted": self.alerted, "urgent": self.urgent, "events_read": self.events_read,
                "events_added": self.events_added, "events_duplicate": self.events_read - self.events_added,
                "import_issues": self.import_issues, "unknown_numbers": self.unknown_numbers, "live": self.live,
                "report": self.report, "backup": self.backup, "notes": self.notes,
                "timings": {k: round(v, 3) for k, v in self.timings.items()}, "exit_code": self.exit_code}


def track(workbook: Path | SheetBackend, options: TrackOptions | None = None, progress: Progress | None = None, *,
          provider: TrackingProvider | None = None) -> TrackResult:
    """Import events, (optionally) ask the live service, assess every parcel, write back and report.

    `workbook` is a file or an open book (`LiveSheet`), through the same `SheetBackend` seam as
    `process`. `provider` replaces the configured live service (another aggregator).
    """
    from pddbatch.ledger import ledger_exists, masked

    opts = options or TrackOptions()
    progress = progress or no_progress
    path = Path(workbook) if isinstance(workbook, Path | str) else workbook.path
    config = load_config(find_config(path, opts.config))
    lang = opts.lang or config.lang
    backend = as_backend(workbook, lang)
    now = opts.now or china_now()
    result = TrackResult(str(path), dry_run=opts.dry_run)
    stage = Clock(result).stage
    out_dir = opts.out_dir or default_out_dir(path, config)
    if opts.live:
        if opts.dry_run:
            raise ConfigError("--live 会向快递100 发起查询并记入台账，不能和 --dry-run 一起用",
                              "--live asks 快递100 and records it in the ledger; it can't run with --dry-run")
        provider = provider or _configured_provider(config)
    if not ledger_exists(config.ledger):
        raise LedgerError(f"还没有台账（{masked(config.ledger)}）：先用 pddbatch process 给订单分配单号，再跟踪物流",
                          f"No ledger yet ({masked(config.ledger)}): run pddbatch process first, then track")
    progress("read", 0, len(opts.events) + 1)
    with stage("import"):
        imports = [read_events(p, lang) for p in opts.events]      # a bad file stops us before anything changes
    with backend.locked() if not opts.dry_run else nullcontext():
        with stage("read"):
            table = backend.read_table(opts.sheet)
            result.sheet = table.sheet
            v = validate_table(table, lang=lang)
            sheet_rows = _sheet_rows(table, v)
        ledger = Ledger.open(config.ledger)
        try:
            with stage("ledger"):
                check_ledger_identity(ledger, path, table, out_dir)    # never mix two ledgers' numbers
                ledger_id = ledger.ledger_id
                known = ledger.existing_for_orders(list(sheet_rows.order_rows))
                tracks, rows_of = _parcels(known, sheet_rows)
            progress("import", 0, sum(len(i.events) for i in imports))
            with stage("import"):
                unknown = _store_imports(ledger, imports, result, now, opts.dry_run)
                stored = _stored_events(ledger, [t.tracking_no for t in tracks])
                if opts.dry_run:
                    _merge_new(stored, imports, {t.tracking_no for t in tracks})
                for t in tracks:
                    t.events = stored.get(t.tracking_no, [])
            limits = Thresholds(config.tracking.unpicked_hours, config.tracking.stalled_hours)
            if provider is not None:
                assess(tracks, now, limits)          # statuses so far: a delivered parcel isn't asked again
                queries = [LiveQuery(t.tracking_no, t.carrier, t.phone) for t in tracks if not t.status.final]
                progress("live", 0, len(queries))
                with stage("live"):
                    live = ask_live(provider, queries, ledger.events, now, lang,
                                    lambda done, total: progress("live", done, total))
                    added = ledger.events.add(_rows(live.events, now))
                    fresh = _stored_events(ledger, {e.tracking_no for e in live.events})
                    for t in tracks:
                        if t.tracking_no in fresh:
                            t.events = fresh[t.tracking_no]
                result.live = _live_summary(provider.name, live, added, lang)
                result.notes.extend(a.message for a in live.failed[:20])
                if live.stopped:
                    result.notes.append(live.stopped)
            with stage("assess"):
                flagged = assess(tracks, now, limits)
            result.parcels = len(tracks)
            result.by_status = {s.value: 0 for s in Status}
            for t in tracks:
                result.by_status[t.status.value] += 1
            result.alerts = alert_counts(flagged)
            result.urgent = [_urgent(t, rows_of, lang) for t in flagged]
            result.unknown_numbers = [u.tracking_no for u in unknown]
            if unknown:
                result.notes.append(pick(lang, f"{len(unknown)} 个单号不在台账里（不是 pddbatch 分配的，或来自别的台账），"
                                               "已列在报告的“台账外单号”表",
                                         f"{len(unknown)} numbers are not in the ledger (not allocated by pddbatch, or "
                                         "another ledger); listed in the report's 台账外单号 sheet"))
            if not tracks:
                result.notes.append(pick(lang, "这个表格里没有台账分配过单号的订单：先运行 pddbatch process",
                                         "No order in this workbook has a ledger number yet: run pddbatch process"))
        finally:
            ledger.close()
        if opts.dry_run:
            return result
        progress("write_back", 0, 1)
        with stage("write_back"):
            plan = with_ledger_id(tracking_write_plan(table, v, sheet_rows, tracks, lang), ledger_id)
            result.backup = backend.apply(plan, backup=opts.backup).backup
    with stage("report"):
        from pddbatch.tracking.report import REPORT_NAME, write_report  # xlsx writing: not needed in Lite

        target = out_dir / REPORT_NAME
        issues = [(i.source, issue) for i in imports for issue in i.issues]
        write_report(target, tracks, flagged, unknown, issues, rows_of, lang)
        result.report = str(target)
    return result


# ---- the sheet --------------------------------------------------------------------------------------

@dataclass
class _SheetRows:
    order_rows: dict[str, list[int]] = field(default_factory=dict)        # order_sn -> sheet rows
    uploaded: dict[str, datetime] = field(default_factory=dict)          # order_sn -> 发货时间
    promised: dict[str, datetime] = field(default_factory=dict)          # order_sn -> 承诺发货时间
    phone: dict[str, str] = field(default_factory=dict)


def _sheet_rows(table: Table, v: Validation) -> _SheetRows:
    """Every row's order number (rejected rows too: a parcel may predate a bad edit) and its times."""
    cmap = v.columns
    c_sn, c_ship, c_prom, c_phone = (cmap.col(f) for f in ("order_sn", "shipped_at", "promised_ship_at",
                                                            "receiver_phone"))
    out = _SheetRows()
    if c_sn is None:
        return out

    def cell(row: Sequence[CellValue], col: int | None) -> CellValue:
        return row[col - 1] if col is not None and col <= len(row) else None

    for idx, row in enumerate(table.rows):
        sn = order_sn_value(cell(row, c_sn))[0]
        if not sn:
            continue
        out.order_rows.setdefault(sn, []).append(table.sheet_row(idx))
        for store, col in ((out.uploaded, c_ship), (out.promised, c_prom)):
            t = parse_time(cell(row, col)) if col is not None else None
            if t is not None:
                store[sn] = t
        phone = cell(row, c_phone)
        if phone is not None:
            out.phone[sn] = str(phone)
    return out


def _parcels(known: dict[str, ParcelRecord], rows: _SheetRows) -> tuple[list[ParcelTrack], dict[str, tuple[int, ...]]]:
    """One ParcelTrack per live ledger parcel of the sheet's orders; waybill -> its sheet rows."""
    tracks: dict[int, ParcelTrack] = {}
    rows_of: dict[str, tuple[int, ...]] = {}
    for rec in known.values():
        if rec.id in tracks:
            continue
        sns = tuple(rec.order_sns)
        uploaded = [rows.uploaded[s] for s in sns if s in rows.uploaded]
        promised = [rows.promised[s] for s in sns if s in rows.promised]
        tracks[rec.id] = ParcelTrack(
            rec.tracking_no, rec.carrier_code, sns,
            issued_at=min(uploaded) if uploaded else _china(rec.created_at),
            promised_ship_at=min(promised) if promised else None,
            phone=next((rows.phone[s] for s in sns if s in rows.phone), ""))
        rows_of[rec.tracking_no] = tuple(sorted(r for s in sns for r in rows.order_rows.get(s, ())))
    return list(tracks.values()), rows_of


def _china(text: str) -> datetime | None:
    """A ledger timestamp (ISO, with the PC's offset) on China's clock."""
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t.astimezone(CHINA).replace(tzinfo=None) if t.tzinfo else t


def tracking_write_plan(table: Table, v: Validation, rows: _SheetRows, tracks: Sequence[ParcelTrack],
                        lang: str = "zh") -> WritePlan:
    """物流状态 and 最新轨迹 for every data row (None clears a stale value), alert rows filled with a note.

    The validation marks are carried along: a sheet has one mark record, and a plan without them
    would clear the marks `validate`/`process` made.
    """
    by_header = {norm_header(h): i for i, h in enumerate(table.headers, start=1) if h}
    next_col = _last_used_col(table) + 1
    cols: list[OwnedColumn] = []
    for header in (STATUS_HEADER, LATEST_HEADER):
        col = by_header.get(norm_header(header))
        if col is None:
            col, next_col = next_col, next_col + 1
        cols.append(OwnedColumn(header, col, col not in by_header.values()))
    st, latest = cols[0].col, cols[1].col
    by_order = {sn: t for t in tracks for sn in t.order_sns}
    values: dict[tuple[int, int], CellValue] = {}
    marks = {(i.row, i.col): i.message for i in v.issues if i.severity == "error" and i.col is not None}
    for idx in range(len(table.rows)):
        values[(table.sheet_row(idx), st)] = None
        values[(table.sheet_row(idx), latest)] = None
    for sn, sheet_rows in rows.order_rows.items():
        t = by_order.get(sn)
        if t is None:
            continue
        status = t.status.text(lang)
        if t.alerts:
            status += pick(lang, "（", " (") + pick(lang, "、", ", ").join(a.kind.text(lang) for a in t.alerts) + \
                pick(lang, "）", ")")
        note = ""
        if t.alert is not None:
            note = f"{t.alert.kind.text(lang)}：{t.alert.what_to_do(t.status, lang)}"
        for r in sheet_rows:
            values[(r, st)] = status
            values[(r, latest)] = t.latest_text() or None
            if note:
                marks[(r, st)] = note
                marks[(r, latest)] = note
    return WritePlan(sheet=table.sheet, header_row=table.header_row, columns=tuple(cols), values=values,
                     marks=marks, issues_sheet=None, last_row=table.header_row + len(table.rows))


# ---- events -----------------------------------------------------------------------------------------

def _rows(events: Sequence[TrackingEvent], now: datetime) -> list[EventRow]:
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    return [EventRow(e.key, e.tracking_no, e.at_text, e.text, e.status.value, e.code, e.carrier, e.source, stamp)
            for e in events]


def _store_imports(ledger: Ledger, imports: Sequence[EventImport], result: TrackResult, now: datetime,
                   dry_run: bool) -> list[UnknownNumber]:
    """Store the files' events; count what was new; the numbers no parcel in the ledger carries."""
    every = [e for i in imports for e in i.events]
    result.events_read = len(every)
    for imp in imports:
        result.import_issues.extend({"file": imp.source, "sheet": i.sheet, "cell": i.cell, "code": i.code,
                                     "message": i.message} for i in imp.issues)
    if not every:
        return []
    if dry_run:
        keys = {e.key for e in every}
        have = {r.event_key for rows in _raw_events(ledger, {e.tracking_no for e in every}).values() for r in rows}
        result.events_added = len(keys - have)
    else:
        result.events_added = ledger.events.add(_rows(every, now))
    numbers = {e.tracking_no for e in every}
    known = ledger.events.known_numbers(numbers)
    unknown: dict[str, list[TrackingEvent]] = {}
    for e in every:
        if e.tracking_no not in known:
            unknown.setdefault(e.tracking_no, []).append(e)
    return [UnknownNumber(n, len(evs), max(evs, key=lambda e: e.at)) for n, evs in sorted(unknown.items())]


def _raw_events(ledger: Ledger, numbers: Iterable[str]) -> dict[str, list[EventRow]]:
    return ledger.events.for_numbers(numbers)


def _stored_events(ledger: Ledger, numbers: Iterable[str]) -> dict[str, list[TrackingEvent]]:
    out: dict[str, list[TrackingEvent]] = {}
    statuses = {s.value: s for s in Status}
    for number, rows in _raw_events(ledger, numbers).items():
        out[number] = [TrackingEvent(r.tracking_no, _fast_time(r.at), r.text, statuses[r.status], r.code, r.carrier,
                                     r.source) for r in rows]
    return out


def _fast_time(s: str) -> datetime:
    # stored times are always 'YYYY-MM-DD HH:MM:SS': fromisoformat (C) is ~15x faster than strptime
    return datetime.fromisoformat(s)


def _merge_new(stored: dict[str, list[TrackingEvent]], imports: Sequence[EventImport], wanted: set[str]) -> None:
    """A dry run stores nothing: add the files' events in memory (each scan once)."""
    seen = {e.key for evs in stored.values() for e in evs}
    for imp in imports:
        for e in imp.events:
            if e.tracking_no in wanted and e.key not in seen:
                stored.setdefault(e.tracking_no, []).append(e)
                seen.add(e.key)
    for evs in stored.values():
        evs.sort(key=lambda e: e.at)


# ---- helpers ----------------------------------------------------------------------------------------

def _configured_provider(config: Config) -> TrackingProvider:
    t = config.tracking
    if not (t.kuaidi100_customer and t.kuaidi100_key):
        raise ConfigError("要用 --live，请在 pddbatch.toml 的 [tracking.kuaidi100] 里填上快递100 的 customer 和 key",
                          "For --live, put your 快递100 customer and key in [tracking.kuaidi100] of pddbatch.toml")
    from pddbatch.tracking.kuaidi100 import URL, Kuaidi100

    return Kuaidi100(t.kuaidi100_customer, t.kuaidi100_key, t.kuaidi100_url or URL, t.kuaidi100_timeout)


def _live_summary(name: str, live: LiveRun, added: int, lang: str) -> dict[str, Any]:
    return {"provider": name, "asked": live.asked, "answered": live.answered, "events_added": added,
            "throttled": len(live.throttled), "failed": {a.tracking_no: a.error for a in live.failed},
            "stopped": live.stopped}


def _urgent(t: ParcelTrack, rows_of: dict[str, tuple[int, ...]], lang: str) -> dict[str, Any]:
    a = t.alert
    assert a is not None
    return {"order_sns": list(t.order_sns), "tracking_no": t.tracking_no, "carrier": t.carrier,
            "status": t.status.value, "status_text": t.status.text(lang), "alerts": [x.kind.value for x in t.alerts],
            "alert_text": a.kind.text(lang),
            "hours_since_issue": round(t.hours_since_issue, 1) if t.hours_since_issue is not None else None,
            "last_event": t.latest_text(), "what_to_do": a.what_to_do(t.status, lang),
            "rows": list(rows_of.get(t.tracking_no, ()))}


__all__ = ["LATEST_HEADER", "STATUS_HEADER", "RowIssue", "TrackOptions", "TrackResult", "track",
           "tracking_write_plan"]
