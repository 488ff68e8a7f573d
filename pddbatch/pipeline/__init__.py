"""The one orchestration every face calls: validate, process, explain, reprint.

read -> map headers -> validate -> plan -> allocate (ledger) -> outcomes -> documents -> write back.
"""

from pddbatch.pipeline.batch import Options, load_table, process, side_tables, validate

__all__ = ["Options", "load_table", "process", "side_tables", "validate"]
