"""YAML and JSON instance files (same structure), read defensively.

A file is plain data. The readers here never construct Python objects from YAML tags
(``!!python/object...`` is refused), refuse duplicate keys (YAML with their line), and
enforce :class:`~outopt.instance.io.limits.ReadLimits`: the file size is checked before reading,
YAML alias expansion ("billion laughs") and nesting depth are capped while composing,
JSON depth after parsing. Every refusal is an :class:`~outopt.errors.InputError` with a
message saying what is wrong and where.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.reader import ReaderError
from yaml.resolver import Resolver

try:
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

from outopt.errors import InputError, Problem
from outopt.instance.io.atomic import atomic_write_text
from outopt.instance.io.limits import (
    ENV,
    ReadLimits,
    nesting_depth,
    read_bytes,
    resolve,
    too_deep,
)
from outopt.instance.schema import Instance


def read_text(path: Path, limits: ReadLimits | None = None) -> Any:
    """Parse a YAML or JSON file into plain data; errors name the line and column when known."""
    limits = resolve(limits)
    raw = read_bytes(path, limits)
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError([Problem("", "file is UTF-16 text; save it as UTF-8")], str(path))
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is accepted
    except UnicodeDecodeError as err:
        raise InputError(
            [Problem("", f"not a UTF-8 text file (byte {err.start} is not UTF-8); save it as UTF-8 YAML or JSON")],
            str(path),
        ) from None
    del raw
    if not text.strip():
        raise InputError([Problem("", "file is empty")], str(path))
    try:
        if path.suffix.lower() == ".json":
            data = parse_json(text, limits)
        else:
            data = parse_yaml(text, limits)
    except InputError as err:
        raise err.with_source(str(path)) from None
    if data is None:
        raise InputError([Problem("", "file holds no data (only comments)")], str(path))
    return data


def _too_many_digits(err: ValueError) -> str | None:
    if "integer string conversion" in str(err):
        return "a number has more digits than the 4,300 Python reads"
    return None


# --- JSON ---------------------------------------------------------------------------------


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def parse_json(text: str, limits: ReadLimits | None = None) -> Any:
    """JSON text to plain data, refusing duplicate keys and nesting deeper than the limit."""
    limits = resolve(limits)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as err:
        raise InputError([Problem(f"line {err.lineno}, column {err.colno}", f"invalid JSON: {err.msg}")]) from None
    except _DuplicateKey as err:
        raise InputError([Problem("", f"invalid JSON: key '{err.args[0]}' appears twice in one object; keep one")]) from None
    except RecursionError:
        raise InputError([Problem("", too_deep(limits))]) from None
    except ValueError as err:  # e.g. an integer with more digits than Python converts
        raise InputError([Problem("", f"invalid JSON: {_too_many_digits(err) or err}")]) from None
    if nesting_depth(data) > limits.max_depth:
        raise InputError([Problem("", too_deep(limits))])
    return data


# --- YAML ---------------------------------------------------------------------------------


class _Refused(yaml.MarkedYAMLError):
    """A limit or rule of ours, raised with the place in the file."""

    def __init__(self, message: str, mark):
        super().__init__(problem=message, problem_mark=mark)


class _Guards:
    """What outopt adds to PyYAML's safe loading (no Python objects are ever built).

    It caps the nesting depth and the number of nodes the document expands to, counting
    an aliased node in full at every use, so an alias bomb is refused while it is being
    composed (cheaply: aliases share nodes until construction), at the node that crosses the
    limit (as :func:`_count_nodes` does from the events of a long file), and it refuses duplicate
    keys and tags outside YAML's plain-data types. Composition is PyYAML's Python composer
    in both loaders below, so these checks run whichever parser produces the events.
    """

    limits: ReadLimits

    def _start_guards(self, limits: ReadLimits) -> None:
        self.limits = limits
        self._depth = 0
        self._nodes = 0  # nodes composed so far, an alias counted as the nodes it stands for
        self._weight: dict[int, int] = {}  # id(node) -> nodes it expands to

    # composing: depth and expansion -------------------------------------------------------
    def _count(self, nodes: int, mark) -> None:
        """Count nodes as they are composed, refusing at the one that crosses the limit."""
        self._nodes += nodes
        if self._nodes > self.limits.max_nodes:
            raise _Refused(_too_many_nodes(self.limits), mark)

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if not isinstance(node, ScalarNode) and id(node) not in self._weight:
                raise _Refused("an alias refers to a list or mapping that contains it (a cycle)", mark)
            self._count(self._weight.get(id(node), 1), mark)
            return node
        self._count(1, mark)
        collection = self.check_event(yaml.SequenceStartEvent) or self.check_event(yaml.MappingStartEvent)
        if collection:
            self._depth += 1
            if self._depth > self.limits.max_depth:
                raise _Refused(too_deep(self.limits), mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            if collection:
                self._depth -= 1
        if collection:
            self._weigh(node)
        return node

    def _weigh(self, node) -> None:
        """Record what a list or mapping expands to, for the aliases that will refer to it."""
        if isinstance(node, SequenceNode):
            children = node.value
        else:
            children = [n for pair in node.value for n in pair]
        self._weight[id(node)] = 1 + sum(self._weight.get(id(c), 1) for c in children)

    # constructing: plain data only, no duplicate keys ------------------------------------
    def construct_undefined(self, node):
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise _Refused(
            f"tag '{tag}' is not allowed: instance files hold plain data (mappings, lists, text, numbers)",
            node.start_mark,
        )

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise _Refused(
                        f"key '{key_node.value}' appears twice in one mapping (also on line {seen[key]}); keep one",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


class GuardedLoader(_Guards, yaml.SafeLoader):
    """The guards over PyYAML's pure-Python parser (used when libyaml is not installed)."""

    def __init__(self, stream, limits: ReadLimits):
        super().__init__(stream)
        self._start_guards(limits)


# every tag without a plain-data constructor (``!!python/...``, custom ``!tags``) ends here
GuardedLoader.add_constructor(None, _Guards.construct_undefined)

if CParser is not None:

    class GuardedCLoader(_Guards, Composer, CParser, SafeConstructor, Resolver):
        """The guards over libyaml's parser (C, iterative, ~4x faster) with PyYAML's Python composer."""

        def __init__(self, stream, limits: ReadLimits):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start_guards(limits)

    GuardedCLoader.add_constructor(None, _Guards.construct_undefined)
    LOADER: type = GuardedCLoader
else:  # pragma: no cover - PyYAML wheels ship libyaml
    LOADER = GuardedLoader


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)


def _count_nodes(text: str, limits: ReadLimits) -> None:
    """Refuse a document of more than ``max_nodes`` nodes from the parser's events, before any is
    composed: a 20 MB flow list of 10 million items is refused after its first million events, in
    about 3 seconds and no memory, where composing that million nodes would take ~300 MB first.
    (Aliases are counted at every use while composing, where they cost nothing.)"""
    parser = CParser(text) if CParser is not None else yaml.SafeLoader(text)
    kinds = set(_NODE_EVENTS)
    nodes = 0
    try:
        for event in iter(parser.get_event, None):
            if type(event) in kinds:
                nodes += 1
                if nodes > limits.max_nodes:
                    raise _Refused(_too_many_nodes(limits), event.start_mark)
    finally:
        parser.dispose()


def _too_many_nodes(limits: ReadLimits) -> str:
    return (f"the document expands to more than {limits.max_nodes:,} nodes (aliases counted at every use: "
            f"an alias bomb?); set {ENV['max_nodes']} to allow more")


def parse_yaml(text: str, limits: ReadLimits | None = None) -> Any:
    """YAML text (one document) to plain data, within the limits; errors name line and column."""
    loader = None
    limits = resolve(limits)
    try:
        if 2 * len(text) > limits.max_nodes:  # a node takes about a character at least ("{a,b,c}": 7 nodes)
            _count_nodes(text, limits)
        loader = LOADER(text, limits)  # checks the characters first
        return loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = err.problem or err.context or "syntax error"
        if isinstance(err, _Refused):
            raise InputError([Problem(where, what)]) from None
        if "maximum nesting depth" in what:  # libyaml's own cap (1000), met when it scans ahead
            raise InputError([Problem(where, too_deep(limits))]) from None
        if isinstance(err, ConstructorError) and err.context:
            what = f"{err.context}, {what}"
        if isinstance(err, ComposerError) and err.context and "single document" in err.context:
            what = "a file holds one instance; found a second YAML document ('---')"
        raise InputError([Problem(where, f"invalid YAML: {what}")]) from None
    except ReaderError as err:  # characters YAML does not allow
        line = text.count("\n", 0, err.position) + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        raise InputError(
            [Problem(f"line {line}, column {column}", f"invalid YAML: character #x{err.character:04x} is not allowed")]
        ) from None
    except yaml.YAMLError as err:
        raise InputError([Problem("", f"invalid YAML: {err}")]) from None
    except RecursionError:
        raise InputError([Problem("", too_deep(limits))]) from None
    except ValueError as err:  # e.g. an integer with more digits than Python converts
        raise InputError([Problem("", f"invalid YAML: {_too_many_digits(err) or err}")]) from None
    finally:
        if loader is not None:
            loader.dispose()


# --- writing ------------------------------------------------------------------------------


def instance_to_data(instance: BaseModel) -> dict:
    """Plain data of an instance, leaving out fields at their defaults (readable files)."""
    return instance.model_dump(mode="json", exclude_defaults=True)


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, but text holding a Unicode line break (NEL, U+2028, U+2029) is written
    double-quoted, with escapes: PyYAML's other styles write a NEL as a line break, which reads back
    as a space."""

    def represent_str(self, data: str):
        style = '"' if any(c in data for c in "\x85\u2028\u2029") else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _Dumper.represent_str)


def dump_text(instance: BaseModel, path: Path) -> None:
    """An instance (or a company) as YAML or JSON by the path's extension, defaults left out."""
    data = instance_to_data(instance)
    if path.suffix.lower() == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    atomic_write_text(path, text)


def json_schema() -> str:
    """The JSON Schema of the instance format, from the pydantic models."""
    schema = Instance.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2)
