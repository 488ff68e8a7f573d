"""Helpers shared by the tests (importable as `support`: tests/ is on sys.path via conftest)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pddbatch_sample_generate", SAMPLE / "generate.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


generator = _load_generator()


def sample_rows(rows: int = 320, seed: int = 2026, faults: bool = True) -> list[dict[str, Any]]:
    data = list(generator.iter_orders(rows, seed))
    if faults:
        generator.plant_faults(data)
    return data
