"""Code shown in the README runs, and the YAML example in it is a valid instance."""

import os
import re

import yaml
from conftest import ROOT

from outopt.instance.validation import instance_from_data


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_python_blocks_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    for code in blocks("python"):
        exec(compile(code, "README.md", "exec"), {})


def test_readme_format_example_is_valid():
    (example,) = [b for b in blocks("yaml") if b.startswith("name: BrightPath")]
    data = yaml.safe_load(example)
    # the README shows one function of each kind; add the ones its rules name
    for fid in ("collections", "payables", "expenses"):
        data["functions"].append({"id": fid, "inhouse": {"cost": 1}})
    assert instance_from_data(data).name == "BrightPath Ltd"
