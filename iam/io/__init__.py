"""Artifact I/O: atomic writes, HDF5 layouts with provenance attrs, instance sets."""
