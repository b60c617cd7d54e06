"""Datasets: the synthetic benchmark generator and readers for the VOC2012 / SBD file formats."""
