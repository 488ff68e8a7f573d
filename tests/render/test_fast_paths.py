"""The renderer's fast paths give the plain paths' answers: Code 128 bars placed from a table and
plans shared per shape of number (against an independent walk over the symbol patterns, a decoder
and a direct search), the one-line fast path of fit_text (against the general wrap/shrink loop,
reached through a trailing newline), remembered PDF text fragments (against fresh ones), the self-filling glyph-id table and ZPL text
composed in C-level passes (against a char-by-char loop)."""

from __future__ import annotations

import random

import pytest

from pddbatch.render.code128 import _PATTERNS, QUIET_MODULES, BarcodeError, bars, symbols
from pddbatch.render.labelpage import ASCENT, fit_text
from pddbatch.render.labels import layout_for
from pddbatch.render.labels_pdf import fonts
from pddbatch.render.labels_zpl import _text
from pddbatch.render.pdf import DOT
from pddbatch.render.zpl_glyphs import GlyphBank


def walk(data: str) -> list[tuple[int, int]]:
    """Bars from the pattern strings themselves: odd elements are bars, even ones spaces."""
    pos, out = QUIET_MODULES, []
    for sym in symbols(data):
        for k, ch in enumerate(_PATTERNS[sym]):
            if k % 2 == 0:
                out.append((pos, int(ch)))
            pos += int(ch)
    return out


def test_bars_match_the_pattern_walk() -> None:
    rnd = random.Random(11)
    samples = ["73100000000001", "9800000000001", "SF1000000000001", "YT1234567890123", "1", "A"]
    samples += ["".join(rnd.choice("0123456789" * 3 + "AZaz -_~") for _ in range(rnd.randint(1, 26)))
                for _ in range(3000)]
    for data in samples:
        assert bars(data) == walk(data), data


def test_set_c_checksum_by_the_definition() -> None:
    rnd = random.Random(5)
    for _ in range(500):
        data = "".join(rnd.choice("0123456789") for _ in range(2 * rnd.randint(1, 12)))
        values = [int(data[i:i + 2]) for i in range(0, len(data), 2)]
        check = (105 + sum(i * v for i, v in enumerate(values, start=1))) % 103
        assert symbols(data) == [105, *values, check, 106]


@pytest.mark.parametrize("data", ["", "73\x7f01", "73\t01", "\x1f", "运单", "١٢", "73 01\n"])
def test_not_printable_ascii_is_refused(data: str) -> None:
    with pytest.raises(BarcodeError):
        symbols(data)


TEXTS = ["3/500", "13900000005", "73100000000001", "王小红5", "", "  ", "浙江省杭州市西湖区某某街道幸福路5号5栋5单元105室",
         "欧阳娜娜娜娜娜【123456】", "+8613812345678-123456", "幸福里小区" * 40 + "000号【4321】", "纯棉短袖T恤 白色 XL ×3 ",
         "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW", "一二三四五六七八九十" * 3]


@pytest.mark.parametrize("size", ["76x130", "100x180"])
def test_one_line_fast_path_gives_the_general_answer(size: str) -> None:
    layout = layout_for(size, None)
    fs = fonts()
    checked = 0
    for f in layout.fields:
        if f.kind == "barcode":
            continue
        font = fs[1 if f.bold else 0]
        for text in TEXTS:
            assert fit_text(font, text, f) == fit_text(font, text + "\n", f), (f.id, text)
            checked += 1
    assert checked > 100


def decode(values: list[int]) -> str:
    """Read symbol values back as text (start B/C, code B/C switches, then check and stop)."""
    assert values[-1] == 106
    assert values[-2] == (values[0] + sum(i * v for i, v in enumerate(values[1:-2], start=1))) % 103
    cur = "C" if values[0] == 105 else "B"
    assert values[0] in (104, 105)
    text = ""
    for v in values[1:-2]:
        if cur == "C" and v == 100 or cur == "B" and v == 99:
            cur = "B" if v == 100 else "C"
        elif cur == "C":
            text += f"{v:02d}"
        else:
            text += chr(v + 32)
    return text


def fewest(data: str) -> int:
    """Fewest data + switch symbols for `data` with sets B and C (a direct search, for reference)."""
    from functools import cache

    @cache
    def best(i: int, in_c: bool) -> int:
        if i == len(data):
            return 0
        options = [1 + best(i + 1, False) + (1 if in_c else 0)]
        if data[i:i + 2].isdigit() and len(data[i:i + 2]) == 2:
            options.append(1 + best(i + 2, True) + (0 if in_c else 1))
        return min(options)

    return min(best(0, False), best(0, True))


def test_mixed_numbers_decode_back_in_the_fewest_symbols() -> None:
    rnd = random.Random(17)
    samples = ["SF1000000000001", "9800000000001", "YT1234567890123", "JD0012345678-1-1", "1", "12", "123", "A1"]
    samples += ["".join(rnd.choice("0123456789" * 4 + "SFYTJD-") for _ in range(rnd.randint(1, 22)))
                for _ in range(2000)]
    for data in samples:
        values = symbols(data)
        assert decode(values) == data
        assert len(values) - 3 == fewest(data), data


def test_remembered_text_fragments_draw_what_fresh_ones_draw() -> None:
    """PDF content: a short text op remembered from an earlier page is the same bytes as drawn afresh,
    and the glyphs it uses are still recorded for the font subset."""
    from pddbatch.render.labels_pdf import Content

    fs = fonts()
    ops = [("T", 10.0, 20.0, 9.0, 0, "纯棉短袖T恤 白色 XL ×3"), ("T", 10.0, 40.0, 12.0, 1, "73100000000001"),
           ("L", 0.0, 50.0, 100.0, 50.0, 0.5, False), ("T", 10.0, 60.0, 9.0, 0, "浙江省杭州市西湖区" * 6)]
    shared = Content(300.0, [f.hex for f in fs])
    first, second = shared(ops), shared(ops)
    fresh_fs = fonts()
    fresh = Content(300.0, [f.hex for f in fresh_fs])(ops)
    assert first == second == fresh
    assert b"Tj" in first and first.count(b"BT") == 2
    assert set("纯棉短袖T恤白色XL×3浙江省杭州市西湖区") <= fs[0].used and set("73100000000001") <= fs[1].used
    assert len(shared.texts) == 2      # the long address line is not kept


def test_glyph_hex_records_every_char_drawn_even_after_measuring_it() -> None:
    """`FontUse.hex` is one `str.translate` whose table fills itself: a char measured first (widths)
    and drawn later is still recorded as used (the PDF's font subset needs it), and a char the font
    lacks is reported."""
    regular = fonts()[0]
    cmap = regular.metrics.cmap
    regular.widths("杭州AB")                     # measured, not drawn
    assert regular.used == set()
    text = "浙江省杭州市 西湖区12号\u2603\U0001F600"
    expected = "".join(f"{cmap.get(ord(ch), 0):04X}" for ch in text)
    assert regular.hex(text) == expected
    assert regular.hex(text) == expected          # the second time from the filled table
    assert regular.used == set(text)
    assert regular.hex("杭AB") == "".join(f"{cmap.get(ord(ch), 0):04X}" for ch in "杭AB")
    assert regular.used == set(text) | {"A", "B"}
    assert {ch for ch in text if cmap.get(ord(ch), 0) == 0} <= regular.no_glyph
    assert "杭" not in regular.no_glyph


def _one_by_one(op: tuple, bank: GlyphBank, fs: list) -> str:
    """ZPL text the plain way: a pen advanced char by char, one f-string per visible glyph."""
    _, x, y, size, fi, s = op
    base = round((y + ASCENT * size) / DOT)
    px = round(size / DOT)
    pen = x / DOT + 0.5
    out = []
    for ch in s:
        g = bank.glyph(ch, px, fi)
        if g is not None:
            out.append(f"^FO{int(pen) + g[0]},{base + g[1]}{g[2]}")
        pen += fs[fi].widths(ch)[0] * (size / 1000 / DOT)
    return "".join(out)


@pytest.mark.parametrize("x", [0.0, 3.7, 180.25, 1100.0, 2000.0, 2800.0])
def test_zpl_text_composed_in_c_passes_matches_char_by_char(x: float) -> None:
    """`_text`'s mapped passes (and, past the table's width, its fallback) give the plain loop's
    fields: blanks draw nothing, every glyph sits at its own pen."""
    fs = fonts()
    bank = GlyphBank([f.metrics for f in fs])
    for s in ["浙江省 杭州市 西湖区 幸福路5号", "13900000005", "  王小红 ", "WWW iii 一二三", "A"]:
        for fi, size in ((0, 9.0), (1, 14.5)):
            op = ("T", x, 40.0, size, fi, s)
            assert _text(op, bank, fs) == _one_by_one(op, bank, fs), (x, s, fi)
