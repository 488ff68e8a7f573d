"""Generator of the hostile-input corpus: >= 200 malformed, malicious or merely odd order exports.

`cases(big_rows)` lists them; `Case.build(folder, canary)` writes one into a folder and returns its path.
Nothing binary is committed: every file is made here from code, deterministically (seeded).

Groups: container (zip damage, bombs, wrong file kinds), xml (entity expansion and external entities in
every part we parse), content (headers, sheets, formulas, error values, dates, odd text), formula
(formula-looking text in every text column), csv, size (32,767-char cells, 200k / 1M rows).
"""

from __future__ import annotations

import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.hostile.xlsxcraft import Cell, Err, Formula, Package, Raw, SheetSpec, package
from tests.support import generator

HEADERS: list[str] = [h.strip() for h in generator.HEADERS]
KEYS = HEADERS
TEXT_COLUMNS = ["商品", "订单号", "订单状态", "是否审核中", "商品规格", "商家编码-规格维度", "商家编码-商品维度",
                "商家备注", "买家留言", "售后状态", "快递单号", "快递公司", "收货人", "手机", "省", "市", "区",
                "街道", "详细地址", "订单来源", "商品id", "样式ID"]
FORMULA_TEXTS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0",
                 '=HYPERLINK("http://127.0.0.1:9/x","点我")', "\t=1+1", "=1+1"]
PARTS = ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml", "xl/styles.xml",
         "[Content_Types].xml", "xl/comments1.xml", "_rels/.rels", "xl/_rels/workbook.xml.rels",
         "docProps/core.xml"]
MARK = "@@ENT@@"


@dataclass(frozen=True)
class Case:
    """One hostile input. `dangerous` ones always run as subprocesses under time and memory limits."""

    name: str
    group: str
    filename: str
    make: Callable[[Path, Path], None] = field(repr=False)   # (target file, canary file)
    dangerous: bool = False
    reconcile: bool = True
    timeout: float = 90.0
    slow: bool = False
    xxe: bool = False

    def build(self, folder: Path, canary: Path) -> Path:
        target = folder / self.filename
        self.make(target, canary)
        return target


# ---- rows -----------------------------------------------------------------------------------------

def base_rows(n: int = 8, seed: int = 7) -> list[dict[str, Any]]:
    """Orders waiting to ship (so every check applies), deterministic."""
    rows = list(generator.iter_orders(n, seed))
    for r in rows:
        r["订单状态"], r["售后状态"], r["快递单号"], r["快递公司"], r["发货时间"] = \
            "待发货", "无售后或售后取消", "", "", ""
    return rows


def grid(rows: list[dict[str, Any]], headers: list[str] | None = None) -> list[list[Cell]]:
    hs = headers or HEADERS
    out: list[list[Cell]] = [list(hs)]
    for r in rows:
        out.append([_cell(r.get(h, "")) for h in hs])
    return out


def _cell(v: Any) -> Cell:
    if v == "" or v is None:
        return None
    if isinstance(v, int | float | str | bool):
        return v
    return str(v)


def sheet(rows: list[list[Cell]], name: str = "订单列表", **kw: Any) -> SheetSpec:
    return SheetSpec(name, rows, **kw)


def good_package(n: int = 8, **kw: Any) -> Package:
    return package([sheet(grid(base_rows(n)), comment="备注")], **kw)


def write_pkg(pkg: Package) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        pkg.write(target)
    return make


def good_bytes() -> bytes:
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in good_package().parts.items():
            zf.writestr(name, text.encode())
    return buf.getvalue()


def bytes_case(data: bytes | Callable[[], bytes]) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        target.write_bytes(data() if callable(data) else data)
    return make


# ---- container damage, bombs, wrong kinds ---------------------------------------------------------

def container_cases() -> Iterator[Case]:
    for name in ("orders.xlsx", "orders.xlsm", "orders.csv", "orders.xls", "orders"):
        yield Case(f"empty-file:{name}", "container", name, bytes_case(b""))
    good = good_bytes()
    for frac in (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        yield Case(f"truncated:{frac}", "container", "orders.xlsx", bytes_case(good[: int(len(good) * frac)]))
    for cut in (1, 10, 22, 46):
        yield Case(f"truncated:-{cut}B", "container", "orders.xlsx", bytes_case(good[:-cut]))
    rng = random.Random(8)
    for i in range(12):
        def flipped(i: int = i, seed: int = rng.randrange(10**9)) -> bytes:
            r = random.Random(seed)
            b = bytearray(good)
            span = (30, len(b) // 2) if i < 6 else (len(b) // 2, len(b) - 1)
            for _ in range(1 + i % 3 * 4):
                b[r.randrange(*span)] ^= 1 << r.randrange(8)
            return bytes(b)
        yield Case(f"corrupt-bytes:{i}", "container", "orders.xlsx", bytes_case(flipped))
    yield Case("crc-mismatch", "container", "orders.xlsx", bytes_case(lambda: _crc_break(good)))
    yield Case("declared-huge-size", "container", "orders.xlsx", bytes_case(lambda: _declare_huge(good)),
               dangerous=True)
    yield Case("bomb:real-sheet-300MB", "container", "orders.xlsx", _real_bomb("xl/worksheets/sheet1.xml", 300),
               dangerous=True)
    yield Case("bomb:real-sst-64MB", "container", "orders.xlsx", _real_bomb("xl/sharedStrings.xml", 64),
               dangerous=True)
    yield Case("bomb:extra-part-2.5GB-declared", "container", "orders.xlsx", _many_members_bomb,
               dangerous=True)
    yield Case("bomb:sheet-9MB-whitespace", "container", "orders.xlsx", _padded_sheet, dangerous=True)
    yield Case("bomb:nested-zip", "container", "orders.xlsx", _nested_zip, dangerous=True)
    yield Case("encrypted-ole-as-xlsx", "container", "orders.xlsx", bytes_case(_cfb(b"EncryptedPackage")))
    yield Case("old-xls", "container", "orders.xls", bytes_case(_cfb(b"Workbook")))
    yield Case("old-xls-as-xlsx", "container", "orders.xlsx", bytes_case(_cfb(b"Workbook")))
    yield Case("zip-encrypted-member", "container", "orders.xlsx", bytes_case(lambda: _zip_encrypted_flag(good)))
    csv_text = ",".join(generator.HEADERS) + "\n" + "1,2,3\n"
    yield Case("csv-as-xlsx", "container", "orders.xlsx", bytes_case(csv_text.encode("utf-8-sig")))
    yield Case("html-as-xlsx", "container", "orders.xlsx",
               bytes_case("<html><body><table><tr><td>订单号</td></tr></table></body></html>".encode()))
    yield Case("html-as-xls", "container", "orders.xls", bytes_case(b"<html><table><tr><td>x</td></tr></table>"))
    yield Case("xlsx-as-csv", "container", "orders.csv", bytes_case(good))
    yield Case("pdf-as-xlsx", "container", "orders.xlsx", bytes_case(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"))
    yield Case("random-bytes", "container", "orders.xlsx",
               bytes_case(bytes(random.Random(3).randrange(256) for _ in range(5000))))
    yield Case("zip-of-nothing", "container", "orders.xlsx", bytes_case(_zip({"readme.txt": b"hello"})))
    yield Case("ods-as-xlsx", "container", "orders.xlsx",
               bytes_case(_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                "content.xml": b"<office:document-content/>"})))
    yield Case("unknown-suffix", "container", "orders.numbers", bytes_case(good))
    for part in ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "_rels/.rels",
                 "xl/sharedStrings.xml", "xl/styles.xml", "xl/worksheets/sheet1.xml"):
        yield Case(f"missing-part:{part}", "container", "orders.xlsx", _drop_part(part))
    yield from content_type_cases()


def content_type_cases() -> Iterator[Case]:
    def ct(fn: Callable[[str], str]) -> Callable[[Path, Path], None]:
        def make(target: Path, canary: Path) -> None:
            pkg = good_package()
            pkg.tamper("[Content_Types].xml", fn)
            pkg.write(target)
        return make

    sheet_ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    yield Case("ctype:sheet-as-chart", "container", "orders.xlsx",
               ct(lambda t: t.replace(sheet_ct, "application/vnd.openxmlformats-officedocument.drawingml.chart+xml")))
    yield Case("ctype:no-overrides", "container", "orders.xlsx",
               ct(lambda t: t.split("<Override")[0] + "</Types>"))
    yield Case("ctype:garbage", "container", "orders.xlsx", ct(lambda t: "not xml at all <<<"))
    yield Case("ctype:empty", "container", "orders.xlsx", ct(lambda t: ""))
    yield Case("ctype:workbook-as-macro", "container", "orders.xlsx",
               ct(lambda t: t.replace("sheet.main+xml", "sheet.main.macroEnabled.main+xml")))
    yield Case("ctype:xlsm-named-xlsx", "container", "orders.xlsm", ct(lambda t: t))


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, v in members.items():
            zf.writestr(k, v)
    return buf.getvalue()


def _crc_break(good: bytes) -> bytes:
    b = bytearray(good)
    i = b.find(b"PK\x03\x04", 100)
    b[i + 14] ^= 0xFF           # CRC-32 field of a local header
    j = b.find(b"PK\x01\x02")
    b[j + 16] ^= 0xFF           # and of its central-directory twin
    return bytes(b)


def _declare_huge(good: bytes) -> bytes:
    """Every central-directory entry claims 3.9 GB uncompressed."""
    b = bytearray(good)
    i = 0
    while (i := b.find(b"PK\x01\x02", i)) >= 0:
        struct.pack_into("<I", b, i + 24, 0xF0000000)
        i += 4
    return bytes(b)


def _zip_encrypted_flag(good: bytes) -> bytes:
    b = bytearray(good)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = 0
        while (i := b.find(sig, i)) >= 0:
            b[i + off] |= 1
            i += 4
    return bytes(b)


def _cfb(stream: bytes) -> bytes:
    """An OLE compound file header (what an encrypted .xlsx or an old .xls starts with) and filler."""
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + struct.pack("<HHH", 0x3E, 3, 0xFFFE)
    head += struct.pack("<H", 9) + b"\x00" * (512 - len(head) - 2)
    return head + stream.ljust(512, b"\x00") * 8


def _real_bomb(part: str, megabytes: int) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        pkg = good_package()
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in pkg.parts.items():
                if name != part:
                    zf.writestr(name, text.encode())
            head, tail = pkg.parts[part].rsplit("</", 1)
            info = zipfile.ZipInfo(part)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                fh.write(head.encode())
                block = b" " * (1 << 20)
                for _ in range(megabytes):
                    fh.write(block)
                fh.write(("</" + tail).encode())
    return make


def _many_members_bomb(target: Path, canary: Path) -> None:
    """Small real data; central directory declares 2.5 GB spread over many parts."""
    pkg = good_package()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in pkg.parts.items():
            zf.writestr(name, text.encode())
        for i in range(50):
            zf.writestr(f"xl/media/pad{i}.bin", b"\x00" * 4096)
    b = bytearray(target.read_bytes())
    i = 0
    while (i := b.find(b"PK\x01\x02", i)) >= 0:
        name_len = struct.unpack_from("<H", b, i + 28)[0]
        if b[i + 46:i + 46 + name_len].startswith(b"xl/media/pad"):
            struct.pack_into("<I", b, i + 24, 50 * 2**20)
        i += 4
    target.write_bytes(bytes(b))


def _padded_sheet(target: Path, canary: Path) -> None:
    """Below the bomb limits (9 MB of whitespace between rows): must simply be read."""
    pkg = good_package()
    pkg.tamper("xl/worksheets/sheet1.xml", lambda t: t.replace("</row>", "</row>" + " " * (9 * 2**20 // 9), 9))
    pkg.write(target)


def _nested_zip(target: Path, canary: Path) -> None:
    inner = zlib.compress(b"\x00" * (32 * 2**20), 9)
    pkg = good_package()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in pkg.parts.items():
            zf.writestr(name, text.encode())
        zf.writestr("xl/embeddings/inner.zip", _zip({"a.bin": inner, "b.bin": b"\x00" * (8 * 2**20)}))


def _drop_part(part: str) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        pkg = good_package()
        pkg.parts.pop(part, None)
        pkg.write(target)
    return make


# ---- XML entities ---------------------------------------------------------------------------------

def _laughs(depth: int = 10) -> str:
    ents = ['<!ENTITY e0 "lol">']
    ents += [f'<!ENTITY e{i} "{("&e" + str(i - 1) + ";") * 10}">' for i in range(1, depth)]
    return "<!DOCTYPE x [" + "".join(ents) + f'<!ENTITY e "&e{depth - 1};">]>'


def _doctypes(canary: Path) -> dict[str, str]:
    url = canary.resolve().as_uri()
    return {
        "billion-laughs": _laughs(),
        "quadratic": "<!DOCTYPE x [<!ENTITY e \"" + "A" * 50_000 + "\">]>",
        "xxe-file": f'<!DOCTYPE x [<!ENTITY e SYSTEM "{url}">]>',
        "xxe-parameter": f'<!DOCTYPE x [<!ENTITY % p SYSTEM "{url}"> %p; <!ENTITY e "x">]>',
        "external-dtd": '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd"><!-- e -->',
    }


def xml_cases() -> Iterator[Case]:
    for part in PARTS:
        for kind in ("billion-laughs", "quadratic", "xxe-file", "xxe-parameter", "external-dtd"):
            yield Case(f"xml:{kind}:{part}", "xml", "orders.xlsx", _entity_maker(part, kind), dangerous=True,
                       xxe=kind.startswith("xxe"))


def _entity_maker(part: str, kind: str) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        rows = base_rows()
        rows[0]["买家留言"] = MARK
        rows[1]["收货人"] = MARK
        pkg = package([sheet(grid(rows), comment=MARK)], shared=part != "xl/worksheets/sheet1.xml")
        doctype = _doctypes(canary)[kind]
        pkg.parts["xl/workbook.xml"] = pkg.parts["xl/workbook.xml"].replace(
            'name="订单列表"', f'name="订单列表{MARK}"')
        pkg.parts["docProps/core.xml"] = pkg.parts["docProps/core.xml"].replace("corpus", "corpus" + MARK)
        pkg.parts["xl/styles.xml"] = pkg.parts["xl/styles.xml"].replace(
            'formatCode="yyyy-mm-dd"', f'formatCode="yyyy-mm-dd{MARK}"')

        def inject(text: str) -> str:
            body = text.split("?>", 1)[1] if text.startswith("<?xml") else text
            ref = "&e;" if "ENTITY e" in doctype else ""
            if MARK not in body:   # parts with no text site: put the reference in a comment-free spot
                body = body.replace(">", ">" + ref, 1) if "<Types" not in body else body
            return text[: len(text) - len(body)] + doctype + body.replace(MARK, ref)

        pkg.tamper(part, inject)
        for name in pkg.parts:
            pkg.parts[name] = pkg.parts[name].replace(MARK, "")
        pkg.write(target)
    return make


# ---- content: headers, sheets, cell types ---------------------------------------------------------

def content_cases() -> Iterator[Case]:
    rows = base_rows()
    g = grid(rows)

    def pkg_case(name: str, sheets: list[SheetSpec], **kw: Any) -> Case:
        return Case(name, "content", "orders.xlsx", write_pkg(package(sheets, **kw)))

    yield pkg_case("empty-sheet", [sheet([])])
    yield pkg_case("empty-sheets-x3", [sheet([], "A"), sheet([], "B"), sheet([], "C")])
    yield pkg_case("header-only", [sheet(g[:1])])
    yield pkg_case("header-row-3", [sheet([["拼多多订单导出"], [None]] + g)])
    yield pkg_case("header-row-10", [sheet([[f"说明{i}"] for i in range(9)] + g)])
    yield pkg_case("header-row-12", [sheet([[f"说明{i}"] for i in range(11)] + g)])
    yield pkg_case("merged-title-above-header",
                   [sheet([["订单导出 2026-11-26"] + [None] * 5, [None]] + g, merges=("A1:F1",))])
    merged = [list(r) for r in g]
    merged[0][HEADERS.index("省") + 1] = None
    merged[0][HEADERS.index("省") + 2] = None
    yield pkg_case("merged-header-cells", [sheet(merged, merges=(
        f"{_col('省')}1:{_col('区')}1",))])
    yield pkg_case("duplicate-header-订单号", [sheet(_dup(g, "订单号"))])
    yield pkg_case("duplicate-header-手机", [sheet(_dup(g, "手机"))])
    yield pkg_case("duplicate-header-all", [sheet([r + r for r in g])])
    yield pkg_case("hidden-sheet-holds-orders", [sheet([["说明"]], "说明"), sheet(g, "订单", state="hidden")])
    yield pkg_case("veryhidden-decoy", [sheet(g), sheet(g, "旧订单", state="veryHidden")])
    yield pkg_case("hidden-rows", [sheet(g, hidden_rows=frozenset({2, 4, 6}))])
    yield pkg_case("two-order-sheets", [sheet(g, "订单A"), sheet(g, "订单B")])
    yield pkg_case("missing-required-columns", [sheet([r[:5] for r in g])])
    yield pkg_case("only-orderno-column", [sheet([[r[HEADERS.index("订单号")]] for r in g])])
    yield pkg_case("headers-fullwidth-spaces", [sheet([[f"\u3000{h} " for h in HEADERS]] + g[1:])])
    yield pkg_case("inline-strings", [sheet(g)], shared=False)
    yield pkg_case("wide-row-16384", [sheet([g[0] + [None] * 16000 + ["x"]] + g[1:])])
    yield pkg_case("sparse-rows-gap", [sheet(g[:3] + [[]] * 500 + g[3:])])
    for col in ("订单号", "商品数量(件)", "手机", "用户实付金额(元)", "承诺发货时间", "收货人", "详细地址"):
        for code in ("#N/A", "#DIV/0!", "#VALUE!", "#REF!"):
            yield pkg_case(f"error-value:{code}:{col}", [sheet(_set(g, col, Err(code), rows=(1, 3)))])
    yield pkg_case("formula:qty", [sheet(_set(g, "商品数量(件)", Formula("1+1", 2.0), rows=(1, 2)))])
    yield pkg_case("formula:orderno", [sheet(_set(g, "订单号", Formula('"2611"&"26-1"', "261126-1"), rows=(1,)))])
    yield pkg_case("formula:money", [sheet(_set(g, "用户实付金额(元)", Formula("A1*0", 0.0), rows=(2,)))])
    yield pkg_case("formula:no-cache", [sheet(_set(g, "收货人", Raw("", "<f>A2</f>"), rows=(1,)))])
    yield pkg_case("formula:in-owned-column", [sheet(_set(g, "快递单号", Formula('"YT"&1', "YT1"), rows=(1, 2)))])
    yield pkg_case("bool-cells", [sheet(_set(g, "商品数量(件)", True, rows=(1,)))])
    yield pkg_case("negative-and-huge-numbers",
                   [sheet(_set(_set(g, "商品数量(件)", -5, rows=(1,)), "商品数量(件)", 1e308, rows=(2,)))])
    yield pkg_case("nan-text", [sheet(_set(g, "用户实付金额(元)", "NaN", rows=(1,)))])
    for i, v in enumerate((45987.5, 45987, "2026-11-26", "2026/11/26 08:00", "2026年11月26日", "明天",
                           "0000-00-00 00:00:00", -1, 99999999, 20000, 80000.99)):
        yield pkg_case(f"date:{i}:{v!r}", [sheet(_set(g, "承诺发货时间", v, rows=(1, 2)))])
    yield Case("date:xlsxwriter-datetimes", "content", "orders.xlsx", _xlsxwriter_dates)
    yield Case("control-characters", "content", "orders.xlsx", _xlsxwriter_text("\x01\x07\x1b[31m\x7f 名字"))
    yield Case("control-chars-raw-xml", "content", "orders.xlsx",
               write_pkg(package([sheet(_set(g, "收货人", Raw(' t="inlineStr"', "<is><t>a\x01b</t></is>"),
                                                 rows=(1,)))])))
    yield Case("emoji", "content", "orders.xlsx", _xlsxwriter_text("🎁王小明👨‍👩‍👧 🇨🇳"))
    yield Case("rtl-zero-width", "content", "orders.xlsx", _xlsxwriter_text("\u202e王\u200b小\ufeff明"))
    yield Case("lone-surrogate-escape", "content", "orders.xlsx",
               write_pkg(package([sheet(_set(g, "收货人", "王_xD800_明", rows=(1,)))])))
    yield Case("sheet-name-odd", "content", "orders.xlsx",
               write_pkg(package([sheet(g, "订单'列表 <&>\"")])))
    yield Case("many-sheets-200", "content", "orders.xlsx",
               write_pkg(package([sheet([["x"]], f"S{i}") for i in range(199)] + [sheet(g)])))


def _col(h: str) -> str:
    from tests.hostile.xlsxcraft import col_letter
    return col_letter(HEADERS.index(h))


def _dup(g: list[list[Cell]], h: str) -> list[list[Cell]]:
    i = HEADERS.index(h)
    return [r + [("999" if n else r[i])] for n, r in enumerate(g)]


def _set(g: list[list[Cell]], h: str, v: Cell, rows: tuple[int, ...]) -> list[list[Cell]]:
    i = HEADERS.index(h)
    out = [list(r) for r in g]
    for r in rows:
        out[r][i] = v
    return out


def _xlsxwriter_book(target: Path, rows: list[dict[str, Any]],
                     cell: Callable[[Any, int, int, str, Any], None] | None = None) -> None:
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(target), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False})
    ws = wb.add_worksheet("订单列表")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for c, h in enumerate(HEADERS):
        ws.write_string(0, c, h)
    for r, row in enumerate(rows, start=1):
        for c, h in enumerate(HEADERS):
            v = row.get(h, "")
            if cell is not None and h in TEXT_COLUMNS + ["承诺发货时间", "支付时间"]:
                cell(ws, r, c, h, (v, date_fmt))
            elif isinstance(v, int | float):
                ws.write_number(r, c, v)
            elif v:
                ws.write_string(r, c, str(v))
    wb.close()


def _xlsxwriter_dates(target: Path, canary: Path) -> None:
    def cell(ws: Any, r: int, c: int, h: str, vf: tuple[Any, Any]) -> None:
        v, fmt = vf
        if h in ("承诺发货时间", "支付时间"):
            ws.write_datetime(r, c, datetime(2026, 11, 27, 8, r % 60, 0), fmt)
        elif v != "":
            ws.write_string(r, c, str(v))
    _xlsxwriter_book(target, base_rows(), cell)


def _xlsxwriter_text(payload: str) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        def cell(ws: Any, r: int, c: int, h: str, vf: tuple[Any, Any]) -> None:
            v = vf[0]
            if h in ("收货人", "详细地址", "买家留言", "商家备注", "商品规格") and r % 2:
                ws.write_string(r, c, payload + str(v))
            elif h in ("承诺发货时间", "支付时间") or v != "":
                ws.write_string(r, c, str(v))
        _xlsxwriter_book(target, base_rows(), cell)
    return make


# ---- formula-looking text in every text column ----------------------------------------------------

def formula_cases() -> Iterator[Case]:
    for p, payload in enumerate(FORMULA_TEXTS):
        for h in TEXT_COLUMNS:
            if p >= 3 and h not in ("收货人", "详细地址", "买家留言", "订单号", "手机", "商家备注"):
                continue
            yield Case(f"formula-text:{p}:{h}", "formula", "orders.xlsx", _formula_text(h, payload))
    for p, payload in enumerate(FORMULA_TEXTS[:3]):
        yield Case(f"formula-text-csv:{p}", "formula", "orders.csv", _formula_csv(payload))


def _formula_text(h: str, payload: str) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        rows = base_rows()
        for r in rows[:3]:
            r[h] = payload
        rows[3][h] = payload + str(rows[3].get(h, ""))
        package([sheet(grid(rows))]).write(target)
    return make


def _formula_csv(payload: str) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        rows = base_rows()
        for i, r in enumerate(rows[:4]):
            for h in TEXT_COLUMNS[i::4]:
                r[h] = payload
        generator.write_csv(rows, target)
    return make


# ---- CSV ------------------------------------------------------------------------------------------

def csv_cases() -> Iterator[Case]:
    rows = base_rows()

    def text_case(name: str, fn: Callable[[], bytes]) -> Case:
        return Case(name, "csv", "orders.csv", bytes_case(fn))

    def csv_bytes(encoding: str = "utf-8", sep: str = ",", rows_: list[dict[str, Any]] | None = None) -> bytes:
        import csv
        import io
        out = io.StringIO()
        w = csv.writer(out, delimiter=sep)
        w.writerow(HEADERS)
        for r in rows_ if rows_ is not None else rows:
            w.writerow([str(r.get(h, "")) for h in HEADERS])
        return out.getvalue().encode(encoding, "replace")

    yield text_case("csv:utf8", lambda: csv_bytes())
    yield text_case("csv:utf8-bom", lambda: b"\xef\xbb\xbf" + csv_bytes())
    yield text_case("csv:gb18030", lambda: csv_bytes("gb18030"))
    yield text_case("csv:utf16", lambda: csv_bytes("utf-16"))
    yield text_case("csv:tab", lambda: csv_bytes(sep="\t"))
    yield text_case("csv:semicolon", lambda: csv_bytes(sep=";"))
    yield text_case("csv:mixed-encodings", lambda: _mixed(csv_bytes))
    yield text_case("csv:header-only", lambda: ",".join(HEADERS).encode())
    yield text_case("csv:header-row-3", lambda: b"title\n\n" + csv_bytes())
    yield text_case("csv:no-header", lambda: csv_bytes().split(b"\n", 1)[1])
    yield text_case("csv:nul-bytes", lambda: csv_bytes().replace(b",", b"\x00,", 5))
    yield text_case("csv:unterminated-quote", lambda: csv_bytes() + b'"abc,\n')
    yield text_case("csv:ragged-rows", lambda: b"\n".join(line + b",x" * (i % 5)
                                                        for i, line in enumerate(csv_bytes().split(b"\n"))))
    yield text_case("csv:crlf-in-cell", lambda: csv_bytes(rows_=[{**r, "详细地址": "一楼\r\n二楼"} for r in rows]))
    yield text_case("csv:control-chars", lambda: csv_bytes(rows_=[{**r, "收货人": "王\x07\x1b明"} for r in rows]))
    yield text_case("csv:emoji", lambda: csv_bytes(rows_=[{**r, "收货人": "🎁王明"} for r in rows]))
    yield text_case("csv:32767-char-cell", lambda: csv_bytes(rows_=[{**r, "买家留言": "长" * 32767} for r in rows]))
    yield text_case("csv:1MB-cell", lambda: csv_bytes(rows_=[{**r, "买家留言": "x" * 2**20} for r in rows[:2]]))
    yield text_case("csv:dates-mixed", lambda: csv_bytes(rows_=[
        {**r, "承诺发货时间": v} for r, v in zip(rows, ["45987.5", "2026/11/27", "2026年11月27日", "27/11/2026",
                                                  "2026-11-27T08:00:00", "", "x", "45987"], strict=False)]))
    yield text_case("csv:binary-garbage", lambda: bytes(random.Random(5).randrange(256) for _ in range(4000)))
    yield text_case("csv:only-bom", lambda: b"\xef\xbb\xbf")
    yield text_case("csv:only-newlines", lambda: b"\n\n\n")


def _mixed(csv_bytes: Callable[..., bytes]) -> bytes:
    lines = csv_bytes().split(b"\n")
    for i in range(1, len(lines), 2):
        lines[i] = lines[i].decode("utf-8").encode("gb18030")
    return b"\n".join(lines)


# ---- size -----------------------------------------------------------------------------------------

def size_cases(big_rows: int) -> Iterator[Case]:
    yield Case("cell-32767-chars", "size", "orders.xlsx", _long_cells(32767))
    yield Case("cell-32767-chars-every-text-column", "size", "orders.xlsx", _long_cells(32767, every=True))
    yield Case("cell-40000-chars-over-limit", "size", "orders.xlsx", _long_cells(40000))
    for n, slow in ((big_rows, False), (1_000_000, True)):
        if n <= 0:
            continue
        yield Case(f"rows-{n}:xlsx", "size", "orders.xlsx", _many_rows_xlsx(n), dangerous=True,
                   reconcile=False, timeout=600 if slow else 240, slow=slow)
        yield Case(f"rows-{n}:csv", "size", "orders.csv", _many_rows_csv(n), dangerous=True,
                   reconcile=False, timeout=600 if slow else 240, slow=slow)


def _long_cells(n: int, every: bool = False) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        rows = base_rows()
        for r in rows[:2]:
            for h in (TEXT_COLUMNS if every else ["买家留言", "详细地址"]):
                r[h] = ("长" * n)
        package([sheet(grid(rows))]).write(target)
    return make


BIG_COLUMNS = ["订单号", "订单状态", "售后状态", "商品", "商品规格", "商品数量(件)", "承诺发货时间", "用户实付金额(元)",
               "收货人", "手机", "省", "市", "区", "详细地址", "商家编码-规格维度"]


def _big_rows(n: int) -> Iterator[list[Any]]:
    template = base_rows(64, seed=11)
    for i in range(n):
        r = template[i % 64]
        unique = {"订单号": f"261126-{100000000000000 + i}", "手机": f"1{3 + i % 7}{i:09d}",
                  "详细地址": f"{r['详细地址']}{i // 1000}栋{i % 1000}号"}
        yield [unique.get(h, r.get(h, "")) for h in BIG_COLUMNS]


def _many_rows_xlsx(n: int) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        import xlsxwriter
        wb = xlsxwriter.Workbook(str(target), {"constant_memory": True, "strings_to_numbers": False,
                                               "strings_to_formulas": False, "strings_to_urls": False})
        ws = wb.add_worksheet("订单列表")
        ws.write_row(0, 0, BIG_COLUMNS)
        for r, row in enumerate(_big_rows(n), start=1):
            ws.write_row(r, 0, row)
        wb.close()
    return make


def _many_rows_csv(n: int) -> Callable[[Path, Path], None]:
    def make(target: Path, canary: Path) -> None:
        import csv
        with target.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(BIG_COLUMNS)
            w.writerows(_big_rows(n))
    return make


# ---- all ------------------------------------------------------------------------------------------

def cases(big_rows: int = 200_000) -> list[Case]:
    """Every case, in a stable order; names are unique."""
    out = [*container_cases(), *xml_cases(), *content_cases(), *formula_cases(), *csv_cases(),
           *size_cases(big_rows)]
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "duplicate case names"
    return out
