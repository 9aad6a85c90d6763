"""Strict validation of responses against the OpenAPI subsets in shared/reference (RingCentral's,
PortSIP's).

Strict means: every ``$ref`` and ``allOf`` is flattened into one object schema, and objects
accept no property outside the published schema (unless the spec itself says
``additionalProperties: true``, as ``ApiError`` does). Types and enums are checked as written.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

_CANDIDATES = (
    os.environ.get("CALLVAULT_REFERENCE_DIR", ""),
    str(Path(__file__).resolve().parents[2] / "shared" / "reference"),
    str(Path(__file__).resolve().parents[1] / "shared" / "reference"),
)


def reference_file(name: str) -> Path:
    for base in _CANDIDATES:
        if base and (Path(base) / name).is_file():
            return Path(base) / name
    raise FileNotFoundError(f"{name} not found in {', '.join(c for c in _CANDIDATES if c)}")


@functools.cache
def _spec(name: str) -> dict[str, Any]:
    with reference_file(name).open() as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
    return loaded


def _resolve(spec: dict[str, Any], node: Any, seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [_resolve(spec, n, seen) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if ref in seen:  # recursive schema: stop with a permissive node
            return {}
        target: Any = spec
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        return _resolve(spec, target, (*seen, ref))
    node = {k: _resolve(spec, v, seen) for k, v in node.items() if not k.startswith("x-")}
    if "allOf" in node and _scalar_parts(node["allOf"]):
        # allOf around a string or number (PortSIP wraps ids and times so, to attach a
        # description): the keywords merge into one scalar schema.
        merged_scalar: dict[str, Any] = {}
        for part in node.pop("allOf"):
            merged_scalar.update(part)
        merged_scalar.update(node)
        node = merged_scalar
    if "allOf" in node:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        open_ended = False
        for part in node.pop("allOf"):
            merged["properties"].update(part.get("properties", {}))
            merged["required"].extend(part.get("required", []))
            open_ended = open_ended or part.get("additionalProperties") is True
        merged["properties"].update(node.pop("properties", {}))
        merged["required"].extend(node.pop("required", []))
        node.pop("type", None)
        node.pop("additionalProperties", None)
        merged.update(node)
        if open_ended:
            merged["additionalProperties"] = True
        node = merged
    is_object = node.get("type") == "object" or "properties" in node
    if is_object and node.get("additionalProperties") is not True:
        node["additionalProperties"] = False
    for key in ("discriminator", "example", "description", "deprecated", "title"):
        node.pop(key, None)
    if not node.get("required"):
        node.pop("required", None)
    return node


def _scalar_parts(parts: list[Any]) -> bool:
    return bool(parts) and all(
        isinstance(p, dict) and p.get("type") not in (None, "object") for p in parts
    )


@functools.cache
def strict_schema(spec_name: str, schema_name: str) -> dict[str, Any]:
    spec = _spec(spec_name)
    schema: dict[str, Any] = _resolve(spec, spec["components"]["schemas"][schema_name])
    return schema


def validate(
    instance: Any, schema_name: str, spec_name: str = "ringcentral-calllog-openapi.yaml"
) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``instance`` matches the schema strictly."""
    schema = strict_schema(spec_name, schema_name)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        path = "/".join(map(str, first.absolute_path)) or "(root)"
        raise AssertionError(f"{schema_name} violation at {path}: {first.message}")


def strict_response_schema(
    spec_name: str, path: str, method: str = "get", status: str = "200"
) -> dict[str, Any]:
    """The strict schema of one operation's JSON response (for specs whose response schemas
    are written inline under ``paths``, as PortSIP's are). A fresh copy each call."""
    spec = _spec(spec_name)
    response = spec["paths"][path][method]["responses"][status]
    schema: dict[str, Any] = _resolve(spec, response["content"]["application/json"]["schema"])
    return schema


def validate_against(instance: Any, schema: dict[str, Any], label: str) -> None:
    """Raise ``AssertionError`` unless ``instance`` matches ``schema`` (already strict)."""
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        path = "/".join(map(str, first.absolute_path)) or "(root)"
        raise AssertionError(f"{label} violation at {path}: {first.message}")


def assert_rc(instance: Any, schema_name: str) -> Any:
    validate(instance, schema_name)
    return instance
