"""Weakly supervised instance segmentation with Instance Activation Maps (Zhu et al., CVPR 2019)."""

__version__ = "0.1.0"
