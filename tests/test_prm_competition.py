"""PRM competition before the filler (``inference.prm_competition``): each pixel's response stays with
the peaks that hold enough of it, and inference fills the cut PRMs."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from iam.data.maps import Competition, compete, kept_mass
from iam.inference import InferenceParams, infer_image
from iam.models.filling import FillingModule
from iam.proposal_snap import SnapParams, competing_iams
from test_filler_training import SIZE, TinyBackbone


def blobs(centres: list[tuple[int, int]], sigma: float = 6.0, size: int = 32) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return np.stack([np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * sigma**2)) for y, x in centres]).astype(np.float32)


def test_each_pixel_goes_to_its_strongest_peak():
    prms = blobs([(16, 8), (16, 24)])
    prms[1] *= 5  # the scale of a PRM does not matter: they compete as distributions
    cut = compete(prms, 1.0)
    assert (cut[0][:, :16] == prms[0][:, :16]).all() and not cut[0][:, 17:].any()
    assert (cut[1][:, 16:] == prms[1][:, 16:]).all() and not cut[1][:, :16].any()


def test_share_zero_lonely_and_emptied_prms_stay_whole():
    prms = blobs([(16, 8), (16, 24)])
    assert compete(prms, 0.0) is prms
    assert (compete(prms[:1], 1.0) == prms[:1]).all()
    inside = prms.copy()
    inside[0] = 0
    inside[0, 16, 20] = 1e-6  # everywhere weaker than the other PRM: a cut would empty it
    assert (compete(inside, 1.0)[0] == inside[0]).all()


def test_a_lower_share_keeps_the_contested_band():
    prms = blobs([(16, 12), (16, 20)])
    whole, half = compete(prms, 1.0), compete(prms, 0.5)
    assert (half[0] > 0).sum() > (whole[0] > 0).sum()
    assert ((half[0] > 0) | ~(whole[0] > 0)).all()  # the lower share keeps a superset


def test_duplicates_of_one_class_are_spared():
    twins = blobs([(16, 12), (16, 13), (16, 24)])  # 0 and 1: two peaks on one instance
    classes = np.array([0, 0, 0])
    cosine = float((twins[0] * twins[1]).sum() / np.linalg.norm(twins[0]) / np.linalg.norm(twins[1]))
    assert 0.9 < cosine < 1
    split = compete(twins, 1.0, classes, duplicate_cosine=1.0)
    assert not split[0][16, 15] and split[1][16, 15] > 0  # without sparing, the twins split the instance
    spared = compete(twins, 1.0, classes, duplicate_cosine=0.9)
    assert spared[0][16, 15] > 0 and spared[1][16, 11] > 0  # each keeps the other's side
    assert not spared[0][16, 24] and not spared[1][16, 24]  # both still lose the third peak's ground
    other_class = compete(twins, 1.0, np.array([0, 1, 0]), duplicate_cosine=0.9)
    assert not other_class[0][16, 15]  # alike maps of other classes still compete
    only_across = compete(twins, 1.0, np.array([0, 0, 1]), duplicate_cosine=-1.0)
    assert (only_across[0][:, :18] == twins[0][:, :18]).all() and not only_across[0][16, 24]


def two_peaks() -> tuple[FillingModule, np.ndarray, np.ndarray, np.ndarray]:
    """A random filler, a grey image, two neighbouring blob PRMs of two classes and their peaks."""
    torch.manual_seed(0)
    filler = FillingModule({"res2": 6, "res3": 8, "res4": 10}, channels=4, pyramid_channels=8).eval()
    image = np.full((SIZE, SIZE, 3), 128, np.uint8)
    prms = blobs([(SIZE // 2, SIZE // 3), (SIZE // 2, 2 * SIZE // 3)], size=SIZE)
    peaks = np.array([[0, SIZE // 2, SIZE // 3], [1, SIZE // 2, 2 * SIZE // 3]])
    return filler, image, prms, peaks


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_inference_fills_the_competed_prms(share):
    filler, image, prms, peaks = two_peaks()
    plain = InferenceParams(mask_threshold=0.5, threshold_mode="relative", crf=None)

    def iams(maps: np.ndarray, params: InferenceParams) -> np.ndarray:
        cpu = torch.device("cpu")
        return infer_image(image, peaks, np.ones(2), maps, TinyBackbone(), filler, SIZE, params, cpu).iams

    competing = iams(prms, replace(plain, competition=Competition(share)))
    np.testing.assert_array_equal(competing, iams(compete(prms, share), plain))
    assert np.array_equal(competing, iams(prms, plain)) == (share == 0)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_snapping_fills_the_competed_prms(share):
    filler, image, prms, peaks = two_peaks()
    cpu = torch.device("cpu")

    def iams(maps: np.ndarray, competition: float) -> np.ndarray:
        params = SnapParams(competition=Competition(competition), kept_score=True)
        live, out, kept = competing_iams(image, peaks, maps, TinyBackbone(), filler, SIZE, params, cpu)
        assert live.all()
        np.testing.assert_allclose(kept, kept_mass(maps, compete(maps, competition)))
        return out

    competing = iams(prms, share)
    np.testing.assert_array_equal(competing, iams(compete(prms, share), 0.0))
    assert np.array_equal(competing, iams(prms, 0.0)) == (share == 0)
    assert SnapParams.from_config(
        {"snap_threshold": 0.5, "nms_iou": 0.4, "prm_competition": share, "duplicate_cosine": 0.9, "kept_score": True}
    ) == SnapParams(0.5, 0.4, Competition(share, 0.9), True)


def test_kept_mass_is_the_share_of_positive_mass_left():
    whole = np.stack([np.full((4, 4), 2.0), np.zeros((4, 4)), np.full((4, 4), -1.0)])
    cut = whole.copy()
    cut[0, :1] = 0  # a quarter of the first map's mass goes
    np.testing.assert_allclose(kept_mass(whole, cut), [0.75, 1.0, 1.0])


def test_kept_score_scales_each_instance_by_its_prms_kept_share():
    filler, image, prms, peaks = two_peaks()
    prms[0] += 0.5 * prms[1]  # the first peak's response spills onto the second's ground, which it loses
    competing = InferenceParams(mask_threshold=0.5, threshold_mode="relative", crf=None, competition=Competition(1.0))

    def instances(params: InferenceParams) -> dict[int, float]:
        res = infer_image(image, peaks, np.ones(2), prms, TinyBackbone(), filler, SIZE, params, torch.device("cpu"))
        return dict(zip(res.raw_source.tolist(), res.without_crf.scores.tolist()))

    plain, scaled = instances(competing), instances(replace(competing, kept_score=True))
    kept = kept_mass(prms, compete(prms, 1.0))
    assert kept[0] < 0.9 and plain.keys() == scaled.keys() and len(plain) == 2
    for source, score in plain.items():
        assert np.isclose(scaled[source], score * kept[source], rtol=1e-5)
