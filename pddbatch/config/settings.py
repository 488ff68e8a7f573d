"""The settings a run uses: found beside the workbook (or --config), read (UTF-8 or GBK TOML),
checked (`problems`), and built into a frozen `Config` with defaults.

Relative paths in the file are relative to the config file's folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pddbatch.carriers import carrier
from pddbatch.config.problems import config_problems, problems_error
from pddbatch.errors import ConfigError
from pddbatch.plan.rules import REMOTE_PROVINCES, Rule
from pddbatch.routing import RouteSource, load_routing_table

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
    tracking: TrackingSettings = TrackingSettings()
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
        tracking=_tracking(data.get("tracking", {})),
        raw=data,
    )


def _tracking(t: dict[str, Any]) -> TrackingSettings:
    k = t.get("kuaidi100", {})
    return TrackingSettings(float(t.get("unpicked_hours", 24)), float(t.get("stalled_hours", 48)),
                            k.get("customer", "").strip(), k.get("key", "").strip(), k.get("url", "").strip(),
                            float(k.get("timeout_seconds", 10)))


def _resolve(base: Path, value: str) -> Path:
    if "\x00" in value:
        raise ConfigError("配置中的路径含有非法字符", "A path in the config holds a NUL character")
    p = Path(value).expanduser()
    return (p if p.is_absolute() else base / p).resolve()
