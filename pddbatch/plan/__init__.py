"""Plan the parcels: which orders ship, merged how, with which carrier, by when.

`parcels` is the planner (pure: no ledger, no files); `rules` (carrier rules), `stock` (库存) and
`catalog` (商品资料) feed it.
"""
