"""OR-Library generalized assignment problems against their published optima."""

import csv

import pytest

import outopt
from outopt.instance.orlib import gap_instance, read_gap_file


def known(gap_dir):
    with open(gap_dir / "values.csv") as fh:
        return {(r["file"], int(r["index"]), r["sense"]): float(r["value"]) for r in csv.DictReader(fh)}


def test_files_parse(gap_dir):
    assert len(read_gap_file(gap_dir / "gap1.txt")) == 5
    m, n, cost, use, cap = read_gap_file(gap_dir / "gapd.txt")[5]
    assert (m, n) == (20, 200)


@pytest.mark.parametrize("file", ["gap1.txt", "gap6.txt", "gap12.txt"])
def test_gap_max_optima(gap_dir, file):
    values = known(gap_dir)
    for index in range(1, 6):
        sol = outopt.solve(gap_instance(gap_dir / file, index, "max"))
        assert sol.status == outopt.Status.OPTIMAL
        assert sol.objective == pytest.approx(values[(file, index, "max")])


@pytest.mark.parametrize("index", [1, 2, 3])
def test_gap_type_a_min_optima(gap_dir, index):
    sol = outopt.solve(gap_instance(gap_dir / "gapa.txt", index, "min"))
    assert sol.status == outopt.Status.OPTIMAL
    assert -sol.objective == pytest.approx(known(gap_dir)[("gapa.txt", index, "min")])
