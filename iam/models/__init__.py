"""Networks: the peak-stimulated classification backbone and the instance extent filling module."""
