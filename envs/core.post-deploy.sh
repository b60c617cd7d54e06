#!/usr/bin/env bash
# Snakemake runs this inside a freshly created conda env (--sdm conda), from the workflow directory:
# install the `iam` package itself; its dependencies come from the env file.
set -euo pipefail
grep -q '^name = "iam-pipeline"' pyproject.toml || {
    echo "post-deploy: run snakemake from the repository root (no iam-pipeline pyproject.toml in $PWD)" >&2
    exit 1
}
python -m pip install --no-deps -e .
