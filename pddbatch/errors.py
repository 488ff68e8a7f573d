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
