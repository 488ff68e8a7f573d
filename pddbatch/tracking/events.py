"""Tracking events in: a carrier's or aggregator's export (.xlsx/.csv) or 快递100's JSON.

Exports are read like the order export: the header row is found by the 快递单号 column and every
spelling goes through the alias table `schemas/tracking_columns.json`, one event per row. 快递100
answers (`{nu, com, state, data: [{time, ftime, context}]}`, a list of them, or the push shape
`{lastResult: {...}}`) are read as they come. Times are China time; a row that can't be read is
listed in `EventImport.issues` with its position, never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from pddbatch.clock import CHINA
from pddbatch.errors import InputError
from pddbatch.model import CellValue, RowIssue
from pddbatch.tracking.status import Status, event_status, status_from_code, status_from_name
from pddbatch.workbook.headers import alias_table, map_headers
from pddbatch.workbook.read import Table, read_table
from pddbatch.workbook.values import parse_datetime

COLUMNS = "tracking_columns.json"
MAX_TEXT = 500                    # an event text longer than this is cut (exports sometimes glue a trace)
_EXCEL_EPOCH = datetime(1899, 12, 30)
_SPACE = re.compile(r"[\s\u3000]+")
_MANGLED = re.compile(r"\d(\.\d+)?[eE]\+\d+")
_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


@dataclass(frozen=True)
class UnknownNumber:
    """A number that events arrived for but no parcel in the ledger carries (reported, never dropped)."""

    tracking_no: str
    events: int
    last: TrackingEvent


class TrackingEvent(NamedTuple):
    """One scan of one parcel: its number, when (China time), what the carrier wrote, what it means.

    A NamedTuple rather than a frozen dataclass: a run builds 100,000 of them from the ledger, and
    tuple construction is ~3x cheaper than a frozen dataclass's __init__ (measured).
    """

    tracking_no: str
    at: datetime
    text: str
    status: Status
    code: str = ""            # the source's own status code or name, as given
    carrier: str = ""         # as the source names it (快递100 `com`, an export's 快递公司)
    source: str = ""          # the file or provider it came from

    @property
    def at_text(self) -> str:
        return self.at.isoformat(" ", "seconds")

    @property
    def key(self) -> str:
        """Identity of the event: the same scan imported twice (from any file) has the same key."""
        # texts are stored with whitespace runs folded to one space; dropping spaces makes "已揽收 " and
        # "已 揽收" one scan, as a person would read them
        raw = f"{self.tracking_no}\x1f{self.at_text}\x1f{self.text.replace(' ', '')}"
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:24]


@dataclass
class EventImport:
    """What one source gave: its events and the rows that could not be read (with why)."""

    source: str
    events: list[TrackingEvent] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    rows: int = 0


def read_events(path: Path, lang: str = "zh") -> EventImport:
    """Events from an export (.xlsx/.xlsm/.csv) or a 快递100 JSON file; InputError if unreadable."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        if not p.is_file():
            raise InputError(f"找不到文件：{p}", f"File not found: {p}")
        try:
            data = json.loads(p.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{p.name} 不是有效的 JSON：{exc}", f"{p.name} is not valid JSON: {exc}") from exc
        return events_from_kuaidi100(data, p.name, lang)
    aliases = alias_table(COLUMNS)
    table = read_table(p, aliases.is_header_row, None, "物流轨迹", "快递单号")
    return events_from_table(table, lang)


def events_from_table(table: Table, lang: str = "zh") -> EventImport:
    """One event per row of an export table (see `schemas/tracking_columns.json`)."""
    aliases = alias_table(COLUMNS)
    cmap = map_headers(table.headers, aliases, table.sheet, table.header_row, lang)
    out = EventImport(Path(table.path).name)
    c_no, c_time, c_text = cmap.col("tracking_no"), cmap.col("time"), cmap.col("text")
    c_status, c_code, c_carrier, c_loc = (cmap.col(f) for f in ("status", "code", "carrier", "location"))
    assert c_no is not None and c_time is not None and c_text is not None   # required by the alias table
    memo: dict[tuple[str, str, str], Status] = {}

    def cell(row: Sequence[CellValue], col: int | None) -> CellValue:
        return row[col - 1] if col is not None and col <= len(row) else None

    for idx, row in enumerate(table.rows):
        raw_no = cell(row, c_no)
        if raw_no is None and all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        out.rows += 1
        r = table.sheet_row(idx)
        number, problem = tracking_number(raw_no)
        if problem:
            out.issues.append(_issue(table, r, c_no, "tracking_no", problem, lang))
            continue
        at = parse_time(cell(row, c_time))
        if at is None:
            out.issues.append(_issue(table, r, c_time, "time", "bad-time", lang, _plain(cell(row, c_time))))
            continue
        text = _clean(cell(row, c_text))
        if not text:
            out.issues.append(_issue(table, r, c_text, "text", "empty-text", lang))
            continue
        code, name = _clean(cell(row, c_code)), _clean(cell(row, c_status))
        memo_key = (code, name, text)
        status = memo.get(memo_key)
        if status is None:     # exports repeat the same few hundred texts: read each once
            status = memo[memo_key] = event_status(text, code=code or None, name=name or None)
        loc = _clean(cell(row, c_loc))
        if loc and loc not in text:    # after the status: a place name (…驿站) is not what happened
            text = f"【{loc}】{text}"
        out.events.append(TrackingEvent(number, at, text[:MAX_TEXT], status, code or name,
                                        _clean(cell(row, c_carrier)), out.source))
    return out


def events_from_kuaidi100(data: Any, source: str = "kuaidi100", lang: str = "zh") -> EventImport:
    """Events from 快递100 answers: one `{nu, com, state, data[]}`, a list of them, or `{lastResult}`.

    `data[]` is newest first. An item's own `statusCode`/`status` (resultv2) gives its status; the
    answer's `state` is the parcel's status now, so it also speaks for the newest item.
    """
    out = EventImport(source)
    for n, answer in enumerate(_answers(data), start=1):
        parcel_events(answer, source, out, n, lang)
    return out


def parcel_events(answer: dict[str, Any], source: str, out: EventImport, position: int = 1,
                  lang: str = "zh") -> None:
    """Add one 快递100 answer's events to `out` (problems as issues naming the answer and item)."""
    number, problem = tracking_number(answer.get("nu"))
    items = answer.get("data")
    if problem or not isinstance(items, list):
        out.rows += 1
        why = ("没有快递单号（nu）" if problem else "没有轨迹列表（data）", "no number (nu)" if problem else "no data[] list")
        out.issues.append(RowIssue(source, position, None, "nu", "nu", "bad-answer",
                                   _pick(lang, f"第 {position} 个查询结果{why[0]}，已跳过",
                                         f"Answer {position} has {why[1]}; skipped")))
        return
    state = str(answer.get("state", "")).strip()
    com = str(answer.get("com", "") or "")
    for i, item in enumerate(items):
        out.rows += 1
        if not isinstance(item, dict):
            item = {}
        at = parse_time(item.get("ftime") or item.get("time"))
        text = _clean(item.get("context"))
        area = _clean(item.get("areaName"))
        if at is None or not text:
            field_name = "time" if at is None else "context"
            out.issues.append(RowIssue(source, position, i + 1, field_name, f"data[{i}].{field_name}",
                                       "bad-time" if at is None else "empty-text",
                                       _pick(lang, f"{number} 的第 {i + 1} 条轨迹缺少{'时间' if at is None else '内容'}，已跳过",
                                             f"{number} event {i + 1} has no {'time' if at is None else 'text'}; skipped")))
            continue
        own_code = item.get("statusCode")
        code = str(own_code) if own_code not in (None, "") else (state if i == 0 and state else "")
        name = _clean(item.get("status"))
        status = (status_from_code(code) if code else None) or status_from_name(name) or \
            event_status(text)
        if area and area not in text:
            text = f"【{area}】{text}"
        out.events.append(TrackingEvent(number, at, text[:MAX_TEXT], status, code or name, com, source))


def _answers(data: Any) -> Iterable[dict[str, Any]]:
    if isinstance(data, dict):
        if isinstance(data.get("lastResult"), dict):    # the push (subscription) callback
            yield data["lastResult"]
        elif isinstance(data.get("results"), list):
            for a in data["results"]:
                yield from _answers(a)
        else:
            yield data
    elif isinstance(data, list):
        for a in data:
            yield from _answers(a)
    else:
        raise InputError("快递100 JSON 的内容应是查询结果对象或其列表", "快递100 JSON must be an answer object or a list of them")


def tracking_number(v: object) -> tuple[str, str | None]:
    """A waybill number as stored in the ledger (no spaces, upper case); a problem code instead."""
    if v is None:
        return "", "missing-tracking-no"
    if isinstance(v, bool):
        return "", "bad-tracking-no"
    if isinstance(v, int):
        return str(v), None
    if isinstance(v, float):
        return (str(int(v)), None) if v.is_integer() and v < 2 ** 53 else ("", "excel-mangled-number")
    s = _SPACE.sub("", unicodedata.normalize("NFKC", str(v))).lstrip("'").upper()
    if not s:
        return "", "missing-tracking-no"
    if _MANGLED.fullmatch(s):
        return "", "excel-mangled-number"
    return s, None


def parse_time(v: object) -> datetime | None:
    """A time as exports write it, in China time: text, an Excel date serial, ISO with an offset."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return _whole_second(v.astimezone(CHINA).replace(tzinfo=None) if v.tzinfo else v)
    if isinstance(v, int | float) and not isinstance(v, bool):
        if 20000 <= v <= 80000:
            return _whole_second(_EXCEL_EPOCH + timedelta(days=float(v)))
        if v > 1e9:     # a Unix timestamp (seconds or milliseconds)
            secs = v / 1000 if v > 1e11 else v
            return datetime.fromtimestamp(secs, CHINA).replace(tzinfo=None, microsecond=0)
        return None
    s = str(v).strip()
    if _CANONICAL.fullmatch(s):   # the common case; fromisoformat is ~15x faster than strptime (100k events)
        try:
            return datetime.fromisoformat(s)
        except ValueError:
            return None
    if s.isdigit():
        return parse_time(int(s))
    loose = parse_datetime(s)
    if loose is not None:
        return loose
    try:
        iso = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso.astimezone(CHINA).replace(tzinfo=None) if iso.tzinfo else iso


def _whole_second(t: datetime) -> datetime:
    """Excel stores times as fractions of a day: 10:05 may come back as 10:04:59.999999."""
    if t.microsecond:
        t = (t + timedelta(microseconds=500_000)).replace(microsecond=0)
    return t


def _clean(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return _SPACE.sub(" ", str(v)).strip()


def _plain(v: CellValue) -> str:
    return "" if v is None else str(v)[:40]


def _pick(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


_WHY = {
    "missing-tracking-no": ("快递单号为空", "the tracking number is blank"),
    "bad-tracking-no": ("快递单号无效", "the tracking number is not valid"),
    "excel-mangled-number": ("快递单号被 Excel 改成了科学计数法，请把该列设为文本后重新导出",
                             "Excel turned the tracking number into scientific notation; export it as text"),
    "bad-time": ("时间无法识别", "the time can't be read"),
    "empty-text": ("轨迹内容为空", "the event text is blank"),
}


def _issue(table: Table, row: int, col: int | None, fname: str, code: str, lang: str, shown: str = "") -> RowIssue:
    zh, en = _WHY[code]
    extra = f"（{shown}）" if shown else ""
    header = table.headers[col - 1] if col is not None and col <= len(table.headers) else fname
    return RowIssue(table.sheet, row, col, fname, header, code,
                    _pick(lang, f"{zh}{extra}，该行未导入", f"{en}{' (' + shown + ')' if shown else ''}; row not imported"))
