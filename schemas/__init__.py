"""JSON Schemas and alias tables (data, shipped with the package)."""
