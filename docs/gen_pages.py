"""Pages of the manual generated from the repository at each build (mkdocs-gen-files runs this).

* ``index.md``: the README, its links made relative to the manual;
* ``reference/format.md``: the instance format, from the pydantic schema's JSON Schema (every field, its type,
  default, bounds and description);
* ``reference/cli.md``: the command line, from the typer commands (every command, argument and option);
* ``formulation/*.md``: ``models/*.md``; ``benchmarks/index.md``: ``benchmarks/README.md`` and its charts;
  ``examples/analyst.ipynb``: the notebook, to download.
"""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]

README_LINKS = {"(docs/guide/": "(guide/", "(docs/workbench.png": "(workbench.png", "(models/": "(formulation/", "(benchmarks/README.md": "(benchmarks/index.md",
                "(examples/": "(examples/"}


def write(name: str, text: str) -> None:
    with mkdocs_gen_files.open(name, "w") as f:
        f.write(text)


def copy(source: Path, name: str) -> None:
    with mkdocs_gen_files.open(name, "wb") as f:
        f.write(source.read_bytes())


def relinked(text: str, links: dict[str, str]) -> str:
    for old, new in links.items():
        text = text.replace(old, new)
    return text


# --- the instance format, from the schema ---------------------------------------------------------------


def _type(spec: dict | bool) -> str:
    if isinstance(spec, bool):  # JSON Schema's "anything" (True)
        return "any"
    if "$ref" in spec:
        name = spec["$ref"].split("/")[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in spec:
        kinds = [_type(s) for s in spec["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds) + (" or null" if any(s.get("type") == "null" for s in spec["anyOf"]) else "")
    if "oneOf" in spec:
        return " or ".join(_type(s) for s in spec["oneOf"])
    if "enum" in spec:
        return " or ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type(spec.get('items', {}))}"
    if kind == "object" and "additionalProperties" in spec:
        return f"mapping to {_type(spec['additionalProperties'])}"
    return kind


def _bounds(spec: dict) -> str:
    specs = [spec] + [s for s in spec.get("anyOf", []) if s.get("type") != "null"]
    out = []
    for s in specs:
        for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"),
                          ("minLength", "length >="), ("minItems", "items >=")):
            if key in s:
                out.append(f"{sign} {s[key]:g}" if isinstance(s[key], (int, float)) else f"{sign} {s[key]}")
    return ", ".join(out)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _model_section(name: str, spec: dict) -> str:
    lines = [f"## {name}", "", _cell(spec.get("description", "")), "",
             "| field | type | default | bounds | description |", "| --- | --- | --- | --- | --- |"]
    required = set(spec.get("required", []))
    for field, f in spec.get("properties", {}).items():
        default = "required" if field in required else f"`{json.dumps(f.get('default'))}`" if "default" in f else ""
        lines.append(f"| `{field}` | {_cell(_type(f))} | {default} | {_bounds(f)} | {_cell(f.get('description', ''))} |")
    return "\n".join(lines) + "\n"


def format_page() -> str:
    from outopt.instance.schema import Instance

    schema = Instance.model_json_schema()
    parts = ["# The instance format (from the schema)", "",
             "Generated from the pydantic models of `src/outopt/instance/schema.py` at each build: every field, its "
             "type, default and bounds. `outopt schema` prints the same as JSON Schema; the user guide's "
             "[instance format](../guide/format.md) explains it with examples. Unknown fields are errors.", "",
             _model_section("Instance", schema)]
    parts += [_model_section(name, spec) for name, spec in sorted(schema.get("$defs", {}).items())]
    return "\n".join(parts)


# --- the command line, from the commands ----------------------------------------------------------------


def _kind(annotation) -> str:
    """``Optional[float]`` -> ``float``, ``list[Path]`` -> ``paths``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is list:
        return _kind(args[0]) + "s"
    if args:
        return _kind(args[0])
    return {"Path": "path", "str": "text", "float": "number", "int": "whole number"}.get(
        getattr(annotation, "__name__", ""), "")


def cli_page() -> str:
    import typer

    from outopt.cli import app

    group = typer.main.get_command(app)
    parts = ["# The command line (from the commands)", "",
             "Generated from the typer commands of `src/outopt/cli.py` at each build (`outopt COMMAND --help` "
             "says the same). The user guide's [command line](../guide/cli.md) explains the output, the exit "
             "codes and the time limit.", "",
             "`outopt --version` prints the version; `outopt --help` lists the commands.", ""]
    for name, command in group.commands.items():
        params = [p for p in command.params if p.name != "help"]
        usage = " ".join([f"outopt {name}"] + [p.name.upper() + ("..." if getattr(p, "nargs", 1) == -1 else "")
                                              for p in params if p.param_type_name == "argument"] + ["[OPTIONS]"])
        parts += [f"## outopt {name}", "", _cell((command.help or "").strip()), "", f"```text\n{usage}\n```", "",
                  "| argument or option | takes | default | what |", "| --- | --- | --- | --- |"]
        hints = typing.get_type_hints(command.callback)
        for p in params:
            flags = ", ".join(f"`{o}`" for o in p.opts) if p.param_type_name == "option" else f"`{p.name.upper()}`"
            takes = "" if getattr(p, "is_flag", False) else _kind(hints.get(p.name))
            default = "required" if p.required else ("" if p.default in (None, False) else f"`{p.default}`")
            parts.append(f"| {flags} | {takes} | {default} | {_cell(getattr(p, 'help', '') or '')} |")
        parts.append("")
    return "\n".join(parts)


write("index.md", relinked((ROOT / "README.md").read_text(), README_LINKS))
write("reference/format.md", format_page())
write("reference/cli.md", cli_page())
for model in sorted((ROOT / "models").glob("*.md")):
    write(f"formulation/{model.name}", model.read_text())
write("benchmarks/index.md", re.sub(r"\]\((?!http|#)([^)]*\.md)", r"](\1", (ROOT / "benchmarks" / "README.md").read_text()))
for chart in sorted((ROOT / "benchmarks").glob("*.png")):
    copy(chart, f"benchmarks/{chart.name}")
copy(ROOT / "examples" / "analyst.ipynb", "examples/analyst.ipynb")
