"""One label as drawing operations: field texts from the layout's templates, fitted to their boxes.

Ops are plain tuples in points, origin top-left, y down (emitters convert):
`("T", x, y_top, size, font, text)`, `("B", x, y_top, module, height, bars, data)`,
`("L", x1, y1, x2, y2, width, dash)`. `font` is 0 (regular) or 1 (bold).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pddbatch.model import Carrier, Parcel
from pddbatch.render import code128
from pddbatch.render.fonts import FontUse
from pddbatch.render.layout import SEP, Field, Layout, combined
from pddbatch.render.pdf import DOT, MM
from pddbatch.render.settings import RenderSettings
from pddbatch.render.sortcode import hub_line, parcel_route, short_name
from pddbatch.routing import Route

Op = tuple[Any, ...]
ASCENT = 0.88     # Noto Sans SC typo ascender, em
_PHONE = re.compile(r"^(\+?86)?(1\d{2})(\d{4})(\d{4})(.*)$")


def mask_phone(phone: str) -> str:
    """138****5678 (keeps +86 and a virtual-number extension); other forms keep first 3 / last 4."""
    m = _PHONE.match(phone.strip())
    if m:
        return f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}{m.group(5)}"
    p = phone.strip()
    return p[:3] + "*" * (len(p) - 7) + p[-4:] if len(p) > 8 else p


def static_context(carrier: Carrier, s: RenderSettings) -> dict[str, Any]:
    """Variables every label of one carrier file shares (usable in `static` fields)."""
    short = carrier.pdd_name.removesuffix("快递").removesuffix("配送") or carrier.pdd_name
    return {
        "carrier": {"code": carrier.code, "name": carrier.pdd_name, "short": short},
        "sender": {"name": s.sender_name, "phone": s.sender_phone, "address": s.sender_address},
        "shop_name": s.shop_name, "lang": s.lang,
        "printed_at": s.printed_at.strftime("%Y-%m-%d %H:%M"), "print_date": s.printed_at.strftime("%Y-%m-%d"),
    }


def parcel_context(p: Parcel, s: RenderSettings, base: dict[str, Any], seq: int, total: int,
                   route: Route | None = None) -> dict[str, Any]:
    """Variables for one label. `sort_code` / `pack_hub` are "" unless `route` (real data) gives them."""
    r = p.receiver
    items: dict[str, dict[str, Any]] = {}
    for o in p.orders:
        key = o.sku or f"{o.product}/{o.spec}"
        it = items.get(key)
        if it is None:
            name = s.sku_names.get(o.sku) if o.sku else None
            items[key] = {"name": name or " ".join(x for x in (o.product, o.spec) if x), "sku": o.sku,
                          "product": o.product, "spec": o.spec, "qty": o.quantity}
        else:
            it["qty"] += o.quantity
    ctx = dict(base)
    ctx.update({
        "tracking_no": p.tracking_no, "parcel_key": p.key, "seq": seq, "total": total,
        "sort_code": route.sort_code if route else "", "pack_hub": route.pack_hub if route else "",
        "hub_line": hub_line(r),
        "receiver": {"name": r.name, "phone": mask_phone(r.phone) if s.mask_phone else r.phone,
                     "province": short_name(r.province), "city": short_name(r.city), "district": r.district,
                     "street": r.street, "address": r.address, "full_address": r.full_address},
        "items": list(items.values()), "item_count": p.item_count, "order_sns": p.order_sns,
        "order_count": len(p.orders),
        "remark": "；".join(dict.fromkeys(o.merchant_remark for o in p.orders if o.merchant_remark)),
        "buyer_message": "；".join(dict.fromkeys(o.buyer_message for o in p.orders if o.buyer_message)),
        "weight_g": p.weight_g,
        "weight": "" if p.weight_g is None else f"{p.weight_g / 1000:.2f}kg",
    })
    return ctx


_NO_START = set("，。、；：？！）》」』】,.;:?!)]}%…·")
_NO_END = set("（《「『【([{")
# a privacy number's extension at the end of a name, phone or address: 张三[1234], 张三【1234】, …-1234
_EXTENSION = re.compile(r"(?:[\[【]\d{1,6}[\]】]|-\d{1,6})$")
_WORD = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_/#.×")


def _break_at(text: str, start: int, i: int) -> int:
    """Move a break at `i` back so a line doesn't start with closing punctuation or split a word/number."""
    j = i
    while j > start + 1 and (text[j] in _NO_START or text[j - 1] in _NO_END):
        j -= 1
    if text[j] in _WORD and text[j - 1] in _WORD:
        k = j
        while k > start and text[k - 1] in _WORD:
            k -= 1
        if k > start:
            j = k
    return j if j > start else i


def wrap_units(ws: list[int], text: str, maxu: float) -> list[tuple[str, int]]:
    """Greedy wrap: [(line, width units)], each at most `maxu` wide (one char at least).

    Breaks anywhere between CJK chars, but not before closing punctuation or inside a word/number.
    """
    lines: list[tuple[str, int]] = []
    start, acc = 0, 0
    i, n = 0, len(ws)
    while i < n:
        w = ws[i]
        if acc + w > maxu and i > start:
            j = _break_at(text, start, i)
            acc = sum(ws[start:j])
            lines.append((text[start:j].rstrip(), acc))
            start, i, acc = j, j, 0
            while i < n and text[i] == " ":   # a wrapped line doesn't start with a space
                start += 1
                i += 1
            continue
        acc += w
        i += 1
    lines.append((text[start:], acc))
    return lines


def fit_text(font: FontUse, text: str, f: Field) -> tuple[float, list[tuple[str, int]], bool]:
    """(size, [(line, width units)], truncated): wrap, then shrink to min_size, then cut with '…'."""
    w_pt, h_pt = f.w * MM, f.h * MM
    if "\n" not in text:
        # the common case, a one-line text that fits at the field's size: the loop's first answer
        # without building its lists (names, phones, waybill numbers, "3/500": 8 -> 2 us a field)
        line = text.rstrip()
        ws = font.widths(line)
        units = sum(ws)
        size = f.size
        if units <= w_pt * 1000 / size and (size * f.line_height <= h_pt + 0.01 or size <= h_pt):
            return size, [(line, units)], False
        paras, pws = [line], [ws]
    else:
        paras = [p.rstrip() for p in text.strip("\n").split("\n")]
        pws = [font.widths(p) for p in paras]
    size = f.size
    while True:
        maxu = w_pt * 1000 / size
        if f.wrap:
            lines = [ln for p, ws in zip(paras, pws, strict=True) for ln in wrap_units(ws, p, maxu)]
        else:
            lines = [(p, sum(ws)) for p, ws in zip(paras, pws, strict=True)]
        fits_h = len(lines) * size * f.line_height <= h_pt + 0.01 or len(lines) == 1 and size <= h_pt
        widest = max(u for _, u in lines)
        if fits_h and widest <= maxu:
            return size, lines, False
        if size <= f.min_size:
            break
        if not f.wrap and fits_h:
            size = max(f.min_size, min(size - 0.25, size * maxu / widest))
        else:
            size = max(f.min_size, size - 0.5)
    # Still too big at the minimum size: keep the lines that fit, cut over-wide ones, end with an ellipsis.
    maxu = w_pt * 1000 / size
    keep = max(1, int((h_pt + 0.01) // (size * f.line_height)))
    dropped = len(lines) > keep
    # a privacy extension on a dropped line still ends the label's text: the parcel can't arrive without it
    m = _EXTENSION.search(text.rstrip()) if dropped else None
    tail = m.group(0) if m else ""
    cut = [_cut(font, ln, u, maxu, dropped and i == keep - 1, tail if i == keep - 1 else "")
           for i, (ln, u) in enumerate(lines[:keep])]
    return size, cut, True


def _cut(font: FontUse, line: str, units: int, maxu: float, force: bool, tail: str = "") -> tuple[str, int]:
    """Shorten `line` to end in '…' (+ `tail`) within maxu; a trailing privacy extension is kept."""
    if units <= maxu and not force:
        return line, units
    if not tail:
        m = _EXTENSION.search(line)
        if m and m.start() > 0:
            tail = m.group(0)
            line = line[: m.start()]
    ell = font.width("…" + tail)
    lw = font.widths(line)
    total = sum(lw)
    while line and total + ell > maxu:
        total -= lw.pop()
        line = line[:-1]
    return line + "…" + tail, total + ell


FIT_CACHE_TEXT = 80        # addresses and names are unique: only short texts are worth remembering
FIT_CACHE_SIZE = 20_000


@dataclass
class RouteFindings:
    """What routing found over a run of labels; runs of one file are merged, then told once."""

    unrouted: dict[str, dict[str, None]] = field(default_factory=dict)   # carrier -> destinations its table lacks
    problems: dict[str, str] = field(default_factory=dict)               # problem -> first waybill

    def merge(self, other: RouteFindings) -> None:
        for code, places in other.unrouted.items():
            self.unrouted.setdefault(code, {}).update(places)
        for problem, who in other.problems.items():
            self.problems.setdefault(problem, who)

    def warnings(self) -> list[str]:
        """One line per carrier whose table missed destinations, and per unusable export code."""
        out = []
        for code, places in self.unrouted.items():
            eg = "、".join(list(places)[:3])
            out.append(f"{code}：{len(places)} 个目的地不在分拣码表中（如 {eg}），这些面单不印三段码，只印目的地 / "
                       f"{len(places)} destinations are not in the {code} routing table: no sorting code printed")
        for problem, who in self.problems.items():
            if problem == "conflict":
                out.append(f"{who} 等：合并的订单三段码不一致，未使用订单表里的三段码 / "
                           "merged orders disagree on 三段码: the export's code is not used")
            else:
                out.append(f"{who} 等：订单表里的三段码属于另一家快递，未使用 / "
                           "the export's 三段码 is for another carrier: not used")
        return out


class LabelEngine:
    """Turns parcels into ops for one layout; static fields are drawn once per file (`static_ops`)."""

    def __init__(self, layout: Layout, settings: RenderSettings, fonts: Sequence[FontUse]) -> None:
        self.layout, self.settings, self.fonts = layout, settings, fonts
        self.static_fields = [f for f in layout.fields if f.static]
        self.page_fields = [f for f in layout.fields if not f.static]
        self.warnings: list[str] = []
        self._all = combined([f.text for f in self.page_fields])
        self._fitted: dict[tuple[str, str], tuple[float, list[tuple[str, int]], bool]] = {}
        self.routes = RouteFindings()

    def static_ops(self, carrier: Carrier) -> list[Op]:
        ctx = static_context(carrier, self.settings)
        ops: list[Op] = [("L", r.x1 * MM, r.y1 * MM, r.x2 * MM, r.y2 * MM, r.width * MM, r.dash)
                         for r in self.layout.rules]
        for f in self.static_fields:
            self._field(f, f.text.render(ctx), ops, carrier.code)
        return ops

    def page_ops(self, p: Parcel, base: dict[str, Any], seq: int, total: int) -> list[Op]:
        route, problem = parcel_route(p, self.settings.routing)
        if problem:
            self.routes.problems.setdefault(problem, p.tracking_no)
        elif route is None and p.carrier.code in self.settings.routing:
            self.routes.unrouted.setdefault(p.carrier.code, {}).setdefault(hub_line(p.receiver), None)
        ctx = parcel_context(p, self.settings, base, seq, total, route)
        ops: list[Op] = []
        texts: list[str] | None = None
        if self._all is not None:
            try:
                texts = self._all.render(ctx).split(SEP)
            except Exception:  # noqa: BLE001 - re-rendered field by field below for a precise error
                texts = None
        if texts is None or len(texts) != len(self.page_fields):
            texts = [f.text.render(ctx) for f in self.page_fields]
        for f, text in zip(self.page_fields, texts, strict=True):
            self._field(f, text, ops, p.tracking_no)
        return ops

    def _field(self, f: Field, text: str, ops: list[Op], who: str) -> None:
        if f.kind == "barcode":
            self._barcode(f, text.strip(), ops, who)
            return
        if not text.strip():
            return
        font = self.fonts[1 if f.bold else 0]
        # many fields repeat from label to label (hub line, 集包地, SKU × qty, weight): fit them once
        key = (f.id, text)
        fitted = self._fitted.get(key)
        if fitted is None:
            fitted = fit_text(font, text, f)
            if len(text) <= FIT_CACHE_TEXT and len(self._fitted) < FIT_CACHE_SIZE:
                self._fitted[key] = fitted
        size, lines, cut = fitted
        if cut:
            self.warnings.append(f"{who}：面单字段 {f.id} 内容太长，已缩小并截断 / field {f.id} truncated")
        lh = size * f.line_height
        x0, y0, w_pt = f.x * MM, f.y * MM, f.w * MM
        if f.valign == "middle":
            y0 += max(0.0, (f.h * MM - lh * (len(lines) - 1) - size) / 2)
        fi = 1 if f.bold else 0
        for i, (line, units) in enumerate(lines):
            if not line:
                continue
            x = x0
            if f.align != "left":
                room = w_pt - units * size / 1000
                x += room / 2 if f.align == "center" else room
            ops.append(("T", x, y0 + i * lh, size, fi, line))

    def _barcode(self, f: Field, data: str, ops: list[Op], who: str) -> None:
        if not data:
            return
        bars = code128.bars(data)
        mods = bars[-1][0] + bars[-1][1] + code128.QUIET_MODULES
        dots = f.min_module_dots
        for d in range(f.max_module_dots, f.min_module_dots - 1, -1):
            if mods * d * DOT <= f.w * MM:
                dots = d
                break
        else:
            self.warnings.append(f"{who}：条码比版式宽 / barcode wider than its box")
        module = dots * DOT
        x = f.x * MM + max(0.0, (f.w * MM - mods * module) / 2)
        x = round(x / DOT) * DOT
        y = round(f.y * MM / DOT) * DOT
        ops.append(("B", x, y, module, f.h * MM, bars, data))
