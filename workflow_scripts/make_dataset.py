"""Generate the synthetic benchmark in VOC2012 + SBD formats."""

from pathlib import Path

from iam.data.benchmark import generate_benchmark
from iam.workflow import run


def main(smk) -> None:
    generate_benchmark(Path(smk.output.marker).parent, smk.params.classes, dict(smk.params.synthetic), smk.params.seed)


run(snakemake, main)  # noqa: F821
