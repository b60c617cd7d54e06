"""Atomic writes, artifact provenance checks, shard merging, and `iam inspect`."""

import os

import h5py
import numpy as np
import pytest
import torch

from iam.cli import main as cli_main
from iam.errors import ArtifactError
from iam.io.atomic import atomic_path, write_json, write_text
from iam.io.h5 import config_hash, merge_shards, open_artifact, put, write_artifact
from iam.io.instances import InstanceSet, read_instances, set_classes, write_instances


def test_atomic_path_leaves_no_file_when_the_block_fails(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_the_previous_version_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(OSError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise OSError(28, "No space left on device")
    assert target.read_text().strip().startswith("{")
    assert '"a": 1' in target.read_text()


@pytest.fixture(params=[0o022, 0o027, 0o002], ids=oct)
def umask(request):
    """Run the test under each umask, restoring the previous one afterwards."""
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def _write_every_kind(d):
    """An artifact, a merged split, a model, metrics and a report page, as the stages write them."""
    with write_artifact(d / "shard0.h5", "prm", "extract_prm") as f:
        put(f.create_group("x"), "prm", np.ones((2, 4, 4), np.float32))
    merge_shards([d / "shard0.h5"], d / "val.h5", "prm")
    with atomic_path(d / "model.pt") as tmp:
        torch.save({"w": torch.zeros(2)}, tmp)
    write_json(d / "metrics.json", {"map": 0.5})
    write_text(d / "report" / "index.html", "<html></html>")
    return ["shard0.h5", "val.h5", "model.pt", "metrics.json", "report/index.html"]


def test_atomic_writes_get_the_umask_permissions(tmp_path, umask):
    written = _write_every_kind(tmp_path)
    modes = {name: oct((tmp_path / name).stat().st_mode & 0o777) for name in written}
    assert modes == dict.fromkeys(written, oct(0o666 & ~umask))


def test_config_hash_ignores_key_order_and_sees_values():
    assert config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def _artifact(path, params, ids=("x", "y")):
    with write_artifact(path, "prm", "extract_prm", params) as f:
        for i, key in enumerate(ids):
            put(f.create_group(key), "prm", np.full((2, 4, 4), i, np.float32), half=True)


def test_open_artifact_checks_kind_and_expected_params(tmp_path):
    path = tmp_path / "a.h5"
    _artifact(path, {"k": 5})
    with open_artifact(path, "prm", {"k": 5}) as f:
        assert f["x/prm"].dtype == np.float16
    with pytest.raises(ArtifactError, match="kind 'prm', expected 'pseudo_gt'"):
        open_artifact(path, "pseudo_gt")
    with pytest.raises(ArtifactError, match="k=5, this step expects 9"):
        open_artifact(path, "prm", {"k": 9})


def test_open_artifact_rejects_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "a.h5"
    _artifact(path, {})
    truncated = tmp_path / "t.h5"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ArtifactError, match="t.h5: not a readable HDF5"):
        open_artifact(truncated)
    foreign = tmp_path / "f.h5"
    with h5py.File(foreign, "w") as f:
        f.attrs["schema_version"] = 99
    with pytest.raises(ArtifactError, match="schema_version 99"):
        open_artifact(foreign)


def test_missing_members_name_the_file_and_defaults_still_work(tmp_path):
    _artifact(tmp_path / "a.h5", {"k": 1})
    with open_artifact(tmp_path / "a.h5") as f:
        assert f.get("nope", "default") == "default" and f.attrs.get("nope", 0) == 0 and "x" in f
        assert f["x"].get("nope") is None and f["x"].attrs.get("nope", 1) == 1
        with pytest.raises(ArtifactError, match=r"a\.h5: group '/x' has no 'crm'"):
            f["x"]["crm"]
        with pytest.raises(ArtifactError, match=r"a\.h5: the file has no attr 'classes'"):
            f.attrs["classes"]


def test_merge_shards_restores_split_order_and_refuses_mixed_params(tmp_path):
    _artifact(tmp_path / "s0.h5", {"a": 1}, ids=("i0", "i2"))
    _artifact(tmp_path / "s1.h5", {"a": 1}, ids=("i1",))
    merge_shards([tmp_path / "s0.h5", tmp_path / "s1.h5"], tmp_path / "m.h5", "prm", ["i0", "i1", "i2"])
    with open_artifact(tmp_path / "m.h5", "prm") as f:
        assert list(f) == ["i0", "i1", "i2"]
        assert f["i1/prm"][0, 0, 0] == 0
    _artifact(tmp_path / "s2.h5", {"a": 2}, ids=("i3",))
    with pytest.raises(ArtifactError, match="other parameters"):
        merge_shards([tmp_path / "s0.h5", tmp_path / "s2.h5"], tmp_path / "bad.h5", "prm")
    assert not (tmp_path / "bad.h5").exists()


def test_instances_round_trip(tmp_path):
    masks = np.zeros((2, 5, 6), bool)
    masks[0, :2] = True
    masks[1, 3:, 4:] = True
    inst = InstanceSet(masks, np.array([1, 0]), np.array([0.9, 0.5], np.float32))
    with write_artifact(tmp_path / "i.h5", "instances", "test") as f:
        set_classes(f, ["a", "b"])
        write_instances(f, "img", inst, soft=masks.astype(np.float32) * 0.7)
    with open_artifact(tmp_path / "i.h5", "instances") as f:
        back = read_instances(f, "img")
        assert f["img/soft"].dtype == np.float16
    np.testing.assert_array_equal(back.masks, masks)
    np.testing.assert_array_equal(back.labels, [1, 0])


def test_cli_inspect_lists_datasets_and_documents_them(tmp_path, capsys):
    _artifact(tmp_path / "a.h5", {"k": 1})
    assert cli_main(["inspect", str(tmp_path / "a.h5"), "y"]) == 0
    out = capsys.readouterr().out
    assert "prm: shape=(2, 4, 4) dtype=float16" in out
    assert "Peak Response Map" in out
    assert "@config_hash" in out
    assert cli_main(["inspect", str(tmp_path / "a.h5"), "missing"]) == 2


def test_artifact_differences_ignore_timings_but_see_values(tmp_path):
    from iam.io.compare import artifact_differences

    for name, value, t in (("a", 1.0, 0.1), ("b", 1.0, 0.2), ("c", 2.0, 0.1)):
        with write_artifact(tmp_path / f"{name}.h5", "prm", "r", {"p": 1}) as f:
            g = f.create_group("img")
            g.attrs["time_forward"] = t
            put(g, "prm", np.full((1, 3, 3), value, np.float32))
    assert artifact_differences(tmp_path / "a.h5", tmp_path / "b.h5") == []
    assert artifact_differences(tmp_path / "a.h5", tmp_path / "c.h5") == ["dataset img/prm differs"]
    assert cli_main(["diff", str(tmp_path / "a.h5"), str(tmp_path / "c.h5")]) == 1


def test_cli_show_finds_the_runs_images_and_draws_each_instance(tmp_path):
    from PIL import Image

    voc = tmp_path / "results" / "r" / "data" / "VOC2012" / "JPEGImages"
    voc.mkdir(parents=True)
    Image.fromarray(np.full((5, 6, 3), 200, np.uint8)).save(voc / "img.jpg")
    masks = np.zeros((2, 5, 6), bool)
    masks[0, :2] = masks[1, 3:] = True
    path = tmp_path / "results" / "r" / "iam" / "val.h5"
    with write_artifact(path, "instances", "infer_iam") as f:
        set_classes(f, ["a", "b"])
        write_instances(
            f,
            "img",
            InstanceSet(masks, np.array([0, 1]), np.array([0.2, 0.9], np.float32)),
            soft=masks.astype(np.float32),
        )
    assert cli_main(["show", str(path), "img", "-o", str(tmp_path / "out.png")]) == 0
    assert Image.open(tmp_path / "out.png").size == (12, 10)  # 2 instances side by side, soft maps below
    assert cli_main(["show", str(path), "nope", "-o", str(tmp_path / "x.png")]) == 2


def test_atomic_path_passes_other_runtime_errors_through_when_the_disk_has_room(tmp_path):
    with pytest.raises(RuntimeError, match="not a disk problem"):
        with atomic_path(tmp_path / "model.pt") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("not a disk problem")
    assert list(tmp_path.iterdir()) == []
