"""What the deploy tests share: where the files are, and rendered overlays read back."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from deploy.k8s.render import render

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
OVERLAYS = ("staging", "production")
SERVICES = ("intake", "review", "registry")
API_PORTS = {"intake": 8001, "review": 8002, "registry": 8003}
# What the Ingress may send to registry: its read API for auditors and dashboards.
REGISTRY_READ_PREFIXES = ("/v1/violations", "/v1/audit", "/v1/catalogue")
SECRET_VARIABLES = frozenset(
    {"DATABASE_URL", "REDIS_URL", "PSEUDONYM_KEY", "REGISTRY_CHECKPOINT_SIGNING_KEY"}
)

Document = dict[str, Any]


@functools.cache
def _rendered(overlay: str) -> str:
    return render(overlay)


def rendered(overlay: str) -> list[Document]:
    """A fresh copy of the overlay's objects (rendered once per run)."""
    return [document for document in yaml.safe_load_all(_rendered(overlay)) if document]


def of_kind(documents: list[Document], kind: str) -> dict[str, Document]:
    return {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == kind}


def pod_spec(workload: Document) -> Document:
    spec: Document = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Document) -> Iterator[Document]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def labels_match(selector: Document, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels only; {} selects everything) against a pod's labels."""
    assert not selector.get("matchExpressions"), "tests only read matchLabels"
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())
