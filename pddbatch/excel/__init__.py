"""The Excel face: ribbon buttons on the open workbook (xlwings), and the add-in that carries them.

    import xlwings as xw, pddbatch.excel as px
    px.process_book(xw.Book.caller())
"""

from pddbatch.excel.buttons import process_book, reconcile_book, track_book, validate_book

__all__ = ["process_book", "reconcile_book", "track_book", "validate_book"]
