"""The example notebook runs from top to bottom (executed with nbclient) and shows what it is stored with:
each cell's printed and displayed text is the same as the notebook's saved outputs, times and temporary
paths aside, and its charts are drawn."""

import re

import nbformat
import pytest
from conftest import ROOT

NOTEBOOK = ROOT / "examples" / "analyst.ipynb"


def texts(cell) -> list[str]:
    """A code cell's outputs as text: streams, and the plain-text form of displayed values (images as a tag)."""
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o["text"])
        elif "data" in o:
            data = o["data"]
            out.append("<image>" if "image/png" in data else data.get("text/plain", ""))
    text = "".join(out)
    text = re.sub(r"\d+\.\d+s\b", "<t>s", text)  # run times
    text = re.sub(r"/tmp/\S+", "<tmp>", text)
    return [line.rstrip() for line in text.splitlines()]


def test_example_notebook_runs_and_shows_its_saved_outputs():
    nbclient = pytest.importorskip("nbclient")
    saved = nbformat.read(NOTEBOOK, as_version=4)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError if any cell errors
    for i, (ran, kept) in enumerate(zip(nb.cells, saved.cells)):
        if ran.cell_type == "code":
            assert kept.get("outputs"), f"cell {i} is saved without its outputs"
            assert texts(ran) == texts(kept), f"cell {i} shows other output than the notebook saved"
    outputs = {tuple(c.metadata.get("tags", [])): c.outputs for c in nb.cells if c.cell_type == "code"}
    explained = outputs[("explain",)][0]["data"]["text/html"]
    assert "runner_up" in explained and "regret" in explained
    scenario = "".join(o.get("text", "") for o in outputs[("scenario",)])
    assert "net benefit: 339,500 -> 253,833 USD/yr" in scenario
    html = [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.get("output_type") == "execute_result" and "text/html" in o.get("data", {})]
    assert any("<b>BrightPath Ltd</b>: <b>optimal</b>" in h for h in html)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2
    tightened = "".join(o.get("text", "") for o in nb.cells[14].outputs)
    assert "  20,000  infeasible" in tightened  # a limit too tight says so
