"""Instances that are hard on purpose (for time-limit and timeout tests)."""

import random

import outopt


def perfect_packing(vendors: int = 12, seed: int = 1) -> outopt.Instance:
    """Functions whose loads exactly fill every vendor's capacity (a hidden perfect packing):
    a plan exists, but HiGHS does not find one within a few seconds."""
    rng = random.Random(seed)
    loads = []
    for _ in range(vendors):
        cuts = sorted(rng.sample(range(1, 1000), 11))
        loads += [b - a for a, b in zip([0] + cuts, cuts + [1000])]
    rng.shuffle(loads)
    return outopt.Instance(
        name="perfect packing",
        functions=[outopt.Function(id=f"f{i}") for i in range(len(loads))],
        vendors=[outopt.Vendor(id=f"v{j}", capacity=1000) for j in range(vendors)],
        offers=[
            outopt.Offer(function=f"f{i}", vendor=f"v{j}", cost=rng.randint(1, 9), load=load)
            for i, load in enumerate(loads)
            for j in range(vendors)
        ],
    )


def packing_with_status_quo(vendors: int = 12, seed: int = 1) -> outopt.Instance:
    """The perfect packing, but every function now runs in-house (a feasible status quo, handed to
    HiGHS as a start) and saves money when outsourced: plans come at once, the proof of the best
    (the hidden perfect packing) does not."""
    inst = perfect_packing(vendors, seed)
    functions = [f.model_copy(update={"inhouse": outopt.InHouse(cost=20), "current": "inhouse"})
                 for f in inst.functions]
    return inst.replace(name="perfect packing, in-house today", functions=functions)
