"""Waybill labels as ZPL II for 203 dpi thermal printers, from the same layout and ops as the PDF.

Text uses `^CI28` (UTF-8) and a CJK-capable printer font via `^A@` (settings.zpl_font, e.g.
E:SIMSUN.FNT); field data goes through `^FH` so `^`, `~` and `_` in order data are hex-escaped.
Barcodes are `^BC` in automatic mode with our own interpretation line below.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pddbatch.model import Parcel
from pddbatch.render.atomic import atomic_path
from pddbatch.render.labelpage import LabelEngine, Op, static_context
from pddbatch.render.labels_pdf import _layout, fonts
from pddbatch.render.pdf import DOT
from pddbatch.render.settings import RenderSettings


def _d(pt: float) -> int:
    """Points -> printer dots (203 dpi)."""
    return round(pt / DOT)


def fh(text: str) -> str:
    """Escape ZPL control characters for a ^FH field (hex with '_' as the indicator)."""
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")


def zpl_ops(ops: Sequence[Op], font: str) -> list[str]:
    out: list[str] = []
    for op in ops:
        kind = op[0]
        if kind == "T":
            _, x, y, size, _fi, s = op
            h = _d(size)
            out.append(f"^FO{_d(x)},{_d(y)}^A@N,{h},{h},{font}^FH^FD{fh(s)}^FS")
        elif kind == "B":
            _, x, y, m, h, bars, data = op
            quiet = bars[0][0] if bars else 0
            out.append(f"^FO{_d(x + quiet * m)},{_d(y)}^BY{_d(m)}^BCN,{_d(h)},N,N,N,A^FH^FD{fh(data)}^FS")
        elif kind == "L":
            _, x1, y1, x2, y2, w, _dash = op
            t = max(1, _d(w))
            if abs(y2 - y1) < 0.01:
                out.append(f"^FO{_d(min(x1, x2))},{_d(y1) - t // 2}^GB{max(t, _d(abs(x2 - x1)))},{t},{t}^FS")
            else:
                out.append(f"^FO{_d(x1) - t // 2},{_d(min(y1, y2))}^GB{t},{max(t, _d(abs(y2 - y1)))},{t}^FS")
    return out


def render_zpl(parcels: Sequence[Parcel], path: Path, settings: RenderSettings) -> tuple[int, list[str]]:
    """Write one ZPL label (^XA..^XZ) per parcel to `path` atomically; (labels, warnings)."""
    if not parcels:
        raise ValueError("render_zpl needs at least one parcel")
    layout = _layout(settings.label_size, settings.layout_dir)
    engine = LabelEngine(layout, settings, fonts())
    start = f"^XA^CI28^PW{round(layout.width_mm * 8)}^LL{round(layout.height_mm * 8)}^LH0,0"
    heads: dict[str, tuple[str, dict[str, Any]]] = {}
    total = len(parcels)
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh_:
        for i, p in enumerate(parcels):
            if p.carrier.code not in heads:
                heads[p.carrier.code] = (start + "".join(zpl_ops(engine.static_ops(p.carrier), settings.zpl_font)),
                                         static_context(p.carrier, settings))
            head, base = heads[p.carrier.code]
            ops = engine.page_ops(p, base, i + 1, total)
            fh_.write(head + "".join(zpl_ops(ops, settings.zpl_font)) + "^XZ\n")
    return total, engine.warnings
