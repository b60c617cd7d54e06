"""Fig. 5 rendering: the direction field and the PNG."""

import numpy as np

from iam.report.filling_weights import direction_field, render_filling_weights


def test_direction_field_removes_flat_part_and_points_to_heavy_neighbour():
    w = np.full((2, 9, 4, 4), 1 / 9, np.float32)
    offsets, field = direction_field(w)
    assert np.allclose(field, 0)  # flat: fills evenly from all neighbours
    w[:, 5] += 0.5  # neighbour 5 = (dy, dx) = (0, +1): the right-hand neighbour
    offsets, field = direction_field(w)
    assert tuple(offsets[5]) == (0, 1) and (field.argmax(0) == 5).all()


def test_render_writes_png(tmp_path):
    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(9), size=(3, 8, 8)).transpose(0, 3, 1, 2)
    render_filling_weights(np.zeros((40, 50, 3), np.uint8), w, tmp_path / "fig5.png")
    assert (tmp_path / "fig5.png").read_bytes()[:4] == b"\x89PNG"
