"""An order export in an older header dialect, written by openpyxl (tests save it again through LibreOffice).

Older headers (`商家编码-SKU维度`), `街道` as the only address column (street and house number),
leading spaces in headers, PDD privacy values (masked with `*`, virtual numbers with extensions in
both bracket styles), a store-pickup row and a row PDD is still reviewing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HEADERS = [" 订单号", "订单状态", "售后状态", " 商品", "商品规格", "商家编码-SKU维度", " 商品数量(件)", "是否审核中",
           "是否门店自提", "支付时间", " 承诺发货时间", "用户实付金额(元)", " 收货人", " 手机", "省", "市", "区", " 街道",
           "快递单号", "快递公司"]
NOW = "2026-11-26 09:00:00"


@dataclass(frozen=True)
class Row:
    sn: str
    name: str
    phone: str
    province: str
    city: str
    district: str
    street: str
    expect: str                 # 处理状态 after `pddbatch process`
    address: str = ""           # the composed address the label must carry (allocated rows)
    review: str = "否"
    pickup: str = "否"
    promised: str = "2026-11-27 20:00:00"
    masked: str = ""            # what the 待补全 message must name


ROWS = [
    Row("261125-100000000000001", "张伟", "13812345678", "浙江省", "杭州市", "西湖区", "文三路90号3栋201室",
        "已分配", "浙江省杭州市西湖区文三路90号3栋201室"),
    Row("261125-100000000000002", "张三[1234]", "13812345678-1234", "广东省", "深圳市", "南山区",
        "科技园路1号[1234]", "已分配", "广东省深圳市南山区科技园路1号[1234]"),
    Row("261125-100000000000003", "李四【5678】", "13987654321-5678", "上海市", "上海市", "浦东新区",
        "世纪大道100号【5678】", "已分配", "上海市浦东新区世纪大道100号【5678】"),
    Row("261125-100000000000004", "程**", "158****4370", "浙江省", "杭州市", "滨江区", "滨江大道***",
        "待补全", masked="收货人、手机、收货地址"),
    Row("261125-100000000000005", "程**", "158****4370", "浙江省", "杭州市", "滨江区", "滨江大道***",
        "待补全", masked="收货人、手机、收货地址"),
    Row("261125-100000000000006", "王五", "158****4370", "江苏省", "南京市", "鼓楼区", "中山路8号",
        "待补全", masked="手机"),
    Row("261125-100000000000007", "赵六", "13700000001", "江苏省", "苏州市", "姑苏区", "人民路1号",
        "门店自提", pickup="是"),
    Row("261125-100000000000008", "钱七", "13700000002", "江苏省", "苏州市", "吴中区", "人民路2号",
        "审核中", review="是"),
    Row("261125-100000000000009", "孙八", "13700000003", "北京市", "北京市", "朝阳区", "建国路88号",
        "已分配", "北京市朝阳区建国路88号"),
    Row("261125-100000000000010", "孙八", "13700000003", "北京市", "北京市", "朝阳区", "建国路88号",
        "已分配", "北京市朝阳区建国路88号"),
    Row("261125-100000000000011", "周九", "13700000004", "山东省", "济南市", "历下区", "泉城路9号",
        "已分配", "山东省济南市历下区泉城路9号", promised="2026年11月30日"),
    Row("261125-100000000000012", "吴十", "13700000005", "山东省", "青岛市", "崂山区", "海尔路1号",
        "校验失败", promised="2026-02-30 12:00:00"),
]


def write_openpyxl(path: Path, rows: list[Row] = ROWS) -> Path:
    """The export as openpyxl writes it (every value a string, as PDD's own exports have them)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "订单列表"
    ws.append(HEADERS)
    for r in rows:
        ws.append([r.sn, "待发货", "无售后或售后取消", "加厚珊瑚绒毛毯", "1.5米", "MT-150", "1", r.review, r.pickup,
                   "2026-11-25 08:00:00", r.promised, "39.90", r.name, r.phone, r.province, r.city, r.district,
                   r.street, "", ""])
    wb.save(path)
    return path
