"""ConvCRF refinement and the windowed neighbourhood op it shares with the filling module."""
