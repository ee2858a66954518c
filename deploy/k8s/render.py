"""Renders an overlay of deploy/k8s to one multi-document YAML stream, without kustomize.

    python -m deploy.k8s.render production | kubectl apply -f -
    python -m deploy.k8s.render staging -o rendered-staging.yaml
    python -m deploy.k8s.render production --image conduct=registry.example/conduct:1.2.3

The files under deploy/k8s are ordinary kustomize (`kubectl apply -k deploy/k8s/overlays/...`
builds the same objects, perhaps in another order). This module reads the part of
kustomization.yaml that they use, and refuses any other field rather than ignore it:

- `resources`: YAML files (one or more documents each) and directories with their own
  kustomization.yaml, in order;
- `patches`: `- path: FILE`, one patch per file: a strategic-merge patch, applied to the object
  with the patch's own apiVersion, kind and metadata.name; or a JSON patch (RFC 6902: a list
  of `add`, `replace` and `remove` operations) with a `target: {kind, name}`. The target must
  exist;
- `images`: `name` with `newName`, `newTag` and/or `digest`, applied to every container and init
  container whose image has that name;
- `namespace`: set on every namespaced object.

How the patches merge: patches.py.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from deploy.k8s.patches import Document, PatchError, json_patch, strategic_merge

K8S_ROOT = Path(__file__).resolve().parent
KUSTOMIZATION = "kustomization.yaml"
KNOWN_FIELDS = frozenset({"apiVersion", "kind", "resources", "patches", "images", "namespace"})
IMAGE_FIELDS = frozenset({"name", "newName", "newTag", "digest"})
# Kinds that have no namespace (of those a kustomization is likely to hold).
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "PersistentVolume",
        "PriorityClass",
        "StorageClass",
        "ValidatingWebhookConfiguration",
    }
)


class RenderError(Exception):
    """The manifests cannot be rendered: a missing file or target, or an unsupported field."""


def overlay_directory(overlay: str | Path) -> Path:
    """An overlay's directory: a path to one, `base`, or the name of one in deploy/k8s/overlays."""
    candidate = Path(overlay)
    if candidate.is_dir():
        return candidate
    if str(overlay) == "base":
        return K8S_ROOT / "base"
    named = K8S_ROOT / "overlays" / str(overlay)
    if named.is_dir():
        return named
    known = ", ".join(overlay_names()) or "none"
    raise RenderError(f"no overlay {str(overlay)!r} (known: {known})")


def overlay_names() -> list[str]:
    """The overlays under deploy/k8s/overlays, by name."""
    overlays = K8S_ROOT / "overlays"
    return sorted(entry.name for entry in overlays.iterdir() if (entry / KUSTOMIZATION).is_file())


def build(directory: Path, *, images: Sequence[Mapping[str, str]] = ()) -> list[Document]:
    """Every object of the kustomization in `directory`, with its patches, images and namespace.
    `images` replace the kustomization's entries of the same name (or are added), as
    `kustomize edit set image` would."""
    kustomization = _load_kustomization(directory)
    documents: list[Document] = []
    for entry in _string_list(kustomization, "resources", directory):
        path = directory / entry
        if path.is_dir():
            documents.extend(build(path))
        elif path.is_file():
            documents.extend(load_documents(path))
        else:
            raise RenderError(f"{directory / KUSTOMIZATION}: resource {entry!r} does not exist")
    _refuse_duplicates(documents, directory)
    for patch_entry in kustomization.get("patches") or []:
        _apply_patch_entry(documents, patch_entry, directory)
    image_entries = [_image_entry(image, directory) for image in kustomization.get("images") or []]
    by_name = {entry["name"]: entry for entry in [*image_entries, *map(dict, images)]}
    for image_entry in by_name.values():
        set_image(documents, image_entry)
    namespace = kustomization.get("namespace")
    if namespace is not None:
        set_namespace(documents, str(namespace))
    return documents


def load_documents(path: Path) -> list[Document]:
    """The non-empty YAML documents of a file, each a mapping with apiVersion, kind and name."""
    try:
        with path.open(encoding="utf-8") as stream:
            loaded = [document for document in yaml.safe_load_all(stream) if document is not None]
    except FileNotFoundError:
        raise RenderError(f"{path} does not exist") from None
    except yaml.YAMLError as error:
        raise RenderError(f"{path}: not valid YAML: {error}") from None
    documents: list[Document] = []
    for document in loaded:
        if not isinstance(document, dict) or not {"apiVersion", "kind"} <= document.keys():
            raise RenderError(f"{path}: every document needs apiVersion and kind")
        if not isinstance(document.get("metadata"), dict) or "name" not in document["metadata"]:
            raise RenderError(f"{path}: a {document['kind']} without metadata.name")
        documents.append(document)
    return documents


def apply_patch(documents: list[Document], patch: Document, *, source: Path) -> None:
    """Merge `patch` into the object it names (same apiVersion, kind and metadata.name)."""
    for index, document in enumerate(documents):
        if _identity(document) == _identity(patch):
            try:
                documents[index] = strategic_merge(document, patch)
            except PatchError as error:
                raise RenderError(f"{source}: {error}") from None
            return
    raise RenderError(f"{source}: patches {_describe(patch)}, which no resource defines")


def set_image(documents: Iterable[Document], image: Mapping[str, str]) -> None:
    """kustomize's `images` entry: rename, retag or pin by digest every matching container image."""
    for document in documents:
        for container in _containers(document):
            current = container.get("image")
            if not isinstance(current, str):
                continue
            name, tag, digest = split_image(current)
            if name != image["name"]:
                continue
            name = image.get("newName", name)
            tag = image.get("newTag", tag)
            digest = image.get("digest", digest)
            if digest:
                container["image"] = f"{name}@{digest}"
            elif tag:
                container["image"] = f"{name}:{tag}"
            else:
                container["image"] = name


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """`registry:5000/team/app:1.2@sha256:...` -> (`registry:5000/team/app`, `1.2`, `sha256:...`)."""
    reference, _, digest = image.partition("@")
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :], digest or None
    return reference, None, digest or None


def set_namespace(documents: Iterable[Document], namespace: str) -> None:
    for document in documents:
        if document["kind"] not in CLUSTER_SCOPED:
            document["metadata"]["namespace"] = namespace


def image_override(spec: str) -> dict[str, str]:
    """`conduct=registry.example/conduct:1.2.3` (or `@sha256:...`) as an `images` entry, like
    `kustomize edit set image`."""
    name, equals, reference = spec.partition("=")
    if not equals or not name or not reference:
        raise RenderError(f"--image {spec!r}: expected NAME=IMAGE[:TAG][@DIGEST]")
    new_name, tag, digest = split_image(reference)
    entry = {"name": name, "newName": new_name}
    if tag:
        entry["newTag"] = tag
    if digest:
        entry["digest"] = digest
    return entry


def render(overlay: str | Path, *, images: Sequence[str] = ()) -> str:
    """The overlay's objects as one YAML stream, ready for `kubectl apply -f -`; `images`
    (`NAME=IMAGE:TAG`) replace the overlay's entries for NAME, for a release pipeline."""
    directory = overlay_directory(overlay)
    documents = build(directory, images=[image_override(spec) for spec in images])
    try:
        shown = directory.resolve().relative_to(K8S_ROOT.parent.parent)
    except ValueError:
        shown = directory
    header = (
        f"# Rendered from {shown} by `python -m deploy.k8s.render`: edit the sources, not this.\n"
    )
    body = yaml.safe_dump_all(
        documents, sort_keys=False, explicit_start=True, default_flow_style=False, width=100
    )
    return header + body


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.k8s.render",
        description="Render a kustomize overlay of deploy/k8s to multi-document YAML.",
        epilog="Example: python -m deploy.k8s.render production | kubectl apply -f -",
    )
    parser.add_argument(
        "overlay", help=f"an overlay's name ({', '.join(overlay_names())}), `base`, or a directory"
    )
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="NAME=IMAGE:TAG",
        help="set an image after the overlay's own, e.g. conduct=registry.example/conduct:1.2.3",
    )
    args = parser.parse_args(argv)
    try:
        rendered = render(args.overlay, images=args.image)
    except RenderError as error:
        print(f"render: {error}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(rendered)
    else:
        args.output.write_text(rendered, encoding="utf-8")
    return 0


# -- details


def _load_kustomization(directory: Path) -> dict[str, Any]:
    path = directory / KUSTOMIZATION
    try:
        with path.open(encoding="utf-8") as stream:
            kustomization = yaml.safe_load(stream)
    except FileNotFoundError:
        raise RenderError(f"{directory} has no {KUSTOMIZATION}") from None
    if not isinstance(kustomization, dict):
        raise RenderError(f"{path} is not a mapping")
    unknown = sorted(set(kustomization) - KNOWN_FIELDS)
    if unknown:
        raise RenderError(
            f"{path}: {', '.join(unknown)} not supported by this renderer "
            f"(it reads {', '.join(sorted(KNOWN_FIELDS))}); use kustomize, or extend render.py"
        )
    return kustomization


def _apply_patch_entry(documents: list[Document], entry: Any, directory: Path) -> None:
    where = directory / KUSTOMIZATION
    if (
        not isinstance(entry, Mapping)
        or "path" not in entry
        or not set(entry) <= {"path", "target"}
    ):
        raise RenderError(f"{where}: a patch is `path: FILE` (and `target:` for a JSON patch)")
    path = directory / str(entry["path"])
    try:
        with path.open(encoding="utf-8") as stream:
            contents = [content for content in yaml.safe_load_all(stream) if content is not None]
    except FileNotFoundError:
        raise RenderError(f"{path} does not exist") from None
    if len(contents) != 1:
        # kustomize's `patches` takes one patch per file, and so does this renderer.
        raise RenderError(f"{path}: one patch per file, found {len(contents)}")
    patch = contents[0]
    target = entry.get("target")
    if isinstance(patch, list):
        if not isinstance(target, Mapping) or not {"kind", "name"} <= set(target):
            raise RenderError(f"{where}: the JSON patch {path.name} needs a target kind and name")
        if not set(target) <= {"group", "version", "kind", "name"}:
            raise RenderError(f"{where}: a target names group, version, kind and name only")
        if not all(isinstance(operation, Mapping) for operation in patch):
            raise RenderError(f"{path}: a JSON patch is a list of operations")
        index = _find_target(documents, target, source=path)
        try:
            documents[index] = json_patch(documents[index], patch)
        except PatchError as error:
            raise RenderError(f"{path}: {error}") from None
        return
    if target is not None:
        raise RenderError(f"{where}: a strategic-merge patch names its target itself")
    if not isinstance(patch, dict) or not {"apiVersion", "kind"} <= patch.keys():
        raise RenderError(f"{path}: a strategic-merge patch has apiVersion, kind and metadata.name")
    if not isinstance(patch.get("metadata"), dict) or "name" not in patch["metadata"]:
        raise RenderError(f"{path}: a strategic-merge patch has apiVersion, kind and metadata.name")
    apply_patch(documents, patch, source=path)


def _find_target(documents: Sequence[Document], target: Mapping[str, Any], *, source: Path) -> int:
    for index, document in enumerate(documents):
        group, _, version = str(document["apiVersion"]).rpartition("/")
        if (
            document["kind"] == target["kind"]
            and document["metadata"]["name"] == target["name"]
            and target.get("group", group) == group
            and target.get("version", version) == version
        ):
            return index
    raise RenderError(f"{source}: no {target['kind']} {target['name']} to patch")


def _string_list(kustomization: Mapping[str, Any], field: str, directory: Path) -> list[str]:
    values = kustomization.get(field) or []
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise RenderError(f"{directory / KUSTOMIZATION}: {field} must be a list of paths")
    return values


def _image_entry(image: Any, directory: Path) -> dict[str, str]:
    if not isinstance(image, Mapping) or "name" not in image or not set(image) <= IMAGE_FIELDS:
        raise RenderError(
            f"{directory / KUSTOMIZATION}: an images entry has a name and any of "
            f"newName, newTag, digest; got {image!r}"
        )
    return {str(key): str(value) for key, value in image.items()}


def _identity(document: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(document["apiVersion"]), str(document["kind"]), str(document["metadata"]["name"]))


def _describe(document: Mapping[str, Any]) -> str:
    api_version, kind, name = _identity(document)
    return f"{kind} {name} ({api_version})"


def _refuse_duplicates(documents: Sequence[Document], directory: Path) -> None:
    seen: set[tuple[str, str, str]] = set()
    for document in documents:
        identity = _identity(document)
        if identity in seen:
            raise RenderError(f"{directory}: {_describe(document)} is defined twice")
        seen.add(identity)


def _containers(node: Any) -> Iterable[dict[str, Any]]:
    """Every container and init container anywhere in an object (pod templates, job templates)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                yield from (item for item in value if isinstance(item, dict))
            else:
                yield from _containers(value)
    elif isinstance(node, list):
        for item in node:
            yield from _containers(item)


if __name__ == "__main__":
    raise SystemExit(main())
