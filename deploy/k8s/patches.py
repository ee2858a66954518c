"""Strategic-merge and JSON patches, applied as kustomize applies them (the part that
deploy/k8s uses; see render.py).

Strategic merge, simplified to what these manifests need: mappings merge key by key, a null
value removes the key, a list whose items all have a `name` merges item by item on it
(containers, env, volumes, ports, volumeMounts) in kustomize's order (the patch's items, then
the original's others), and any other list is replaced whole, as kustomize does for lists
without a merge key (args, Ingress rules, HPA metrics). `$patch` and the other directives are
refused. JSON patches (RFC 6902): `add`, `replace` and `remove`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

Document = dict[str, Any]


class PatchError(ValueError):
    """A patch that cannot apply: a missing member, or an operation or directive not supported."""


def json_patch(document: Document, operations: Sequence[Mapping[str, Any]]) -> Document:
    """RFC 6902's add, replace and remove, applied to a copy of `document`."""
    patched: Document = copy.deepcopy(document)
    for operation in operations:
        op, pointer = operation.get("op"), operation.get("path")
        if op not in ("add", "replace", "remove") or not isinstance(pointer, str):
            raise PatchError(f"JSON patch operation not supported: {dict(operation)!r}")
        if op != "remove" and "value" not in operation:
            raise PatchError(f"JSON patch {op} of {pointer} has no value")
        parent, key = _locate(patched, pointer)
        value = copy.deepcopy(operation.get("value"))
        if isinstance(parent, list):
            if op == "add" and key == "-":
                parent.append(value)
                continue
            index = _index(parent, key, pointer, inserting=op == "add")
            if op == "add":
                parent.insert(index, value)
            elif op == "replace":
                parent[index] = value
            else:
                del parent[index]
        else:
            if op != "add" and key not in parent:
                raise PatchError(f"JSON patch {op} of {pointer}: no such member")
            if op == "remove":
                del parent[key]
            else:
                parent[key] = value
    return patched


def strategic_merge(original: Any, patch: Any) -> Any:
    """`patch` merged into `original` (neither is changed), by the rules in the module's doc."""
    if isinstance(patch, Mapping):
        if not isinstance(original, Mapping):
            return _without_nulls(patch)
        merged = copy.deepcopy(dict(original))
        for key, value in patch.items():
            if isinstance(key, str) and key.startswith("$"):
                raise PatchError(f"strategic-merge directive {key!r} is not supported")
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value)
            else:
                merged[key] = _without_nulls(value)
        return merged
    if isinstance(patch, list) and isinstance(original, list) and _named(original, patch):
        # kustomize's order: the patch's items (merged into the original's of the same name),
        # then the original's other items.
        originals = {item["name"]: item for item in original}
        patched = [
            strategic_merge(originals[item["name"]], item)
            if item["name"] in originals
            else _without_nulls(item)
            for item in patch
        ]
        named = {item["name"] for item in patch}
        return patched + [copy.deepcopy(item) for item in original if item["name"] not in named]
    return _without_nulls(patch)


# -- details


def _locate(document: Document, pointer: str) -> tuple[Any, Any]:
    """The container that holds the last token of a JSON pointer, and that token."""
    if not pointer.startswith("/"):
        raise PatchError(f"JSON pointer {pointer!r} must start with /")
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]
    node: Any = document
    for token in tokens[:-1]:
        if isinstance(node, list):
            node = node[_index(node, token, pointer, inserting=False)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise PatchError(f"JSON pointer {pointer}: no {token!r}")
    if not isinstance(node, list | dict):
        raise PatchError(f"JSON pointer {pointer}: {tokens[-2]!r} holds no members")
    return node, tokens[-1]


def _index(items: list[Any], token: str, pointer: str, *, inserting: bool) -> int:
    if not token.isdigit() or int(token) > len(items) - (0 if inserting else 1):
        raise PatchError(f"JSON pointer {pointer}: no item {token!r}")
    return int(token)


def _named(*lists: list[Any]) -> bool:
    return all(isinstance(item, Mapping) and "name" in item for items in lists for item in items)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value
