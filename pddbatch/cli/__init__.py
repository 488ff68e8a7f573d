"""The terminal face: `pddbatch …` commands (click). Every command translates arguments into one
library call and its result into text or JSON and an exit code.

`app` holds the group and what all commands share; one module per kind of work registers its
commands here: `orders` (validate, process, explain, reprint), `setup` (init), `ledger` (pool,
void, doctor, ledger migrate), `reconcile`, `addin`.
"""

from pddbatch.cli.addin import addin
from pddbatch.cli.app import main, run
from pddbatch.cli.ledger import doctor, ledger_group, pool, void
from pddbatch.cli.orders import explain_cmd, process_cmd, reprint_cmd, validate_cmd
from pddbatch.cli.reconcile import reconcile
from pddbatch.cli.setup import init_cmd

for _command in (validate_cmd, process_cmd, explain_cmd, reprint_cmd, init_cmd, pool, void, doctor, ledger_group,
                 reconcile, addin):
    main.add_command(_command)

__all__ = ["main", "run"]
