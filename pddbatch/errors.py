"""Fatal problems. Bad rows are data (`model.RowIssue`), never exceptions."""

from __future__ import annotations


class PddBatchError(Exception):
    """Base of every fatal error pddbatch raises; its message is seller-facing.

    `message_en` carries the English text when the Chinese one is the default.
    """

    def __init__(self, message: str, message_en: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en or message

    def text(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message


class InputError(PddBatchError):
    """The input file can't be read: wrong type, corrupt, hostile, empty, missing columns."""


class OutOfMemory(InputError):
    """The input is too big for this computer's memory (found before reading it, or by a MemoryError)."""

    def __init__(self, message: str | None = None, message_en: str | None = None) -> None:
        super().__init__(message or "内存不足：这个文件太大，本机处理不了。请把导出分成几份（例如按日期或店铺）"
                         "分别处理；台账里不会留下半分配的单号，重新运行是安全的。",
                         message_en or "Out of memory: this file is too big for this computer. Split the export "
                         "(by date or shop, say) and process the parts one by one; the ledger holds no "
                         "half-allocated number, so running again is safe.")


class ConfigError(PddBatchError):
    """The config file is missing or wrong."""


class LedgerError(PddBatchError):
    """The ledger can't be opened, migrated or is inconsistent."""


class WorkbookBusyError(PddBatchError):
    """The workbook is open in Excel or locked by another pddbatch run."""


class SaveError(PddBatchError):
    """Writing an output failed (disk full, permissions); the original is intact."""


class TemplateError(PddBatchError):
    """A label or document template is broken."""
