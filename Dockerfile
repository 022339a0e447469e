# syntax=docker/dockerfile:1
#
# aksaudit as a container image: `docker build -t aksaudit:0.1.0 .` from the repository root,
# then `docker run --rm aksaudit:0.1.0 scan --subscription <id>` (credentials from the
# environment: workload identity on Kubernetes, a service principal's AZURE_* variables, ...).
#
# Two stages so the image carries no build tooling: the first builds aksaudit's wheel from the
# build context and installs it with every dependency pinned (scripts/image-constraints.txt)
# into a virtual environment; the second copies only that environment onto a fresh base.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# The wheel must carry exactly this version: pip refuses to install anything else.
ARG AKSAUDIT_VERSION=0.1.0
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY auditor/ auditor/
COPY checks/ checks/
COPY reports/ reports/
COPY scripts/image-constraints.txt ./
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/aksaudit \
 && /opt/aksaudit/bin/python -m pip install --constraint image-constraints.txt \
        --find-links /wheels "aksaudit==${AKSAUDIT_VERSION}" \
 && /opt/aksaudit/bin/aksaudit --version

FROM ${PYTHON_IMAGE}
ARG AKSAUDIT_VERSION=0.1.0
LABEL org.opencontainers.image.title="aksaudit" \
      org.opencontainers.image.description="Audits whether AKS clusters' outbound traffic is forced through a firewall that filters." \
      org.opencontainers.image.version="${AKSAUDIT_VERSION}" \
      org.opencontainers.image.licenses="MIT"
# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --system --gid 10001 aksaudit \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/aksaudit --create-home \
        --shell /usr/sbin/nologin aksaudit
COPY --from=build /opt/aksaudit /opt/aksaudit
ENV PATH=/opt/aksaudit/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /home/aksaudit
ENTRYPOINT ["aksaudit"]
CMD ["--help"]
