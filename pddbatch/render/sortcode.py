"""The label's sorting area: a real 三段码 and 集包地 when data gives one, else the destination in words.

Where a code may come from (see `pddbatch.routing`): the export's own 三段码 / 集包地 columns (all
orders of the parcel agree, and the sheet's 快递公司, when filled, is the parcel's carrier), else the
seller's routing table for the carrier. Nothing here makes a code up.
"""

from __future__ import annotations

from collections.abc import Mapping

from pddbatch.model import Parcel, Receiver
from pddbatch.routing import Route, RouteSource, short_name

__all__ = ["hub_line", "parcel_route", "short_name"]


def hub_line(r: Receiver) -> str:
    """The destination in words: `浙江 杭州 西湖区` (municipalities not repeated: `上海 浦东新区`)."""
    parts: list[str] = []
    for p in (short_name(r.province), short_name(r.city), r.district.strip()):
        if p and p not in parts:
            parts.append(p)
    return " ".join(parts)


def _same_carrier(name: str, p: Parcel) -> bool:
    name = name.strip()
    return not name or name in (p.carrier.code, p.carrier.pdd_name) or p.carrier.pdd_name.startswith(name)


def parcel_route(p: Parcel, routing: Mapping[str, RouteSource]) -> tuple[Route | None, str]:
    """(route, problem): the export's code when the parcel's orders carry one, else the carrier's table.

    `problem` is a short reason a code present in the export was not used ("" when none).
    """
    codes = {(o.sort_code, o.pack_hub) for o in p.orders if o.sort_code}
    if codes:
        if len(codes) > 1:
            return _table(p, routing), "conflict"
        if not all(_same_carrier(o.carrier_name, p) for o in p.orders):
            return _table(p, routing), "other-carrier"
        code, hub = codes.pop()
        return Route(code, hub, "订单表"), ""
    return _table(p, routing), ""


def _table(p: Parcel, routing: Mapping[str, RouteSource]) -> Route | None:
    src = routing.get(p.carrier.code)
    return None if src is None else src.route(p.receiver)
