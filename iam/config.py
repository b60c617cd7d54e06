"""Config validation against the JSON schema, with messages that name the key and the violated rule."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from iam.data.voc import read_split
from iam.errors import InputError

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"


def load_schema(path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """Read the config schema."""
    return yaml.safe_load(Path(path).read_text())


def fill_defaults(config: MutableMapping[str, Any], schema: dict[str, Any]) -> None:
    """Insert schema defaults for missing keys, recursing into objects present in the config."""
    for key, sub in schema.get("properties", {}).items():
        if key not in config and "default" in sub:
            config[key] = copy.deepcopy(sub["default"])
        if sub.get("type") == "object" and isinstance(config.get(key), MutableMapping):
            fill_defaults(config[key], sub)


def validate_config(
    config: MutableMapping[str, Any], schema_path: str | Path = SCHEMA_PATH, source: str = "config"
) -> MutableMapping[str, Any]:
    """Fill defaults and validate; raise :class:`InputError` naming the key and the schema rule."""
    schema = load_schema(schema_path)
    fill_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(dict(config)), key=lambda e: list(e.absolute_path))
    lines = [_describe(e) for e in errors] or [f"key '{key}': {why}" for key, why in cross_key_problems(config)]
    if lines:
        raise InputError(source, "invalid configuration:\n  " + "\n  ".join(lines))
    return config


def _describe(error: jsonschema.ValidationError) -> str:
    key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    return f"key '{key}': {error.message} (schema rule '{error.validator}')"


def cross_key_problems(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, problem) for every rule the schema cannot express, of a config that passed the schema."""
    return [
        *_non_finite(config),
        *_missing_paths(config),
        *_run_name(config),
        *_even_windows(config),
        *_transfer_k(config),
        *_self_training_k(config),
        *_instance_range(config),
        *_empty_transfer_splits(config),
    ]


def _non_finite(value: Any, key: str = "") -> list[tuple[str, str]]:
    """NaN and inf anywhere in the config (YAML's .nan/.inf pass every minimum/maximum rule)."""
    if isinstance(value, Mapping):
        return [problem for name, sub in value.items() for problem in _non_finite(sub, f"{key}{name}.")]
    if isinstance(value, list):
        return [problem for sub in value for problem in _non_finite(sub, key)]
    if isinstance(value, float) and not math.isfinite(value):
        return [(key.rstrip("."), f"{value} is not a finite number")]
    return []


def _required_paths(config: Mapping[str, Any]) -> dict[str, str]:
    """The ``dataset`` path keys the chosen data and proposal sources need, each with the reason."""
    data = config["dataset"]
    real = data["kind"] == "voc"
    needs = {
        "voc_root": ("dataset.kind is voc", real),
        "sbd_root": ("dataset.gt_source is sbd on real data", real and data["gt_source"] == "sbd"),
        "mcg_dir": ("proposals.source is mcg", config["proposals"]["source"] == "mcg"),
    }
    return {key: why for key, (why, needed) in needs.items() if needed}


def _missing_paths(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"dataset.{key}", f"required when {why}")
        for key, why in _required_paths(config).items()
        if not config["dataset"][key]
    ]


def _run_name(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    run = config["run"]
    return [("run", f"{run!r} would put the outputs outside results/ (name a directory)")] if set(run) == {"."} else []


def _even_windows(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    sizes = {"crf.filter_size": config["crf"]["filter_size"], "filler.radius": config["filler"]["radius"]}
    return [
        (key, f"{size} is even; the window needs a centre pixel (use an odd value)")
        for key, size in sizes.items()
        if size % 2 == 0
    ]


def _trained_k(key: str, k: int, used: bool, config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A k whose filler a stage reads (when ``used``) must be one of those trained, ``pseudo_gt.k``."""
    ks = config["pseudo_gt"]["k"]
    return [(key, f"{k} is not one of pseudo_gt.k {ks}")] if used and k not in ks else []


def _transfer_k(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    data = config["dataset"]
    used = data["kind"] == "synthetic" and bool(data["transfer_splits"])
    return _trained_k("evaluation.transfer_k", config["evaluation"]["transfer_k"], used, config)


def _self_training_k(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    st = config["self_training"]
    return _trained_k("self_training.k", st["k"], st["enabled"], config)


def _instance_range(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    low, high = (config["synthetic"][key] for key in ("min_instances", "max_instances"))
    return [("synthetic.max_instances", f"{high} is below synthetic.min_instances {low}")] if high < low else []


def _empty_transfer_splits(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    data = config["dataset"]
    splits = data["transfer_splits"] if data["kind"] == "synthetic" else []
    return [
        (f"synthetic.n_{split}", f"is 0, but dataset.transfer_splits includes {split}")
        for split in splits
        if config["synthetic"][f"n_{split}"] == 0
    ]


def check_data_tree(config: Mapping[str, Any]) -> None:
    """Before any job: the directories the config names exist and, for real data, the training and
    evaluation split files are sound (:func:`read_split`) and every image they list has its JPEG, its
    proposal file (source mcg) and, on the evaluation split, its SBD annotation (gt_source sbd)."""
    data = config["dataset"]
    for key in _required_paths(config):
        if not Path(data[key]).is_dir():
            raise InputError(f"config key 'dataset.{key}'", f"{data[key]} is not a directory")
    if data["kind"] != "voc":
        return
    for split in dict.fromkeys((data["train_split"], data["val_split"])):
        ids = read_split(data["voc_root"], split)
        _check_files("voc_root", Path(data["voc_root"]) / "JPEGImages", ".jpg", ids, split)
        if config["proposals"]["source"] == "mcg":
            _check_files("mcg_dir", Path(data["mcg_dir"]), ".mat", ids, split)
        if data["gt_source"] == "sbd" and split == data["val_split"]:
            _check_files("sbd_root", Path(data["sbd_root"]) / "inst", ".mat", ids, split)


def _check_files(key: str, folder: Path, suffix: str, ids: list[str], split: str) -> None:
    """Every id of ``split`` has ``folder/<id><suffix>``; otherwise an error naming ``dataset.<key>``."""
    present = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    missing = [folder / f"{image_id}{suffix}" for image_id in ids if f"{image_id}{suffix}" not in present]
    if missing:
        raise InputError(
            f"config key 'dataset.{key}'",
            f"{len(missing)} of the {len(ids)} images of split {split!r} have no file, e.g. {missing[0]}",
        )


def markdown_table(schema_path: str | Path = SCHEMA_PATH) -> str:
    """Every config key with its type, default and description, as a Markdown table (for the README)."""
    rows = ["| key | type | default | description |", "| --- | --- | --- | --- |"]

    def walk(schema: dict[str, Any], prefix: str) -> None:
        for key, sub in schema.get("properties", {}).items():
            if sub.get("type") == "object" and "properties" in sub:
                walk(sub, f"{prefix}{key}.")
                continue
            kind = sub.get("type", "")
            kind = "/".join(kind) if isinstance(kind, list) else kind
            default = f"`{sub['default']}`" if "default" in sub else ""
            rows.append(f"| `{prefix}{key}` | {kind} | {default} | {sub.get('description', '')} |")

    walk(load_schema(schema_path), "")
    return "\n".join(rows)
