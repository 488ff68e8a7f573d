"""After the handover: tracking events in, a status per parcel, alerts before PDD's penalty clock runs out.

events (files, 快递100 JSON) -> status (codes, keyword table) -> the ledger's events table ->
alerts (未揽收, 揽收超时, 停滞, 拒收/退回/疑难) -> report (tracking.xlsx). `kuaidi100` is the optional
live provider. `pddbatch.pipeline.track` runs the whole thing on a workbook.
"""

from __future__ import annotations

from pddbatch.tracking.alerts import Alert, AlertKind, ParcelTrack, Thresholds, assess
from pddbatch.tracking.events import EventImport, TrackingEvent, read_events
from pddbatch.tracking.status import Status, status_from_code, status_from_name, status_from_text

__all__ = [
    "Alert",
    "AlertKind",
    "EventImport",
    "ParcelTrack",
    "Status",
    "Thresholds",
    "TrackingEvent",
    "assess",
    "read_events",
    "status_from_code",
    "status_from_name",
    "status_from_text",
]
