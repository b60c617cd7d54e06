"""envs/*.yaml mirror the pins of pyproject.toml, and every rule declares one of them as conda env."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
ENVS = ROOT / "envs"
TORCH_ONLY = {"torch", "torchvision"}
NOT_IN_ENVS = {"snakemake"}  # the scheduler runs outside the rule envs
IMPORT_WITHOUT_TORCH = """
import importlib, sys
sys.modules.update(torch=None, torchvision=None)
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError as error:
        print(name, error)
"""
RULE = re.compile(r"^(\s*)(?:rule|checkpoint)\s+(\w+)\s*:", re.M)


def pins(requirements: list[str]) -> dict[str, str]:
    """Canonical package name -> the requirement text it was pinned with (extras dropped)."""
    out = {}
    for text in requirements:
        req = Requirement(text)
        out[canonicalize_name(req.name)] = str(req.specifier)
    return out


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def env_spec(path: Path) -> tuple[list[str], dict[str, str]]:
    """(conda dependencies, pip pins) of one env file."""
    deps = yaml.safe_load(path.read_text())["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip = [r for d in deps if isinstance(d, dict) for r in d.get("pip", [])]
    return conda, pins(pip)


def expected_pins() -> dict[str, dict[str, str]]:
    declared = {n: s for n, s in pins(project()["dependencies"]).items() if n not in NOT_IN_ENVS}
    core = {n: s for n, s in declared.items() if n not in TORCH_ONLY}
    return {"core.yaml": core, "torch.yaml": declared}


@pytest.mark.parametrize("name", ["core.yaml", "torch.yaml"])
def test_env_pins_equal_pyproject(name: str) -> None:
    _, pip = env_spec(ENVS / name)
    assert pip == expected_pins()[name]


@pytest.mark.parametrize("name", ["core.yaml", "torch.yaml"])
def test_env_python_matches_requires_python(name: str) -> None:
    conda, _ = env_spec(ENVS / name)
    assert f"python{project()['requires-python']}" in conda
    assert "pip" in conda


def test_pin_comparison_detects_a_change(tmp_path: Path) -> None:
    changed = (ENVS / "torch.yaml").read_text().replace("torch==2.14.1", "torch==2.13.0")
    (tmp_path / "torch.yaml").write_text(changed)
    _, pip = env_spec(tmp_path / "torch.yaml")
    assert pip != expected_pins()["torch.yaml"]


def lock_violations(lock_text: str) -> list[str]:
    """Requirements of pyproject.toml (dependencies and every extra) that the lock file does not pin
    to a version they accept."""
    locked = {
        canonicalize_name(name): version
        for name, _, version in (
            line.partition("==") for line in lock_text.splitlines() if line and not line.startswith("#")
        )
    }
    extras = project()["optional-dependencies"].values()
    wanted = [Requirement(text) for group in [project()["dependencies"], *extras] for text in group]
    return [
        str(req)
        for req in wanted
        if canonicalize_name(req.name) not in locked or locked[canonicalize_name(req.name)] not in req.specifier
    ]


def test_lock_pins_every_requirement_within_its_range() -> None:
    assert lock_violations((ROOT / "requirements.lock").read_text()) == []
    stale = (ROOT / "requirements.lock").read_text().replace("torch==2.14.1", "torch==2.13.0")
    assert lock_violations(stale) == ["torch==2.14.1"]


def rule_blocks(text: str) -> dict[str, str]:
    """Rule name -> the text of its body (up to the next line indented no deeper than `rule`)."""
    blocks = {}
    for match in RULE.finditer(text):
        indent = len(match.group(1))
        body = []
        for line in text[match.end() :].splitlines()[1:]:
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line)
        blocks[match.group(2)] = "\n".join(body)
    return blocks


def conda_env_of(body: str) -> str | None:
    match = re.search(r"^\s*conda:\s*[\"']([^\"']+)[\"']", body, re.M)
    return match.group(1) if match else None


def all_rules() -> list[tuple[Path, str, str]]:
    return [
        (smk, name, body)
        for smk in sorted((ROOT / "rules").glob("*.smk"))
        for name, body in rule_blocks(smk.read_text()).items()
    ]


def test_rule_parser_sees_nested_rules() -> None:
    text = "if X:\n\n    rule a:\n        conda:\n            '../envs/core.yaml'\n\n\nrule b:\n    threads: 1\n"
    blocks = rule_blocks(text)
    assert conda_env_of(blocks["a"]) == "../envs/core.yaml"
    assert conda_env_of(blocks["b"]) is None


def test_every_rule_declares_an_existing_conda_env() -> None:
    rules = all_rules()
    assert rules, "no rules found under rules/"
    problems = []
    for smk, name, body in rules:
        env = conda_env_of(body)
        if env is None:
            problems.append(f"{smk.name}: rule {name} has no conda: directive")
        elif not (smk.parent / env).resolve().is_file():
            problems.append(f"{smk.name}: rule {name} names missing env {env}")
        elif (smk.parent / env).resolve().parent != ENVS:
            problems.append(f"{smk.name}: rule {name} env {env} is outside envs/")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", ["core.yaml", "torch.yaml"])
def test_env_installs_the_project_after_deployment(name: str) -> None:
    script = ENVS / name.replace(".yaml", ".post-deploy.sh")
    assert "pip install --no-deps -e ." in script.read_text()


def imported_modules(script: Path) -> set[str]:
    tree = ast.parse(script.read_text())
    return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }


def test_core_env_rules_run_without_torch() -> None:
    """A rule on envs/core.yaml must not import torch (its env has none), not even indirectly."""
    modules = set()
    for smk, _, body in all_rules():
        script = re.search(r"^\s*script:\s*[\"']([^\"']+)[\"']", body, re.M)
        if script and conda_env_of(body) == "../envs/core.yaml":
            modules |= imported_modules((smk.parent / script.group(1)).resolve())
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_WITHOUT_TORCH, *sorted(modules)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", f"modules of core-env rules that need torch:\n{result.stdout}"
