"""`pddbatch.toml`: the shop, the sender, carriers and rules, where the ledger lives.

`settings` finds, reads and builds it; `problems` says what is wrong with it, in the seller's words;
`template` is what `pddbatch init` writes.
"""

from pddbatch.config.settings import CONFIG_NAME, Config, Sender, TrackingSettings, find_config, load_config
from pddbatch.config.template import init_config, init_text

__all__ = ["CONFIG_NAME", "Config", "Sender", "TrackingSettings", "find_config", "init_config", "init_text",
           "load_config"]
