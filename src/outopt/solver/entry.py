"""``outopt.solve``: an instance with a ``roadmap`` section is solved as a multi-year plan
(:func:`outopt.solver.roadmap.solve_roadmap`), any other by :func:`outopt.solver.pipeline.solve`."""

from __future__ import annotations

import functools

import outopt.solver.pipeline as pipeline


@functools.wraps(pipeline.solve)
def solve(instance, *args, **kwargs):
    if getattr(instance, "roadmap", None) is not None:
        from outopt.solver.roadmap import solve_roadmap  # builds with Pyomo: imported when a roadmap is solved

        return solve_roadmap(instance, *args, **kwargs)
    return pipeline.solve(instance, *args, **kwargs)  # looked up at each call (tests replace it)
