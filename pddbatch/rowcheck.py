"""The yes/no schema check of one prepared order row, fast: most rows are good and need no message.

jsonschema explains a bad row (validate.schema_errors); this only has to say *whether* a row is good,
as jsonschema would, for every one of 100,000 rows. The order schema is an object of independent
per-field subschemas plus required fields (and one "if 待发货 then these are required too"), so a row
is good exactly when its required keys are there and every value passes its own field's subschema.
Each field's subschema is compiled by fastjsonschema on its own, and its verdict remembered per value:
statuses, provinces, cities, products, specs and amounts repeat from row to row, so most values are
looked up rather than checked. Measured on 100,000 generated rows: 15 µs a row against 36 µs for
fastjsonschema's compiled whole-row function, which rebuilds a key set and type-checks every value.

A schema of another shape (a keyword this split doesn't know) is checked whole by fastjsonschema, as
before. Tests hold both against jsonschema on a generated corpus.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

DRAFT7 = "http://json-schema.org/draft-07/schema#"
MEMO_MAX = 4096         # verdicts remembered per field; names, phones and order numbers don't repeat
_TOP_KEYS = {"$schema", "$id", "$comment", "title", "description", "type", "properties", "required",
             "allOf", "$defs"}
_NOTES = {"$comment", "title", "description"}

Check = Callable[[dict[str, str]], bool]


@dataclass(frozen=True)
class _Condition:
    """`if <field> == <value> then these keys are required` (the schema's allOf entries)."""

    field: str
    value: str
    required: frozenset[str]


@dataclass(frozen=True)
class FieldPlan:
    required: frozenset[str]
    conditions: tuple[_Condition, ...]
    checks: Mapping[str, Callable[[str], bool]]


def row_check(schema: dict[str, Any]) -> Check:
    """A check equivalent to `schema` for rows of string values: split by field when the schema allows."""
    plan = field_plan(schema)
    return whole_check(schema) if plan is None else split_check(plan)


def field_plan(schema: dict[str, Any]) -> FieldPlan | None:
    """The schema as required keys, conditional requirements and one compiled check per field, or
    None when it uses anything else (then only a whole-row check is right)."""
    import fastjsonschema

    if set(schema) - _TOP_KEYS or schema.get("type") != "object":
        return None
    properties = schema.get("properties", {})
    conditions = []
    for part in schema.get("allOf", []):
        cond = _condition(part)
        if cond is None:
            return None
        conditions.append(cond)
    defs = copy.deepcopy(schema.get("$defs", {}))
    checks = {name: _quiet(fastjsonschema.compile({"$schema": DRAFT7, "$defs": defs, **copy.deepcopy(sub)}))
              for name, sub in properties.items()}
    return FieldPlan(frozenset(schema.get("required", ())), tuple(conditions), checks)


def _condition(part: Any) -> _Condition | None:
    if not isinstance(part, dict) or set(part) - _NOTES - {"if", "then"}:
        return None
    test, then = part.get("if"), part.get("then")
    if not isinstance(test, dict) or not isinstance(then, dict) or set(then) - _NOTES != {"required"}:
        return None
    props = test.get("properties")
    if set(test) - _NOTES != {"properties", "required"} or not isinstance(props, dict) or len(props) != 1:
        return None
    (name, sub), = props.items()
    if test["required"] != [name] or not isinstance(sub, dict) or set(sub) - _NOTES != {"const"}:
        return None
    if not isinstance(sub["const"], str):
        return None
    return _Condition(name, sub["const"], frozenset(then["required"]))


def _quiet(compiled: Callable[[Any], Any]) -> Callable[[Any], bool]:
    """fastjsonschema's compiled validator (raises on a bad value) as a yes/no function."""
    import fastjsonschema

    def ok(value: Any) -> bool:
        try:
            compiled(value)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    return ok


def split_check(plan: FieldPlan) -> Check:
    required, conditions, checks = plan.required, plan.conditions, plan.checks
    memo: dict[str, tuple[dict[str, bool], Callable[[str], bool]]] = {f: ({}, c) for f, c in checks.items()}

    def check(row: dict[str, str]) -> bool:
        keys = row.keys()
        if not keys >= required:
            return False
        for cond in conditions:
            if row.get(cond.field) == cond.value and not keys >= cond.required:
                return False
        for name, value in row.items():
            known = memo.get(name)
            if known is None:            # not a schema field: anything goes
                continue
            seen, field_ok = known
            ok = seen.get(value)
            if ok is None:
                ok = field_ok(value)
                if len(seen) < MEMO_MAX:
                    seen[value] = ok
            if not ok:
                return False
        return True

    return check


def whole_check(schema: dict[str, Any]) -> Check:
    import fastjsonschema

    draft7 = copy.deepcopy(schema)
    draft7["$schema"] = DRAFT7
    draft7.pop("$id", None)
    return _quiet(fastjsonschema.compile(draft7))
