# Image for cluster/cloud jobs (profiles/kubernetes): the iam package with every pipeline dependency.
# Build: docker build -t registry/iam-pipeline:0.1.0 .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    OMP_NUM_THREADS=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/iam
COPY pyproject.toml README.md requirements.lock ./
COPY iam ./iam
RUN pip install -c requirements.lock '.[kubernetes]'

WORKDIR /workflow
COPY Snakefile config.yaml ./
COPY config ./config
COPY rules ./rules
COPY workflow_scripts ./workflow_scripts
COPY envs ./envs
