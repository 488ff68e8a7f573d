"""JSON text a person can scan and a program can parse: one key per line, one list item per line.

`json.dumps(indent=2)` runs the pure-Python encoder (the C one only writes compact JSON): 0.27 s for a
50,000-parcel run's summary against 0.08 s compact. Here each value (each item of a top-level list)
is encoded compactly by the C encoder and only the outer levels are laid out by hand.

A big run's urgent list has one item per order: `json.dumps` per item builds an encoder each call
(50,000 items: 0.44 s, and a run writes the summary twice — summary.json and `--json`). One C
encoder made once and called per item costs what encoding the whole list at once does (0.20 s).
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable, Mapping


def _c_encoder() -> Callable[[object], str]:
    """`json.dumps(value, ensure_ascii=False)` as one reusable C encoder (json's own machinery, as
    `JSONEncoder.iterencode` builds it per call); plain `json.dumps` where the accelerator is missing."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return lambda value: json.dumps(value, ensure_ascii=False)
    base = json.JSONEncoder(ensure_ascii=False)
    encode = make(None, base.default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)
    return lambda value: "".join(encode(value, 0))


_compact = _c_encoder()


def readable_json(data: object) -> str:
    """`data` as JSON; a dict's keys, and a top-level list's items, one per line."""
    if isinstance(data, Mapping):
        if not data:
            return "{}"
        lines = [f"  {_compact(str(k))}: {_value(v)}" for k, v in data.items()]
        return "{\n" + ",\n".join(lines) + "\n}"
    return _value(data, "")


def _value(value: object, indent: str = "  ") -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict | list):
        inner = indent + "  "
        return "[\n" + ",\n".join(inner + _compact(v) for v in value) + "\n" + indent + "]"
    return _compact(value)
