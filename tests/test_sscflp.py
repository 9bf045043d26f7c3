"""The SSCFLP reader (src/outopt/instance/orlib.py) reads both layouts right: small instances solve to
their published optima (shared/sscflp/values.csv), and the byte-level oddities of the public files read."""

import csv
from pathlib import Path

import pytest

import outopt
from outopt.instance.orlib import read_sscflp, sscflp_instance

SSCFLP = Path(__file__).resolve().parents[2] / "shared" / "sscflp"
if not SSCFLP.exists():
    SSCFLP = Path("/work/shared/sscflp")
pytestmark = pytest.mark.skipif(not SSCFLP.exists(), reason="the shared SSCFLP files are not on this machine")


def published(name: str) -> float:
    with open(SSCFLP / "values.csv") as fh:
        return next(float(r["optimum"]) for r in csv.DictReader(fh) if r["instance"] == name)


@pytest.mark.parametrize("name, path, layout", [
    ("holmberg-p1", "holmberg/p1", "A"),
    ("cap61", "orlib/cap61", "A"),
    ("delmaire-p1", "delmaire/p1", "B"),
])
def test_small_instances_solve_to_the_published_optimum(name, path, layout):
    inst = sscflp_instance(SSCFLP / path, layout)
    sol = outopt.solve(inst, threads=1)
    assert sol.status == outopt.Status.OPTIMAL
    assert -sol.objective == pytest.approx(published(name), abs=1e-6)


def test_the_oddities_of_the_public_files_read():
    # CRLF and NUL padding (holmberg), a DOS end-of-file mark (delmaire p43), stray numbers (holmberg p47)
    cap, fixed, demand, cost = read_sscflp(SSCFLP / "holmberg/p47", "A")
    assert len(cap) == len(fixed) == len(cost) and all(len(row) == len(demand) for row in cost)
    cap, fixed, demand, cost = read_sscflp(SSCFLP / "delmaire/p43", "B")
    assert len(cap) == len(fixed) == len(cost) and all(len(row) == len(demand) for row in cost)
    with pytest.raises(ValueError, match="layout must be one of A, B"):
        read_sscflp(SSCFLP / "holmberg/p1", "C")


def test_a_gzipped_large_instance_reads_as_100_by_1000():
    inst = sscflp_instance(SSCFLP / "orlib/capa1.gz", "A")
    assert (len(inst.vendors), len(inst.functions), len(inst.offers)) == (100, 1000, 100_000)
    assert all(f.inhouse is None for f in inst.functions)
