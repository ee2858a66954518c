"""The Kubernetes renderer (deploy/k8s/render.py, patches.py): kustomize's resources, patches
(strategic merge and JSON), images and namespace, and its refusals of what it does not
support."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from deploy.k8s.patches import PatchError, json_patch, strategic_merge
from deploy.k8s.render import RenderError, build, main, render, split_image

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: conduct
          args: ["api", "intake"]
          env:
            - name: A
              value: "1"
            - name: B
              value: "2"
        - name: sidecar
          image: other:1.0
"""


def write(directory: Path, name: str, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def base(tmp_path: Path) -> Path:
    directory = tmp_path / "base"
    write(directory, "deployment.yaml", DEPLOYMENT)
    write(
        directory,
        "namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: somewhere\n",
    )
    write(
        directory,
        "kustomization.yaml",
        "resources:\n  - deployment.yaml\n  - namespace.yaml\n",
    )
    return directory


def overlay(tmp_path: Path, kustomization: str, **files: str) -> Path:
    directory = tmp_path / "overlay"
    for name, text in files.items():
        write(directory, f"{name}.yaml", text)
    write(directory, "kustomization.yaml", "resources:\n  - ../base\n" + kustomization)
    return directory


def test_maps_merge_nulls_remove_and_named_lists_merge_by_name() -> None:
    original = {
        "keep": 1,
        "drop": 2,
        "nested": {"a": 1, "b": 2},
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "args": ["x", "y"],
    }
    patch = {
        "drop": None,
        "nested": {"b": 3, "c": 4},
        "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
        "args": ["z"],
    }
    assert strategic_merge(original, patch) == {
        "keep": 1,
        "nested": {"a": 1, "b": 3, "c": 4},
        # kustomize's order: the patch's items first, then the original's others.
        "env": [
            {"name": "B", "value": "20"},
            {"name": "C", "value": "3"},
            {"name": "A", "value": "1"},
        ],
        "args": ["z"],
    }
    assert original["drop"] == 2, "the original is left alone"


def test_strategic_merge_directives_are_refused() -> None:
    with pytest.raises(PatchError, match=r"\$patch"):
        strategic_merge({"a": {"b": 1}}, {"a": {"$patch": "replace"}})


def test_json_patches_add_replace_and_remove() -> None:
    document = {"spec": {"rules": [{"host": "a"}], "tls": [{"hosts": ["a"]}]}}
    patched = json_patch(
        document,
        [
            {"op": "replace", "path": "/spec/rules/0/host", "value": "b"},
            {"op": "add", "path": "/spec/rules/-", "value": {"host": "c"}},
            {"op": "add", "path": "/spec/class", "value": "nginx"},
            {"op": "remove", "path": "/spec/tls"},
        ],
    )
    assert patched == {"spec": {"rules": [{"host": "b"}, {"host": "c"}], "class": "nginx"}}
    assert document["spec"]["rules"] == [{"host": "a"}]


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "/spec/missing", "value": 1},
        {"op": "replace", "path": "/spec/rules/5/host", "value": 1},
        {"op": "move", "path": "/spec/rules", "from": "/spec/tls"},
        {"op": "replace", "path": "/spec/rules"},
        {"op": "add", "path": "spec", "value": 1},
    ],
)
def test_json_patches_that_miss_or_are_unsupported_are_refused(
    operation: dict[str, object],
) -> None:
    with pytest.raises(PatchError):
        json_patch({"spec": {"rules": [{"host": "a"}]}}, [operation])


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("conduct", ("conduct", None, None)),
        ("conduct:1.2", ("conduct", "1.2", None)),
        ("registry:5000/team/conduct", ("registry:5000/team/conduct", None, None)),
        ("registry:5000/conduct:1.2@sha256:ab", ("registry:5000/conduct", "1.2", "sha256:ab")),
    ],
)
def test_image_references_split_into_name_tag_and_digest(
    image: str, parts: tuple[str, str | None, str | None]
) -> None:
    assert split_image(image) == parts


def test_an_overlay_patches_renames_images_and_sets_the_namespace(
    tmp_path: Path, base: Path
) -> None:
    directory = overlay(
        tmp_path,
        textwrap.dedent(
            """\
            namespace: staging
            images:
              - name: conduct
                newName: registry.example/conduct
                newTag: "1.2.3"
            patches:
              - path: resources.yaml
              - path: args.yaml
                target:
                  kind: Deployment
                  name: web
            """
        ),
        resources="""\
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replicas: 3
              template:
                spec:
                  containers:
                    - name: app
                      env:
                        - name: B
                          value: "two"
            """,
        args="""\
            - op: replace
              path: /spec/template/spec/containers/0/args/1
              value: review
            """,
    )
    deployment, namespace = build(directory)
    assert deployment["metadata"]["namespace"] == "staging"
    assert "namespace" not in namespace["metadata"], "a Namespace has none"
    assert deployment["spec"]["replicas"] == 3
    app, sidecar = deployment["spec"]["template"]["spec"]["containers"]
    assert app["image"] == "registry.example/conduct:1.2.3"
    assert sidecar["image"] == "other:1.0"
    assert app["args"] == ["api", "review"]
    assert app["env"] == [{"name": "B", "value": "two"}, {"name": "A", "value": "1"}]


def test_a_digest_pins_the_image(tmp_path: Path, base: Path) -> None:
    directory = overlay(tmp_path, "images:\n  - name: conduct\n    digest: sha256:abc\n")
    (deployment, _) = build(directory)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "conduct@sha256:abc"


@pytest.mark.parametrize(
    ("kustomization", "files", "message"),
    [
        ("commonLabels:\n  a: b\n", {}, "commonLabels not supported"),
        ("resources:\n  - missing.yaml\n", {}, "does not exist"),
        (
            "patches:\n  - path: p.yaml\n",
            {"p": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"},
            "no resource defines",
        ),
        (
            "patches:\n  - path: p.yaml\n",
            {
                "p": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
            },
            "one patch per file",
        ),
        ("patches:\n  - path: p.yaml\n", {"p": "- op: remove\n  path: /spec\n"}, "needs a target"),
        ("patches:\n  - patch: 'inline'\n", {}, "a patch is `path: FILE`"),
        (
            "patches:\n  - path: p.yaml\n    target:\n      kind: Deployment\n      name: web\n",
            {"p": "- op: replace\n  path: /spec/nothing/x\n  value: 1\n"},
            r"p\.yaml: JSON pointer /spec/nothing/x: no 'nothing'",
        ),
        (
            "patches:\n  - path: p.yaml\n",
            {
                "p": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  $patch: replace\n"
            },
            r"p\.yaml: strategic-merge directive",
        ),
        ("images:\n  - name: conduct\n    newTagg: x\n", {}, "an images entry"),
    ],
)
def test_what_the_renderer_does_not_support_is_refused(
    tmp_path: Path, base: Path, kustomization: str, files: dict[str, str], message: str
) -> None:
    directory = tmp_path / "overlay"
    for name, text in files.items():
        write(directory, f"{name}.yaml", text)
    # `resources` given by the case replaces the base; the others add to it.
    resources = "" if kustomization.startswith("resources") else "resources:\n  - ../base\n"
    write(directory, "kustomization.yaml", resources + kustomization)
    with pytest.raises(RenderError, match=message):
        build(directory)


def test_an_object_defined_twice_is_refused(tmp_path: Path, base: Path) -> None:
    write(tmp_path / "overlay", "again.yaml", DEPLOYMENT)
    write(tmp_path / "overlay", "kustomization.yaml", "resources:\n  - ../base\n  - again.yaml\n")
    with pytest.raises(RenderError, match="defined twice"):
        build(tmp_path / "overlay")


def test_the_command_line_renders_an_overlay_with_an_image_override(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["staging", "--image", "conduct=registry.example/conduct:9.9.9"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("# Rendered from deploy/k8s/overlays/staging")
    images = {
        container["image"]
        for document in yaml.safe_load_all(output)
        if document["kind"] in ("Deployment", "Job")
        for container in document["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.example/conduct:9.9.9"}


def test_the_command_line_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "production.yaml"
    assert main(["production", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render("production")


def test_the_command_line_names_the_overlays_it_knows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["qa"]) == 2
    assert "no overlay 'qa' (known: production, staging)" in capsys.readouterr().err
