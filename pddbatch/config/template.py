"""What `pddbatch init` writes: a commented pddbatch.toml, checked exactly as `load_config` checks it."""

from __future__ import annotations

import json
import tomllib

from pddbatch.carriers import carrier
from pddbatch.config.problems import config_problems
from pddbatch.errors import ConfigError, PddBatchError

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

[tracking]                       # pddbatch track：物流跟踪
unpicked_hours = 24              # 出单后几小时仍无揽收扫描就提醒“未揽收”（虚假发货风险）
stalled_hours = 48               # 运输中几小时没有新轨迹就提醒“停滞”
# [tracking.kuaidi100]           # 可选：pddbatch track --live 用快递100 实时查询（每个单号 30 分钟最多查一次）
# customer = "快递100 后台的 customer"
# key = "快递100 后台的授权 key"
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
