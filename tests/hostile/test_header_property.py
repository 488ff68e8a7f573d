"""Property tests for header mapping: permutations and spelling variants map the same; unknowns never map."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from pddbatch.workbook.headers import alias_table, map_headers, norm_header

TABLE = alias_table()
KNOWN = sorted({h for spec in TABLE.raw["fields"].values() for h in spec["headers"]})
CANONICAL = [TABLE.display[f] for f in TABLE.lookup.values()]
REQUIRED = [TABLE.display[f] for f in TABLE.required]
SPACES = st.sampled_from([" ", "\u3000", "\t", "\n", "\u00a0", ""])


def fullwidth(text: str) -> str:
    """ASCII -> full-width forms (what a Chinese IME types): NFKC folds them back."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def spelled(draw: st.DrawFn, header: str) -> str:
    text = fullwidth(header) if draw(st.booleans()) else header
    chars = list(text)
    if chars and draw(st.booleans()):
        at = draw(st.integers(0, len(chars)))
        chars.insert(at, draw(SPACES))
    return draw(SPACES) + "".join(chars) + draw(SPACES)


@settings(max_examples=150, deadline=None)
@given(st.permutations(sorted(set(CANONICAL))), st.data())
def test_any_order_and_spelling_maps_the_same(order: list[str], data: st.DataObject) -> None:
    plain = map_headers(order, TABLE, "s", 1)
    variants = [data.draw(spelled(h)) for h in order]
    mapped = map_headers(variants, TABLE, "s", 1)
    assert {f: order[c - 1] for f, c in plain.cols.items()} == {f: order[c - 1] for f, c in mapped.cols.items()}
    assert not mapped.unknown


NON_HEADERS = st.text(min_size=1, max_size=12).filter(
    lambda t: norm_header(t) not in TABLE.lookup and norm_header(t) != "")


@settings(max_examples=200, deadline=None)
@given(st.lists(NON_HEADERS, max_size=6), st.permutations(REQUIRED))
def test_unknown_headers_never_map(extra: list[str], required: list[str]) -> None:
    headers = required + extra
    cmap = map_headers(headers, TABLE, "s", 1)
    assert set(cmap.cols) == set(TABLE.required) | {TABLE.lookup[norm_header(h)] for h in required}
    assert all(cmap.cols[f] <= len(required) for f in cmap.cols)
    assert len(cmap.unknown) == len([h for h in extra if h.strip()])


def test_fullwidth_helper_is_what_nfkc_undoes() -> None:
    assert unicodedata.normalize("NFKC", fullwidth("商品数量(件)")) == "商品数量(件)"
    assert KNOWN
