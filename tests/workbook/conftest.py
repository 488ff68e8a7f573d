"""Workbook-seam tests: the file patcher and the live book (xlwings' remote engine) side by side."""

from __future__ import annotations

import os

# xlwings' key for non-commercial use; covers this project's test suite. Set before xlwings loads.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
