"""Routing engine benchmark: routing decisions per second and latency per engine call.

Builds a contact center of N agents (10,000 / 1,000 / 100), N/20 queues (at least 10),
50 skills, channels voice / chat / email, agents with 3–8 skills serving 3–6 queues,
then drives a steady simulated stream through ``RoutingEngine.handle`` and times every
call with ``time.perf_counter_ns``. Only engine calls are timed, not the simulator.

The mix: Poisson arrivals (the same load per agent at every size), 94 % of offers
accepted after 1–4 s, 4 % rejected, 2 % left to time out (the agent comes back 15 s
after being set to missed), abandons (patience ~ exp(240 s)) of contacts still in
queue, ends after an exponential handle time per channel, breaks (2 % of ends, 120 s),
desktop heartbeat blips (1 % of ends, back within the grace period) and desktop losses
(0.2 % of ends, back after 45 s, past the grace period: forced offline, then available).
Every call sent changes something: no accept of an offer that is no longer live, no
cancel of a contact that is no longer in queue, no state change to the current state.

Counted per size (see docs/routing.md, "Benchmark"):

- ``events``: engine calls (one input event each, timers due included);
- ``decisions``: routing decisions = calls in which the engine ran at least one matching
  evaluation (a routable contact looked for the best agent, or an available agent with
  room looked for the best waiting contact), whatever the outcome (offer or wait);
- ``records``: ``Decision`` records returned (offers, withdrawals, expiries, escalations,
  queue outcomes, forced states).

Each rate is that count divided by the total time spent inside ``handle``.

Each size is warmed up for one simulated hour (untimed) so that it is measured in steady
state, then ``--calls`` calls are timed. With ``--repeat R`` every size is measured R
times (sizes interleaved) and the medians are reported.

Run: ``taskset -c 1 .venv/bin/python bench/routing.py`` (``--quick`` for a short run).
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import functools
import gc
import heapq
import itertools
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from omnidesk.routing import (
    AgentConfig,
    AgentConfigured,
    AgentState,
    AgentStateChanged,
    AgentStateForced,
    Decision,
    DesktopConnected,
    DesktopDisconnected,
    EscalationStep,
    InteractionCancelled,
    InteractionEnded,
    InteractionQueued,
    OfferAccepted,
    OfferCreated,
    OfferExpired,
    OfferRejected,
    OfferWithdrawn,
    QueueConfig,
    QueueConfigured,
    QueueMembership,
    QueueOutcome,
    Requirement,
    RoutingEngine,
    RoutingEvent,
    StrategyName,
)
from omnidesk.routing import engine as engine_module

SKILLS = [f"skill{n:02d}" for n in range(50)]
CHANNELS = (("voice", 0.5, 240.0), ("chat", 0.3, 420.0), ("email", 0.2, 600.0))
STRATEGY_MIX = (StrategyName.LONGEST_IDLE, StrategyName.LONGEST_IDLE,
                StrategyName.MOST_SKILLED, StrategyName.LEAST_OCCUPIED,
                StrategyName.ROUND_ROBIN)
START = 1_700_000_000.0
ARRIVALS_PER_AGENT_S = 0.9 / 300.0
"""Contacts per second per agent: the same load per agent at every size."""
WARMUP_S = 3600.0
WORK_SAMPLE = 20_000
"""Engine calls profiled after the timed ones to count the Python calls per event."""
SIZES = (10_000, 1_000, 100)

# What the simulator does next (plain tuples in its future heap, no closures).
ARRIVAL, ACCEPT, REJECT, END, ABANDON, TO_STATE, DISCONNECT, RECONNECT = range(8)


def build_queues(count: int, rng: random.Random) -> list[QueueConfig]:
    """Queues with 1–2 required skills, a channel, a strategy and one or two escalation steps."""
    queues = []
    for number in range(count):
        channel = rng.choices([c for c, _, _ in CHANNELS], [w for _, w, _ in CHANNELS])[0]
        skills = {s: rng.randint(1, 3) for s in rng.sample(SKILLS, rng.randint(1, 2))}
        steps = [EscalationStep(after_s=60.0, lower_proficiency_by=1)]
        if rng.random() < 0.3:
            steps.append(EscalationStep(after_s=180.0, drop_skills=frozenset(list(skills)[:1])))
        queues.append(QueueConfig(
            queue_id=f"q{number}", channel=channel,
            requirement=Requirement(MappingProxyType(skills)),
            strategy=rng.choice(STRATEGY_MIX), ageing_per_s=0.01,
            escalation=tuple(steps), max_wait_s=900.0))
    return queues


def build_agents(count: int, queues: list[QueueConfig], rng: random.Random) -> list[AgentConfig]:
    """Agents serving 3–6 queues, skilled enough for them, 3–8 skills in all."""
    agents = []
    for number in range(count):
        served = rng.sample(queues, min(len(queues), rng.randint(3, 6)))
        skills: dict[str, int] = {}
        for q in served:
            for name, level in q.requirement.skills.items():
                if len(skills) < 8 or name in skills:
                    skills[name] = max(skills.get(name, 0), rng.randint(level, 5))
        while len(skills) < 3:
            skills[rng.choice(SKILLS)] = rng.randint(1, 5)
        profile = tuple(QueueMembership(q.queue_id, priority=rng.randint(1, 2),
                                        delay_s=rng.choice((0.0, 0.0, 0.0, 30.0)))
                        for q in served)
        agents.append(AgentConfig(f"a{number}", MappingProxyType(skills), profile=profile))
    return agents


@dataclass
class Stats:
    """Timings of the engine calls of one run."""

    latencies_ns: list[int] = field(default_factory=list)
    routing_ns: list[int] = field(default_factory=list)
    records: int = 0
    gc_pauses_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        """Throughput and latency percentiles."""
        ordered = sorted(self.latencies_ns)
        routing = sorted(self.routing_ns)
        total_s = sum(ordered) / 1e9

        def pct(values: list[int], q: float) -> float:
            return values[min(len(values) - 1, int(len(values) * q))] / 1e6

        return {
            "events": len(ordered),
            "decisions": len(routing),
            "records": self.records,
            "events_per_s": len(ordered) / total_s,
            "decisions_per_s": len(routing) / total_s,
            "records_per_s": self.records / total_s,
            "p50_ms": pct(ordered, 0.50),
            "p90_ms": pct(ordered, 0.90),
            "p99_ms": pct(ordered, 0.99),
            "p999_ms": pct(ordered, 0.999),
            "max_ms": ordered[-1] / 1e6,
            "decision_p50_ms": pct(routing, 0.50),
            "decision_p99_ms": pct(routing, 0.99),
            "gc_pauses": len(self.gc_pauses_ms),
            "gc_ms": sum(self.gc_pauses_ms),
            "gc_max_ms": max(self.gc_pauses_ms, default=0.0),
            "gc_share": sum(self.gc_pauses_ms) / 1e3 / total_s,
        }


Happening = tuple[float, int, int, str, str, int, float]
"""(at, tie, what, interaction, agent, offer number or state index, value)."""

STATES = tuple(AgentState)


class Driver:
    """A small discrete-event simulation around one engine; only engine calls are timed."""

    def __init__(self, agents: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.engine = RoutingEngine()
        self.queues = build_queues(max(10, agents // 20), self.rng)
        self.queue_ids = [q.queue_id for q in self.queues]
        self.agents = build_agents(agents, self.queues, self.rng)
        self.handle_times = {c: h for c, _, h in CHANNELS}
        self.arrival_rate = agents * ARRIVALS_PER_AGENT_S
        self.future: list[Happening] = []
        self.ties = itertools.count()
        self.contacts = itertools.count()
        self.offer_numbers = itertools.count(1)
        self.offers: dict[str, tuple[str, int, str]] = {}  # live: interaction → agent, n, channel
        self.in_queue: set[str] = set()
        self.connected: set[str] = set()
        self.state: dict[str, AgentState] = {}
        self.desktop_down: set[str] = set()
        self.stats: Stats | None = None

    @property
    def clock(self) -> float:
        """Simulated time of the next happening."""
        return self.future[0][0]

    def setup(self) -> None:
        """Configure queues and agents, make everybody available, start arrivals."""
        for q in self.queues:
            self.call(QueueConfigured(START, q))
        for a in self.agents:
            self.call(AgentConfigured(START, a))
            self.call(DesktopConnected(START, a.agent_id))
            self.call(AgentStateChanged(START, a.agent_id, AgentState.AVAILABLE))
            self.state[a.agent_id] = AgentState.AVAILABLE
        self.later(START, ARRIVAL)

    def later(self, at: float, what: int, interaction: str = "", agent: str = "",
              number: int = 0, value: float = 0.0) -> None:
        """Schedule a simulated happening."""
        heapq.heappush(self.future, (at, next(self.ties), what, interaction, agent, number, value))

    def run(self, calls: int, stats: Stats | None) -> None:
        """Process simulated happenings until ``calls`` engine calls were made."""
        self.stats = stats
        made = 0
        while made < calls:
            event = self.make(heapq.heappop(self.future))
            if event is not None:
                self.call(event)
                made += 1

    def run_until(self, until: float) -> None:
        """Process simulated happenings (untimed) until the simulated clock reaches ``until``."""
        self.stats = None
        while self.future[0][0] < until:
            event = self.make(heapq.heappop(self.future))
            if event is not None:
                self.call(event)

    def count_work(self, calls: int) -> float:
        """Python function calls (and built-in calls) per engine call, over ``calls`` calls.

        A measure of the work per call that does not depend on the machine: if the engine
        is flat in the number of agents this is the same at every size.
        """
        counted = [0]

        def count(frame: object, what: str, arg: object) -> None:
            if what == "call" or what == "c_call":
                counted[0] += 1

        made = 0
        while made < calls:
            event = self.make(heapq.heappop(self.future))
            if event is None:
                continue
            sys.setprofile(count)
            decisions = self.engine.handle(event)
            sys.setprofile(None)
            made += 1
            for decision in decisions:
                self.react(decision)
        return counted[0] / calls

    def call(self, event: RoutingEvent) -> None:
        """One timed engine call, then react to its decisions."""
        engine = self.engine
        evaluations = engine._evaluations
        started = time.perf_counter_ns()
        decisions = engine.handle(event)
        elapsed = time.perf_counter_ns() - started
        stats = self.stats
        if stats is not None:
            stats.latencies_ns.append(elapsed)
            if engine._evaluations != evaluations:
                stats.routing_ns.append(elapsed)
            stats.records += len(decisions)
        for decision in decisions:
            self.react(decision)

    def react(self, decision: Decision) -> None:
        """Agents accept most offers, reject some, let a few time out."""
        if isinstance(decision, OfferCreated):
            number = next(self.offer_numbers)
            iid, agent = decision.interaction_id, decision.agent_id
            self.offers[iid] = (agent, number, decision.channel)
            roll = self.rng.random()
            if roll < 0.94:
                self.later(decision.at + self.rng.uniform(1, 4), ACCEPT, iid, agent, number)
            elif roll < 0.98:
                self.later(decision.at + 2, REJECT, iid, agent, number)
        elif isinstance(decision, OfferWithdrawn | OfferExpired):
            self.offers.pop(decision.interaction_id, None)
        elif isinstance(decision, QueueOutcome):
            self.in_queue.discard(decision.interaction_id)
        elif isinstance(decision, AgentStateForced):
            self.state[decision.agent_id] = decision.state
            if decision.state is AgentState.MISSED:
                self.later(decision.at + 15, TO_STATE, "", decision.agent_id,
                           STATES.index(AgentState.AVAILABLE))

    def live(self, interaction: str, agent: str, number: int) -> bool:
        """True while this very offer is live (not withdrawn, expired or re-offered) and the
        agent's desktop is up (an agent whose desktop is down cannot answer; the offer
        then expires or is withdrawn when the grace period ends)."""
        offer = self.offers.get(interaction)
        return (offer is not None and offer[0] == agent and offer[1] == number
                and agent not in self.desktop_down)

    def make(self, happening: Happening) -> RoutingEvent | None:
        """The engine event for a happening, or None when it no longer applies."""
        at, _, what, iid, agent, number, value = happening
        rng = self.rng
        if what == ARRIVAL:
            self.later(at + rng.expovariate(self.arrival_rate), ARRIVAL)
            iid = f"i{next(self.contacts)}"
            self.in_queue.add(iid)
            self.later(at + rng.expovariate(1 / 240.0), ABANDON, iid)
            return InteractionQueued(at, iid, rng.choice(self.queue_ids),
                                     priority=rng.randint(0, 2))
        if what == ACCEPT:
            if not self.live(iid, agent, number):
                return None
            channel = self.offers.pop(iid)[2]
            self.in_queue.discard(iid)
            self.connected.add(iid)
            handle = rng.expovariate(1 / self.handle_times[channel])
            self.later(at + handle, END, iid, agent, value=handle)
            return OfferAccepted(at, iid, agent)
        if what == REJECT:
            if not self.live(iid, agent, number):
                return None
            del self.offers[iid]
            return OfferRejected(at, iid, agent)
        if what == END:
            self.connected.discard(iid)
            roll = rng.random()
            if roll < 0.02:
                self.later(at + 0.5, TO_STATE, "", agent, STATES.index(AgentState.BREAK))
                self.later(at + 120, TO_STATE, "", agent, STATES.index(AgentState.AVAILABLE))
            elif roll < 0.03:
                self.later(at + 1, DISCONNECT, "", agent)
                self.later(at + rng.uniform(2, 10), RECONNECT, "", agent)
            elif roll < 0.032:
                self.later(at + 1, DISCONNECT, "", agent)
                self.later(at + 46, RECONNECT, "", agent)
                self.later(at + 47, TO_STATE, "", agent, STATES.index(AgentState.AVAILABLE))
            return InteractionEnded(at, iid, value)
        if what == ABANDON:
            if iid not in self.in_queue:
                return None
            self.in_queue.discard(iid)
            self.offers.pop(iid, None)
            return InteractionCancelled(at, iid)
        if what == TO_STATE:
            state = STATES[number]
            if self.state[agent] is state:
                return None
            self.state[agent] = state
            return AgentStateChanged(at, agent, state)
        if what == DISCONNECT:
            if agent in self.desktop_down:
                return None
            self.desktop_down.add(agent)
            return DesktopDisconnected(at, agent)
        if agent not in self.desktop_down:
            return None
        self.desktop_down.discard(agent)
        return DesktopConnected(at, agent)


def warmed_up(agents: int, warmup_s: float, seed: int = 7) -> Driver:
    """A driver built and run (untimed) for ``warmup_s`` simulated seconds."""
    driver = Driver(agents, seed)
    driver.setup()
    driver.run_until(START + warmup_s)
    return driver


def measure(agents: int, calls: int, warmup_s: float, freeze: bool,
            seed: int = 7) -> dict[str, float]:
    """Build, warm up for ``warmup_s`` simulated seconds, then time ``calls`` engine calls."""
    driver = warmed_up(agents, warmup_s, seed)
    gc.collect()
    if freeze:
        gc.freeze()
    stats = Stats()
    pause_started = [0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            pause_started[0] = time.perf_counter_ns()
        else:
            stats.gc_pauses_ms.append((time.perf_counter_ns() - pause_started[0]) / 1e6)

    gc.callbacks.append(on_gc)
    started_at = driver.clock
    try:
        driver.run(calls, stats)
    finally:
        gc.callbacks.remove(on_gc)
        if freeze:
            gc.unfreeze()
    result = stats.summary()
    result["calls_per_event"] = driver.count_work(WORK_SAMPLE)
    result["agents"] = agents
    result["queues"] = len(driver.queues)
    result["simulated_s"] = driver.clock - started_at
    result["waiting_at_end"] = len(driver.in_queue)
    return result


HANDLE_SYMBOL = "CPyDef_engine___RoutingEngine___handle"
"""The compiled ``RoutingEngine.handle``: callgrind counts only inside it (callees included)."""
BASE_CALLS = 2_000
L2_CACHE = Path("/sys/devices/system/cpu/cpu0/cache/index2")


@functools.cache
def l2_geometry() -> str:
    """This core's L2 cache as callgrind's ``size,associativity,line`` (1 MiB, 8-way, 64 B
    when the machine does not say): simulated as the last level, its misses are what the
    core fetches from the shared L3 or memory."""
    try:
        size, ways, line = ((L2_CACHE / name).read_text(encoding="ascii").strip() for name in
                            ("size", "ways_of_associativity", "coherency_line_size"))
        factor = {"K": 1024, "M": 1024 * 1024}.get(size[-1:], 1)
        return f"{int(size.rstrip('KM')) * factor},{int(ways)},{int(line)}"
    except (OSError, ValueError):
        return "1048576,8,64"


def engine_calls_only(agents: int, calls: int, warmup_s: float) -> None:
    """Build, warm up, then make ``calls`` more engine calls, untimed (run under callgrind)."""
    warmed_up(agents, warmup_s).run(calls, None)


def callgrind_totals(agents: int, calls: int, warmup_s: float, folder: str) -> dict[str, int]:
    """Callgrind's counts inside ``handle`` over a warm-up and ``calls`` calls at this size."""
    out = f"{folder}/callgrind.{agents}.{calls}"
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--cache-sim=yes", f"--LL={l2_geometry()}",
         f"--toggle-collect={HANDLE_SYMBOL}",
         f"--callgrind-out-file={out}", sys.executable, __file__, "--engine-calls-only",
         "--sizes", str(agents), "--calls", str(calls), "--warmup", str(warmup_s)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out, encoding="utf-8") as results:
        lines = {line.split(":")[0]: line.split()[1:] for line in results
                 if line.startswith(("events:", "summary:"))}
    return dict(zip(lines["events"], map(int, lines["summary"]), strict=True))


def instructions_per_call(agents: int, calls: int, warmup_s: float) -> dict[str, float]:
    """Instructions and simulated cache misses per engine call, machine-independent.

    Two runs with the same seed and warm-up, ``BASE_CALLS`` and ``BASE_CALLS + calls`` calls
    after it, side by side on two cores; their difference is the work of ``calls`` calls.
    """
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(2) as pool:
        short, long = pool.map(lambda n: callgrind_totals(agents, n, warmup_s, folder),
                               (BASE_CALLS, BASE_CALLS + calls))
    per_call = {name: (long[name] - short[name]) / calls for name in long}
    return {"instructions": per_call["Ir"], "data_refs": per_call["Dr"] + per_call["Dw"],
            "d1_misses": per_call["D1mr"] + per_call["D1mw"],
            "l2_misses": per_call["DLmr"] + per_call["DLmw"]}


def report_instructions(sizes: tuple[int, ...], calls: int, warmup_s: float) -> None:
    """The ``--instructions`` run: a table, then the JSON line."""
    if not engine_module.__file__ or not engine_module.__file__.endswith(".so"):
        sys.exit("--instructions counts inside the compiled engine: run scripts/compile first "
                 "(and leave OMNIDESK_INTERPRETED unset)")
    if shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (Debian package valgrind)")
    results = {n: instructions_per_call(n, calls, warmup_s) for n in sizes}
    print(f"callgrind inside RoutingEngine.handle, per engine call, over {calls:,} calls after "
          f"{warmup_s:,.0f} simulated seconds of warm-up; D1 and L2 misses are callgrind's "
          f"simulation of this core's L1 data cache and of its L2 ({l2_geometry()}: size, "
          "ways, line) as the last level")
    print(f"{'agents':>7} {'instructions':>12} {'data refs':>9} {'D1 misses':>9} {'L2 misses':>9}")
    for n, r in results.items():
        print(f"{n:>7} {r['instructions']:>12,.0f} {r['data_refs']:>9,.0f} "
              f"{r['d1_misses']:>9,.0f} {r['l2_misses']:>9,.1f}")
    figures: dict[str, float | int] = {}
    for n, r in results.items():
        figures[f"instructions_per_call_{n}_agents"] = round(r["instructions"])
        figures[f"d1_misses_per_call_{n}_agents"] = round(r["d1_misses"], 1)
        figures[f"l2_misses_per_call_{n}_agents"] = round(r["l2_misses"], 2)
    counts = [r["instructions"] for r in results.values()]
    figures["spread_instructions_per_call"] = round(max(counts) / min(counts), 3)
    figures["calls_per_size"] = calls
    print(json.dumps(figures))


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of every figure over repeated runs."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    """Run the three sizes (interleaved, repeated), print a table, then the JSON line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (about 10 s)")
    parser.add_argument("--calls", type=int, help="timed calls per size (default 200,000)")
    parser.add_argument("--repeat", type=int, help="runs per size, medians reported "
                        "(default 3; 1 with --quick)")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() after warm-up, as a server may do after loading")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="agent counts to run (default 10000 1000 100)")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions and cache misses per engine call under "
                        "valgrind instead of timing (about 20 minutes with --quick)")
    parser.add_argument("--engine-calls-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = tuple(args.sizes)
    calls = args.calls or (20_000 if args.quick else 200_000)
    repeat = args.repeat or (1 if args.quick else 3)
    warmup_s = args.warmup or (WARMUP_S / 2 if args.quick else WARMUP_S)
    if args.engine_calls_only:
        engine_calls_only(sizes[0], calls, warmup_s)
        return
    if args.instructions:
        report_instructions(sizes, args.calls or 20_000, warmup_s)
        return
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in sizes}
    for _ in range(repeat):
        for n in sizes:
            runs[n].append(measure(n, calls, warmup_s, args.gc_freeze))
    results = {n: median_of(runs[n]) for n in sizes}
    print(f"medians of {repeat} run(s) per size, {calls:,} timed calls each, after "
          f"{warmup_s:,.0f} simulated seconds of warm-up; gc.freeze: {args.gc_freeze}")
    print(f"{'agents':>7} {'queues':>6} {'events/s':>9} {'decisions/s':>11} {'records/s':>9} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'p99.9':>7} {'max ms':>7} {'dec p99':>7} "
          f"{'gc %':>5} {'gc max':>7} {'py calls':>8} {'waiting':>7}")
    for n, r in results.items():
        print(f"{n:>7} {r['queues']:>6.0f} {r['events_per_s']:>9.0f} "
              f"{r['decisions_per_s']:>11.0f} {r['records_per_s']:>9.0f} {r['p50_ms']:>7.4f} "
              f"{r['p99_ms']:>7.4f} {r['p999_ms']:>7.3f} {r['max_ms']:>7.1f} "
              f"{r['decision_p99_ms']:>7.4f} {100 * r['gc_share']:>5.1f} "
              f"{r['gc_max_ms']:>7.1f} {r['calls_per_event']:>8.1f} "
              f"{r['waiting_at_end']:>7.0f}")
    big = results[max(sizes)]
    figures: dict[str, float | int | str | bool] = {
        "decisions_per_s": round(big["decisions_per_s"]),
        "events_per_s": round(big["events_per_s"]),
        "decision_records_per_s": round(big["records_per_s"]),
        "p50_ms": round(big["p50_ms"], 4),
        "p99_ms": round(big["p99_ms"], 4),
        "decision_p99_ms": round(big["decision_p99_ms"], 4),
        "max_ms": round(big["max_ms"], 1),
        "gc_share": round(big["gc_share"], 3),
        "python_calls_per_event": round(big["calls_per_event"], 1),
    }
    figures["agents"] = max(sizes)
    for n in sorted(sizes, reverse=True)[1:]:
        r = results[n]
        figures[f"decisions_per_s_{n}_agents"] = round(r["decisions_per_s"])
        figures[f"events_per_s_{n}_agents"] = round(r["events_per_s"])
        figures[f"p50_ms_{n}_agents"] = round(r["p50_ms"], 4)
        figures[f"p99_ms_{n}_agents"] = round(r["p99_ms"], 4)
        figures[f"python_calls_per_event_{n}_agents"] = round(r["calls_per_event"], 1)
    for name in ("events_per_s", "p50_ms", "p99_ms"):
        values = [results[n][name] for n in sizes]
        figures[f"spread_{name}"] = round(max(values) / min(values), 2)
    figures["decision"] = "engine call that ran a routing evaluation"
    figures["timed_calls_per_size"] = calls
    figures["repeats"] = repeat
    figures["gc_freeze"] = args.gc_freeze
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
