"""Pseudo ground truth from PRMs and proposals: matching score, top-k, overlap filter."""
