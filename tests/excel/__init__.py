"""Test package (helpers import as `tests.excel`)."""
