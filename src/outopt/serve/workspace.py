"""One browser's workbench: the instance it opened, the steering applied to it, its scenarios.

A browser is known by a random id in a cookie; one browser never sees another's workspace. Steering is
a list of edits over the instance as opened (a lock of a function to a provider, a ban of an offer, a
new value of a limit), applied through :func:`outopt.analysis.scenarios.apply_overrides`, so the edited
instance is validated like a file. Each solve is kept as a named scenario.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from outopt.analysis.frontier import LIMITS as FRONTIER_LIMITS
from outopt.analysis.scenarios import apply_overrides
from outopt.errors import Problem
from outopt.instance.schema import INHOUSE, Instance

MAX_WORKSPACES = 200
"""Browsers remembered at once; the one unseen longest is forgotten first."""
MAX_SCENARIOS = 30
"""Scenarios kept per browser; the oldest is dropped first."""
MAX_ACTIVE_JOBS = 3
"""Jobs one browser may have queued or running at once."""


@dataclass(frozen=True)
class Edit:
    """One steering change. kind: ``lock`` (function -> provider), ``ban`` (function, provider) or
    ``limit`` (path -> value; None removes an optional limit)."""

    kind: str
    function: str = ""
    provider: str = ""
    path: str = ""
    value: float | None = None
    reason: str = ""

    def describe(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        if self.kind == "lock":
            return f"lock {self.function} to {_provider(self.provider)}{why}"
        if self.kind == "ban":
            return f"ban {_provider(self.provider)} for {self.function}{why}"
        return f"{self.path} = {'no limit' if self.value is None else f'{self.value:,.6g}'}"

    def replaces(self, other: Edit) -> bool:
        """A new edit replaces an earlier one of the same thing (the same function's lock, offer's ban, limit)."""
        if self.kind != other.kind:
            return False
        if self.kind == "lock":
            return self.function == other.function
        if self.kind == "ban":
            return (self.function, self.provider) == (other.function, other.provider)
        return self.path == other.path


def _provider(p: str) -> str:
    return "in-house" if p == INHOUSE else p


def apply_edits(base: Instance, edits: list[Edit]) -> Instance:
    """The instance as steered: every edit applied, validated; problems as ``steering...`` places."""
    overrides: dict = {e.path: e.value for e in edits if e.kind == "limit"}
    locks = [{"function": e.function, "provider": e.provider, "reason": e.reason} for e in edits if e.kind == "lock"]
    bans = [{"functions": [e.function], "vendors": [e.provider], "reason": e.reason} for e in edits if e.kind == "ban"]
    if locks or bans:
        overrides["add"] = {k: v for k, v in (("rules.locks", locks), ("rules.forbid", bans)) if v}
    return apply_overrides(base, overrides, where="steering") if overrides else base


def steerable_limits(inst: Instance) -> list[tuple[str, str, float | None]]:
    """The limits a planner can change: (path, label, current value or None)."""
    out = [("budget.operating", "operating budget", inst.budget.operating),
           ("budget.transition", "transition budget", inst.budget.transition)]
    out += [(f"resources.{r.id}.capacity", f"{r.name or r.id} capacity", r.capacity) for r in inst.resources]
    for v in inst.vendors:
        out += [(f"vendors.{v.id}.capacity", f"{v.name or v.id} capacity", v.capacity),
                (f"vendors.{v.id}.max_share", f"{v.name or v.id} max share", v.max_share)]
    out += [("rules.max_vendors", "max vendors", inst.rules.max_vendors),
            ("rules.max_changes", "max changes", inst.rules.max_changes)]
    return out


def frontier_limits(inst: Instance) -> list[tuple[str, str, float, float]]:
    """The limits a frontier can sweep, set in this instance: (path, label, default from, default to)."""
    vendors_with_offers = {o.vendor for o in inst.offers}
    out = []
    for path, label, value in steerable_limits(inst):
        head, _, rest = path.partition(".")
        kind = f"{head}.{rest.rpartition('.')[2]}" if head in ("resources", "vendors") else path
        if kind not in FRONTIER_LIMITS or value is None:
            continue
        if head == "vendors" and rest.partition(".")[0] not in vendors_with_offers:
            continue
        if kind == "rules.max_vendors":
            low, high = max(0, int(value) - 2), int(value) + 2
        elif kind == "vendors.max_share":
            low, high = round(value / 2, 4) or 0.01, min(1.0, round(value * 1.5, 4))
        else:
            low, high = round(value * 0.5, 2), round(value * 1.5, 2)
        out.append((path, label, low, high))
    return out


@dataclass
class Scenario:
    """One solve kept for comparison: its name, the instance solved, the edits it had, what came back."""

    id: int
    name: str
    instance: Instance
    edits: tuple[Edit, ...]
    solved: object  # outopt.serve.work.Solved
    explanation: object | None = None  # outopt.analysis.explain.Explanation, once asked for
    created: float = field(default_factory=time.time)

    @property
    def solution(self):
        return self.solved.solution


@dataclass
class Notice:
    """What the page says about the last action: a title and the problems, each at its place."""

    title: str
    problems: list[Problem] = field(default_factory=list)
    kind: str = "error"  # or "info"


class Workspace:
    """One browser's state. Mutate it only under ``lock`` (requests and finishing jobs run in threads)."""

    def __init__(self, wid: str):
        self.id = wid
        self.lock = threading.RLock()
        self.fresh = True  # its cookie is not set yet
        self.seen = time.time()
        self.reset()

    def reset(self, source: str | None = None, base: Instance | None = None) -> None:
        self.source = source
        self.base = base
        self.instance = base
        self.edits: list[Edit] = []
        self.scenarios: OrderedDict[int, Scenario] = OrderedDict()
        self.next_id = 1
        self.runs = 0  # solves started: the next default name is 'Run <runs + 1>'
        self.selected: int | None = None
        self.compared: list[int] = []
        self.why: tuple[int, str] | None = None
        self.frontier = None  # outopt.serve.work.Traced
        self.jobs: dict[str, object] = {}  # active jobs (outopt.serve.jobs.Job) by id
        self.notice: Notice | None = None

    # --- steering -------------------------------------------------------------------------
    def steer(self, edit: Edit) -> None:
        """Add an edit (replacing one of the same thing); raise InputError and change nothing if the
        steered instance is invalid."""
        edits = [e for e in self.edits if not edit.replaces(e)] + [edit]
        self.instance = apply_edits(self.base, edits)
        self.edits = edits

    def unsteer(self, index: int) -> None:
        edits = [e for k, e in enumerate(self.edits) if k != index]
        self.instance = apply_edits(self.base, edits)
        self.edits = edits

    # --- scenarios ------------------------------------------------------------------------
    def scenario_name(self, wanted: str) -> str:
        """A name not taken yet: the one asked for (or 'Run N'), with ' (2)', ' (3)'... when taken."""
        wanted = " ".join(wanted.split())[:60] or f"Run {self.runs + 1}"
        names = {s.name for s in self.scenarios.values()}
        name, k = wanted, 2
        while name in names:
            name, k = f"{wanted} ({k})", k + 1
        return name

    def add_scenario(self, name: str, instance: Instance, edits: tuple[Edit, ...], solved) -> Scenario:
        sc = Scenario(self.next_id, self.scenario_name(name), instance, edits, solved)
        self.next_id += 1
        self.scenarios[sc.id] = sc
        while len(self.scenarios) > MAX_SCENARIOS:
            old, _ = self.scenarios.popitem(last=False)
            self.compared = [k for k in self.compared if k != old]
        self.selected = sc.id
        return sc

    def drop_scenario(self, sid: int) -> None:
        self.scenarios.pop(sid, None)
        self.compared = [k for k in self.compared if k != sid]
        if self.selected == sid:
            self.selected = next(reversed(self.scenarios), None) if self.scenarios else None
        if self.why and self.why[0] == sid:
            self.why = None

    @property
    def current(self) -> Scenario | None:
        return self.scenarios.get(self.selected) if self.selected is not None else None


class Workspaces:
    """The workspaces of every browser, by the random id in its cookie."""

    COOKIE = "outopt_workbench"

    def __init__(self, limit: int = MAX_WORKSPACES):
        self._all: OrderedDict[str, Workspace] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    def find(self, wid: str | None) -> Workspace | None:
        with self._lock:
            ws = self._all.get(wid or "")
            if ws is not None:
                self._all.move_to_end(ws.id)
                ws.seen = time.time()
            return ws

    def of(self, wid: str | None) -> Workspace:
        """The workspace of a cookie's id, or a new one (with a new random id) for a browser unseen."""
        ws = self.find(wid)
        if ws is not None:
            return ws
        ws = Workspace(secrets.token_urlsafe(24))
        with self._lock:
            self._all[ws.id] = ws
            while len(self._all) > self.limit:
                self._all.popitem(last=False)
        return ws
