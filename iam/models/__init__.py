"""Networks: the peak-stimulated classification backbone, the instance extent filling module and
the windowed neighbourhood op it shares with ConvCRF."""
