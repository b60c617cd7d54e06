"""ConvCRF refinement (its windowed sums are the op of :mod:`iam.models.window`)."""
