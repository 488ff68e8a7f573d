"""A config's mistakes in the seller's words: the schema's findings translated (jsonschema's English
never reaches a seller), carriers that are unknown or not enabled, keyword rules that don't parse.
A problem is (zh, en), each "key：what is wrong"; all are collected, none stops at the first.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from pddbatch.carriers import carrier
from pddbatch.errors import ConfigError, PddBatchError
from pddbatch.plan.rules import keyword_entries
from pddbatch.resources import load_json

Problem = tuple[str, str]     # (zh, en), each "key：what is wrong"


def problems_error(name: str, problems: list[Problem]) -> ConfigError:
    shown = problems[:12]
    more_zh = f"\n  ……另有 {len(problems) - 12} 处" if len(problems) > 12 else ""
    more_en = f"\n  … and {len(problems) - 12} more" if len(problems) > 12 else ""
    return ConfigError(f"配置文件 {name} 有误：\n  " + "\n  ".join(zh for zh, _ in shown) + more_zh,
                       f"Config {name} is wrong:\n  " + "\n  ".join(en for _, en in shown) + more_en)


def config_problems(data: dict[str, Any]) -> list[Problem]:
    """Every mistake in a parsed config: the schema first, then carriers (known, enabled) and rules."""
    problems = schema_problems(data)
    if problems:
        return problems
    problems.extend(_carrier_problems(data))
    return problems


def _code(name: str, key: str, problems: list[Problem]) -> str | None:
    try:
        return carrier(name).code
    except PddBatchError as exc:
        problems.append((f"{key}：{exc.message}", f"{key}: {exc.message_en}"))
        return None


def _carrier_problems(data: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    carriers = data["carriers"]
    default = _code(carriers["default"], "carriers.default", problems)
    explicit = "enabled" in carriers
    enabled = [c for i, name in enumerate(carriers.get("enabled", []))
               if (c := _code(name, f"carriers.enabled.{i}", problems)) is not None]
    if not explicit and default is not None:
        enabled = [default]
    shown = "、".join(enabled) or "（空）"
    if explicit and default is not None and default not in enabled:
        problems.append((f"carriers.default：默认快递 {_label(default)}不在启用的快递 enabled = [{shown}] 中；"
                         f"请把 \"{default}\" 加进 enabled，或把 default 改成 enabled 里的一个",
                         f"carriers.default: the default carrier {default} is not in enabled = "
                         f"[{', '.join(enabled)}]; add \"{default}\" to enabled or pick a default from it"))
    for i, raw in enumerate(carriers.get("rules", [])):
        key = f"carriers.rules.{i}"
        name = raw.get("name") or f"规则{i + 1}"
        if raw.get("carrier"):
            code = _code(raw["carrier"], f"{key}.carrier", problems)
            if code is not None and default is not None and code not in enabled:
                problems.append((f"{key}.carrier：规则“{name}”用的快递 {_label(code)}没有启用；请把 \"{code}\" 加进 "
                                 f"[carriers] 的 enabled（现在是 [{shown}]），或改用已启用的快递",
                                 f"{key}.carrier: rule '{name}' names carrier {code}, which is not enabled; add "
                                 f"\"{code}\" to [carriers] enabled (now [{', '.join(enabled)}])"))
        for field_name in ("keywords", "not_keywords"):
            for j, entry in enumerate(raw.get(field_name, [])):
                try:
                    keyword_entries([entry])
                except PddBatchError as exc:
                    problems.append((f"{key}.{field_name}.{j}：{exc.message}",
                                     f"{key}.{field_name}.{j}: {exc.message_en}"))
    for i, p in enumerate(data.get("pools", {}).get("import", [])):
        _code(p["carrier"], f"pools.import.{i}.carrier", problems)
    return problems


def _label(code: str) -> str:
    return f"{code}（{carrier(code).pdd_name}）"


def schema_problems(data: dict[str, Any]) -> list[Problem]:
    """Schema mistakes in the seller's words (jsonschema's own English is never shown)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_json("config.schema.json"))
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    out: list[Problem] = []
    for e in errors:
        key = ".".join(str(p) for p in e.absolute_path)
        zh, en = _explain(e)
        out.append((f"{key or '（顶层）'}：{zh}", f"{key or '(top level)'}: {en}"))
    return out


_TYPES = {"string": ("文字（用英文双引号括起来，如 \"中通\"）", "text in double quotes"),
          "boolean": ("true 或 false（是 / 否，不加引号）", "true or false (no quotes)"),
          "integer": ("整数，如 5", "a whole number"), "number": ("数字，如 6 或 1.5", "a number"),
          "array": ("列表，如 [\"甲\", \"乙\"]", "a list like [\"a\", \"b\"]"),
          "object": ("一节设置（[名称] 或 { 键 = 值 }）", "a table ([name] or { key = value })")}


def _shown(value: Any) -> str:
    """A value the way the seller typed it in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ … }"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "…"


def _explain(e: Any) -> Problem:
    v, want, got = e.validator, e.validator_value, e.instance
    if v == "required":
        missing = [k for k in want if k not in (got or {})]
        return f"缺少 {'、'.join(missing)}", f"missing {', '.join(missing)}"
    if v == "additionalProperties":
        allowed = sorted((e.schema.get("properties") or {}).keys())
        extra = [k for k in got if k not in allowed]
        hints = [f"{k}（是不是 {m[0]}？）" if (m := difflib.get_close_matches(k, allowed, 1, 0.6)) else k
                 for k in extra]
        hints_en = [f"{k} (did you mean {m[0]}?)" if (m := difflib.get_close_matches(k, allowed, 1, 0.6)) else k
                    for k in extra]
        return (f"有不认识的设置项 {'、'.join(hints)}；这里可以写：{'、'.join(allowed)}",
                f"unknown setting {', '.join(hints_en)}; allowed here: {', '.join(allowed)}")
    if v == "type":
        kinds = [want] if isinstance(want, str) else list(want)
        zh = " 或 ".join(_TYPES.get(k, (k, k))[0] for k in kinds)
        en = " or ".join(_TYPES.get(k, (k, k))[1] for k in kinds)
        space = " " if zh[:1].isascii() else ""
        return f"应为{space}{zh}，现在是 {_shown(got)}", f"should be {en}, found {_shown(got)}"
    if v == "enum":
        choices = " / ".join(map(str, want))
        return f"应为 {choices} 之一，现在是 {_shown(got)}", f"should be one of {choices}, found {_shown(got)}"
    if v == "pattern":
        return f"格式不对：{_shown(got)}", f"wrong format: {_shown(got)}"
    if v in ("minimum", "exclusiveMinimum"):
        return f"不能小于 {want}，现在是 {_shown(got)}", f"must be at least {want}, found {_shown(got)}"
    if v in ("maximum", "exclusiveMaximum"):
        return f"不能大于 {want}，现在是 {_shown(got)}", f"must be at most {want}, found {_shown(got)}"
    if v == "minLength":
        return (("不能为空" if want <= 1 else f"至少 {want} 个字"),
                ("must not be empty" if want <= 1 else f"at least {want} characters"))
    if v == "maxLength":
        return f"太长（最多 {want} 个字）", f"too long (at most {want} characters)"
    if v in ("minItems", "minProperties"):
        return "不能为空", "must not be empty"
    if v == "dependentRequired":
        need = [f"{k} 需要和 {'、'.join(r)} 一起写" for k, r in want.items() if k in got]
        need_en = [f"{k} needs {', '.join(r)}" for k, r in want.items() if k in got]
        return "；".join(need), "; ".join(need_en)
    if v == "uniqueItems":
        return f"有重复的项：{_shown(got)}", f"has duplicate items: {_shown(got)}"
    if v == "anyOf" and isinstance(got, dict) and "carriers" not in got:
        return ("规则缺少动作：请写 carrier（用哪家快递）、hold（暂缓，写原因）、label_size 或 priority 中的至少一个",
                "the rule has no action: give carrier, hold, label_size or priority")
    return "值不符合要求", f"not allowed: {_shown(got)}"
