"""The engine's mutable runtime records: agents, contacts, queues, their levels and tiers."""

from __future__ import annotations

import enum
from bisect import bisect_right, insort
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from omnidesk.routing.expressions import Expression, compile_expression
from omnidesk.routing.model import (
    AgentConfig,
    AgentState,
    Blending,
    Channel,
    QueueConfig,
)
from omnidesk.routing.pools import AgentKey, AgentPool, ContactHeap


class ContactStatus(enum.Enum):
    """Where a contact is inside the engine."""

    WAITING = "waiting"
    OFFERED = "offered"
    CONNECTED = "connected"
    GONE = "gone"


@dataclass(frozen=True, slots=True)
class Tier:
    """The requirement in force from ``after_s`` of wait: base, then each escalation step."""

    after_s: float
    skills: Mapping[str, int]
    agent_terms: tuple[Expression, ...]
    contact_terms: tuple[Expression, ...]
    teams: frozenset[str]
    lowered_by: int
    dropped: frozenset[str]

    def admits(self, agent: AgentRuntime, in_profile: bool) -> bool:
        """True when the agent may serve the queue at this tier (ignoring the contact)."""
        if not in_profile and agent.config.team not in self.teams:
            return False
        skills = agent.config.skills
        if any(skills.get(name, 0) < level for name, level in self.skills.items()):
            return False
        attributes = agent.config.attributes
        return all(term.matches(skills, attributes, {}) for term in self.agent_terms)


def build_tiers(config: QueueConfig) -> tuple[Tier, ...]:
    """Tier 0 is the base requirement; step k widens tier k-1 cumulatively."""
    terms: tuple[Expression, ...] = ()
    if config.requirement.expression:
        expression = compile_expression(config.requirement.expression)
        terms = expression.conjuncts or (expression,)
    tier = Tier(0.0, dict(config.requirement.skills),
                tuple(t for t in terms if not t.uses_contact),
                tuple(t for t in terms if t.uses_contact), frozenset(), 0, frozenset())
    tiers = [tier]
    for step in config.escalation:
        dropped = tier.dropped | step.drop_skills
        tier = Tier(
            after_s=step.after_s,
            skills={name: max(1, level - step.lower_proficiency_by)
                    for name, level in tier.skills.items() if name not in step.drop_skills},
            agent_terms=() if step.drop_expression else tier.agent_terms,
            contact_terms=() if step.drop_expression else tier.contact_terms,
            teams=tier.teams | step.add_teams,
            lowered_by=tier.lowered_by + step.lower_proficiency_by,
            dropped=dropped,
        )
        tiers.append(tier)
    return tuple(tiers)


class Level:
    """Agents and contacts of a queue that meet at ``threshold`` seconds of wait or more."""

    __slots__ = ("agents", "contacts", "threshold")

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.agents = AgentPool()
        self.contacts = ContactHeap()


class MilestoneKind(enum.IntEnum):
    """What happens to a contact when its wait reaches a milestone."""

    LEVEL = 0
    STEP = 1
    MAX_WAIT = 2


@dataclass(frozen=True, slots=True)
class Milestone:
    """A wait threshold of a queue and what it triggers."""

    threshold: float
    kind: MilestoneKind
    step: int = 0
    level: Level | None = None


class HandleTimes:
    """Running mean of the last N handle times of a queue (O(1) per sample)."""

    __slots__ = ("_samples", "_total", "default")

    def __init__(self, size: int, default: float) -> None:
        self._samples: deque[float] = deque(maxlen=size)
        self._total = 0.0
        self.default = default

    def add(self, seconds: float) -> None:
        """Record one handle time."""
        if len(self._samples) == self._samples.maxlen:
            self._total -= self._samples[0]
        self._samples.append(seconds)
        self._total += seconds

    def mean(self) -> float:
        """The average handle time, or the configured default before any sample."""
        return self._total / len(self._samples) if self._samples else self.default


class QueueRuntime:
    """A queue's tiers, levels, milestones, members and running counters."""

    __slots__ = (
        "channel",
        "config",
        "handle_times",
        "id",
        "levels",
        "members",
        "milestones",
        "staffed_capacity",
        "strategy",
        "strategy_kind",
        "thresholds",
        "tiers",
        "waiting_count",
    )

    def __init__(self, config: QueueConfig, strategy: Strategy, samples: int,
                 strategy_kind: int = -1) -> None:
        self.config = config
        self.id = config.queue_id
        self.channel = config.channel
        self.strategy = strategy
        self.strategy_kind = strategy_kind
        self.tiers = build_tiers(config)
        self.levels: list[Level] = []
        self.milestones: list[Milestone] = []
        self.thresholds: list[float] = []
        self.members: dict[str, ContactRuntime] = {}
        self.waiting_count = 0
        self.staffed_capacity = 0
        self.handle_times = HandleTimes(samples, config.default_handle_time_s)
        for index, tier in enumerate(self.tiers[1:], start=1):
            self._add_milestone(Milestone(tier.after_s, MilestoneKind.STEP, step=index))
        if config.max_wait_s is not None:
            self._add_milestone(Milestone(config.max_wait_s, MilestoneKind.MAX_WAIT))
        for tier in self.tiers:
            self.level_at(tier.after_s)

    def level_at(self, threshold: float) -> tuple[Level, bool]:
        """The level at threshold, and whether it had to be created."""
        for level in self.levels:
            if level.threshold == threshold:
                return level, False
        level = Level(threshold)
        insort(self.levels, level, key=lambda item: item.threshold)
        self._add_milestone(Milestone(threshold, MilestoneKind.LEVEL, level=level))
        return level, True

    def _add_milestone(self, milestone: Milestone) -> None:
        insort(self.milestones, milestone, key=lambda m: (m.threshold, m.kind))
        self.thresholds = [m.threshold for m in self.milestones]

    def next_milestone(self, applied_wait: float) -> int:
        """Index of the first milestone beyond the wait already applied."""
        return bisect_right(self.thresholds, applied_wait)

    def first_admitting_tier(self, agent: AgentRuntime, in_profile: bool) -> Tier | None:
        """The earliest tier whose requirement the agent meets, if any."""
        for tier in self.tiers:
            if tier.admits(agent, in_profile):
                return tier
        return None


Strategy = Callable[["AgentRuntime", "Membership"], AgentKey]


class Membership:
    """One queue an agent serves: from which level (wait threshold) and at which priority.

    It is also the agent's entry in that level's pool (``pools.AgentPool``): ``index`` is its
    place in the pool's heap (-1 while the agent is out of the pool), ``key`` and ``tie`` the
    strategy key it has there (``custom``: a custom strategy's whole key), ``seq`` the agent's
    tie-break; ``contacts`` is the level's contact heap.
    """

    __slots__ = ("agent", "channel", "contacts", "custom", "index", "key", "kind", "level",
                 "pool", "priority", "queue", "seq", "share", "skill_score", "strategy", "tie")

    def __init__(self, agent: AgentRuntime, queue: QueueRuntime, level: Level, priority: int,
                 score: int) -> None:
        # The fields a pool's sift reads first, together.
        self.index = -1
        self.key = 0.0
        self.tie = 0.0
        self.seq = agent.seq
        self.custom: AgentKey | None = None
        self.agent = agent
        self.queue = queue
        self.channel = queue.channel
        self.strategy = queue.strategy
        self.level = level
        self.pool = level.agents
        self.contacts = level.contacts
        self.priority = priority
        self.skill_score = score
        self.kind = queue.strategy_kind
        self.share = 0  # capacity counted in the queue's staffed capacity


def blockers_of(blending: Blending) -> dict[Channel, tuple[Channel, ...]]:
    """Invert a blending map: channel → the channels whose load blocks it."""
    blockers: dict[Channel, set[Channel]] = {}
    for holder, blocked in blending.items():
        for channel in blocked:
            blockers.setdefault(channel, set()).add(holder)
    return {channel: tuple(sorted(holders)) for channel, holders in blockers.items()}


class AgentRuntime:
    """An agent's config, state, desktop connection, load per channel and memberships.

    Room on a channel is worked out when asked (``can_take``) from the load counters:
    ``held`` counts the channels with a non-zero load, so an agent holding nothing
    (the common case when it gets a new offer) needs one capacity lookup.
    """

    __slots__ = (
        "active",
        "blocked_by",
        "capacity",
        "channel_groups",
        "config",
        "connected",
        "connection_token",
        "groups",
        "held",
        "id",
        "idle",
        "last_offer",
        "load",
        "memberships",
        "offers",
        "reason",
        "routable",
        "seq",
        "staffed_share",
        "state",
    )

    def __init__(self, config: AgentConfig, seq: int, capacity: Mapping[Channel, int],
                 blending: Blending,
                 blocked_by: Mapping[Channel, tuple[Channel, ...]] | None = None) -> None:
        self.id = config.agent_id
        self.seq = seq
        self.state = AgentState.OFFLINE
        self.reason = ""
        self.connected = False
        self.routable = False
        self.connection_token = 0
        self.load: dict[Channel, int] = {}
        self.held = 0
        self.idle: dict[Channel, float] = {}
        self.last_offer: dict[str, int] = {}
        self.offers: dict[str, ContactRuntime] = {}
        self.active: dict[str, ContactRuntime] = {}
        self.memberships: tuple[Membership, ...] = ()
        self.groups: tuple[tuple[Membership, ...], ...] = ()
        self.channel_groups: tuple[tuple[Channel, tuple[Membership, ...]], ...] = ()
        # The memberships counted in their queues' staffed capacity (each with its share).
        self.staffed_share: tuple[Membership, ...] = ()
        self.config = config
        self.capacity = capacity
        self.blocked_by: Mapping[Channel, tuple[Channel, ...]] = {}
        self.configure(config, capacity, blending, blocked_by)

    def configure(self, config: AgentConfig, capacity: Mapping[Channel, int],
                  blending: Blending,
                  blocked_by: Mapping[Channel, tuple[Channel, ...]] | None = None) -> None:
        """Apply new skills, capacity and blending (memberships are set by the engine).

        ``blocked_by`` is ``blockers_of(blending)`` when the caller has it already.
        """
        self.config = config
        self.capacity = capacity
        self.blocked_by = blocked_by if blocked_by is not None else blockers_of(blending)

    def add_load(self, channel: Channel, delta: int) -> None:
        """Count an interaction in (+1) or out (-1) of the channel."""
        load = self.load
        before = load.get(channel, 0)
        after = load[channel] = before + delta
        if not before:
            if after:
                self.held += 1
        elif not after:
            self.held -= 1

    def can_take(self, channel: Channel) -> bool:
        """True when the agent has room for one more interaction on the channel."""
        if not self.held:
            return self.capacity.get(channel, 0) > 0
        load = self.load
        if load.get(channel, 0) >= self.capacity.get(channel, 0):
            return False
        for holder in self.blocked_by.get(channel, ()):  # noqa: SIM110 (no generator: hot)
            if load.get(holder, 0):
                return False
        return True

    @property
    def staffed(self) -> bool:
        """Logged in (not offline) and routable: counts towards the staffing of its queues."""
        return self.routable and self.state is not AgentState.OFFLINE

    def occupancy(self) -> float:
        """Sum over channels of load / capacity."""
        capacity = self.capacity
        return sum(n / capacity[c] for c, n in self.load.items() if n and capacity.get(c))

    def idle_since(self, channel: Channel) -> float:
        """When the agent last became free or was routed on the channel."""
        return self.idle.get(channel, 0.0)

    def set_membership(self, memberships: list[Membership]) -> None:
        """Replace the queues served; grouped by priority (picking contacts) and by channel.

        Kept as tuples: their items sit inside the tuple object, one memory block
        fewer to fetch than a list on the hot paths.
        """
        self.memberships = tuple(sorted(memberships, key=lambda m: m.priority))
        groups: dict[int, list[Membership]] = {}
        channels: dict[Channel, list[Membership]] = {}
        for membership in self.memberships:
            groups.setdefault(membership.priority, []).append(membership)
            channels.setdefault(membership.channel, []).append(membership)
        self.groups = tuple(tuple(group) for group in groups.values())
        self.channel_groups = tuple((channel, tuple(group)) for channel, group in channels.items())


NO_DECLINES: frozenset[str] = frozenset()
NO_ATTRIBUTES: Mapping[str, object] = MappingProxyType({})
NO_SKILLS: Mapping[str, int] = MappingProxyType({})
"""Shared by contacts nobody declined (most): a set is made at the first decline."""


class ContactRuntime:
    """A contact in the engine: its queue, order key, wait progress and offer."""

    __slots__ = (
        "applied_wait",
        "attributes",
        "callback",
        "channel",
        "declined",
        "deferred",
        "epoch",
        "handled_by_queue",
        "id",
        "offer_agent",
        "offer_token",
        "order_key",
        "priority",
        "queue",
        "queued_at",
        "required",
        "seq",
        "status",
        "tier",
        "timer_due",
        "version",
        "waiting",
    )

    def __init__(self, interaction_id: str, queue: QueueRuntime, priority: int,
                 queued_at: float, seq: int) -> None:
        self.id = interaction_id
        self.queue = queue
        self.priority = priority
        self.queued_at = queued_at
        self.seq = seq
        self.order_key = queue.config.ageing_per_s * queued_at - priority
        self.attributes: Mapping[str, object] = NO_ATTRIBUTES
        self.required: Mapping[str, int] = NO_SKILLS
        self.callback = False
        self.declined: set[str] | frozenset[str] = NO_DECLINES
        self.status = ContactStatus.WAITING
        self.waiting = True
        self.version = 0
        self.epoch = 0
        self.applied_wait = -1.0
        self.tier = 0
        self.timer_due = -1.0
        self.offer_agent: AgentRuntime | None = None
        self.offer_token = 0
        self.handled_by_queue: QueueRuntime = queue
        self.channel = queue.channel
        self.deferred: tuple[Milestone, ...] = ()

    def set_status(self, status: ContactStatus) -> None:
        """Change status; leaving WAITING makes every heap entry of the contact stale."""
        if self.waiting and status is not ContactStatus.WAITING:
            self.version += 1
        self.status = status
        self.waiting = status is ContactStatus.WAITING

    def effective_priority(self, now: float) -> float:
        """Priority plus ageing for the time waited."""
        return self.priority + self.queue.config.ageing_per_s * (now - self.queued_at)

    def position_key(self) -> tuple[float, float, int]:
        """The order inside its queue: smaller is served first."""
        return (self.order_key, self.queued_at, self.seq)

    def admits(self, agent: AgentRuntime) -> bool:
        """True when the agent meets the contact's own skills and contact-dependent rules."""
        skills = agent.config.skills
        tier = self.queue.tiers[self.tier]
        for name, level in self.required.items():
            if name not in tier.dropped and skills.get(name, 0) < max(1, level - tier.lowered_by):
                return False
        attributes = agent.config.attributes
        return all(term.matches(skills, attributes, self.attributes)
                   for term in tier.contact_terms)

    @property
    def needs_pair_check(self) -> bool:
        """True when choosing an agent needs the per-pair admits() check."""
        return bool(self.required) or bool(self.queue.tiers[self.tier].contact_terms)
