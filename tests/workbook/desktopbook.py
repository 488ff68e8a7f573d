"""A stand-in for a desktop Excel `xlwings.Book` (COM on Windows, AppleScript on macOS) that counts
round trips: every property read or write and every method call on a book, sheet, range or note is
one call to Excel. Cells, fills and notes are kept in dicts so tests can check what was written.
Excel cannot run here; this stands in for it at the same API surface livebook uses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pddbatch.model import col_number

_AREA = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


class Calls:
    def __init__(self, fail_at: int | None = None, fail_on: str = "") -> None:
        self.n = 0
        self.by_kind: dict[str, int] = {}
        self.fail_at = fail_at
        self.fail_on = fail_on

    def __call__(self, kind: str) -> None:
        self.n += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        if self.fail_at is not None and kind == self.fail_on and self.by_kind[kind] >= self.fail_at:
            raise RuntimeError("(-2147417848, 'The object invoked has disconnected from its clients.')")


class DesktopBook:
    def __init__(self, sheets: dict[str, list[list[Any]]], calls: Calls | None = None,
                 fullname: str = "C:\\\\Users\\\\店主\\\\orders.xlsx") -> None:
        self.calls = calls or Calls()
        self.fullname = fullname
        self.app = App(self.calls)
        self.sheets = Sheets(self)
        for name, values in sheets.items():
            self.sheets.items.append(Sheet(self, name, values))

    def json(self) -> Any:
        raise AttributeError("desktop books have no action queue")


class App:
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self._screen = True
        self.alerts: list[str] = []
        self.screen_log: list[bool] = []

    @property
    def screen_updating(self) -> bool:
        self.calls("app")
        return self._screen

    @screen_updating.setter
    def screen_updating(self, value: bool) -> None:
        self.calls("app")
        self._screen = value
        self.screen_log.append(value)

    def alert(self, text: str, **_kw: Any) -> None:
        self.alerts.append(text)


class Sheets:
    def __init__(self, book: DesktopBook) -> None:
        self.book = book
        self.items: list[Sheet] = []

    def __iter__(self) -> Iterator[Sheet]:
        self.book.calls("sheets")
        return iter(list(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: int | str) -> Sheet:
        self.book.calls("sheets")
        if isinstance(key, int):
            return self.items[key]
        return next(s for s in self.items if s.name == key)

    def add(self, name: str, after: Sheet | None = None) -> Sheet:
        self.book.calls("sheets")
        sh = Sheet(self.book, name, [])
        at = self.items.index(after) + 1 if after is not None else 0
        self.items.insert(at, sh)
        return sh


class Sheet:
    def __init__(self, book: DesktopBook, name: str, values: list[list[Any]]) -> None:
        self.book = book
        self.name = name
        self.cells: dict[tuple[int, int], Any] = {}
        for r, row in enumerate(values, start=1):
            for c, v in enumerate(row, start=1):
                if v is not None and v != "":
                    self.cells[(r, c)] = v
        self.fills: dict[tuple[int, int], tuple[int, int, int]] = {}
        self.formats: dict[tuple[int, int], str] = {}      # number formats; "General" where absent
        self.formats_readable = True      # False: as xlwings Lite, whose synchronous format read raises
        self.note_texts: dict[tuple[int, int], str] = {}
        self._visible = True

    @property
    def visible(self) -> bool:
        self.book.calls("sheet")
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self.book.calls("sheet")
        self._visible = value

    @property
    def used_range(self) -> Range:
        self.book.calls("sheet")
        rows = max((r for r, _ in self.cells), default=1)
        cols = max((c for _, c in self.cells), default=1)
        return Range(self, [((1, 1), (rows, cols))])

    @property
    def notes(self) -> list[Note]:
        self.book.calls("notes")
        return [Note(self, cell) for cell in sorted(self.note_texts)]

    def range(self, a: Any, b: Any = None) -> Range:
        self.book.calls("range")
        if isinstance(a, str):
            areas = []
            for part in a.split(","):
                m = _AREA.match(part.strip())
                assert m is not None, part
                r1, c1 = int(m.group(2)), col_number(m.group(1))
                r2, c2 = (int(m.group(4)), col_number(m.group(3))) if m.group(3) else (r1, c1)
                areas.append(((r1, c1), (r2, c2)))
            assert len(a) <= 255, f"Excel refuses range addresses over 255 characters ({len(a)})"
            return Range(self, areas)
        return Range(self, [(tuple(a), tuple(b) if b is not None else tuple(a))])

    def clear(self) -> None:
        self.book.calls("sheet")
        self.cells.clear()

    def activate(self) -> None:
        self.book.calls("sheet")


class Range:
    def __init__(self, sheet: Sheet, areas: list[Any], ndim: int | None = None) -> None:
        self.sheet = sheet
        self.areas = areas
        self.ndim = ndim

    def _cells(self) -> list[tuple[int, int]]:
        return [(r, c) for (r1, c1), (r2, c2) in self.areas for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

    def options(self, ndim: int | None = None, **_kw: Any) -> Range:
        return Range(self.sheet, self.areas, ndim)

    @property
    def last_cell(self) -> Range:
        (_r1, _c1), (r2, c2) = self.areas[-1]
        return Range(self.sheet, [((r2, c2), (r2, c2))])

    @property
    def row(self) -> int:
        self.sheet.book.calls("range")
        return int(self.areas[0][0][0])

    @property
    def column(self) -> int:
        self.sheet.book.calls("range")
        return int(self.areas[0][0][1])

    @property
    def value(self) -> Any:
        self.sheet.book.calls("value")
        (r1, c1), (r2, c2) = self.areas[0]
        grid = [[self.sheet.cells.get((r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        if self.ndim == 2 or (r2 > r1 and c2 > c1):
            return grid
        if r1 == r2 and c1 == c2:
            return grid[0][0]
        return [row[0] for row in grid] if c1 == c2 else grid[0]

    @value.setter
    def value(self, values: Any) -> None:
        self.sheet.book.calls("value")
        (r1, c1), _ = self.areas[0]
        rows = values if isinstance(values, list) and values and isinstance(values[0], list) else [[values]]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if isinstance(v, str) and v.startswith("'"):
                    v = v[1:]
                if v is None or v == "":
                    self.sheet.cells.pop((r1 + i, c1 + j), None)
                else:
                    self.sheet.cells[(r1 + i, c1 + j)] = v

    @property
    def number_format(self) -> str | None:
        self.sheet.book.calls("format")
        if not self.sheet.formats_readable:
            raise NotImplementedError("Use 'await myrange.get_number_format()' to fetch it on demand.")
        found = {self.sheet.formats.get(cell, "General") for cell in self._cells()}
        return found.pop() if len(found) == 1 else None     # COM: NumberFormat of a mixed range is null

    @property
    def color(self) -> tuple[int, int, int] | None:
        self.sheet.book.calls("color")
        found = {self.sheet.fills.get(cell) for cell in self._cells()}
        if len(found) > 1:      # COM: Interior.Color of a mixed range is null -> xlwings fails converting it
            raise TypeError("'NoneType' object cannot be interpreted as an integer")
        return found.pop()

    @color.setter
    def color(self, value: Any) -> None:
        self.sheet.book.calls("color")
        rgb = None
        if isinstance(value, str):
            h = value.lstrip("#")
            rgb = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
        elif value is not None:
            rgb = tuple(value)
        for cell in self._cells():
            if rgb is None:
                self.sheet.fills.pop(cell, None)
            else:
                self.sheet.fills[cell] = rgb  # type: ignore[assignment]

    def set_colors(self, colors: Any) -> None:     # desktop xlwings: one .color round trip per cell
        (r1, c1), _ = self.areas[0]
        for i, row in enumerate(colors):
            for j, color in enumerate(row):
                if color is not ...:
                    Range(self.sheet, [((r1 + i, c1 + j), (r1 + i, c1 + j))]).color = color

    @property
    def note(self) -> Note | None:
        self.sheet.book.calls("note")
        cell = self._cells()[0]
        return Note(self.sheet, cell) if cell in self.sheet.note_texts else None

    def add_note(self, text: str) -> Note:
        self.sheet.book.calls("note")
        cell = self._cells()[0]
        assert cell not in self.sheet.note_texts, "This cell already has a note"
        self.sheet.note_texts[cell] = text
        return Note(self.sheet, cell)


class Note:
    def __init__(self, sheet: Sheet, cell: tuple[int, int]) -> None:
        self.sheet = sheet
        self.cell = cell

    @property
    def location(self) -> Range:
        self.sheet.book.calls("note")
        return Range(self.sheet, [(self.cell, self.cell)])

    @property
    def text(self) -> str:
        self.sheet.book.calls("note")
        return self.sheet.note_texts[self.cell]

    def delete(self) -> None:
        self.sheet.book.calls("note")
        del self.sheet.note_texts[self.cell]
