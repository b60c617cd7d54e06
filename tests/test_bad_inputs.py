"""The bad-input catalogue: each case feeds one bad input to the pipeline code that reads it, which
must fail with a message naming the file (or config key, or training step) and the problem, leaving
what was already written intact.

``CASES`` is the catalogue; ``docs/bad-inputs.md`` is generated from it by
``scripts/bad_input_catalogue.py`` (``test_catalogue_is_current`` keeps the two in step).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import importlib.util
import io
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import h5py
import numpy as np
import pytest
import scipy.io
import torch
import torchvision
import yaml
from PIL import Image
from torch import nn

from conftest import copy_workflow, run_snakemake
from iam.baselines.cam import prm_cam_boxes
from iam.cli import main as iam_cli
from iam.config import check_data_tree, validate_config
from iam.data.sbd import read_sbd_instances
from iam.data.voc import read_gt_instances, read_image, read_image_labels, read_split
from iam.device import resolve_device
from iam.errors import ArtifactError, InputError, TrainingError
from iam.io.atomic import atomic_path, write_json
from iam.io.h5 import SCHEMA_VERSION, merge_shards, open_artifact, put, write_artifact
from iam.io.instances import InstanceSet, read_instances, set_classes, write_instances
from iam.models.backbone import PeakBackbone, load_backbone, save_backbone
from iam.proposals.mcg import read_mcg
from iam.proposals.store import read_superpixel_proposals
from iam.report.export import export_predictions
from iam.training.backbone import BackboneConfig, train_backbone
from iam.training.checkpoint import load_latest, save_checkpoint
from iam.training.filler import FillerConfig, load_filler, train
from iam.training.samples import Sample, load_samples

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
CLASSES = ["aeroplane", "person", "tvmonitor"]  # the classes of the fixture images
CPU = torch.device("cpu")


@dataclass(frozen=True)
class Case:
    """One bad input, described by ``bad_input`` (Markdown): ``trigger(workdir)`` builds it under
    ``workdir`` and hands it to the code that reads it, which must raise ``error`` with a message
    matching ``match`` (searched); ``after(workdir)`` then checks what survived (its docstring is the
    catalogue's "afterwards" column)."""

    name: str
    bad_input: str
    trigger: Callable[[Path], object]
    error: type[Exception]
    match: str
    after: Callable[[Path], None] | None = None


def run_case(case: Case, workdir: Path) -> str:
    """Run ``case`` in ``workdir``; its message with ``workdir`` stripped from paths."""
    with pytest.raises(case.error, match=case.match) as raised:
        case.trigger(workdir)
    if case.after is not None:
        case.after(workdir)
    return str(raised.value).replace(f"{workdir}/", "")


# ---- images, splits, annotations, label PNGs (in a copy of the VOC fixture tree), SBD .mat ----


def _voc(d: Path) -> Path:
    shutil.copytree(FIXTURES / "VOC2012", d / "VOC2012")
    return d / "VOC2012"


def corrupt_jpeg(d: Path) -> None:
    voc = _voc(d)
    (voc / "JPEGImages" / "2007_000032.jpg").write_bytes(b"GIF89a not a jpeg")
    read_image(voc, "2007_000032")


def truncated_jpeg(d: Path) -> None:
    voc = _voc(d)
    path = voc / "JPEGImages" / "2008_000002.jpg"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    read_image(voc, "2008_000002")


def listed_id_without_image(d: Path) -> None:
    voc = _voc(d)
    split = voc / "ImageSets" / "Segmentation" / "val.txt"
    split.write_text(split.read_text() + "2009_000001\n")
    for image_id in read_split(voc, "val"):
        read_image(voc, image_id)


def empty_split_file(d: Path) -> None:
    voc = _voc(d)
    (voc / "ImageSets" / "Segmentation" / "val.txt").write_text("\n \n")
    read_split(voc, "val")


def xml_without_objects(d: Path) -> None:
    voc = _voc(d)
    path = voc / "Annotations" / "2008_000002.xml"
    text = path.read_text()
    path.write_text(text[: text.index("<object>")] + text[text.index("</object>") + len("</object>") :])
    read_image_labels(voc, "2008_000002", CLASSES)


def unknown_class_name(d: Path) -> None:
    voc = _voc(d)
    path = voc / "Annotations" / "2008_000002.xml"
    path.write_text(path.read_text().replace("tvmonitor", "television"))
    read_image_labels(voc, "2008_000002", CLASSES)


def palette_png_of_another_size(d: Path) -> None:
    voc = _voc(d)
    path = voc / "SegmentationObject" / "2007_000032.png"
    Image.open(path).transpose(Image.Transpose.TRANSPOSE).save(path)
    read_gt_instances(voc, "2007_000032", CLASSES)


def rgb_label_png(d: Path) -> None:
    voc = _voc(d)
    path = voc / "SegmentationClass" / "2008_000002.png"
    Image.open(path).convert("RGB").save(path)
    read_gt_instances(voc, "2008_000002", CLASSES)


def sbd_mat_without_gtinst(d: Path) -> None:
    (d / "SBD" / "inst").mkdir(parents=True)
    scipy.io.savemat(d / "SBD" / "inst" / "2008_000002.mat", {"GTcls": {"Segmentation": np.zeros((32, 48), np.uint8)}})
    read_sbd_instances(d / "SBD", "2008_000002")


def sbd_gtinst_without_categories(d: Path) -> None:
    (d / "SBD" / "inst").mkdir(parents=True)
    scipy.io.savemat(d / "SBD" / "inst" / "2008_000002.mat", {"GTinst": {"Segmentation": np.zeros((32, 48), np.uint8)}})
    read_sbd_instances(d / "SBD", "2008_000002")


def _v73_dataset(group: h5py.Group, name: str, data: np.ndarray, matlab_class: str) -> h5py.Dataset:
    """A dataset as MATLAB's save -v7.3 writes it (axes reversed by the caller)."""
    dataset = group.create_dataset(name, data=data)
    dataset.attrs["MATLAB_class"] = np.bytes_(matlab_class)
    return dataset


SEGMENTATION = np.pad(np.ones((8, 8), np.uint8), ((4, 20), (4, 36)))  # one instance in a 32 x 48 map


def _read_sbd(d: Path, fields: dict[str, object]) -> None:
    """Read an SBD inst/ file whose GTinst has one instance of class 1, ``fields`` replacing its own
    (3 classes)."""
    (d / "SBD" / "inst").mkdir(parents=True)
    gtinst = {"Segmentation": SEGMENTATION, "Categories": np.array([[1]]), **fields}
    scipy.io.savemat(d / "SBD" / "inst" / "2008_000002.mat", {"GTinst": gtinst})
    read_sbd_instances(d / "SBD", "2008_000002", n_classes=len(CLASSES))


def _sbd_case(name: str, bad_input: str, match: str, **fields: object) -> Case:
    return Case(
        name, bad_input, functools.partial(_read_sbd, fields=fields), InputError, r"SBD/inst/2008_000002\.mat: " + match
    )


def _sbd_file(d: Path, content: bytes | None) -> None:
    """Read an SBD inst/ file holding ``content`` (a v7.3 file when None)."""
    path = d / "SBD" / "inst" / "2008_000002.mat"
    path.parent.mkdir(parents=True)
    if content is None:
        with h5py.File(path, "w", userblock_size=512) as f:
            _v73_dataset(f.create_group("GTinst"), "Segmentation", SEGMENTATION.T, "uint8")
        header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116) + bytes(8) + b"\x00\x02IM"
        content = header + path.read_bytes()[len(header) :]
    path.write_bytes(content)
    read_sbd_instances(d / "SBD", "2008_000002")


# ---- MCG / COB proposal files ----

SUPERPIXELS = np.array([[1, 1, 2], [3, 3, 2]])  # 1-based, 3 superpixels


def _cell(value: object) -> np.ndarray | object:
    """A MATLAB cell's content: a list of numbers becomes a column, anything else (text, a nested
    cell) is written as it is."""
    return np.asarray(value, np.float64).reshape(-1, 1) if isinstance(value, list) else value


def _mcg(d: Path, labels: list, drop: tuple[str, ...] = (), **fields: object) -> Path:
    """An MCG-format .mat of ``SUPERPIXELS`` with one proposal (score 0.5) per label list; ``fields``
    replace the generated ones."""
    cells = np.empty((len(labels), 1), object)
    for j, lab in enumerate(labels):
        cells[j, 0] = _cell(lab)
    fields = {
        "superpixels": SUPERPIXELS.astype(np.uint16),
        "labels": cells,
        "scores": np.full((len(labels), 1), 0.5),
        **fields,
    }
    path = d / "2008_000002.mat"
    scipy.io.savemat(path, {k: v for k, v in fields.items() if k not in drop})
    return path


def _read_mcg(d: Path, labels: list, fields: dict[str, object]) -> None:
    read_mcg(_mcg(d, labels, **fields))


def _mcg_case(name: str, bad_input: str, labels: list, match: str, **fields: object) -> Case:
    return Case(
        name,
        bad_input,
        functools.partial(_read_mcg, labels=labels, fields=fields),
        InputError,
        r"2008_000002\.mat: " + match,
    )


def _mcg_v73(d: Path, cells: list[tuple[np.ndarray, str]]) -> Path:
    """An MCG-format MATLAB v7.3 (HDF5) file of ``SUPERPIXELS`` with one proposal (score 0.5) per
    (values, MATLAB class) cell; without cells, labels and scores are empty as MATLAB writes them."""
    path = d / "2008_000002.mat"
    with h5py.File(path, "w", userblock_size=512) as f:
        _v73_dataset(f, "superpixels", SUPERPIXELS.T.astype(np.uint16), "uint16")
        if not cells:
            for name, matlab_class in (("labels", "cell"), ("scores", "double")):
                _v73_dataset(f, name, np.array([0, 1], np.uint64), matlab_class).attrs["MATLAB_empty"] = np.uint8(1)
            return path
        refs = [
            _v73_dataset(f.require_group("#refs#"), f"r{j}", values[None, :], matlab_class).ref
            for j, (values, matlab_class) in enumerate(cells)
        ]
        _v73_dataset(f, "labels", np.array(refs, dtype=h5py.ref_dtype)[None, :], "cell")
        _v73_dataset(f, "scores", np.full((1, len(cells)), 0.5), "double")
    return path


def _read_mcg_v73(d: Path, cells: list[tuple[np.ndarray, str]]) -> None:
    read_mcg(_mcg_v73(d, cells))


def _mcg_v73_case(name: str, bad_input: str, cells: list[tuple[np.ndarray, str]], match: str) -> Case:
    return Case(
        name, bad_input, functools.partial(_read_mcg_v73, cells=cells), InputError, r"2008_000002\.mat: " + match
    )


def mcg_not_a_mat_file(d: Path) -> None:
    (d / "2008_000002.mat").write_bytes(b"<html>404 Not Found</html>")
    read_mcg(d / "2008_000002.mat")


def mcg_without_labels(d: Path) -> None:
    read_mcg(_mcg(d, [[1]], drop=("labels",)))


def mcg_superpixel_ids_out_of_range(d: Path) -> None:
    read_mcg(_mcg(d, [[1, 7]]))


def mcg_zero_proposals(d: Path) -> None:
    read_mcg(_mcg(d, []))


def mcg_size_differs_from_image(d: Path) -> None:
    read_mcg(_mcg(d, [[1]]), image_shape=(32, 48))


# ---- HDF5 artifacts ----


def _prm_artifact(path: Path, params: dict | None = None) -> Path:
    with write_artifact(path, "prm", "extract_prm", params) as f:
        put(f.create_group("2008_000002"), "prm", np.ones((3, 8, 8), np.float32))
    return path


def _foreign(path: Path) -> Path:
    """An HDF5 file without provenance attrs (whose size does not depend on the code version)."""
    with h5py.File(path, "w") as f:
        f["prm"] = np.ones((3, 8, 8))
    return path


def truncated_artifact(d: Path) -> None:
    path = _foreign(d / "val.h5")
    path.write_bytes(path.read_bytes()[:300])
    open_artifact(path, "prm")


def foreign_hdf5(d: Path) -> None:
    open_artifact(_foreign(d / "val.h5"), "prm")


def artifact_of_another_schema_version(d: Path) -> None:
    path = _prm_artifact(d / "val.h5")
    with h5py.File(path, "a") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1
    open_artifact(path, "prm")


def artifact_of_another_kind(d: Path) -> None:
    open_artifact(_prm_artifact(d / "val.h5"), "proposals")


def artifact_of_another_configuration(d: Path) -> None:
    with write_artifact(d / "k1.h5", "pseudo_gt", "make_pseudo_gt", {"k": 1, "source": "generated"}):
        pass
    open_artifact(d / "k1.h5", "pseudo_gt", {"k": 5, "source": "generated"})


def shards_of_different_configurations(d: Path) -> None:
    shards = [_prm_artifact(d / "shard0.h5", {"max_peaks": 5}), _prm_artifact(d / "shard1.h5", {"max_peaks": 10})]
    merge_shards(shards, d / "val.h5", "prm")


def _instances(path: Path, classes: bool = True, drop: str = "") -> Path:
    """An instance-set artifact of one image (2008_000002, no instances); without the ``classes``
    attr unless ``classes``, without the dataset ``drop`` when given."""
    with write_artifact(path, "instances", "infer_iam") as f:
        if classes:
            set_classes(f, CLASSES)
        group = write_instances(f, "2008_000002", InstanceSet.empty(32, 48))
        if drop:
            del group[drop]
    return path


def instances_without_classes(d: Path) -> None:
    export_predictions(_instances(d / "val.h5", classes=False), d / "coco.json")


def instance_group_without_scores(d: Path) -> None:
    export_predictions(_instances(d / "val.h5", drop="scores"), d / "coco.json")


def no_export_written(d: Path) -> None:
    """no coco.json is written"""
    assert not (d / "coco.json").exists()


def image_missing_from_instances(d: Path) -> None:
    with open_artifact(_instances(d / "val.h5"), "instances") as f:
        read_instances(f, "2007_000032")


def _prm_group(d: Path, drop: str) -> None:
    """Draw CAM boxes from a PRM artifact whose image group lacks the dataset or attr ``drop``."""
    with write_artifact(d / "val.h5", "prm", "extract_prm") as f:
        group = f.create_group("2008_000002")
        group.attrs.update({"height": 32, "width": 48})
        put(group, "crm", np.ones((3, 8, 8), np.float32))
        put(group, "class_scores", np.ones(3, np.float32))
        del (group.attrs if drop in group.attrs else group)[drop]
    with open_artifact(d / "val.h5", "prm") as f:
        prm_cam_boxes(f, "2008_000002", 0.2, 0.0)


def proposals_group_without_pointers(d: Path) -> None:
    with write_artifact(d / "val.h5", "proposals", "ingest_proposals") as f:
        put(f.create_group("2008_000002"), "superpixels", np.zeros((32, 48), np.int32))
    with open_artifact(d / "val.h5", "proposals") as f:
        read_superpixel_proposals(f, "2008_000002")


def _iam(*argv: str) -> None:
    """Run the ``iam`` CLI in-process; a non-zero exit raises :class:`CommandFailed` with what it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        status = iam_cli(list(argv))
    if status:
        raise CommandFailed(printed.getvalue().strip())


def cli_export_coco_without_classes(d: Path) -> None:
    _iam("export-coco", str(_instances(d / "val.h5", classes=False)), "-o", str(d / "coco.json"))


def cli_export_coco_gt_sbd_without_root(d: Path) -> None:
    _iam(
        "export-coco-gt", str(_voc(d)), "--classes", ",".join(CLASSES), "--gt-source", "sbd", "-o", str(d / "coco.json")
    )


def cli_show_foreign_hdf5(d: Path) -> None:
    _iam("show", str(_foreign(d / "val.h5")), "2008_000002", "-o", str(d / "show.png"), "--voc-root", str(_voc(d)))


def cli_inspect_not_hdf5(d: Path) -> None:
    (d / "val.h5").write_text("not HDF5")
    _iam("inspect", str(d / "val.h5"))


def cli_inspect_unknown_image(d: Path) -> None:
    _iam("inspect", str(_instances(d / "val.h5")), "2009_000001")


def cli_diff_missing_file(d: Path) -> None:
    _iam("diff", str(_instances(d / "val.h5")), str(d / "other.h5"))


def no_merged_file(d: Path) -> None:
    """no val.h5 is written"""
    assert not (d / "val.h5").exists()


def _filler_samples_from(d: Path, k: int, source: str) -> None:
    """Load filler training samples for k=5 from generated proposals out of a pseudo GT made for
    ``k`` and ``source``."""
    _prm_artifact(d / "prm.h5")
    with write_artifact(d / f"k{k}.h5", "pseudo_gt", "make_pseudo_gt") as f:
        f.attrs["k"], f.attrs["source"] = k, source
    load_samples(d, d / "prm.h5", d / f"k{k}.h5", [], 32, k=5, source="generated")


def pseudo_gt_of_another_k(d: Path) -> None:
    _filler_samples_from(d, 1, "generated")


def pseudo_gt_of_another_source(d: Path) -> None:
    _filler_samples_from(d, 5, "mcg")


# ---- models and checkpoints ----


def _backbone(d: Path, arch: str = "resnet18") -> Path:
    save_backbone(PeakBackbone(arch, len(CLASSES)), CLASSES, d / "model.pt")
    return d / "model.pt"


def backbone_of_another_arch(d: Path) -> None:
    load_backbone(_backbone(d), arch="resnet34", num_classes=len(CLASSES))


def backbone_of_another_class_count(d: Path) -> None:
    load_backbone(_backbone(d), arch="resnet18", num_classes=20)


def backbone_weights_contradict_its_header(d: Path) -> None:
    path = _backbone(d)
    model = torch.load(path, weights_only=True)
    model["arch"]["num_classes"] = 5
    torch.save(model, path)
    load_backbone(path)


def truncated_backbone(d: Path) -> None:
    path = _backbone(d)
    path.write_bytes(path.read_bytes()[:4096])
    load_backbone(path)


def torchvision_weights_of_another_arch(d: Path) -> None:
    torch.save(torchvision.models.resnet18().state_dict(), d / "resnet.pth")
    PeakBackbone("resnet34", len(CLASSES), weights=str(d / "resnet.pth"))


def imagenet_weights_for_resnet10(d: Path) -> None:
    PeakBackbone("resnet10", len(CLASSES), weights="imagenet")


def backbone_given_as_filler(d: Path) -> None:
    load_filler(_backbone(d), CPU)


def truncated_checkpoint(d: Path) -> None:
    model = nn.Linear(3, 2)
    path = save_checkpoint(d / "checkpoints", model, torch.optim.SGD(model.parameters(), lr=0.1), 1)
    path.write_bytes(path.read_bytes()[:300])
    load_latest(d / "checkpoints")


# ---- training ----


def _nan_loss(self: nn.Module, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (scores * float("nan")).sum()


def nan_backbone_loss(d: Path) -> None:
    voc = _voc(d)
    ids = read_split(voc, "val")
    with mock.patch.object(nn.MultiLabelSoftMarginLoss, "forward", _nan_loss):
        train_backbone(
            voc, ids, ids, CLASSES, BackboneConfig(input_size=32, epochs=1, batch_size=2), CPU, d / "backbone"
        )


def inf_filler_loss(d: Path) -> None:
    sample = Sample(
        "2008_000002",
        torch.zeros(3, 32, 32),
        torch.ones(1, 32, 32, dtype=torch.float16),
        torch.ones(1, 32, 32, dtype=torch.uint8),
        np.array([[0]]),
    )
    with mock.patch("torch.nn.functional.binary_cross_entropy_with_logits", return_value=torch.tensor(float("inf"))):
        train(
            PeakBackbone("resnet18", len(CLASSES)),
            [sample],
            FillerConfig(channels=4, pyramid_channels=8),
            CPU,
            d / "filler",
        )


def no_model_written(d: Path) -> None:
    """no model.pt is written"""
    assert not list(d.rglob("model.pt"))


# ---- configuration, device, disk ----


def invalid_config(d: Path) -> None:
    config = yaml.safe_load((ROOT / "config" / "tiny.yaml").read_text())
    config["filler"]["epochs"] = "4"
    config["crf"]["filter_size"] = 1
    validate_config(config, source="config/tiny.yaml")


def cuda_without_gpu(d: Path) -> None:
    with mock.patch("torch.cuda.is_available", return_value=False):
        resolve_device("cuda")


def _disk_full(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def disk_full_writing_json(d: Path) -> None:
    write_json(d / "metrics.json", {"previous": True})
    with atomic_path(d / "metrics.json") as tmp:
        tmp.write_text('{"half": ')
        with mock.patch.object(Path, "write_text", _disk_full):
            tmp.write_text("rest}")


def previous_json_kept(d: Path) -> None:
    """the previous metrics.json is intact, no partial or temporary file is left"""
    assert (d / "metrics.json").read_text() == '{\n  "previous": true\n}\n'
    assert [p.name for p in d.iterdir()] == ["metrics.json"]


def disk_full_writing_hdf5(d: Path) -> None:
    with write_artifact(d / "val.h5", "prm", "extract_prm") as f:
        put(f.create_group("2008_000002"), "prm", np.ones((3, 8, 8), np.float32))
        _disk_full()


def disk_full_saving_checkpoint(d: Path) -> None:
    with mock.patch("shutil.disk_usage", return_value=shutil._ntuple_diskusage(10**9, 10**9, 0)):  # type: ignore[attr-defined]
        with atomic_path(d / "epoch0002.pt") as tmp:
            tmp.write_bytes(b"PK")
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 6462208 vs 6462104")


def nothing_written(d: Path) -> None:
    """neither the artifact nor a temporary file is left"""
    assert list(d.iterdir()) == []


# ---- split files ----


def _split_file(d: Path, text: str | bytes) -> None:
    """Write ``text`` as val.txt of a copy of the VOC fixture tree and read that split."""
    voc = _voc(d)
    (voc / "ImageSets" / "Segmentation" / "val.txt").write_bytes(text if isinstance(text, bytes) else text.encode())
    read_split(voc, "val")


def _split_case(name: str, bad_input: str, text: str | bytes, match: str) -> Case:
    return Case(
        name,
        bad_input,
        functools.partial(_split_file, text=text),
        InputError,
        r"VOC2012/ImageSets/Segmentation/val\.txt: " + match,
    )


# ---- configuration: schema, cross-key rules, the data tree it names ----

DROP = object()  # a value in _tiny_config's changes that deletes the key


def _tiny_config(d: Path, changes: dict[str, object]) -> dict:
    """config/tiny.yaml with ``changes`` (dotted key -> value; ``DROP`` deletes the key); a value
    starting with ``@/`` is a path under ``d``."""
    config = yaml.safe_load((ROOT / "config" / "tiny.yaml").read_text())
    for key, value in changes.items():
        *parents, name = key.split(".")
        section = functools.reduce(dict.__getitem__, parents, config)
        if value is DROP:
            del section[name]
        else:
            section[name] = str(d / value[2:]) if isinstance(value, str) and value.startswith("@/") else value
    return config


def _validate(d: Path, changes: dict[str, object]) -> None:
    validate_config(_tiny_config(d, changes), source="config/tiny.yaml")


def _config_case(name: str, bad_input: str, changes: dict[str, object], match: str) -> Case:
    return Case(
        name,
        bad_input,
        functools.partial(_validate, changes=changes),
        InputError,
        r"config/tiny\.yaml: invalid configuration:\n  " + match,
    )


REAL_DATA = {
    "dataset.kind": "voc",
    "dataset.voc_root": "@/VOC2012",
    "dataset.val_split": "val",
    "dataset.train_split": "val",
}


def _real_data(d: Path, split_text: str | None) -> None:
    """Copies of the VOC and SBD fixture trees and an empty proposal directory ``mcg`` under ``d``;
    with ``split_text``, val.txt (the training and evaluation split of ``REAL_DATA``) holds it."""
    voc = _voc(d)
    if split_text is not None:
        (voc / "ImageSets" / "Segmentation" / "val.txt").write_text(split_text)
    shutil.copytree(FIXTURES / "SBD", d / "SBD")
    (d / "mcg").mkdir()


def _check_tree(d: Path, changes: dict[str, object], split_text: str | None = None) -> None:
    """Check the data tree of a real-data config on copies of the fixture trees."""
    _real_data(d, split_text)
    check_data_tree(validate_config(_tiny_config(d, {**REAL_DATA, **changes})))


def _tree_case(
    name: str, bad_input: str, changes: dict[str, object], match: str, split_text: str | None = None
) -> Case:
    return Case(
        name, bad_input, functools.partial(_check_tree, changes=changes, split_text=split_text), InputError, match
    )


class CommandFailed(RuntimeError):
    """A command (``snakemake --dry-run``, ``iam``) exited non-zero; the message is the error it printed."""


def _dry_run(d: Path, changes: dict[str, object], split_text: str | None = None) -> None:
    """Dry-run a copy of the workflow on config/tiny.yaml with ``changes`` (see :func:`_real_data`)."""
    _real_data(d, split_text)
    workdir = copy_workflow(d / "workflow")
    (workdir / "bad.yaml").write_text(yaml.safe_dump(_tiny_config(d, changes)))
    result = run_snakemake(workdir, "-n", configfile="bad.yaml", timeout=120)
    if result.returncode:
        printed = result.stdout.replace(f"{d}/", "")
        error = re.search(r"Error in file .*?\n(.*?)\n  File ", printed, re.S)
        raise CommandFailed(error.group(1) if error else printed)


def _dry_run_case(
    name: str, bad_input: str, changes: dict[str, object], match: str, split_text: str | None = None
) -> Case:
    return Case(
        name,
        bad_input,
        functools.partial(_dry_run, changes=changes, split_text=split_text),
        CommandFailed,
        match,
        nothing_planned,
    )


def nothing_planned(d: Path) -> None:
    """the dry run fails before any job: no results/ directory, no job planned"""
    assert not (d / "workflow" / "results").exists()


CASES = [
    Case(
        "corrupt_jpeg",
        "JPEG file holding other bytes",
        corrupt_jpeg,
        InputError,
        r"JPEGImages/2007_000032\.jpg: cannot decode image \(corrupt or truncated JPEG\)",
    ),
    Case(
        "truncated_jpeg",
        "JPEG cut in half",
        truncated_jpeg,
        InputError,
        r"JPEGImages/2008_000002\.jpg: cannot decode image \(corrupt or truncated JPEG\)",
    ),
    Case(
        "listed_id_without_image",
        "split file lists an id that has no JPEG",
        listed_id_without_image,
        InputError,
        r"2009_000001\.jpg: image '2009_000001' is listed but its file is missing",
    ),
    Case(
        "empty_split_file",
        "split file without ids",
        empty_split_file,
        InputError,
        r"Segmentation/val\.txt: split file lists no images",
    ),
    Case(
        "xml_without_objects",
        "annotation XML without `<object>`",
        xml_without_objects,
        InputError,
        r"Annotations/2008_000002\.xml: annotation has no <object>",
    ),
    Case(
        "unknown_class_name",
        "annotation XML naming a class not in `dataset.classes`",
        unknown_class_name,
        InputError,
        r"Annotations/2008_000002\.xml: unknown class name 'television'",
    ),
    Case(
        "palette_png_of_another_size",
        "label PNG whose size differs from the JPEG's",
        palette_png_of_another_size,
        InputError,
        r"SegmentationObject/2007_000032\.png: size \(48, 32\) differs from the image's \(32, 48\)",
    ),
    Case(
        "rgb_label_png",
        "label PNG saved as RGB instead of palette",
        rgb_label_png,
        InputError,
        r"SegmentationClass/2008_000002\.png: expected a palette PNG, got mode RGB",
    ),
    Case(
        "sbd_mat_without_gtinst",
        "SBD inst/ .mat without the GTinst struct",
        sbd_mat_without_gtinst,
        InputError,
        r"inst/2008_000002\.mat: missing struct 'GTinst'",
    ),
    Case(
        "sbd_gtinst_without_categories",
        "SBD GTinst struct without Categories",
        sbd_gtinst_without_categories,
        InputError,
        r"inst/2008_000002\.mat: GTinst lacks field 'Categories'",
    ),
    Case(
        "mcg_without_labels",
        "MCG .mat without the labels field",
        mcg_without_labels,
        InputError,
        r"2008_000002\.mat: missing field\(s\) \['labels'\]",
    ),
    Case(
        "mcg_superpixel_ids_out_of_range",
        "MCG proposal naming a superpixel the map lacks",
        mcg_superpixel_ids_out_of_range,
        InputError,
        r"2008_000002\.mat: proposal 0 has superpixel ids outside 1\.\.3",
    ),
    Case(
        "mcg_zero_proposals",
        "MCG .mat with no proposals",
        mcg_zero_proposals,
        InputError,
        r"2008_000002\.mat: holds zero proposals",
    ),
    Case(
        "mcg_size_differs_from_image",
        "MCG superpixel map of another size than the image",
        mcg_size_differs_from_image,
        InputError,
        r"2008_000002\.mat: superpixel map is \(2, 3\), image is \(32, 48\)",
    ),
    Case(
        "truncated_artifact",
        "HDF5 file cut after 300 bytes",
        truncated_artifact,
        ArtifactError,
        r"val\.h5: not a readable HDF5 file \(truncated or foreign\?\)",
    ),
    Case(
        "foreign_hdf5",
        "HDF5 file not written by the pipeline",
        foreign_hdf5,
        ArtifactError,
        r"val\.h5: schema_version missing, expected \d+ \(foreign or stale file\)",
    ),
    Case(
        "artifact_of_another_schema_version",
        "artifact of another schema version",
        artifact_of_another_schema_version,
        ArtifactError,
        r"val\.h5: schema_version \d+, expected \d+",
    ),
    Case(
        "artifact_of_another_kind",
        "PRM artifact where proposals are expected",
        artifact_of_another_kind,
        ArtifactError,
        r"val\.h5: holds kind 'prm', expected 'proposals'",
    ),
    Case(
        "artifact_of_another_configuration",
        "pseudo GT made with k=1 where k=5 is expected",
        artifact_of_another_configuration,
        ArtifactError,
        r"k1\.h5: was produced with k=1, this step expects 5",
    ),
    Case(
        "shards_of_different_configurations",
        "shards of one split made with different parameters (config hash)",
        shards_of_different_configurations,
        ArtifactError,
        r"shard1\.h5: shard was produced with other parameters than the first",
        no_merged_file,
    ),
    Case(
        "pseudo_gt_of_another_k",
        "filler given the pseudo GT of another k",
        pseudo_gt_of_another_k,
        ArtifactError,
        r"k1\.h5: pseudo GT is for k=1, source='generated'; expected k=5, source='generated'",
    ),
    Case(
        "pseudo_gt_of_another_source",
        "filler given the pseudo GT of MCG proposals in a run on generated ones",
        pseudo_gt_of_another_source,
        ArtifactError,
        r"k5\.h5: pseudo GT is for k=5, source='mcg'; expected k=5, source='generated'",
    ),
    Case(
        "backbone_of_another_arch",
        "backbone model of another architecture",
        backbone_of_another_arch,
        InputError,
        r"model\.pt: backbone has arch='resnet18', expected 'resnet34'",
    ),
    Case(
        "backbone_of_another_class_count",
        "backbone model of another class count",
        backbone_of_another_class_count,
        InputError,
        r"model\.pt: backbone has num_classes=3, expected 20",
    ),
    Case(
        "backbone_weights_contradict_its_header",
        "backbone model whose weights do not fit its recorded classes",
        backbone_weights_contradict_its_header,
        InputError,
        r"model\.pt: weights do not fit a resnet18 with 5 classes",
    ),
    Case(
        "truncated_backbone",
        "backbone model cut after 4 KiB",
        truncated_backbone,
        InputError,
        r"model\.pt: not a backbone model file",
    ),
    Case(
        "torchvision_weights_of_another_arch",
        "`backbone.weights`: a resnet18 state dict for a resnet34",
        torchvision_weights_of_another_arch,
        InputError,
        r"resnet\.pth: not a state dict of this ResNet",
    ),
    Case(
        "imagenet_weights_for_resnet10",
        "`backbone.weights: imagenet` for resnet10, which has none",
        imagenet_weights_for_resnet10,
        InputError,
        r"config key 'backbone\.weights': torchvision has no ImageNet weights for resnet10",
    ),
    Case(
        "backbone_given_as_filler",
        "backbone model where the filler model is expected",
        backbone_given_as_filler,
        ArtifactError,
        r"model\.pt: not a filler model written by train_filler",
    ),
    Case(
        "truncated_checkpoint",
        "training checkpoint cut after 300 bytes",
        truncated_checkpoint,
        InputError,
        r"epoch0001\.pt: unreadable checkpoint \(delete it to restart that epoch\)",
    ),
    Case(
        "nan_backbone_loss",
        "backbone loss becomes NaN",
        nan_backbone_loss,
        TrainingError,
        r"epoch 1, batch 0: loss is nan; the last good checkpoint is kept",
        no_model_written,
    ),
    Case(
        "inf_filler_loss",
        "filler loss becomes inf",
        inf_filler_loss,
        TrainingError,
        r"epoch 1, batch 0: loss is inf; the last good checkpoint is kept",
        no_model_written,
    ),
    Case(
        "invalid_config",
        "config with a string for an integer and a value below its minimum",
        invalid_config,
        InputError,
        r"(?s)config/tiny\.yaml: invalid configuration.*key 'crf\.filter_size': 1 is less than the "
        r"minimum of 3.*key 'filler\.epochs': '4' is not of type 'integer'",
    ),
    Case(
        "cuda_without_gpu",
        "`device: cuda` on a machine without a GPU",
        cuda_without_gpu,
        InputError,
        r"config key 'device': cuda requested but no CUDA device is available",
    ),
    Case(
        "disk_full_writing_json",
        "disk full while metrics.json is rewritten",
        disk_full_writing_json,
        OSError,
        r"No space left on device: '.*metrics\.json'",
        previous_json_kept,
    ),
    Case(
        "disk_full_writing_hdf5",
        "disk full while an HDF5 artifact is written",
        disk_full_writing_hdf5,
        OSError,
        r"No space left on device: '.*val\.h5'",
        nothing_written,
    ),
    Case(
        "disk_full_saving_checkpoint",
        "disk full while torch.save writes a checkpoint (torch reports only 'unexpected pos')",
        disk_full_saving_checkpoint,
        OSError,
        r"No space left on device \(\[enforce fail.*unexpected pos.*\): '.*epoch0002\.pt'",
        nothing_written,
    ),
    _split_case(
        "duplicate_id_in_split",
        "split file listing an id twice (a hand-made VOC ∪ SBD `train_aug.txt`)",
        "2007_000032\n2008_000002\n2007_000032\n",
        r"line 3: image id '2007_000032' duplicates line 1",
    ),
    _split_case(
        "duplicate_id_in_main_format_split",
        "split file in `ImageSets/Main` format (`id flag`) listing an id twice",
        "2007_000032  1\r\n2007_000032 -1\r\n",
        r"line 2: image id '2007_000032' duplicates line 1",
    ),
    *(
        _split_case(
            f"split_id_{label}",
            f"split file listing `{image_id}`, which is not a plain file name",
            f"2007_000032\n{image_id}\n",
            rf"line 2: image id {re.escape(repr(image_id))} is not a plain file name",
        )
        for label, image_id in (
            ("parent_dir", "../2007_000032"),
            ("in_subdir", "JPEGImages/2007_000032"),
            ("dot", "."),
            ("backslash", r"..\2007_000032"),
        )
    ),
    _split_case(
        "latin1_split_file",
        "split file in Latin-1 with a non-ASCII id",
        b"2007_000032\n2008_00000\xe9\n",
        r"split file is not UTF-8 text \(byte 22\)",
    ),
    _config_case(
        "voc_without_voc_root",
        "`dataset.kind: voc` with `voc_root: null`",
        {"dataset.kind": "voc"},
        r"key 'dataset\.voc_root': required when dataset\.kind is voc",
    ),
    _config_case(
        "sbd_gt_without_sbd_root",
        "`gt_source: sbd` on real data with `sbd_root: null`",
        {**REAL_DATA, "dataset.gt_source": "sbd"},
        r"key 'dataset\.sbd_root': required when dataset\.gt_source is sbd on real data",
    ),
    _config_case(
        "mcg_without_mcg_dir",
        "`proposals.source: mcg` with `dataset.mcg_dir: null`",
        {"proposals.source": "mcg"},
        r"key 'dataset\.mcg_dir': required when proposals\.source is mcg",
    ),
    *(
        _config_case(
            f"run_{label}",
            f"`run: '{run}'`, which leaves `results/`",
            {"run": run},
            rf"key 'run': '{re.escape(run)}' would put the outputs outside results/",
        )
        for label, run in (("dot", "."), ("dotdot", ".."), ("dots", "..."))
    ),
    *(
        _config_case(
            f"run_{label}",
            f"`run: '{run}'`, not a plain directory name",
            {"run": run},
            rf"key 'run': '{re.escape(run)}' does not match",
        )
        for label, run in (
            ("parent_path", "../elsewhere"),
            ("absolute", "/tmp/run"),
            ("empty", ""),
            ("space", "my run"),
        )
    ),
    _config_case(
        "even_crf_filter_size",
        "even `crf.filter_size`",
        {"crf.filter_size": 6},
        r"key 'crf\.filter_size': 6 is even; the window needs a centre pixel",
    ),
    _config_case(
        "even_filler_radius",
        "even `filler.radius`",
        {"filler.radius": 4},
        r"key 'filler\.radius': 4 is even; the window needs a centre pixel",
    ),
    _config_case(
        "transfer_k_not_trained",
        "`evaluation.transfer_k` not in `pseudo_gt.k`",
        {"evaluation.transfer_k": 9},
        r"key 'evaluation\.transfer_k': 9 is not one of pseudo_gt\.k \[1, 5\]",
    ),
    _config_case(
        "self_training_k_not_trained",
        "`self_training.k` not in `pseudo_gt.k` (its first filler would not exist)",
        {"self_training.k": 9},
        r"key 'self_training\.k': 9 is not one of pseudo_gt\.k \[1, 5\]",
    ),
    _config_case(
        "min_instances_above_max",
        "`synthetic.min_instances` above `max_instances`",
        {"synthetic.min_instances": 4, "synthetic.max_instances": 2},
        r"key 'synthetic\.max_instances': 2 is below synthetic\.min_instances 4",
    ),
    _config_case(
        "empty_transfer_split",
        "`synthetic.n_loc_test: 0` with loc_test in `dataset.transfer_splits`",
        {"synthetic.n_loc_test": 0},
        r"key 'synthetic\.n_loc_test': is 0, but dataset\.transfer_splits includes loc_test",
    ),
    _config_case(
        "no_classes",
        "config without `dataset.classes`",
        {"dataset.classes": DROP},
        r"key 'dataset': 'classes' is a required property",
    ),
    *(
        _config_case(
            f"{label}_{key.replace('.', '_')}",
            f"`{key}: {text}`",
            {key: value},
            rf"key '{re.escape(key)}': {value} is not a finite number",
        )
        for key, label, text, value in (
            ("backbone.lr", "nan", ".nan", float("nan")),
            ("filler.lr", "inf", ".inf", float("inf")),
            ("inference.mask_threshold", "nan", ".nan", float("nan")),
            ("prm.class_threshold", "minus_inf", "-.inf", float("-inf")),
        )
    ),
    _config_case(
        "nan_iou_threshold",
        "`evaluation.iou_thresholds: [0.5, .nan]`",
        {"evaluation.iou_thresholds": [0.5, float("nan")]},
        r"key 'evaluation\.iou_thresholds': nan is not a finite number",
    ),
    *(
        _tree_case(
            f"missing_{key}",
            f"`dataset.{key}` naming no directory",
            {**extra, f"dataset.{key}": "@/nowhere"},
            rf"config key 'dataset\.{key}': .*nowhere is not a directory",
        )
        for key, extra in (
            ("voc_root", {}),
            ("sbd_root", {"dataset.gt_source": "sbd"}),
            ("mcg_dir", {"proposals.source": "mcg"}),
        )
    ),
    _tree_case(
        "split_id_without_jpeg",
        "split file listing an id without a JPEG, checked before any job",
        {},
        r"config key 'dataset\.voc_root': 1 of the 3 images of split 'val' have no file, "
        r"e\.g\. .*VOC2012/JPEGImages/2009_000001\.jpg",
        split_text="2007_000032\n2008_000002\n2009_000001\n",
    ),
    _tree_case(
        "mcg_dir_without_the_split_files",
        "`dataset.mcg_dir` lacking the split's proposal files",
        {"proposals.source": "mcg", "dataset.mcg_dir": "@/mcg"},
        r"config key 'dataset\.mcg_dir': 2 of the 2 images of split 'val' have no file, "
        r"e\.g\. .*mcg/2007_000032\.mat",
    ),
    _tree_case(
        "sbd_root_one_level_off",
        "`dataset.sbd_root` pointing at a directory without `inst/`",
        {"dataset.gt_source": "sbd", "dataset.sbd_root": "@/VOC2012"},
        r"config key 'dataset\.sbd_root': 2 of the 2 images of split 'val' have no file, "
        r"e\.g\. .*VOC2012/inst/2007_000032\.mat",
    ),
    _tree_case(
        "missing_train_split",
        "`dataset.train_split` without a split file",
        {"dataset.train_split": "train_aug"},
        r"Segmentation/train_aug\.txt: split file for split 'train_aug' does not exist",
    ),
    _dry_run_case(
        "dry_run_run_dotdot",
        "`run: ..` given to `snakemake --dry-run`",
        {"run": ".."},
        r"key 'run': '\.\.' would put the outputs outside results/",
    ),
    _dry_run_case(
        "dry_run_sbd_root_missing",
        "`gt_source: sbd` with a wrong `sbd_root`, dry run",
        {**REAL_DATA, "dataset.gt_source": "sbd", "dataset.sbd_root": "@/benchmark_RELEASE"},
        r"config key 'dataset\.sbd_root': benchmark_RELEASE is not a directory",
    ),
    _dry_run_case(
        "dry_run_duplicate_id",
        "real-data split file listing an id twice, dry run",
        REAL_DATA,
        r"VOC2012/ImageSets/Segmentation/val\.txt: line 2: image id '2008_000002' duplicates line 1",
        split_text="2008_000002\n2008_000002\n",
    ),
    _mcg_case(
        "mcg_nan_superpixels",
        "MCG superpixel map holding NaN",
        [[1]],
        r"superpixels holds NaN or inf",
        superpixels=np.where(SUPERPIXELS == 3, np.nan, SUPERPIXELS),
    ),
    _mcg_case(
        "mcg_fractional_superpixels",
        "MCG superpixel map holding a non-integer id",
        [[1]],
        r"superpixels holds non-integer values",
        superpixels=SUPERPIXELS + 0.5,
    ),
    _mcg_case(
        "mcg_zero_based_superpixels",
        "MCG superpixel map numbered from 0",
        [[1]],
        r"superpixel ids must be 1-based, found 0",
        superpixels=SUPERPIXELS - 1,
    ),
    _mcg_case(
        "mcg_3d_superpixels",
        "MCG superpixel map with a third axis",
        [[1]],
        r"superpixels has shape \(2, 3, 2\), expected \(H, W\)",
        superpixels=np.dstack([SUPERPIXELS] * 2),
    ),
    _mcg_case(
        "mcg_empty_superpixels",
        "MCG superpixel map of size 0 × 0",
        [[1]],
        r"superpixels has shape \(0, 0\), expected \(H, W\)",
        superpixels=np.zeros((0, 0)),
    ),
    _mcg_case(
        "mcg_fractional_label",
        "MCG proposal listing superpixel 2.5",
        [[1], [1, 2.5]],
        r"labels of proposal 1 holds non-integer values",
    ),
    _mcg_case(
        "mcg_nan_label",
        "MCG proposal listing superpixel NaN",
        [[float("nan")]],
        r"labels of proposal 0 holds NaN or inf",
    ),
    _mcg_case(
        "mcg_char_label",
        "MCG `labels` cell holding text",
        [[1], "1 2"],
        r"labels of proposal 1 holds text, expected numbers",
    ),
    _mcg_case(
        "mcg_nested_cell_label",
        "MCG `labels` cell holding a cell",
        [[1], np.array([[np.ones((1, 2))]], object)],
        r"labels of proposal 1 holds nested cells or structs, expected numbers",
    ),
    *(
        _mcg_case(
            f"mcg_{label}_score",
            f"MCG scores holding {text}",
            [[1], [2]],
            r"scores holds NaN or inf",
            scores=np.array([[0.5], [value]]),
        )
        for label, text, value in (("nan", "NaN", float("nan")), ("inf", "inf", float("inf")))
    ),
    _mcg_case(
        "mcg_text_scores", "MCG scores saved as text", [[1]], r"scores holds text, expected numbers", scores="high"
    ),
    _mcg_case(
        "mcg_fewer_scores_than_proposals",
        "MCG file with 2 proposals and 1 score",
        [[1], [2]],
        r"2 label lists but 1 scores",
        scores=np.array([[0.5]]),
    ),
    Case(
        "mcg_not_a_mat_file",
        "MCG path holding an HTML error page",
        mcg_not_a_mat_file,
        InputError,
        r"2008_000002\.mat: not a readable MATLAB v5 file",
    ),
    _mcg_v73_case(
        "mcg_v73_zero_proposals", "MCG v7.3 file with zero proposals (empty cell array)", [], r"holds zero proposals"
    ),
    _mcg_v73_case(
        "mcg_v73_char_label",
        "MCG v7.3 `labels` cell holding text",
        [(np.array([1.0]), "double"), (np.frombuffer("1 2".encode("utf-16-le"), np.uint16), "char")],
        r"labels of proposal 1 holds text, expected numbers",
    ),
    _mcg_v73_case(
        "mcg_v73_inf_label",
        "MCG v7.3 proposal listing superpixel inf",
        [(np.array([1.0, np.inf]), "double")],
        r"labels of proposal 0 holds NaN or inf",
    ),
    Case(
        "sbd_v73_file",
        "SBD inst/ file re-saved as MATLAB v7.3 (HDF5)",
        functools.partial(_sbd_file, content=None),
        InputError,
        r"SBD/inst/2008_000002\.mat: MATLAB v7\.3 \(HDF5\) file; SBD ships v5 files",
    ),
    Case(
        "sbd_not_a_mat_file",
        "SBD inst/ file holding other bytes",
        functools.partial(_sbd_file, content=b"GIF89a"),
        InputError,
        r"SBD/inst/2008_000002\.mat: cannot read MATLAB file",
    ),
    _sbd_case(
        "sbd_text_categories",
        "SBD `Categories` saved as class names",
        r"GTinst\.Categories holds text",
        Categories="aeroplane",
    ),
    _sbd_case(
        "sbd_cell_categories",
        "SBD `Categories` saved as a cell array",
        r"GTinst\.Categories holds nested cells or structs",
        Categories=np.array([[np.ones(1), np.ones(1)]], object),
    ),
    *(
        _sbd_case(
            f"sbd_category_{label}",
            f"SBD category {value} with 3 classes",
            rf"GTinst\.Categories \[{value}\] outside 1\.\.3",
            Categories=np.array([[value]]),
        )
        for label, value in (("zero", 0), ("negative", -2), ("above_classes", 21))
    ),
    _sbd_case(
        "sbd_nan_category", "SBD category NaN", r"GTinst\.Categories holds NaN or inf", Categories=np.array([[np.nan]])
    ),
    _sbd_case(
        "sbd_fractional_category",
        "SBD category 1.5",
        r"GTinst\.Categories holds non-integer values",
        Categories=np.array([[1.5]]),
    ),
    _sbd_case(
        "sbd_nan_segmentation",
        "SBD `Segmentation` holding NaN",
        r"GTinst\.Segmentation holds NaN or inf",
        Segmentation=np.where(SEGMENTATION == 1, np.nan, 0),
    ),
    _sbd_case(
        "sbd_instance_without_category",
        "SBD instance id 2 with one category",
        r"GTinst\.Segmentation has instance id 2 outside 0\.\.1 \(1 categories\)",
        Segmentation=SEGMENTATION * 2,
    ),
    _sbd_case(
        "sbd_negative_instance_id",
        "SBD instance id -1",
        r"GTinst\.Segmentation has instance id -1 outside 0\.\.1",
        Segmentation=-SEGMENTATION.astype(np.int16),
    ),
    _sbd_case(
        "sbd_3d_segmentation",
        "SBD `Segmentation` with a colour axis",
        r"GTinst\.Segmentation has shape \(32, 48, 3\), expected \(H, W\)",
        Segmentation=np.dstack([SEGMENTATION] * 3),
    ),
    Case(
        "instances_without_classes",
        "instance-set artifact without the `classes` attr (`iam export-coco`)",
        instances_without_classes,
        ArtifactError,
        r"val\.h5: the file has no attr 'classes'",
        no_export_written,
    ),
    Case(
        "instance_group_without_scores",
        "instance-set image group without `scores`",
        instance_group_without_scores,
        ArtifactError,
        r"val\.h5: group '/2008_000002' has no 'scores'",
        no_export_written,
    ),
    Case(
        "image_missing_from_instances",
        "instance-set artifact without an image of the split",
        image_missing_from_instances,
        ArtifactError,
        r"val\.h5: the file has no '2007_000032'",
    ),
    Case(
        "prm_group_without_crm",
        "PRM image group without `crm` (CAM baseline)",
        functools.partial(_prm_group, drop="crm"),
        ArtifactError,
        r"val\.h5: group '/2008_000002' has no 'crm'",
    ),
    Case(
        "prm_group_without_height",
        "PRM image group without the `height` attr",
        functools.partial(_prm_group, drop="height"),
        ArtifactError,
        r"val\.h5: group '/2008_000002' has no attr 'height'",
    ),
    Case(
        "proposals_group_without_pointers",
        "proposals image group without `sp_ids`/`sp_ptr`",
        proposals_group_without_pointers,
        ArtifactError,
        r"val\.h5: group '/2008_000002' has no 'sp_ids'",
    ),
    Case(
        "cli_export_coco_without_classes",
        "`iam export-coco` of an instance set without `classes`",
        cli_export_coco_without_classes,
        CommandFailed,
        r"iam export-coco: .*val\.h5: the file has no attr 'classes'",
        no_export_written,
    ),
    Case(
        "cli_export_coco_gt_sbd_without_root",
        "`iam export-coco-gt --gt-source sbd` without `--sbd-root`",
        cli_export_coco_gt_sbd_without_root,
        CommandFailed,
        r"iam export-coco-gt: --sbd-root: required with --gt-source sbd",
        no_export_written,
    ),
    Case(
        "cli_show_foreign_hdf5",
        "`iam show` of an HDF5 file not written by the pipeline",
        cli_show_foreign_hdf5,
        CommandFailed,
        r"iam show: .*val\.h5: schema_version missing",
    ),
    Case(
        "cli_inspect_not_hdf5",
        "`iam inspect` of a file that is not HDF5",
        cli_inspect_not_hdf5,
        CommandFailed,
        r"iam inspect: .*val\.h5: not a readable HDF5 file",
    ),
    Case(
        "cli_inspect_unknown_image",
        "`iam inspect` of an image the artifact lacks",
        cli_inspect_unknown_image,
        CommandFailed,
        r"iam inspect: .*val\.h5: no image group '2009_000001'",
    ),
    Case(
        "cli_diff_missing_file",
        "`iam diff` with a path that does not exist",
        cli_diff_missing_file,
        CommandFailed,
        r"iam diff: .*other\.h5: artifact does not exist",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_fails_with_a_message_naming_it(case, tmp_path):
    run_case(case, tmp_path)


def test_catalogue_is_current():
    spec = importlib.util.spec_from_file_location("bad_input_catalogue", ROOT / "scripts" / "bad_input_catalogue.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert (ROOT / script.DOC).read_text() == script.catalogue(), (
        f"{script.DOC} is stale: run .venv/bin/python scripts/bad_input_catalogue.py"
    )
