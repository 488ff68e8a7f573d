"""Generate a realistic Pinduoduo order export (xlsx + csv) with documented faulty rows.

    python sample_data/generate.py                      # the bundled sample (320 rows, seed 2026)
    python sample_data/generate.py --rows 100000 --out /tmp/big.xlsx --no-faults

The faulty rows planted by `plant_faults` are listed in sample_data/README.md; tests read them back
from `FAULTS` so the two never drift apart.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HEADERS = [
    "商品", " 订单号", "订单状态", "商品数量(件)", "是否审核中", "支付时间", "拼单成功时间", "承诺发货时间",
    "发货时间", "订单成交时间", "商品id", "商品规格", "样式ID", "商家编码-规格维度", "商家编码-商品维度",
    "商家备注", "买家留言", "售后状态", "商品总价(元)", "邮费(元)", "店铺优惠折扣(元)", "平台优惠折扣(元)",
    "用户实付金额(元)", "商家实收金额(元)", "快递单号", "快递公司", "收货人", "手机", "省", "市", "区",
    "街道", "详细地址", "订单来源",
]

# (province, [(city, [districts])])
REGIONS: list[tuple[str, list[tuple[str, list[str]]]]] = [
    ("浙江省", [("杭州市", ["西湖区", "余杭区", "滨江区", "拱墅区"]), ("宁波市", ["鄞州区", "海曙区"]),
              ("金华市", ["义乌市", "婺城区"])]),
    ("广东省", [("广州市", ["天河区", "白云区", "番禺区"]), ("深圳市", ["南山区", "宝安区", "龙岗区"]),
              ("东莞市", ["南城街道", "长安镇"])]),
    ("江苏省", [("南京市", ["鼓楼区", "江宁区"]), ("苏州市", ["姑苏区", "吴中区", "昆山市"])]),
    ("上海市", [("上海市", ["浦东新区", "闵行区", "徐汇区", "宝山区"])]),
    ("北京市", [("北京市", ["朝阳区", "海淀区", "丰台区"])]),
    ("山东省", [("济南市", ["历下区", "槐荫区"]), ("青岛市", ["黄岛区", "崂山区"])]),
    ("河南省", [("郑州市", ["金水区", "二七区"]), ("洛阳市", ["洛龙区"])]),
    ("四川省", [("成都市", ["武侯区", "锦江区", "双流区"]), ("绵阳市", ["涪城区"])]),
    ("湖北省", [("武汉市", ["洪山区", "江夏区"])]),
    ("湖南省", [("长沙市", ["岳麓区", "雨花区"])]),
    ("福建省", [("厦门市", ["思明区", "湖里区"]), ("福州市", ["鼓楼区"])]),
    ("河北省", [("石家庄市", ["长安区"]), ("保定市", ["竞秀区"])]),
    ("安徽省", [("合肥市", ["蜀山区", "包河区"])]),
    ("陕西省", [("西安市", ["雁塔区", "未央区"])]),
    ("新疆维吾尔自治区", [("乌鲁木齐市", ["天山区", "沙依巴克区"])]),
    ("西藏自治区", [("拉萨市", ["城关区"])]),
    ("内蒙古自治区", [("呼和浩特市", ["赛罕区"])]),
    ("甘肃省", [("兰州市", ["城关区"])]),
    ("海南省", [("海口市", ["龙华区"])]),
    ("黑龙江省", [("哈尔滨市", ["南岗区"])]),
]
WEIGHTS = [14, 14, 10, 9, 6, 6, 6, 6, 5, 5, 4, 4, 3, 3, 1, 1, 1, 1, 1, 2]

STREETS = ["文三路", "学院路", "人民路", "解放路", "中山路", "建设路", "和平路", "长江路", "黄河路", "新华路",
           "天目山路", "科技路", "滨江大道", "世纪大道", "环城北路", "青年路"]
COMMUNITIES = ["阳光花园", "金色家园", "翠苑小区", "锦绣华庭", "幸福里", "万科城", "绿城桂花园", "碧桂园",
               "东方明珠苑", "和谐家园"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀兰", "霞", "平", "刚", "桂英", "海莉", "子涵", "浩然", "欣怡", "梓萱", "宇轩", "一诺"]

# (goods_id, product, spec, sku_spec, sku_goods, price)
CATALOG = [
    ("4012345601", "加厚珊瑚绒毛毯 冬季保暖", "150x200cm 灰色", "MT-150-GR", "MT-150", "39.90"),
    ("4012345601", "加厚珊瑚绒毛毯 冬季保暖", "180x200cm 米白", "MT-180-WH", "MT-150", "49.90"),
    ("4012345602", "不锈钢保温杯 大容量", "500ml 黑色", "BWB-500-BK", "BWB", "29.90"),
    ("4012345602", "不锈钢保温杯 大容量", "750ml 白色", "BWB-750-WH", "BWB", "35.90"),
    ("4012345603", "纯棉袜子男士中筒 10双装", "均码 混色", "WZ-10-MIX", "WZ", "19.90"),
    ("4012345604", "家用抽纸 原木纸巾 24包", "3层 120抽", "CZ-24", "CZ", "32.80"),
    ("4012345605", "洗衣凝珠 持久留香 100颗", "薰衣草", "NZ-100-LV", "NZ", "26.90"),
    ("4012345606", "手机支架 桌面懒人支架", "铝合金 银色", "ZJ-AL-SV", "ZJ", "12.90"),
    ("4012345607", "儿童保暖内衣套装", "120cm 蓝色", "NY-120-BL", "NY", "45.00"),
    ("4012345607", "儿童保暖内衣套装", "140cm 粉色", "NY-140-PK", "NY", "49.00"),
    ("4012345608", "五常大米 新米 10斤", "5kg 真空装", "DM-5KG", "DM", "59.90"),
    ("4012345609", "红富士苹果 新鲜水果", "5斤 中果", "PG-5J-M", "PG", "24.80"),
    ("4012345610", "USB充电暖手宝", "兔子款", "NS-RB", "NS", "22.90"),
    ("4012345611", "厨房收纳置物架 多层", "三层 白色", "ZWJ-3-WH", "ZWJ", "36.50"),
    ("4012345612", "LED台灯 护眼学习", "充电款", "TD-CD", "TD", "42.00"),
]

REMARKS = [""] * 24 + ["送小礼品", "送小礼品", "加急", "加急", "发顺丰", "周末不收件", "备注：同城仓发"]
MESSAGES = ["", "", "", "", "请尽快发货", "不要放快递柜", "包装好一点谢谢", "送人的，不要放发票",
            "=HYPERLINK(\"http://example.com\",\"点我\")", "+86 请打电话"]
SOURCES = ["拼多多", "拼多多", "拼多多", "多多视频", "多多直播"]

# status mix for normal rows: (订单状态, 售后状态, weight)
STATUS_MIX = [
    ("待发货", "无售后或售后取消", 72),
    ("待发货", "售后处理中", 5),
    ("未发货，退款成功", "退款成功", 4),
    ("已发货，待收货", "无售后或售后取消", 9),
    ("已签收", "无售后或售后取消", 5),
    ("已发货，退款成功", "退款成功", 2),
    ("已取消", "无售后或售后取消", 3),
]

TODAY = datetime(2026, 11, 26, 8, 0, 0)

# Faulty rows planted into the bundled sample: (index into data rows, field, code, description)
FAULTS: list[tuple[int, str, str, str]] = [
    (5, "order_sn", "excel-mangled-number", "订单号被 Excel 转成了数字（6.07e+14 形式）"),
    (17, "receiver_phone", "bad-phone", "手机号只有 10 位"),
    (29, "receiver_name", "missing-value", "待发货订单没有收货人"),
    (41, "address", "missing-value", "待发货订单没有详细地址"),
    (53, "quantity", "bad-quantity", "商品数量为 0"),
    (65, "quantity", "bad-quantity", "商品数量写成了“两件”"),
    (77, "order_sn", "bad-order-sn", "订单号格式不对（少了日期前缀的“-”）"),
    (89, "order_sn", "duplicate-order-sn", "订单号与第 90 行重复（后一行被标出）"),
    (101, "promised_ship_at", "bad-datetime", "承诺发货时间写成了“明天下午”"),
    (113, "receiver_phone", "bad-phone", "手机号含字母"),
    (125, "buyer_paid", "bad-money", "用户实付金额写成了“免费”"),
    (137, "province", "missing-value", "待发货订单没有省份"),
]


def _order_sn(rng: random.Random, day: datetime) -> str:
    return day.strftime("%y%m%d") + "-" + "".join(rng.choice("0123456789") for _ in range(15))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def _person(rng: random.Random) -> dict[str, str]:
    prov, cities = rng.choices(REGIONS, weights=WEIGHTS)[0]
    city, districts = rng.choice(cities)
    district = rng.choice(districts)
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    phone = _phone(rng)
    roll = rng.random()
    if roll < 0.12:   # PDD privacy form: virtual number + extension, name/address suffix
        ext = f"{rng.randint(1000, 9999)}"
        phone = f"{phone}-{ext}"
        name = f"{name}[{ext}]"
    address = (f"{rng.choice(STREETS)}{rng.randint(1, 999)}号{rng.choice(COMMUNITIES)}"
               f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(1, 33)}0{rng.randint(1, 4)}室")
    if roll < 0.12:
        address += f"[{phone[-4:]}]"
    street = rng.choice(["", f"{rng.choice(STREETS)[:2]}街道", "城关镇"])
    return {"收货人": name, "手机": phone, "省": prov, "市": city, "区": district, "街道": street,
            "详细地址": address}


def iter_orders(rows: int, seed: int = 2026, today: datetime = TODAY) -> Iterator[dict[str, Any]]:
    """Yield `rows` realistic, valid order rows (dict keyed by export header without whitespace)."""
    rng = random.Random(seed)
    repeat: list[dict[str, str]] = []
    for _ in range(rows):
        if repeat and rng.random() < 0.08:
            person = rng.choice(repeat)          # same buyer, another order: merged parcel
        else:
            person = _person(rng)
            if rng.random() < 0.1:
                repeat.append(person)
                if len(repeat) > 50:
                    repeat.pop(0)
        status, after, _ = rng.choices(STATUS_MIX, weights=[w for *_, w in STATUS_MIX])[0]
        paid = today - timedelta(minutes=rng.randint(30, 60 * 60))
        promised = paid + timedelta(hours=48)
        goods = rng.choice(CATALOG)
        qty = rng.choices([1, 2, 3, 5], weights=[80, 14, 4, 2])[0]
        price = int(goods[5].replace(".", ""))
        total = price * qty
        shop_disc = rng.choice([0, 0, 100, 200, 300]) if total > 2000 else 0
        plat_disc = rng.choice([0, 0, 0, 50, 100])
        paid_amt = max(total - shop_disc - plat_disc, 1)
        shipped = status.startswith(("已发货", "已签收"))
        tracking = f"7310{rng.randint(10**9, 10**10 - 1)}" if shipped else ""
        yield {
            "商品": goods[1], "订单号": _order_sn(rng, paid), "订单状态": status, "商品数量(件)": qty,
            "是否审核中": "否", "支付时间": paid.strftime("%Y-%m-%d %H:%M:%S"),
            "拼单成功时间": (paid + timedelta(minutes=rng.randint(0, 30))).strftime("%Y-%m-%d %H:%M:%S"),
            "承诺发货时间": promised.strftime("%Y-%m-%d %H:%M:%S"),
            "发货时间": (paid + timedelta(hours=20)).strftime("%Y-%m-%d %H:%M:%S") if shipped else "",
            "订单成交时间": paid.strftime("%Y-%m-%d %H:%M:%S") if rng.random() > 0.05 else "\t",
            "商品id": goods[0], "商品规格": goods[2], "样式ID": str(rng.randint(10**10, 10**11)),
            "商家编码-规格维度": goods[3], "商家编码-商品维度": goods[4],
            "商家备注": rng.choice(REMARKS), "买家留言": rng.choice(MESSAGES), "售后状态": after,
            "商品总价(元)": _yuan(total), "邮费(元)": "0.00", "店铺优惠折扣(元)": _yuan(shop_disc),
            "平台优惠折扣(元)": _yuan(plat_disc), "用户实付金额(元)": _yuan(paid_amt),
            "商家实收金额(元)": _yuan(paid_amt + plat_disc), "快递单号": tracking,
            "快递公司": "中通快递" if shipped else "", **person, "订单来源": rng.choice(SOURCES),
        }


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def plant_faults(rows: list[dict[str, Any]]) -> None:
    """Make the rows listed in FAULTS faulty (rows must be 待发货 so the checks apply)."""
    for idx, _field, code, _desc in FAULTS:
        r = rows[idx]
        r["订单状态"], r["售后状态"] = "待发货", "无售后或售后取消"
        if code == "excel-mangled-number":
            r["订单号"] = float(r["订单号"].replace("-", "")[6:])
        elif idx == 17:
            r["手机"] = r["手机"].split("-")[0][:10]
        elif idx == 29:
            r["收货人"] = ""
        elif idx == 41:
            r["详细地址"] = ""
        elif idx == 53:
            r["商品数量(件)"] = 0
        elif idx == 65:
            r["商品数量(件)"] = "两件"
        elif idx == 77:
            r["订单号"] = r["订单号"].replace("-", "")
        elif idx == 89:
            rows[idx]["订单号"] = rows[idx - 1]["订单号"]
            rows[idx - 1]["订单状态"], rows[idx - 1]["售后状态"] = "待发货", "无售后或售后取消"
        elif idx == 101:
            r["承诺发货时间"] = "明天下午"
        elif idx == 113:
            r["手机"] = "138OO138000"
        elif idx == 125:
            r["用户实付金额(元)"] = "免费"
        elif idx == 137:
            r["省"] = ""
    # a phone typed as a number (Excel float): digits intact, reported as a warning
    rows[149]["手机"] = float(rows[149]["手机"].split("-")[0])
    rows[149]["订单状态"], rows[149]["售后状态"] = "待发货", "无售后或售后取消"


# the seller's own side tables, bundled in the sample workbook: (sku, grams, short name), (sku, stock)
SKU_TABLE = [(c[3], g, n) for c, g, n in zip(CATALOG, [1800, 2300, 450, 600, 380, 3200, 2100, 160, 420, 480,
                                                       5300, 2700, 210, 1900, 850], [
    "灰毯150", "白毯180", "黑杯500", "白杯750", "袜10双", "抽纸24", "凝珠100", "支架银", "内衣蓝120",
    "内衣粉140", "大米5kg", "苹果5斤", "暖手兔", "置物架3层", "台灯"], strict=True) if c[3] != "NS-RB"]
STOCK_TABLE = [(c[3], q) for c, q in zip(CATALOG, [80, 60, 90, 70, 100, 50, 80, 60, 40, 40, 30, 40, 50, 3, 4],
                                         strict=True)]


def write_xlsx(rows: list[dict[str, Any]], path: Path, sheet: str = "订单列表", side_tables: bool = False) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True, "bg_color": "#F2F2F2"})
    for c, h in enumerate(HEADERS):
        ws.write_string(0, c, h, bold)
    keys = [h.strip() for h in HEADERS]
    for r, row in enumerate(rows, start=1):
        for c, k in enumerate(keys):
            v = row.get(k, "")
            if isinstance(v, int | float) and not isinstance(v, bool):
                ws.write_number(r, c, v)
            elif v != "":
                ws.write_string(r, c, str(v))
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 24)
    if side_tables:
        skus = wb.add_worksheet("商品资料")
        skus.write_row(0, 0, ["商家编码", "重量(g)", "简称"], bold)
        for r, (sku, grams, short) in enumerate(SKU_TABLE, start=1):
            skus.write_row(r, 0, [sku, grams, short])
        stock = wb.add_worksheet("库存")
        stock.write_row(0, 0, ["商家编码", "可用库存"], bold)
        for r, (sku, qty) in enumerate(STOCK_TABLE, start=1):
            stock.write_string(r, 0, sku)
            stock.write_number(r, 1, qty)
    wb.close()


def write_csv(rows: list[dict[str, Any]], path: Path, encoding: str = "utf-8-sig") -> None:
    keys = [h.strip() for h in HEADERS]
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        for row in rows:
            w.writerow([_csv_value(row.get(k, "")) for k in keys])


def _csv_value(v: Any) -> str:
    if isinstance(v, float):
        # what Excel writes when it re-saves a long number as CSV: 4.82142E+14
        if v >= 1e11:
            return f"{v:.5E}"
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=320)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("orders.xlsx"))
    ap.add_argument("--csv", type=Path, default=None, help="also write this CSV (UTF-8 with BOM)")
    ap.add_argument("--no-faults", action="store_true")
    ap.add_argument("--no-side-tables", action="store_true", help="leave out the 商品资料 and 库存 sheets")
    args = ap.parse_args()
    rows = list(iter_orders(args.rows, args.seed))
    if not args.no_faults and args.rows >= 160:
        plant_faults(rows)
    write_xlsx(rows, args.out, side_tables=not args.no_side_tables)
    csv_path = args.csv
    if csv_path is None and args.out == Path(__file__).with_name("orders.xlsx"):
        csv_path = args.out.with_suffix(".csv")
    if csv_path:
        write_csv(rows, csv_path)


if __name__ == "__main__":
    main()
