"""Write a Compound File (MS-CFB version 3): the container a VBA project (`vbaProject.bin`) lives in.

The add-in builder changes streams' sizes (module sources without their old compiled code, a new
project name), which `olefile` cannot do — it rewrites streams in place at the same size only. The
young CFB writers on PyPI are single-author packages; the format needed here is small: 512-byte
sectors, a 64-byte mini stream for streams under 4096 bytes, one FAT (no DIFAT beyond the header's
109 entries, i.e. files up to ~6.8 MB), and a directory whose siblings form a valid red-black tree.
Reading stays with `olefile`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from pddbatch.errors import PddBatchError

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
STORAGE, STREAM, ROOT = 1, 2, 5


@dataclass
class Entry:
    """A storage (with children) or a stream (with data) in the compound file."""

    name: str
    data: bytes = b""
    children: list[Entry] = field(default_factory=list)
    is_storage: bool = False
    clsid: bytes = b"\x00" * 16


def _sort_key(name: str) -> tuple[int, str]:
    # MS-CFB 2.6.4: shorter names first, then by upper-cased UTF-16 code units
    return len(name), name.upper()


def write_cfb(root_children: list[Entry], root_clsid: bytes = b"\x00" * 16) -> bytes:
    """The bytes of a compound file holding `root_children` under the root storage."""
    root = Entry("Root Entry", children=root_children, is_storage=True, clsid=root_clsid)
    entries: list[Entry] = []
    index: dict[int, int] = {}

    def walk(e: Entry) -> None:
        index[id(e)] = len(entries)
        entries.append(e)
        for c in e.children:
            walk(c)

    walk(root)
    for e in entries:
        if len(e.name) > 31:
            raise PddBatchError(f"名称过长：{e.name}", f"Compound file name too long: {e.name}")

    # mini stream: small streams, 64-byte aligned
    mini = bytearray()
    mini_start: dict[int, int] = {}
    mini_fat: list[int] = []
    for e in entries:
        if not e.is_storage and 0 < len(e.data) < CUTOFF:
            first = len(mini) // MINI
            mini_start[id(e)] = first
            n = -(-len(e.data) // MINI)
            mini += e.data.ljust(n * MINI, b"\x00")
            mini_fat += [first + i + 1 for i in range(n - 1)] + [END]

    # sector plan: mini stream, big streams, directory, mini FAT, then FAT
    chains: list[tuple[int, int]] = []     # (first sector, count) per chain, in file order
    sectors: list[bytes] = []

    def add_chain(data: bytes) -> int:
        if not data:
            return END
        first = len(sectors)
        n = -(-len(data) // SECTOR)
        padded = data.ljust(n * SECTOR, b"\x00")
        sectors.extend(padded[i * SECTOR:(i + 1) * SECTOR] for i in range(n))
        chains.append((first, n))
        return first

    root_start = add_chain(bytes(mini))
    big_start: dict[int, int] = {}
    for e in entries:
        if not e.is_storage and len(e.data) >= CUTOFF:
            big_start[id(e)] = add_chain(e.data)

    dir_bytes = _directory(entries, index, mini_start, big_start, root_start, len(mini))
    dir_start = add_chain(dir_bytes)
    minifat_bytes = b"".join(struct.pack("<I", v) for v in mini_fat)
    minifat_start = add_chain(minifat_bytes) if mini_fat else END
    n_minifat = -(-len(minifat_bytes) // SECTOR)

    n_other = len(sectors)
    n_fat = 1
    while n_fat * (SECTOR // 4) < n_other + n_fat:
        n_fat += 1
    if n_fat > 109:
        raise PddBatchError("VBA 工程过大", "The VBA project is too large for this writer")
    fat = [FREE] * (n_fat * (SECTOR // 4))
    for first, n in chains:
        for i in range(n):
            fat[first + i] = first + i + 1 if i < n - 1 else END
    fat_sectors = list(range(n_other, n_other + n_fat))
    for s in fat_sectors:
        fat[s] = FATSECT
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)

    difat = fat_sectors + [FREE] * (109 - n_fat)
    header = (SIGNATURE + b"\x00" * 16 + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, CUTOFF, minifat_start, n_minifat, END, 0)
              + b"".join(struct.pack("<I", v) for v in difat))
    assert len(header) == SECTOR
    return header + b"".join(sectors) + fat_bytes


def _directory(entries: list[Entry], index: dict[int, int], mini_start: dict[int, int],
               big_start: dict[int, int], root_start: int, mini_size: int) -> bytes:
    n = len(entries)
    left = [NOSTREAM] * n
    right = [NOSTREAM] * n
    child = [NOSTREAM] * n
    red = [False] * n

    for e in entries:
        if not e.is_storage or not e.children:
            continue
        kids = sorted(e.children, key=lambda c: _sort_key(c.name))
        ids = [index[id(c)] for c in kids]
        child[index[id(e)]] = _balanced(ids, left, right, red, 0, _depth(len(ids)))

    out = bytearray()
    for i, e in enumerate(entries):
        name = e.name.encode("utf-16-le") + b"\x00\x00"
        if i == 0:
            kind, start, size = ROOT, root_start if mini_size else END, mini_size
        elif e.is_storage:
            kind, start, size = STORAGE, 0, 0
        else:
            kind = STREAM
            size = len(e.data)
            start = mini_start.get(id(e), big_start.get(id(e), END)) if size else END
        out += (name.ljust(64, b"\x00") + struct.pack("<HBB", len(name), kind, 0 if red[i] else 1)
                + struct.pack("<III", left[i], right[i], child[i]) + e.clsid + b"\x00" * 4 + b"\x00" * 16
                + struct.pack("<IQ", start, size))
    while len(out) % SECTOR:
        out += (b"\x00" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM)
                + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16 + struct.pack("<IQ", 0, 0))
    return bytes(out)


def _depth(n: int) -> int:
    """Depth (levels) of the balanced tree the middle-split below builds for n nodes."""
    return n.bit_length()


def _balanced(ids: list[int], left: list[int], right: list[int], red: list[bool], level: int,
              full_levels: int) -> int:
    """A balanced BST over sorted `ids`; nodes on a last, incomplete level are red (a valid red-black tree)."""
    if not ids:
        return NOSTREAM
    mid = len(ids) // 2
    node = ids[mid]
    left[node] = _balanced(ids[:mid], left, right, red, level + 1, full_levels)
    right[node] = _balanced(ids[mid + 1:], left, right, red, level + 1, full_levels)
    # middle splits fill every level but the deepest; red nodes there keep black heights equal
    red[node] = level > 0 and level == full_levels - 1
    return node
