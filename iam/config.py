"""Config validation against the JSON schema, with messages that name the key and the violated rule."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from iam.errors import InputError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "rules" / "schemas" / "config.schema.yaml"


def load_schema(path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """Read the config schema."""
    return yaml.safe_load(Path(path).read_text())


def fill_defaults(config: MutableMapping[str, Any], schema: dict[str, Any]) -> None:
    """Insert schema defaults for missing keys, recursing into objects present in the config."""
    for key, sub in schema.get("properties", {}).items():
        if key not in config and "default" in sub:
            config[key] = sub["default"]
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
    if errors:
        lines = [_describe(e) for e in errors]
        raise InputError(source, "invalid configuration:\n  " + "\n  ".join(lines))
    return config


def _describe(error: jsonschema.ValidationError) -> str:
    key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    return f"key '{key}': {error.message} (schema rule '{error.validator}')"


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


if __name__ == "__main__":
    print(markdown_table())
