"""Kubernetes manifests checked against the `kubernetes` client's API models, strictly: the
client's own deserializer ignores fields it does not know, so the walk here refuses them
first (a typo such as `restartPolicies` would otherwise pass), then the deserializer
builds the objects and refuses missing required fields and bad enum-free values."""

import re
from datetime import datetime
from pathlib import Path

import kubernetes.client
import yaml
from kubernetes.client import ApiClient

SCALARS = {"str": str, "int": int, "bool": bool, "float": (int, float),
           "object": object, "datetime": (str, datetime)}


def documents(directory: Path) -> list[tuple[str, dict]]:
    """(file:index, document) of every YAML document under DIRECTORY."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc is not None:
                found.append((f"{path.name}:{index}", doc))
    return found


def model_name(doc: dict) -> str:
    """The client model of a document: V1CronJob for batch/v1 CronJob."""
    return doc["apiVersion"].split("/")[-1].capitalize() + doc["kind"]


def _walk(data: object, type_name: str, where: str) -> list[str]:
    listed = re.fullmatch(r"(?:list|List)\[(.+)\]", type_name)
    if listed:
        if not isinstance(data, list):
            return [f"{where}: expected a list"]
        return [e for i, item in enumerate(data) for e in _walk(item, listed.group(1),
                                                                  f"{where}[{i}]")]
    mapped = re.fullmatch(r"(?:dict\(|Dict\[)[^,]+, (.+)[)\]]", type_name)
    if mapped:
        value_type = mapped.group(1)
        if not isinstance(data, dict):
            return [f"{where}: expected a mapping"]
        return [e for k, v in data.items() for e in _walk(v, value_type, f"{where}.{k}")]
    if type_name in SCALARS:
        ok = isinstance(data, SCALARS[type_name]) and not (
            type_name in ("int", "float") and isinstance(data, bool))
        return [] if ok else [f"{where}: expected {type_name}, got {data!r}"]
    model = getattr(kubernetes.client, type_name)
    if not isinstance(data, dict):
        return [f"{where}: expected a {type_name} mapping"]
    fields = {json_name: attr for attr, json_name in model.attribute_map.items()}
    errors = [f"{where}.{key}: not a field of {type_name}" for key in data if key not in fields]
    for key, value in data.items():
        if key in fields:
            errors += _walk(value, model.openapi_types[fields[key]], f"{where}.{key}")
    return errors


def validate(doc: dict) -> list[str]:
    """What the Kubernetes API models refuse in DOC (nothing: valid)."""
    name = model_name(doc)
    if not hasattr(kubernetes.client, name):
        return [f"no Kubernetes API model {name}"]
    errors = _walk(doc, name, doc["kind"])
    if not errors:
        try:
            ApiClient()._ApiClient__deserialize(doc, name)  # required fields, set by setters
        except (ValueError, TypeError) as exc:
            errors.append(f"{doc['kind']}: {exc}")
    return errors
