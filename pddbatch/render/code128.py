"""Code 128 (sets B and C) for waybill numbers: the fewest symbols, as bar/space module widths."""

from __future__ import annotations

from functools import lru_cache
from operator import mul

from pddbatch.errors import PddBatchError

# Bar/space widths of symbol values 0..106 (106 = stop, 7 elements, 13 modules).
_PATTERNS = ["212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141", "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112"]
START_B, START_C, CODE_B, CODE_C, STOP = 104, 105, 100, 99, 106
_PAIRS = {f"{v:02d}": v for v in range(100)}     # set C: two digits -> one symbol value
QUIET_MODULES = 10


class BarcodeError(PddBatchError):
    """A waybill number can't be drawn as Code 128 (empty or non-printable characters)."""


def symbols(data: str) -> list[int]:
    """Symbol values for `data` including start, check and stop; fewest symbols (B/C only)."""
    if not data or not (data.isascii() and data.isprintable()):    # (ASCII printable: 32..126)
        raise BarcodeError(f"快递单号“{data}”无法生成条码（只能含可打印 ASCII 字符）",
                           f"Tracking number '{data}' can't be a Code 128 barcode (printable ASCII only)")
    n = len(data)
    if n % 2 == 0 and data.isdigit():    # most waybill numbers: set C throughout
        pairs = [_PAIRS[data[i:i + 2]] for i in range(0, n, 2)]
        return [START_C, *pairs, (START_C + sum(map(mul, range(1, len(pairs) + 1), pairs))) % 103, STOP]
    start, steps = _steps(data.translate(_SHAPE))
    out = [start]
    for switch, pos in steps:
        if switch:
            out.append(switch)
        elif pos >= 0:
            out.append(_PAIRS[data[pos:pos + 2]])       # a digit pair in set C
        else:
            out.append(ord(data[~pos]) - 32)            # one char in set B
    out += [(start + sum(map(mul, range(1, len(out)), out[1:]))) % 103, STOP]
    return out


_SHAPE = {ord(c): ("1" if c.isdigit() else "a") for c in map(chr, range(32, 127))}


@lru_cache(maxsize=1024)
def _steps(shape: str) -> tuple[int, tuple[tuple[int, int], ...]]:
    """How to encode any text of this shape ("1" a digit, "a" anything else) in the fewest symbols:
    the choices depend only on where the digit pairs are, so a carrier's numbers share one plan
    (SF's letters + digits, odd-length digit runs). (start symbol, steps): a step is (switch symbol,
    0), or (0, i) for the digit pair at i in set C, or (0, ~i) for the char at i in set B."""
    n = len(shape)
    inf = 1 << 30
    # cost[i][s]: fewest symbols to encode shape[i:] when currently in set s (0 = B, 1 = C).
    cost = [[0, 0] for _ in range(n + 1)]
    step: list[list[tuple[int, int]]] = [[(0, 0), (0, 0)] for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        pair_ok = i + 1 < n and shape[i] == "1" and shape[i + 1] == "1"
        stay_b = 1 + cost[i + 1][0]
        stay_c = 1 + cost[i + 2][1] if pair_ok else inf
        # in B: stay, or switch to C (1 symbol) then encode a pair
        if stay_b <= 1 + stay_c:
            cost[i][0], step[i][0] = stay_b, (0, 1)
        else:
            cost[i][0], step[i][0] = 1 + stay_c, (1, 2)
        if stay_c <= 1 + stay_b:
            cost[i][1], step[i][1] = stay_c, (1, 2)
        else:
            cost[i][1], step[i][1] = 1 + stay_b, (0, 1)
    cur = 0 if cost[0][0] <= cost[0][1] else 1
    steps: list[tuple[int, int]] = []
    i = 0
    while i < n:
        nxt, width = step[i][cur]
        if nxt != cur:
            steps.append((CODE_C if nxt == 1 else CODE_B, 0))
            cur = nxt
        steps.append((0, i) if cur == 1 else (0, ~i))
        i += width
    return (START_C if cost[0][0] > cost[0][1] else START_B), tuple(steps)


def _symbol_bars(pattern: str) -> tuple[tuple[tuple[int, int], ...], int]:
    """A symbol's bars as (offset, width) from its left edge, and its width in modules."""
    out, pos = [], 0
    for k, ch in enumerate(pattern):
        w = ord(ch) - 48
        if k % 2 == 0:
            out.append((pos, w))
        pos += w
    return tuple(out), pos


_SYMBOL_BARS = [_symbol_bars(p) for p in _PATTERNS]


_PLACED: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}


def _placed(k: int, sym: int) -> tuple[tuple[int, int], ...]:
    """The bars of symbol `sym` as the k-th symbol: every symbol but the last (stop) is 11 modules wide,
    so the k-th starts at module 10 + 11k whatever came before it."""
    rel, _width = _SYMBOL_BARS[sym]
    start = QUIET_MODULES + 11 * k
    _PLACED[(k, sym)] = placed = tuple((start + off, w) for off, w in rel)
    return placed


def bars(data: str) -> list[tuple[int, int]]:
    """(start module, width in modules) of each bar, after a left quiet zone of 10 modules."""
    out: list[tuple[int, int]] = []
    get = _PLACED.get
    for k, sym in enumerate(symbols(data)):
        out += get((k, sym)) or _placed(k, sym)
    return out
