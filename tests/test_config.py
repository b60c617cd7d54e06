"""Config schema: shipped configs validate, defaults fill in, bad values name key and rule."""

import dataclasses
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config

from iam.config import cross_key_problems, fill_defaults, load_schema, validate_config
from iam.errors import InputError
from iam.training.backbone import BackboneConfig
from iam.training.filler import FillerConfig

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [ROOT / "config.yaml", *sorted((ROOT / "config").glob("*.yaml"))]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    validate_config(yaml.safe_load(path.read_text()), source=str(path))


@pytest.mark.parametrize("path", sorted((ROOT / "config" / "overlays").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_overlays_make_valid_configs(path):
    """An overlay is a second --configfile over config.yaml; Snakemake merges it key by key."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    update_config(config, yaml.safe_load(path.read_text()))
    validate_config(config, source=str(path))
    assert cross_key_problems(config) == []


def _walk(schema, prefix=""):
    for key, sub in schema.get("properties", {}).items():
        yield f"{prefix}{key}", sub
        yield from _walk(sub, f"{prefix}{key}.")


def test_every_schema_key_has_a_description_and_type():
    for key, sub in _walk(load_schema()):
        assert sub.get("description"), f"{key} lacks a description"
        assert "type" in sub, f"{key} lacks a type"
        if sub["type"] != "object":
            assert "default" in sub or key == "dataset.classes", f"{key} lacks a default"
        # an unquoted comma in a YAML flow mapping ends the description and leaves the rest as a key
        assert all(" " not in name for name in sub), f"{key}: stray key in its schema (unquoted comma?)"


def _default():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_wrong_type_names_key_and_rule():
    config = _default()
    config["backbone"]["epochs"] = "many"
    with pytest.raises(
        InputError, match=r"key 'backbone.epochs': 'many' is not of type 'integer' \(schema rule 'type'\)"
    ):
        validate_config(config)


def test_out_of_range_and_unknown_keys_are_rejected():
    config = _default()
    config["pseudo_gt"]["min_overlap"] = 1.5
    config["filler"]["learning_rate"] = 0.1
    with pytest.raises(InputError) as err:
        validate_config(config)
    assert "key 'pseudo_gt.min_overlap'" in str(err.value) and "'maximum'" in str(err.value)
    assert "learning_rate" in str(err.value) and "additionalProperties" in str(err.value)


def test_defaults_are_filled():
    config = _default()
    del config["crf"]["iterations"]
    del config["seed"]
    fill_defaults(config, load_schema())
    assert config["crf"]["iterations"] == 5
    assert config["seed"] == 0


@pytest.mark.parametrize(("section", "config_class"), [("backbone", BackboneConfig), ("filler", FillerConfig)])
def test_dataclass_defaults_are_the_schema_defaults(section, config_class):
    """A section's dataclass and the schema agree on every default they share."""
    schema = load_schema()["properties"][section]["properties"]
    for field in dataclasses.fields(config_class):
        if field.name in schema:
            default = list(field.default) if isinstance(field.default, tuple) else field.default
            assert default == schema[field.name]["default"], field.name
