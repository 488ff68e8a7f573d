"""Locate data shipped inside the package: `schemas/` and `templates/`."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any


def schema_path(name: str) -> Traversable:
    return resources.files("pddbatch.schemas").joinpath(name)


def template_path(name: str) -> Traversable:
    return resources.files("pddbatch.templates").joinpath(name)


@cache
def load_json(name: str) -> Any:
    """Load a JSON file from `schemas/` (cached: these files are read-only data)."""
    return json.loads(schema_path(name).read_text(encoding="utf-8"))
