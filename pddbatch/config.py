"""`pddbatch.toml`: the shop, the sender, carriers and rules, where the ledger lives.

Found beside the workbook (or given with --config), validated against schemas/config.schema.json.
Relative paths in it are relative to the config file's folder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pddbatch.carriers import carrier
from pddbatch.errors import ConfigError, PddBatchError
from pddbatch.plan.rules import REMOTE_PROVINCES, Rule
from pddbatch.resources import load_json

CONFIG_NAME = "pddbatch.toml"


@dataclass(frozen=True)
class Sender:
    name: str
    phone: str
    address: str


@dataclass(frozen=True)
class TrackingSettings:
    """[tracking]: alert thresholds (PDD's rules by default) and the optional 快递100 account."""

    unpicked_hours: float = 24.0
    stalled_hours: float = 48.0
    kuaidi100_customer: str = ""
    kuaidi100_key: str = ""
    kuaidi100_url: str = ""
    kuaidi100_timeout: float = 10.0


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
    pool_imports: tuple[tuple[Path, str], ...] = ()
    label_size: str = "76x130"
    mask_phone: bool = False
    label_sort: str = "sku"
    zpl: bool = False
    packing_slips: bool = False
    layout_dir: Path | None = None
    out_dir: str | None = None
    lang: str = "zh"
    tracking: TrackingSettings = TrackingSettings()
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


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
    """Read and validate a config; every mistake names the key and what is expected."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path.name} 不是有效的 TOML：{exc}",
                          f"{path.name} is not valid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc}", f"Cannot read config {path}: {exc}") from exc
    _check_schema(path, data)
    base = path.parent.resolve()
    try:
        default = carrier(data["carriers"]["default"]).code
        enabled = tuple(carrier(c).code for c in data["carriers"].get("enabled", [default]))
        rules = tuple(Rule.from_config(r, i, lambda c: carrier(c).code)
                      for i, r in enumerate(data["carriers"].get("rules", [])))
        pools = tuple((_resolve(base, p["file"]), carrier(p["carrier"]).code)
                      for p in data.get("pools", {}).get("import", []))
    except PddBatchError as exc:
        raise ConfigError(f"配置文件 {path.name} 的 [carriers]/[pools]：{exc.message}",
                          f"{path.name} [carriers]/[pools]: {exc.message_en}") from exc
    s = data["sender"]
    plan = data.get("plan", {})
    labels = data.get("labels", {})
    out = data.get("output", {})
    return Config(
        path=path.resolve(),
        sender=Sender(s["name"].strip(), s["phone"].strip(), s["address"].strip()),
        default_carrier=default,
        shop_name=data.get("shop", {}).get("name", ""),
        enabled_carriers=enabled if default in enabled else (default, *enabled),
        rules=rules,
        merge=plan.get("merge", True),
        deadline_window_hours=float(plan.get("deadline_window_hours", 6)),
        remote_provinces=tuple(plan.get("remote_provinces", REMOTE_PROVINCES)),
        sku_table=plan.get("sku_table", "商品资料"),
        stock=plan.get("stock", "库存"),
        low_stock_threshold=int(plan.get("low_stock_threshold", 5)),
        max_orders_per_parcel=int(plan.get("max_orders_per_parcel", 20)),
        ledger_path=_resolve(base, data.get("ledger", {}).get("path", "pddbatch-ledger.sqlite")),
        pool_imports=pools,
        label_size=labels.get("size", "76x130"),
        mask_phone=labels.get("mask_phone", False),
        label_sort=labels.get("sort", "sku"),
        zpl=labels.get("zpl", False),
        packing_slips=labels.get("packing_slips", False),
        layout_dir=_resolve(base, labels["layout_dir"]) if labels.get("layout_dir") else None,
        out_dir=out.get("dir") or None,
        lang=out.get("lang", "zh"),
        tracking=_tracking(data.get("tracking", {})),
        raw=data,
    )


def _tracking(t: dict[str, Any]) -> TrackingSettings:
    k = t.get("kuaidi100", {})
    return TrackingSettings(float(t.get("unpicked_hours", 24)), float(t.get("stalled_hours", 48)),
                            k.get("customer", "").strip(), k.get("key", "").strip(), k.get("url", "").strip(),
                            float(k.get("timeout_seconds", 10)))


def _check_schema(path: Path, data: dict[str, Any]) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_json("config.schema.json"))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    lines_zh, lines_en = [], []
    for e in errors[:10]:
        key = ".".join(str(p) for p in e.absolute_path) or "（顶层）"
        lines_zh.append(f"{key}：{_explain(e)}")
        lines_en.append(f"{key}: {e.message}")
    raise ConfigError(f"配置文件 {path.name} 有误：\n  " + "\n  ".join(lines_zh),
                      f"Config {path.name} is wrong:\n  " + "\n  ".join(lines_en))


def _explain(e: Any) -> str:
    v = e.validator
    if v == "required":
        missing = [k for k in e.validator_value if k not in (e.instance or {})]
        return f"缺少 {', '.join(missing)}"
    if v == "additionalProperties":
        return f"有不认识的设置项（{e.message.split('(')[-1].rstrip(')')}）"
    if v == "type":
        return f"应为 {e.validator_value} 类型，现在是 {e.instance!r}"
    if v == "enum":
        return f"应为 {' / '.join(map(str, e.validator_value))} 之一，现在是 {e.instance!r}"
    if v == "pattern":
        return f"格式不对：{e.instance!r}"
    return str(e.message)


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
# skus（商家编码通配，如 "MT-*"）/ keywords（商家备注或买家留言里的词）/ quantity、weight_g、amount
# （{{ min = .., max = .. }}）/ deadline_within_hours。动作：carrier / label_size / priority / hold（暂缓，写原因）。
# [[carriers.rules]]
# name = "买家要顺丰"
# keywords = ["顺丰"]
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

[tracking]                       # pddbatch track：物流跟踪
unpicked_hours = 24              # 出单后几小时仍无揽收扫描就提醒“未揽收”（虚假发货风险）
stalled_hours = 48               # 运输中几小时没有新轨迹就提醒“停滞”
# [tracking.kuaidi100]           # 可选：pddbatch track --live 用快递100 实时查询（每个单号 30 分钟最多查一次）
# customer = "快递100 后台的 customer"
# key = "快递100 后台的授权 key"
"""


def init_text(name: str, phone: str, address: str, carrier_code: str = "ZTO", shop: str = "") -> str:
    esc = {k: v.replace("\\", "\\\\").replace('"', '\\"') for k, v in
           {"name": name, "phone": phone, "address": address, "carrier": carrier_code, "shop": shop}.items()}
    return INIT_TEMPLATE.format(**esc)
