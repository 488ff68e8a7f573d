"""`pddbatch.toml`: the shop, the sender, carriers and rules, where the ledger lives.

Found beside the workbook (or given with --config), validated against schemas/config.schema.json.
Relative paths in it are relative to the config file's folder.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pddbatch.carriers import carrier
from pddbatch.errors import ConfigError, PddBatchError
from pddbatch.plan.rules import REMOTE_PROVINCES, Rule, keyword_entries
from pddbatch.resources import load_json
from pddbatch.routing import RouteSource, load_routing_table

CONFIG_NAME = "pddbatch.toml"


@dataclass(frozen=True)
class Sender:
    name: str
    phone: str
    address: str


@dataclass(frozen=True)
class Config:
    path: Path
    sender: Sender
    default_carrier: str
    shop_name: str = ""
    enabled_carriers: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    merge: bool = True
    deadline_window_hours: float = 6.0
    remote_provinces: tuple[str, ...] = REMOTE_PROVINCES
    sku_table: str = "商品资料"
    stock: str = "库存"
    low_stock_threshold: int = 5
    max_orders_per_parcel: int = 20
    ledger_path: Path = Path("pddbatch-ledger.sqlite")
    ledger_url: str | None = None     # PostgreSQL for several stations: PDDBATCH_LEDGER_URL or [ledger] url
    pool_imports: tuple[tuple[Path, str], ...] = ()
    label_size: str = "76x130"
    mask_phone: bool = False
    label_sort: str = "sku"
    zpl: bool = False
    packing_slips: bool = False
    layout_dir: Path | None = None
    routing: dict[str, RouteSource] = field(default_factory=dict)   # carrier code -> 三段码 table
    out_dir: str | None = None
    lang: str = "zh"
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ledger(self) -> str | Path:
        """Where the ledger is: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.ledger_url or self.ledger_path


def find_config(workbook: Path | None, explicit: Path | None = None) -> Path:
    """The config to use: --config, else pddbatch.toml beside the workbook, else the current folder."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"找不到配置文件：{explicit}", f"Config file not found: {explicit}")
        return explicit
    candidates = [workbook.parent / CONFIG_NAME] if workbook else []
    candidates.append(Path.cwd() / CONFIG_NAME)
    for c in candidates:
        if c.is_file():
            return c
    where = candidates[0].parent if candidates else Path.cwd()
    target = f" \"{workbook}\"" if workbook else ""
    raise ConfigError(
        f"没有找到配置文件 {CONFIG_NAME}（在 {where} 中）。请先运行："
        f"pddbatch init{target} --sender-name 店名 --sender-phone 电话 --sender-address 地址，"
        f"或用 --config 指定配置文件。",
        f"No {CONFIG_NAME} found (looked in {where}). Create one with: pddbatch init{target} --sender-name NAME "
        f"--sender-phone PHONE --sender-address ADDRESS, or pass --config.")


def load_config(path: Path) -> Config:
    """Read and validate a config; every mistake names the key and what is expected, all at once."""
    data = read_toml(path)
    problems = config_problems(data)
    if problems:
        raise problems_error(path.name, problems)
    return _build(path, data)


def read_toml(path: Path) -> dict[str, Any]:
    """The config file's TOML. UTF-8 (with or without BOM); a GBK/GB18030 file, as Notepad on a
    Chinese Windows may save it, is read too. A TOML mistake is told in Chinese with its line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc.strerror or exc}",
                          f"Cannot read config {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"配置文件 {path.name} 的编码无法识别：请用记事本打开，“另存为”时把编码选为 UTF-8 再保存",
                              f"{path.name} is in an unknown encoding: open it in Notepad and 'Save as' with "
                              f"encoding UTF-8") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path.name} 的格式不对（TOML）：{_toml_where(exc)}。常见原因：文字没有用英文双引号"
                          f"括起来、用了中文引号或中文等号、同一项写了两次",
                          f"{path.name} is not valid TOML: {exc}") from exc


def _toml_where(exc: tomllib.TOMLDecodeError) -> str:
    m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    if m:
        return f"第 {m.group(1)} 行第 {m.group(2)} 列附近"
    return "文件末尾附近" if "end of document" in str(exc) else "位置见英文提示：" + str(exc)


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


def _build(path: Path, data: dict[str, Any]) -> Config:
    """A checked config's values, with defaults. A new key: the schema, a `Config` field, one line here."""
    base = path.parent.resolve()
    default = carrier(data["carriers"]["default"]).code
    enabled = tuple(carrier(c).code for c in data["carriers"].get("enabled", [default]))
    rules = tuple(Rule.from_config(r, i, lambda c: carrier(c).code)
                  for i, r in enumerate(data["carriers"].get("rules", [])))
    pools = tuple((_resolve(base, p["file"]), carrier(p["carrier"]).code)
                  for p in data.get("pools", {}).get("import", []))
    routing_files = {carrier(c).code: _resolve(base, f) for c, f in data.get("labels", {}).get("routing", {}).items()}
    s = data["sender"]
    plan = data.get("plan", {})
    labels = data.get("labels", {})
    out = data.get("output", {})
    return Config(
        path=path.resolve(),
        sender=Sender(s["name"].strip(), s["phone"].strip(), s["address"].strip()),
        default_carrier=default,
        shop_name=data.get("shop", {}).get("name", ""),
        enabled_carriers=enabled,
        rules=rules,
        merge=plan.get("merge", True),
        deadline_window_hours=float(plan.get("deadline_window_hours", 6)),
        remote_provinces=tuple(plan.get("remote_provinces", REMOTE_PROVINCES)),
        sku_table=plan.get("sku_table", "商品资料"),
        stock=plan.get("stock", "库存"),
        low_stock_threshold=int(plan.get("low_stock_threshold", 5)),
        max_orders_per_parcel=int(plan.get("max_orders_per_parcel", 20)),
        ledger_path=_resolve(base, data.get("ledger", {}).get("path", "pddbatch-ledger.sqlite")),
        ledger_url=os.environ.get("PDDBATCH_LEDGER_URL", "").strip() or data.get("ledger", {}).get("url") or None,
        pool_imports=pools,
        label_size=labels.get("size", "76x130"),
        mask_phone=labels.get("mask_phone", False),
        label_sort=labels.get("sort", "sku"),
        zpl=labels.get("zpl", False),
        packing_slips=labels.get("packing_slips", False),
        layout_dir=_resolve(base, labels["layout_dir"]) if labels.get("layout_dir") else None,
        routing={code: load_routing_table(f, code) for code, f in routing_files.items()},
        out_dir=out.get("dir") or None,
        lang=out.get("lang", "zh"),
        raw=data,
    )


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


def _resolve(base: Path, value: str) -> Path:
    if "\x00" in value:
        raise ConfigError("配置中的路径含有非法字符", "A path in the config holds a NUL character")
    p = Path(value).expanduser()
    return (p if p.is_absolute() else base / p).resolve()


INIT_TEMPLATE = """\
# pddbatch 配置文件（pddbatch.toml）。放在订单表格旁边，pddbatch 会自动找到它。
# 相对路径都相对于本文件所在的文件夹。

[shop]
name = "{shop}"

[sender]            # 寄件人：打印在面单“寄”栏
name = "{name}"
phone = "{phone}"
address = "{address}"

[carriers]
default = "{carrier}"            # 默认快递：代码（ZTO）或拼多多名称（中通快递）
enabled = ["{carrier}"]
# 快递规则（从上到下，先匹配先用）。条件可组合：provinces / cities / remote（偏远地区）/
# skus（商家编码通配，如 "MT-*"）/ keywords（商家备注或买家留言里的词，/…/ 写正则表达式）/
# not_keywords（同一句里出现这些就不算，如“不要发顺丰”“能发顺丰吗？”）/ quantity、weight_g、amount
# （{{ min = .., max = .. }}）/ deadline_within_hours。动作：carrier / label_size / priority / hold（暂缓，写原因）。
# 规则里用的快递要先加进上面的 enabled。
# [[carriers.rules]]
# name = "买家要顺丰"
# keywords = ["顺丰"]
# not_keywords = ["/(不要|不用|别|勿|不|无需|不需要)[发走用寄]?顺丰/", "/顺丰[^，。！？]*[吗么嘛？?]/",
#                 "/(能不能|可不可以|能否|是否|可以|能)[发走用寄]?顺丰/"]
# carrier = "SF"
# [[carriers.rules]]
# name = "偏远地区走邮政"
# remote = true
# carrier = "YZXB"

[plan]
merge = true                     # 同一收件人（姓名+电话+地址）的订单合并成一个包裹
# max_orders_per_parcel = 20      # 合并时一个包裹最多几单，多出的另开包裹
deadline_window_hours = 6        # 距承诺发货时间不足几小时就提醒
# remote_provinces = ["新疆", "西藏", "青海", "内蒙古", "甘肃", "宁夏", "海南"]   # 偏远地区（可改）
# sku_table = "商品资料"          # 商品资料表（商家编码、重量(g)、简称）：工作簿中的表名或文件路径
# stock = "库存"                  # 库存表（商家编码、可用库存）：工作簿中的表名或文件路径
# low_stock_threshold = 5         # 剩余库存低于此数时提醒

[ledger]
path = "pddbatch-ledger.sqlite"  # 单号台账：记录每个单号给了哪个包裹，请定期备份

# 号段：快递网点给的单号，首次运行时导入台账（也可用 pddbatch pool add / pool import）
# [[pools.import]]
# file = "pool-ZTO.txt"
# carrier = "ZTO"

[labels]
size = "76x130"                  # 76x130（一联单）或 100x180（二联单）
mask_phone = false               # 面单上隐藏手机号中间四位
sort = "sku"                     # 面单顺序：sku（按商品，方便打包）或 deadline（按发货截止时间）
zpl = false                      # 同时生成 ZPL（斑马等热敏打印机）
packing_slips = false            # 生成装箱单

[output]
lang = "zh"                      # 表格里的说明用中文（zh）或英文（en）
"""


def init_text(name: str, phone: str, address: str, carrier_code: str = "ZTO", shop: str = "") -> str:
    """The commented starter config with these values (TOML-escaped: quotes, backslashes, line breaks)."""
    esc = {k: json.dumps(v.strip(), ensure_ascii=False)[1:-1] for k, v in
           {"name": name, "phone": phone, "address": address, "carrier": carrier_code, "shop": shop}.items()}
    return INIT_TEMPLATE.format(**esc)


_INIT_FIELDS = {"sender.name": "寄件人", "sender.phone": "寄件电话", "sender.address": "寄件地址",
                "carriers.default": "默认快递", "carriers.enabled.0": "默认快递", "shop.name": "店名"}


def init_config(name: str, phone: str, address: str, carrier_name: str = "ZTO", shop: str = "") -> str:
    """The text `pddbatch init` writes, checked exactly as `load_config` will check it.

    Every value is checked at once; one `ConfigError` lists all that are wrong, so nothing is written
    that a later command would refuse.
    """
    try:
        code = carrier(carrier_name).code
    except PddBatchError:
        code = carrier_name         # reported below with the list of known carriers
    text = init_text(name, phone, address, code, shop)
    problems = config_problems(tomllib.loads(text))
    if problems:
        raise ConfigError("这些值不能用，没有写入配置文件：\n  " + "\n  ".join(_init_label(zh) for zh, _ in problems),
                          "Nothing written; these values can't be used:\n  " + "\n  ".join(en for _, en in problems))
    return text


def _init_label(line: str) -> str:
    key, sep, rest = line.partition("：")
    words = _INIT_FIELDS.get(key)
    return f"{words}（{key}）{sep}{rest}" if sep and words else line
