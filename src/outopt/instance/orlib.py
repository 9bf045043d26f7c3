"""Public benchmark problems as outopt instances: OR-Library generalized assignment problems (GAP)
and single-source capacitated facility location problems (SSCFLP).

An outsourcing instance with vendor capacities and no in-house option is exactly a
GAP: jobs are functions, agents are vendors. Files hold P problems, each
``m n``, m rows of n costs, m rows of n resource uses, m capacities.

``sense="min"``: the offer's cost is the GAP cost, so the optimum is minus the GAP minimum.
``sense="max"``: the offer's value is the GAP profit, so the optimum is the GAP maximum.

With retainers added, it is an SSCFLP: customers are functions with no in-house option,
facilities are vendors (opening cost = ``retainer``, ``capacity``), the cost of serving a
customer's whole demand from a facility is the offer's ``cost`` and the demand is every offer's
``load``. Horizon 1, so the optimum is minus the SSCFLP minimum. Two file layouts:

* ``A`` (Holmberg; OR-Library cap and capa-capc): ``m n``; m lines ``capacity fixed_cost``;
  n demands; m rows of n costs (facility-major);
* ``B`` (Delmaire): ``n m``; n rows of m costs (customer-major); n demands; m fixed costs;
  m capacities.

Only the numbers a layout needs are read: NUL padding, a DOS end-of-file mark and stray
numbers after the instance are ignored.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from outopt.instance.schema import Function, Instance, Offer, Vendor


def read_gap_file(path: str | Path) -> list[tuple[int, int, list[list[int]], list[list[int]], list[int]]]:
    """Parse an OR-Library GAP file into (m, n, cost, use, capacity) tuples."""
    tokens = [int(t) for t in Path(path).read_text().split()]
    pos = 0

    def take(k):
        nonlocal pos
        out = tokens[pos:pos + k]
        pos += k
        return out

    problems = []
    (count,) = take(1)
    for _ in range(count):
        m, n = take(2)
        cost = [take(n) for _ in range(m)]
        use = [take(n) for _ in range(m)]
        cap = take(m)
        problems.append((m, n, cost, use, cap))
    if pos != len(tokens):
        raise ValueError(f"{path}: {len(tokens) - pos} tokens left over")
    return problems


def gap_instance(path: str | Path, index: int, sense: str = "min") -> Instance:
    """Problem ``index`` (1-based) of a GAP file as an instance."""
    m, n, cost, use, cap = read_gap_file(path)[index - 1]
    name = f"{Path(path).stem}-{index}-{sense}"
    functions = [Function(id=f"j{j + 1}") for j in range(n)]
    vendors = [Vendor(id=f"a{i + 1}", capacity=cap[i]) for i in range(m)]
    offers = [
        Offer(function=f"j{j + 1}", vendor=f"a{i + 1}", load=use[i][j],
              **({"cost": cost[i][j]} if sense == "min" else {"value": cost[i][j]}))
        for i in range(m)
        for j in range(n)
    ]
    return Instance(name=name, functions=functions, vendors=vendors, offers=offers)


SSCFLP_LAYOUTS = ("A", "B")


def read_sscflp(path: str | Path, layout: str) -> tuple[list[float], list[float], list[float], list[list[float]]]:
    """Parse an SSCFLP file: (capacity per facility, fixed cost per facility, demand per customer,
    cost[facility][customer] of serving the customer's whole demand)."""
    if layout not in SSCFLP_LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(SSCFLP_LAYOUTS)}, got {layout!r}")
    path = Path(path)
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    numbers = [float(t) for t in re.findall(rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", raw)]
    pos = 0

    def take(k: int) -> list[float]:
        nonlocal pos
        if pos + k > len(numbers):
            raise ValueError(f"{path}: the file ends after {len(numbers)} numbers; layout {layout} needs more")
        out = numbers[pos:pos + k]
        pos += k
        return out

    if layout == "A":
        m, n = map(int, take(2))
        pairs = take(2 * m)
        capacity, fixed = pairs[0::2], pairs[1::2]
        demand = take(n)
        cost = [take(n) for _ in range(m)]
    else:
        n, m = map(int, take(2))
        by_customer = [take(m) for _ in range(n)]
        demand = take(n)
        fixed = take(m)
        capacity = take(m)
        cost = [[by_customer[i][j] for i in range(n)] for j in range(m)]
    return capacity, fixed, demand, cost


def sscflp_instance(path: str | Path, layout: str) -> Instance:
    """An SSCFLP file as an instance (see the module docstring); its optimum is minus the SSCFLP minimum."""
    capacity, fixed, demand, cost = read_sscflp(path, layout)
    name = Path(path).name.removesuffix(".gz")
    functions = [Function(id=f"c{i + 1}") for i in range(len(demand))]
    vendors = [Vendor(id=f"f{j + 1}", retainer=fixed[j], capacity=capacity[j]) for j in range(len(fixed))]
    offers = [
        Offer(function=f"c{i + 1}", vendor=f"f{j + 1}", cost=cost[j][i], load=demand[i])
        for j in range(len(fixed))
        for i in range(len(demand))
    ]
    return Instance(name=name, functions=functions, vendors=vendors, offers=offers)
