"""xlwings Lite: the 校验 / 处理发货 / 对账 scripts on the open workbook (paste into the xlwings Lite editor).

The same `pddbatch.excel` functions the desktop add-in's ribbon buttons run, called with the book
xlwings Lite injects. In the browser only 校验 can work: processing needs the ledger and number
pools in a local folder, so 处理发货 and 对账 answer with a message box saying so.
"""

import xlwings as xw
from xlwings import script

import pddbatch.excel as px


@script(name="校验")
def validate(book: xw.Book) -> None:
    """校验：检查每一行，问题单元格标红并加批注，明细写入“问题清单”。"""
    px.validate_book(book)


@script(name="处理发货")
def process(book: xw.Book) -> None:
    """处理发货（需要本机配置和台账，网页版会提示改用桌面加载项）。"""
    px.process_book(book)


@script(name="对账")
def reconcile(book: xw.Book) -> None:
    """对账（需要工作簿旁边的售后和退货登记文件，网页版会提示改用桌面加载项）。"""
    px.reconcile_book(book)
