"""The example notebook runs from top to bottom without an error (executed with nbclient)."""

import nbformat
import pytest
from conftest import ROOT

NOTEBOOK = ROOT / "examples" / "analyst.ipynb"


def test_example_notebook_runs():
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError if any cell errors
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
