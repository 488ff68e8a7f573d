"""JSON text a person can scan and a program can parse: one key per line, one list item per line.

`json.dumps(indent=2)` runs the pure-Python encoder (the C one only writes compact JSON): 0.27 s for a
50,000-parcel run's summary against 0.08 s compact. Here each value (each item of a top-level list)
is encoded compactly by the C encoder and only the outer levels are laid out by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


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
