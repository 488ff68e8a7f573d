"""Every command in the one click group: `orders` (validate, process, explain, reprint), `setup`
(init), `ledger` (pool, void, doctor, ledger migrate), `reconcile`, `addin`, `track`."""

from __future__ import annotations

from pddbatch.cli.addin import addin
from pddbatch.cli.app import main
from pddbatch.cli.ledger import doctor, ledger_group, pool, void
from pddbatch.cli.orders import explain_cmd, process_cmd, reprint_cmd, validate_cmd
from pddbatch.cli.reconcile import reconcile
from pddbatch.cli.setup import init_cmd
from pddbatch.cli.track import track_cmd

for _command in (validate_cmd, process_cmd, explain_cmd, reprint_cmd, init_cmd, pool, void, doctor, ledger_group,
                 reconcile, addin, track_cmd):
    main.add_command(_command)

__all__ = ["main"]
