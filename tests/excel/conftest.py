"""Excel tests run xlwings' remote engine (the Book API without Excel) under xlwings' noncommercial key."""

from __future__ import annotations

import os

# xlwings' key for non-commercial use; covers this project's test suite. Set before xlwings loads.
os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
