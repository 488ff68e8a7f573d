"""The one orchestration every face calls: validate, process, explain, reprint.

read -> validate -> ledger lookup -> plan (`prepare`, shared by all four) -> allocate (ledger) ->
outcomes -> documents -> write back through the workbook's `SheetBackend`.
"""

from pddbatch.pipeline.batch import process, validate
from pddbatch.pipeline.explanation import explain
from pddbatch.pipeline.options import Options
from pddbatch.pipeline.prepare import load_table
from pddbatch.pipeline.reprints import ReprintResult, reprint
from pddbatch.pipeline.tracking import TrackOptions, TrackResult, track

__all__ = ["Options", "ReprintResult", "TrackOptions", "TrackResult", "explain", "load_table", "process", "reprint",
           "track", "validate"]
