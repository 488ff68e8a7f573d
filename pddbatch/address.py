"""How a receiver is written on a parcel: the one composed address, and PDD's privacy masks.

Exports spell the address differently: `详细地址` (street + house number, sometimes the whole
address), `收货地址`, or only `街道` holding street and house number (older exports); newer ones add
`街道/镇` holding the town only. `full_address` composes whatever the row has, and it is the one
function behind the merge key, the label's 收 block, the packing slips and the manifest.

A value masked with `*` (`程**`, `158****4370`, `滨江大道***`) is valid data in the export but not
deliverable: it must never be printed as if it were a name, phone or address (DOMAIN §5).
Privacy numbers and extensions (`13812345678-1234`, `张三[1234]`, `张三【1234】`) are deliverable and
are copied exactly.
"""

from __future__ import annotations

from collections.abc import Iterable

MASK_CHARS = ("*", "＊")
# receiver field -> what the seller calls it (for the 待补全 message)
MASKABLE = {"name": "收货人", "phone": "手机", "street": "收货地址", "address": "收货地址"}


def full_address(province: str, city: str, district: str, street: str, detail: str) -> str:
    """省市区 + 街道 + 详细地址, never repeating a part another part already contains.

    `street` and `detail` are joined unless one contains the other (an old export's 街道 holds the
    street and house number; a new one's 街道/镇 holds only the town). Province, city and district
    are left out when already present (直辖市: 上海市上海市 -> 上海市; a 详细地址 that starts with
    the province keeps its own spelling).
    """
    if street and detail:
        if street in detail:
            tail = detail
        elif detail in street:
            tail = street
        else:
            tail = street + detail
    else:
        tail = street or detail
    head = ""
    for part in (province, city, district):
        if part and part not in head and part not in tail:
            head += part
    return head + tail


def is_masked(value: str) -> bool:
    """True when PDD has hidden part of the value with `*` (not deliverable as it stands)."""
    return "*" in value or "＊" in value      # MASK_CHARS, spelled out: called for every field of every row


def masked_parts(parts: Iterable[tuple[str, str]]) -> list[str]:
    """The names (keys) of the (key, value) pairs whose value is masked, in the given order."""
    return [key for key, value in parts if value and is_masked(value)]
