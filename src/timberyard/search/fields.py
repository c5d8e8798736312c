"""Field names users type, resolved to where the value is stored."""

from __future__ import annotations

from timberyard.search.ast import Field
from timberyard.search.errors import QuerySyntaxError

_COLUMNS = {
    "host": "host",
    "app": "app",
    "level": "level",
    "source": "file",
    "file": "file",
    "env": "env",
    "namespace": "k8s_namespace",
    "pod": "k8s_pod",
    "container": "k8s_container",
    "node": "k8s_node",
}


def resolve_field(name: str, position: int) -> Field:
    """`host`, `tag`, `label.x` ... are built in; any other name is a dotted path into the
    line's meta object (a leading `meta.` is optional)."""
    if name in _COLUMNS:
        return Field("column", name=_COLUMNS[name], fold_case=name == "level")
    if name == "tag":
        return Field("tags")
    if name.startswith("label.") and len(name) > len("label."):
        return Field("label", name=name[len("label.") :])
    path_text = name[len("meta.") :] if name.startswith("meta.") else name
    path = tuple(path_text.split("."))
    if not path_text or any(part == "" for part in path):
        raise QuerySyntaxError(
            f"field name {name!r} has an empty part",
            position,
            "nested fields are written with single dots, like user.id:42",
        )
    return Field("meta", path=path)
