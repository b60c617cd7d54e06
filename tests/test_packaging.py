"""A non-editable install (the Dockerfile's, a cluster job's) carries the config schema inside the package."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import sys, yaml
import iam, iam.config
assert iam.__file__.startswith(sys.argv[1]), iam.__file__
iam.config.validate_config(yaml.safe_load(open(sys.argv[2]).read()))
print(iam.config.SCHEMA_PATH)
"""


@pytest.mark.slow
def test_installed_package_validates_the_default_config(tmp_path):
    """pip install --target of a copy of the sources, then validate config.yaml from outside the repo."""
    src, target = tmp_path / "src", tmp_path / "site"
    shutil.copytree(ROOT / "iam", src / "iam", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target)]
    subprocess.run([*pip, str(src)], check=True, cwd=tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", CHECK, str(target), str(ROOT / "config.yaml")],
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
    )
    assert Path(out.stdout.strip()).is_file() and Path(out.stdout.strip()).is_relative_to(target)
