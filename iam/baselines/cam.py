"""CAM -> boxes, the weakly supervised localization baseline of Table 1.

For every class whose peak-stimulated score exceeds ``class_threshold``, its class response map
(ReLU, bilinearly resized to the image, rescaled to max 1) is thresholded at ``cam_threshold``;
each connected component gives a box scored ``sigmoid(class score) * max of the map in it``.
The boxes are filled by :mod:`iam.baselines.boxes`.
"""

from __future__ import annotations

import h5py
import numpy as np
from scipy import ndimage

from iam.data.maps import upsample_cam
from iam.io.prm import read_prm


def cam_boxes(
    crm: np.ndarray,
    class_scores: np.ndarray,
    shape: tuple[int, int],
    cam_threshold: float,
    class_threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(boxes (n, 4), labels (n,), scores (n,))`` from the CRMs of one image."""
    boxes, labels, scores = [], [], []
    for c in np.flatnonzero(class_scores > class_threshold):
        cam = upsample_cam(crm[c], shape)
        components, _ = ndimage.label(cam >= cam_threshold)
        confidence = 1 / (1 + np.exp(-float(class_scores[c])))
        for k, region in enumerate(ndimage.find_objects(components), start=1):
            if region is None:
                continue
            ys, xs = region
            boxes.append([xs.start, ys.start, xs.stop, ys.stop])
            labels.append(int(c))
            scores.append(confidence * float(cam[region][components[region] == k].max()))
    return np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(labels, np.int64), np.asarray(scores, np.float32)


def prm_cam_boxes(
    prm_file: h5py.File,
    image_id: str,
    cam_threshold: float,
    class_threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """CAM boxes of one image of an open ``prm`` artifact, with the image shape."""
    stored = read_prm(prm_file, image_id)
    shape = stored.shape
    return (*cam_boxes(stored.crm, stored.class_scores, shape, cam_threshold, class_threshold), shape)
