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
