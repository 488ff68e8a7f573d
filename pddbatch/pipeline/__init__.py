"""The one orchestration every face calls: validate, process, explain, reprint.

read -> map headers -> validate -> plan -> allocate (ledger) -> outcomes -> documents -> write back.
"""

from pddbatch.pipeline.batch import Options, load_table, process, side_tables, validate
from pddbatch.pipeline.tracking import TrackOptions, TrackResult, track

__all__ = ["Options", "TrackOptions", "TrackResult", "load_table", "process", "side_tables", "track", "validate"]
