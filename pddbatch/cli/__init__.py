"""The terminal face: `pddbatch …` commands (click). Every command translates arguments into one
`pddbatch.pipeline` (or ledger / reconcile) call and its result into text and an exit code."""

from pddbatch.cli.main import main, run

__all__ = ["main", "run"]
