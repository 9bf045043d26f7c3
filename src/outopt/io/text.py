"""YAML and JSON instance files (same structure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from outopt.errors import InputError, Problem
from outopt.io.atomic import atomic_write_text
from outopt.schema import Instance


def read_text(path: Path) -> Any:
    """Parse a YAML or JSON file into plain data; syntax errors name the line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputError([Problem("", f"not a text file (byte {err.start} is not UTF-8)")], str(path)) from None
    except OSError as err:
        raise InputError([Problem("", f"cannot be read: {err.strerror}")], str(path)) from None
    if not text.strip():
        raise InputError([Problem("", "file is empty")], str(path))
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(
                [Problem(f"line {err.lineno}, column {err.colno}", f"invalid JSON: {err.msg}")], str(path)
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = err.problem or err.context or "syntax error"
        raise InputError([Problem(where, f"invalid YAML: {what}")], str(path)) from None
    except yaml.YAMLError as err:
        raise InputError([Problem("", f"invalid YAML: {err}")], str(path)) from None


def instance_to_data(instance: Instance) -> dict:
    """Plain data of an instance, leaving out fields at their defaults (readable files)."""
    return instance.model_dump(mode="json", exclude_defaults=True)


def dump_text(instance: Instance, path: Path) -> None:
    data = instance_to_data(instance)
    if path.suffix.lower() == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    atomic_write_text(path, text)


def json_schema() -> str:
    """The JSON Schema of the instance format, from the pydantic models."""
    schema = Instance.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2)
