"""Peak Response Maps: peak finding, probabilistic peak backpropagation (Eq. 1), extraction to HDF5."""
