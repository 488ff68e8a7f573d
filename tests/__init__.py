"""Test package (helpers import as `tests`)."""
