"""What-if changes to a scenario: more or fewer agents, another strategy, another mix.

Each is a plain function ``Scenario -> Scenario``; the simulator runs the changed copy
with the same seed, so the same customers arrive with the same needs (common random
numbers) and the difference shows the change, not the dice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from omnidesk.routing import StrategyName
from omnidesk.wfm.erlang import WfmError
from omnidesk.wfm.simulate.model import PoissonArrivals, Scenario, SimAgent

Change = Callable[[Scenario], Scenario]

_AGENTS = re.compile(r"^\s*(?:([^=]+)=)?\s*([+-]\d+)\s*$")
_FACTOR = re.compile(r"^\s*([^=]+)=\s*(\d+(?:\.\d+)?)\s*$")


def add_agents(extra: int, group: str | None = None) -> Change:
    """Add ``extra`` agents (copies of the group's, or of all agents, in turn); negative removes."""

    def change(scenario: Scenario) -> Scenario:
        agents = list(scenario.agents)
        pool = [a for a in agents if group is None or a.group == group or a.agent_id == group]
        if not pool:
            raise WfmError(f"--agents: no agent group {group!r}")
        if extra < 0:
            if -extra > len(pool):
                raise WfmError(f"--agents: cannot remove {-extra} agents from {len(pool)}")
            gone = {a.agent_id for a in pool[extra:]}
            return replace(scenario, agents=tuple(a for a in agents if a.agent_id not in gone))
        taken = {a.agent_id for a in agents}
        for k in range(extra):
            template = pool[k % len(pool)]
            number = 1
            while f"{template.agent_id}+{number}" in taken:
                number += 1
            new_id = f"{template.agent_id}+{number}"
            taken.add(new_id)
            agents.append(SimAgent(replace(template.config, agent_id=new_id), template.shifts,
                                   template.group))
        return replace(scenario, agents=tuple(agents))

    return change


def use_strategy(strategy: StrategyName, queue_id: str | None = None) -> Change:
    """Route every queue (or one) with another strategy."""

    def change(scenario: Scenario) -> Scenario:
        if queue_id is not None and queue_id not in {q.queue_id for q in scenario.queues}:
            raise WfmError(f"--strategy: no queue {queue_id!r}")
        queues = tuple(
            replace(q, config=replace(q.config, strategy=strategy))
            if queue_id is None or q.queue_id == queue_id else q
            for q in scenario.queues)
        return replace(scenario, queues=queues)

    return change


def scale_traffic(factor: float, target: str) -> Change:
    """Multiply the arrivals of a queue, or of every queue of a channel, by ``factor``."""

    def change(scenario: Scenario) -> Scenario:
        matched = [q for q in scenario.queues if target in (q.queue_id, q.channel)]
        if not matched:
            raise WfmError(f"--mix: no queue or channel {target!r}")
        queues = []
        for q in scenario.queues:
            if q in matched:
                if not isinstance(q.arrivals, PoissonArrivals):
                    raise WfmError(f"--mix: queue {q.queue_id!r} replays recorded arrivals; "
                                   "only Poisson arrivals can be scaled")
                arrivals = PoissonArrivals(tuple(v * factor for v in q.arrivals.per_interval),
                                           q.arrivals.interval_s)
                q = replace(q, arrivals=arrivals)
            queues.append(q)
        return replace(scenario, queues=tuple(queues))

    return change


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Named changes to apply together (one variant of the scenario)."""

    label: str
    changes: tuple[Change, ...]

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with every change applied, in order."""
        for change in self.changes:
            scenario = change(scenario)
        return replace(scenario, name=f"{scenario.name} ({self.label})")


def parse_what_if(agents: Sequence[str] = (), strategy: str | None = None,
                  mix: Sequence[str] = ()) -> WhatIf | None:
    """The CLI options (``--agents +2``, ``--strategy most_skilled``, ``--mix chat=1.5``)."""
    changes: list[Change] = []
    labels: list[str] = []
    for text in agents:
        match = _AGENTS.match(text)
        if match is None:
            raise WfmError(f"--agents: expected +N, -N or GROUP=+N, got {text!r}")
        group = match[1].strip() if match[1] else None
        changes.append(add_agents(int(match[2]), group))
        labels.append(f"agents {text.strip()}")
    if strategy is not None:
        try:
            name = StrategyName(strategy)
        except ValueError:
            choices = ", ".join(s.value for s in StrategyName)
            raise WfmError(f"--strategy: expected one of {choices}, got {strategy!r}") from None
        changes.append(use_strategy(name))
        labels.append(f"strategy {name.value}")
    for text in mix:
        match = _FACTOR.match(text)
        if match is None:
            raise WfmError(f"--mix: expected QUEUE_OR_CHANNEL=FACTOR, e.g. chat=1.5, got {text!r}")
        changes.append(scale_traffic(float(match[2]), match[1].strip()))
        labels.append(f"mix {match[1].strip()}×{float(match[2]):g}")
    if not changes:
        return None
    return WhatIf(", ".join(labels), tuple(changes))
