"""Field names users type, resolved to where the value is stored."""

from __future__ import annotations

from timberyard.parse.levels import CANONICAL, normalise_level
from timberyard.search.ast import Field
from timberyard.search.errors import QuerySyntaxError
from timberyard.search.text import ascii_upper

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
    "_ingester": "ingester",
    "_format": "format",
}

LEVEL = Field("column", name="level", fold_case=True)
TEMPLATE = Field("template")
BUILT_IN = (*_COLUMNS, "tag", "template", "label.NAME")  # every name resolve_field knows, for messages that list them


def resolve_field(name: str, position: int) -> Field:
    """`host`, `tag`, `template`, `label.x` ... are built in; any other name is a dotted path
    into the line's fields (a leading `meta.` is optional: `meta.template` is a field)."""
    if name == "level":
        return LEVEL
    if name in _COLUMNS:
        return Field("column", name=_COLUMNS[name])
    if name == "tag":
        return Field("tags")
    if name == "template":
        return TEMPLATE
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
    return Field("path", path=path)


def field_value(field: Field, value: str) -> str:
    """A value as the field stores it: lines are stored with canonical level names, so a level
    alias in a query (`warning`, `err`) becomes the name it stands for (`WARN`, `ERROR`). Other
    level values stay prefixes (`level:e` finds ERROR and EMERGENCY)."""
    if field == LEVEL and ascii_upper(value) in CANONICAL:
        return normalise_level(value)
    return value
