"""The 物流跟踪 button on a live book (xlwings' remote engine): same columns, fills and report as the CLI."""

from __future__ import annotations

import os
from pathlib import Path

os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"        # before xlwings loads (see tests/excel)

import pddbatch.excel as px  # noqa: E402
from pddbatch.pipeline import load_table  # noqa: E402
from pddbatch.pipeline.tracking import TrackOptions, track  # noqa: E402
from tests.excel.payload import actions, book_from_xlsx  # noqa: E402
from tests.tracking.eventgen import story_events, write_aggregator_csv  # noqa: E402
from tests.tracking.shop import ISSUED, NOW, shipped_parcels  # noqa: E402


def test_track_button_fills_the_open_book(shop: Path) -> None:
    parcels = shipped_parcels(shop)
    zto = [p for p in parcels if p.carrier == "ZTO"]
    delivered, stuck = zto[0], zto[1]
    events = [*story_events(delivered.tracking_no, "delivered", ISSUED, delivered.promised, NOW),
              *story_events(stuck.tracking_no, "stalled", ISSUED, stuck.promised, NOW)]
    write_aggregator_csv(shop / "物流轨迹-1129.csv", events)
    book = book_from_xlsx(shop / "orders.xlsx")
    result = px.track_book(book, now=NOW)
    assert result is not None and result.parcels == len(parcels) and result.events_added == len(events)
    (alert,) = actions(book, "alert")
    assert alert["args"][0].startswith(f"物流跟踪完成：共 {len(parcels)} 个包裹") and "已标红" in alert["args"][0]
    headers = load_table(shop / "orders.xlsx").headers
    width = len([h for h in headers if h])
    written: dict[tuple[int, int], object] = {}
    for a in actions(book, "setValues"):
        if a["sheet_position"] == 0:
            for i, row in enumerate(a["values"]):
                for j, v in enumerate(row):
                    written[(a["start_row"] + 1 + i, a["start_column"] + 1 + j)] = v
    assert written[(1, width + 1)] == "物流状态" and written[(1, width + 2)] == "最新轨迹"
    row = delivered.rows[0]
    assert str(written[(row, width + 1)]).startswith("已签收")
    assert str(written[(row, width + 2)]).endswith("如有疑问请联系派件员")
    assert str(written[(stuck.rows[0], width + 1)]).startswith("运输中（停滞")
    assert (shop / "orders.pddbatch" / "tracking.xlsx").is_file()


def test_track_button_without_files_says_where_to_put_them(shop: Path) -> None:
    book = book_from_xlsx(shop / "orders.xlsx")
    assert px.track_book(book) is None
    (alert,) = actions(book, "alert")
    assert "找不到物流轨迹文件" in alert["args"][0]


def test_same_cells_as_the_file_backend(shop: Path) -> None:
    """The live book and the file get the same 物流状态 values for the same events."""
    parcels = shipped_parcels(shop)
    p = parcels[0]
    write_aggregator_csv(shop / "tracking.csv", story_events(p.tracking_no, "delivering", ISSUED, p.promised, NOW))
    res = track(shop / "orders.xlsx", TrackOptions(events=(shop / "tracking.csv",), now=NOW))
    assert res.by_status["delivering"] == 1
    table = load_table(shop / "orders.xlsx")
    col = table.headers.index("物流状态")
    assert str(table.rows[p.rows[0] - 2][col]).startswith("派件中")
