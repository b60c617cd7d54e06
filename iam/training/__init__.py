"""Training loops (backbone, filler) and their shared checkpointing."""
