"""OR-Library generalized assignment problems (Beasley) as outopt instances.

An outsourcing instance with vendor capacities and no in-house option is exactly a
GAP: jobs are functions, agents are vendors. Files hold P problems, each
``m n``, m rows of n costs, m rows of n resource uses, m capacities.

``sense="min"``: the offer's cost is the GAP cost, so the optimum is minus the GAP minimum.
``sense="max"``: the offer's value is the GAP profit, so the optimum is the GAP maximum.
"""

from __future__ import annotations

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
