"""ZPL II labels for 203 dpi thermal printers: they carry their own glyphs and print like the PDF."""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from pddbatch.render import render_labels
from pddbatch.render.labels import render_label_files
from pddbatch.render.labels_zpl import KERNEL_COPY, copy_range
from pddbatch.render.settings import RenderSettings
from pddbatch.render.zpl_glyphs import hex_rows, zpl_hex
from tests.render.render_factory import NUMBERS, make_parcel, make_receiver

TOOL = Path(__file__).parent.parent / "tools" / "zpl-render"
needs_poppler = pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                                   reason="poppler-utils and zbar-tools are needed")
needs_renderer = pytest.mark.skipif(
    not (shutil.which("node") and (TOOL / "node_modules" / "zpl-renderer-js").is_dir()),
    reason="independent ZPL renderer not installed: npm install --prefix tests/tools/zpl-render")
DOWNLOAD = re.compile(r"~DGR:([0-9A-Z]{1,8})\.GRF,(\d+),(\d+),([^\n~^]*)\n")


def test_zpl_content(settings: RenderSettings, tmp_path: Path) -> None:
    ps = [make_parcel(0, code="ZTO"), make_parcel(1, code="YTO", receiver=make_receiver(1, name="王^五~_"))]
    path = tmp_path / "labels.zpl"
    n, _ = render_labels(ps, path, replace(settings, mask_phone=True))
    job = path.read_text(encoding="ascii")
    labels = [ln for ln in job.split("\n") if ln.startswith("^XA")]
    assert n == len(labels) == 2 and job.count("^XA") == 2
    for lab, p in zip(labels, ps, strict=True):
        assert lab.startswith("^XA^PW608^LL1040") and lab.endswith("^XZ")
        assert re.search(rf"\^BY[23]\^BCN,\d+,N,N,N,A\^FH\^FD{p.tracking_no}\^FS", lab)
        assert "^A@" not in lab and ".FNT" not in lab and "^A" not in lab   # no printer font at all
    # every glyph recalled is downloaded earlier in the job, exactly once
    names = DOWNLOAD.findall(job)
    assert len({n for n, *_ in names}) == len(names) > 50
    first_use = {m.group(1): m.start() for m in reversed(list(re.finditer(r"\^XGR:([0-9A-Z]{1,8})\.GRF", job)))}
    downloaded = {m.group(1): m.start() for m in DOWNLOAD.finditer(job)}
    assert set(first_use) == set(downloaded)
    assert all(downloaded[k] < first_use[k] for k in first_use)
    # the second label reuses the first one's glyphs: far fewer downloads before it
    before_second = job.index(labels[1])
    assert job[job.index(labels[0]) + len(labels[0]):before_second].count("~DG") < len(names) / 2


def test_zpl_100x180_and_dashed_tear_line(settings: RenderSettings, tmp_path: Path) -> None:
    path = tmp_path / "l.zpl"
    render_labels([make_parcel(0)], path, replace(settings, label_size="100x180"))
    lab = path.read_text(encoding="ascii")
    assert "^PW800^LL1440" in lab and lab.count("^BC") == 2
    assert len(re.findall(r"\^GB\d+,\d,\d\^FS", lab)) > 20      # the tear line as dashes


def test_compressed_hex_round_trips() -> None:
    rows = [bytes([0, 0, 0xF0]), bytes([0, 0, 0xF0]), bytes(3), bytes([0xFF] * 3), bytes([0x0F, 0, 0])]
    data = b"".join(rows)
    text = zpl_hex(data, 3)
    assert ":" in text and "," in text
    assert hex_rows(text, len(data), 3) == data
    big = bytes([0xAA] * 300)
    assert hex_rows(zpl_hex(big, 300), 300, 300) == big and len(zpl_hex(big, 300)) < 10


def zpl_bitmap(job: str, width: int, height: int) -> list[Image.Image]:
    """Our own decoding of a job: the ~DG glyph graphics placed where ^XG recalls them, ^GB boxes drawn.

    Barcodes (^BC) are left out: the printer draws them, and zbarimg reads them from the renderer test.
    """
    glyphs: dict[str, Image.Image] = {}
    for name, total, row_bytes, data in DOWNLOAD.findall(job):
        raw = hex_rows(data, int(total), int(row_bytes))
        h = int(total) // int(row_bytes)
        glyphs[name] = Image.frombytes("1", (int(row_bytes) * 8, h), raw)
    pages = []
    for lab in re.findall(r"\^XA.*?\^XZ", job):
        im = Image.new("1", (width, height), 0)
        draw = ImageDraw.Draw(im)
        for x, y, name in re.findall(r"\^FO(-?\d+),(-?\d+)\^XGR:([0-9A-Z]{1,8})\.GRF,1,1\^FS", lab):
            g = glyphs[name]
            im.paste(1, (int(x), int(y)), g)
        for x, y, w, h in re.findall(r"\^FO(\d+),(\d+)\^GB(\d+),(\d+),\d+\^FS", lab):
            draw.rectangle([int(x), int(y), int(x) + int(w) - 1, int(y) + int(h) - 1], fill=1)
        pages.append(im)
    return pages


def ink(png: Path, size: tuple[int, int] | None = None) -> Image.Image:
    """Black dots of a rendering as a 1-bit image (padded to `size`: pdftoppm rounds 1038.98 dots down)."""
    im = Image.open(png).convert("L").point(lambda v: 255 if v < 128 else 0, "1")
    if size is not None and im.size != size:
        canvas = Image.new("1", size, 0)
        canvas.paste(im, (0, 0))
        im = canvas
    return im


def agreement(a: Image.Image, b: Image.Image, mask: Image.Image | None = None) -> float:
    """Share of the ink in `a` that lies within one dot of ink in `b` (inside `mask` when given)."""
    near_b = b.convert("L").filter(ImageFilter.MaxFilter(3)).convert("1")
    if mask is not None:
        a = ImageChops.logical_and(a, mask)
    hit = ImageChops.logical_and(a, near_b)
    total = a.histogram()[-1]
    return hit.histogram()[-1] / total if total else 1.0


def text_mask(size: tuple[int, int], barcodes: list[tuple[int, int, int, int]]) -> Image.Image:
    m = Image.new("1", size, 1)
    for box in barcodes:
        ImageDraw.Draw(m).rectangle(box, fill=0)
    return m


def barcode_boxes(job_label: str) -> list[tuple[int, int, int, int]]:
    return [(0, int(y) - 2, 10_000, int(y) + int(h) + 2)
            for y, h in re.findall(r"\^FO\d+,(\d+)\^BY\d\^BCN,(\d+)", job_label)]


@needs_poppler
@pytest.mark.parametrize(("size", "w", "h"), [("76x130", 608, 1040), ("100x180", 800, 1440)])
def test_zpl_glyphs_match_the_pdf_rendering(size: str, w: int, h: int, settings: RenderSettings,
                                            tmp_path: Path) -> None:
    ps = [make_parcel(0, receiver=make_receiver(0, name="张三【1234】", phone="13812345678-1234")),
          make_parcel(1, code="SF", receiver=make_receiver(1, province="新疆维吾尔自治区", city="乌鲁木齐市"))]
    s = replace(settings, label_size=size)
    render_labels(ps, tmp_path / "l.pdf", s)
    render_labels(ps, tmp_path / "l.zpl", s)
    subprocess.run(["pdftoppm", "-r", "203", "-gray", "-png", str(tmp_path / "l.pdf"), str(tmp_path / "pdf")],
                   check=True)
    job = (tmp_path / "l.zpl").read_text(encoding="ascii")
    labels = re.findall(r"\^XA.*?\^XZ", job)
    for k, zimg in enumerate(zpl_bitmap(job, w, h)):
        pimg = ink(tmp_path / f"pdf-{k + 1}.png", (w, h))
        mask = text_mask((w, h), barcode_boxes(labels[k]))
        assert agreement(zimg, pimg, mask) > 0.97       # every ZPL dot is where the PDF has ink...
        assert agreement(pimg, zimg, mask) > 0.95       # ...and the PDF's text is all there


@needs_renderer
@needs_poppler
def test_independent_renderer_prints_text_and_scannable_barcodes(settings: RenderSettings, tmp_path: Path) -> None:
    ps = [make_parcel(i, code=code, receiver=make_receiver(i, name=f"欧阳{i}【1234】"))
          for i, code in enumerate(NUMBERS)]
    render_labels(ps, tmp_path / "l.zpl", settings)
    render_labels(ps, tmp_path / "l.pdf", settings)
    out = subprocess.run(["node", str(TOOL / "render.cjs"), str(tmp_path / "l.zpl"), str(tmp_path / "z"), "76", "130"],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    assert out.strip().splitlines()[-1] == str(len(ps))
    subprocess.run(["pdftoppm", "-r", "203", "-gray", "-png", str(tmp_path / "l.pdf"), str(tmp_path / "pdf")],
                   check=True)
    job = (tmp_path / "l.zpl").read_text(encoding="ascii")
    labels = re.findall(r"\^XA.*?\^XZ", job)
    for k, p in enumerate(ps, 1):
        png = tmp_path / f"z-{k:03d}.png"
        res = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
        assert res.stdout.split() == [p.tracking_no]
        zimg = ink(png)
        pimg = ink(tmp_path / f"pdf-{k}.png", zimg.size)
        mask = text_mask(zimg.size, barcode_boxes(labels[k - 1]))
        assert agreement(zimg, pimg, mask) > 0.95 and agreement(pimg, zimg, mask) > 0.95


def test_pdf_and_zpl_drawn_together_in_workers_match_each_drawn_alone(settings: RenderSettings,
                                                                      tmp_path: Path) -> None:
    """`process` draws each label once for both files, in worker processes that each make their own
    glyph graphics. The files are byte for byte what one process drawing one file at a time writes:
    every graphic downloaded once, just before the first label in the whole file that uses it —
    also when that label is in a later run of one worker and an earlier run of the other."""
    n = 5200     # runs 0-2499, 2500-4999, 5000-5199 over two workers
    rare = {10: "龘", 2600: "龘", 5100: "龘", 4000: "鼎", 5150: "鼎", 2400: "〇"}
    ps = [make_parcel(i, tracking_no=f"73{i:012d}",
                      receiver=make_receiver(i, name=f"王{rare.get(i, '')}{i % 7}")) for i in range(n)]
    together = replace(settings, workers=2)
    count, _ = render_label_files(ps, together, pdf=tmp_path / "t.pdf", zpl=tmp_path / "t.zpl")
    assert count == n
    alone = replace(settings, workers=1)
    render_label_files(ps, alone, zpl=tmp_path / "a.zpl")
    render_label_files(ps, alone, pdf=tmp_path / "a.pdf")
    job = (tmp_path / "t.zpl").read_text(encoding="ascii")
    assert job == (tmp_path / "a.zpl").read_text(encoding="ascii")
    assert (tmp_path / "t.pdf").read_bytes() == (tmp_path / "a.pdf").read_bytes()
    labels = [ln for ln in job.split("\n") if ln.startswith("^XA")]
    assert [re.search(r"\^FD(\d+)\^FS", lab).group(1) for lab in labels] == [p.tracking_no for p in ps]  # type: ignore[union-attr]
    names = [m.group(1) for m in DOWNLOAD.finditer(job)]
    assert len(names) == len(set(names))
    first_use = {m.group(1): m.start() for m in reversed(list(re.finditer(r"\^XGR:([0-9A-Z]{1,8})\.GRF", job)))}
    downloaded = {m.group(1): m.start() for m in DOWNLOAD.finditer(job)}
    assert set(first_use) == set(downloaded)
    assert all(downloaded[k] < first_use[k] for k in first_use)
    for ch, first in (("龘", 10), ("鼎", 4000), ("〇", 2400)):   # sent right before its first label
        start = job.index(labels[first])
        prev_end = job.index(labels[first - 1]) + len(labels[first - 1])
        sent = [at for name, at in downloaded.items() if name.endswith(_b36(ord(ch)))]
        assert sent and all(prev_end <= at < start for at in sent), (ch, sent, prev_end, start)

def _b36(n: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    for _ in range(4):
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out


@pytest.mark.parametrize("kernel", [True, False] if KERNEL_COPY else [False])
def test_copy_range_appends_exactly_the_bytes_asked_for(kernel: bool, tmp_path: Path) -> None:
    src_path, dst_path = tmp_path / "part", tmp_path / "out"
    data = bytes(range(256)) * 5000
    src_path.write_bytes(data)
    with src_path.open("rb") as src, dst_path.open("wb") as dst:
        dst.write(b"head")
        copy_range(src, dst, 1000, 300_000, kernel=kernel)
        dst.write(b"mid")             # the buffered writer goes on after the copied bytes
        copy_range(src, dst, 0, 0, kernel=kernel)
        copy_range(src, dst, len(data) - 10, 10, kernel=kernel)
        with pytest.raises(OSError, match="ended before"):
            copy_range(src, dst, len(data) - 5, 10, kernel=kernel)
    out = dst_path.read_bytes()
    assert out[:4] == b"head" and out[4:300_004] == data[1000:301_000]
    assert out[300_004:300_007] == b"mid" and out[300_007:300_017] == data[-10:]


@pytest.mark.skipif(not KERNEL_COPY, reason="sendfile between files is Linux's")
def test_a_file_system_that_refuses_sendfile_midway_gets_the_rest_read_and_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some mounts (FUSE without splice, network file systems) answer sendfile with EINVAL: the
    copy goes on by read and write from where the kernel stopped. (No such mount here: the refusal
    is injected after the first real sendfile.)"""
    real, calls = os.sendfile, []

    def refusing(out: int, in_fd: int, offset: int | None, count: int) -> int:
        calls.append(count)
        if len(calls) > 1:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(out, in_fd, offset, min(count, 70_000))

    monkeypatch.setattr(os, "sendfile", refusing)
    data = bytes(range(256)) * 4000
    (tmp_path / "part").write_bytes(data)
    with (tmp_path / "part").open("rb") as src, (tmp_path / "out").open("wb") as dst:
        dst.write(b"head")
        copy_range(src, dst, 100, 500_000)
        dst.write(b"tail")
    assert len(calls) == 2
    assert (tmp_path / "out").read_bytes() == b"head" + data[100:500_100] + b"tail"


@pytest.mark.skipif(not KERNEL_COPY, reason="sendfile between files is Linux's")
def test_a_real_io_error_from_sendfile_is_not_hidden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(out: int, in_fd: int, offset: int | None, count: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "sendfile", failing)
    (tmp_path / "part").write_bytes(b"x" * 1000)
    with (tmp_path / "part").open("rb") as src, (tmp_path / "out").open("wb") as dst, \
            pytest.raises(OSError, match="No space"):
        copy_range(src, dst, 0, 1000)


@pytest.mark.parametrize("room", [10_000, 3])
def test_remembered_text_positions_give_the_same_fields(settings: RenderSettings, room: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A text position's glyph line is remembered between labels (`places`); the fields are the ones
    worked out afresh, for left-, right- and centre-aligned text that moves with its width, and when
    the memory is full (room 3) as when it is not."""
    import pddbatch.render.labels_zpl as lz
    from pddbatch.render.labelpage import LabelEngine, static_context
    from pddbatch.render.labels import LabelJob
    from pddbatch.render.zpl_glyphs import GlyphBank

    monkeypatch.setattr(lz, "FRAGMENT_CACHE", room)
    parcels = [make_parcel(i, code="ZTO", receiver=make_receiver(i, name="王" * (1 + i % 4))) for i in range(40)]
    job = LabelJob(parcels, settings, True, True)
    fonts = job.fonts()
    engine = LabelEngine(job.layout(), settings, fonts)
    base = static_context(parcels[0].carrier, settings)
    fresh, kept = GlyphBank([f.metrics for f in fonts]), GlyphBank([f.metrics for f in fonts])
    places: dict[tuple[object, ...], lz.Place] = {}
    xs = set()
    for i, p in enumerate(parcels):
        ops = engine.page_ops(p, base, i + 1, len(parcels) * 37)
        xs |= {op[1] for op in ops if op[0] == "T" and "/" in op[5]}
        assert lz.zpl_ops(ops, kept, fonts, None, places) == lz.zpl_ops(ops, fresh, fonts)
    assert 0 < len(places) <= room
    assert len(xs) >= 2          # (positions do vary: the right-aligned "i/n" moves with its width)
