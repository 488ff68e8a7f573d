"""pddbatch: from a Pinduoduo order export to labelled, handed-over, shipped parcels."""

__version__ = "0.1.0"
