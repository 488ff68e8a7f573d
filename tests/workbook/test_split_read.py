"""A big sheet read in parts side by side gives exactly the cells of the sheet read whole — or is read whole."""

from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from pddbatch.workbook import split_read
from pddbatch.workbook.headers import alias_table
from pddbatch.workbook.read import read_table
from pddbatch.workbook.split_read import read_split
from tests.support import generator, sample_rows, soffice_convert

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _whole(path: Path, sheet: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)  # type: ignore[no-any-return]


def _split(path: Path, sheet: str, parts: int) -> list[list[object]] | None:
    with zipfile.ZipFile(path) as zf:
        part = next(n for n in zf.namelist() if n.startswith("xl/worksheets/sheet1"))
        return read_split(zf, part, sheet, parts)


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same 3,000 orders as the generator writes them (inline strings), and saved again by openpyxl
    and by LibreOffice (shared strings, their own row and cell attributes)."""
    folder = tmp_path_factory.mktemp("split")
    ours = folder / "ours.xlsx"
    generator.write_xlsx(sample_rows(3000, faults=True), ours)
    wb = openpyxl.load_workbook(ours)
    by_openpyxl = folder / "openpyxl.xlsx"
    wb.save(by_openpyxl)
    lo = folder / "lo"
    lo.mkdir()
    return {"generator": ours, "openpyxl": by_openpyxl, "libreoffice": soffice_convert(ours, lo, "xlsx")}


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else set()


@pytest.mark.parametrize("producer", ["generator", "openpyxl", "libreoffice"])
@pytest.mark.parametrize("parts", [2, 3, 4])
@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "in-memory"])
def test_an_export_read_in_parts_has_every_cell_the_whole_read_has(exports: dict[str, Path], producer: str,
                                                                  parts: int, memfd: bool,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each part's package in a memfd (Linux) or in memory (elsewhere): the same cells either way, the
    threads gone and no file descriptor left open."""
    if memfd and not split_read.MEMFD:
        pytest.skip("no memfd on this system")
    monkeypatch.setattr(split_read, "MEMFD", memfd)
    monkeypatch.setattr(split_read, "SHARED_STRINGS_SHARE", 10.0)     # (LibreOffice's strings: cut all the same)
    path = exports[producer]
    whole = _whole(path, "订单列表")
    fds = _open_fds()
    split = _split(path, "订单列表", parts)
    assert split is not None
    assert len(split) == len(whole) == 3001
    assert split == whole
    assert threading.active_count() == 1        # the reading threads are gone (a fork may follow)
    assert _open_fds() == fds


@pytest.mark.parametrize("first", [0.5, 1.0, 1.17, 3.0])
def test_the_first_part_takes_its_share_and_the_cells_stay_the_same(exports: dict[str, Path], first: float,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The first part (made into rows last, in the calling thread) is cut bigger by FIRST_SHARE."""
    path = exports["generator"]
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    pieces = split_read._cut(xml, 2, first)
    assert pieces is not None
    share = len(pieces[0][1]) / (len(pieces[0][1]) + len(pieces[1][1]))
    assert abs(share - first / (first + 1)) < 0.01
    monkeypatch.setattr(split_read, "FIRST_SHARE", first)
    assert _split(path, "订单列表", 2) == _whole(path, "订单列表")


def _book(path: Path, rows_xml: str, *, prefix: str = "") -> Path:
    """A one-sheet workbook around `rows_xml` (cells as inline strings and numbers)."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{NS}"' if prefix else f'xmlns="{NS}"'
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {xmlns}><{p}dimension ref="A1:E99"/>'
             f"<{p}sheetData>{rows_xml}</{p}sheetData></{p}worksheet>")
    wb = openpyxl.Workbook()
    wb.active.title = "订单列表"
    wb.save(path)
    with zipfile.ZipFile(path) as zin:
        members = {i.filename: zin.read(i) for i in zin.infolist()}
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return path


def _row(r: int | None, cells: dict[str, object]) -> str:
    out = []
    for col, v in cells.items():
        ref = f' r="{col}{r}"' if r is not None else ""
        if isinstance(v, str):
            out.append(f'<c{ref} t="inlineStr"><is><t>{v}</t></is></c>')
        else:
            out.append(f"<c{ref}><v>{v}</v></c>")
    num = f' r="{r}"' if r is not None else ""
    return f"<row{num}>{''.join(out)}</row>"


def test_gaps_an_empty_first_column_and_ragged_rows_come_out_as_the_whole_read(tmp_path: Path) -> None:
    rows = [_row(1, {"B": "订单号", "C": "商品"})]
    rows += [_row(r, {"B": f"sn{r}", "C": r * 1.5} if r % 3 else {"E": "far right"}) for r in range(2, 40) if r % 7]
    rows += [_row(60, {"C": "after a gap"}), _row(61, {})]
    book = _book(tmp_path / "gaps.xlsx", "".join(rows))
    whole = _whole(book, "订单列表")
    for parts in (2, 3, 4):
        assert _split(book, "订单列表", parts) == whole


@pytest.mark.parametrize("case", ["rows without numbers", "rows out of order", "prefixed namespace"])
def test_a_sheet_that_cannot_be_cut_safely_is_left_to_the_whole_read(tmp_path: Path, case: str) -> None:
    if case == "rows without numbers":
        xml, prefix = "".join(_row(None, {"A": f"v{r}", "B": r}) for r in range(1, 30)), ""
    elif case == "rows out of order":
        order = list(range(1, 15)) + [40, 41] + list(range(15, 30))
        xml, prefix = "".join(_row(r, {"A": f"v{r}"}) for r in order), ""
    else:
        xml = "".join(_row(r, {"A": f"v{r}"}) for r in range(1, 30)).replace("<row", "<x:row").replace(
            "</row>", "</x:row>").replace("<c", "<x:c").replace("</c>", "</x:c>").replace("<v>", "<x:v>").replace(
            "</v>", "</x:v>").replace("<is>", "<x:is>").replace("</is>", "</x:is>").replace("<t>", "<x:t>").replace(
            "</t>", "</x:t>")
        prefix = "x"
    book = _book(tmp_path / "odd.xlsx", xml, prefix=prefix)
    assert _split(book, "订单列表", 2) is None
    assert len(_whole(book, "订单列表")) >= 29          # (the whole read still reads it)


def test_read_table_reads_a_big_sheet_in_parts_and_gets_the_same_table(exports: dict[str, Path],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = exports["libreoffice"]
    whole = read_table(path, alias_table().is_header_row)
    used: list[int] = []
    real = split_read.read_split

    def spy(zf: zipfile.ZipFile, part: str, name: str, parts: int) -> list[list[object]] | None:
        used.append(parts)
        return real(zf, part, name, parts)

    monkeypatch.setattr(split_read, "MIN_PART_BYTES", 1 << 10)
    monkeypatch.setattr(split_read, "SHARED_STRINGS_SHARE", 10.0)
    monkeypatch.setattr(split_read, "read_split", spy)
    monkeypatch.setattr(split_read.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    split = read_table(path, alias_table().is_header_row)
    assert used == [2]
    assert (split.sheet, split.header_row, split.headers) == (whole.sheet, whole.header_row, whole.headers)
    assert split.rows == whole.rows and len(split.rows) == 3000


def test_a_sheet_whose_text_sits_in_big_shared_strings_is_read_whole(exports: dict[str, Path]) -> None:
    """Every part would parse LibreOffice's shared strings (as big as the sheet) again: slower than one read."""
    with zipfile.ZipFile(exports["libreoffice"]) as zf:
        shared = zf.getinfo("xl/sharedStrings.xml").file_size
        assert shared > split_read.SHARED_STRINGS_SHARE * zf.getinfo("xl/worksheets/sheet1.xml").file_size
    assert _split(exports["libreoffice"], "订单列表", 2) is None
    assert _split(exports["generator"], "订单列表", 2) is not None       # inline strings: cut
