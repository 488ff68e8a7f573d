"""Label and document layouts (data, shipped with the package)."""
