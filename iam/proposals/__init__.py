"""Segment proposals: MCG/COB ingestion, the built-in generator, HDF5 storage."""
