"""Scenario files (YAML): validated with pydantic, errors named as file:line: field.

```yaml
name: support-day
seed: 7
duration: 8h            # arrivals stop here; contacts still waiting are served
warmup: 30m             # KPIs are measured after this
interval: 30m           # length of each per_interval entry
queues:
  - id: voice
    channel: voice
    strategy: longest_idle
    skills: {billing: 2}
    arrivals: {per_interval: [40, 55, 70, 70, 60]}   # or {per_hour: 120} or {replay: file.csv}
    handle_time: {kind: lognormal, mean: 240, sd: 120}
    wrap_up: {kind: deterministic, value: 20}
    patience: {kind: exponential, mean: 180}
agents:
  - name: voice-team
    count: 12
    skills: {billing: 3}
    queues: [voice]
    shifts: [{start: 0h, end: 4h}, {start: 4h30m, end: 8h}]
```
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from omnidesk.configuration.yaml_source import (
    ConfigFileError,
    YamlDocument,
    dotted,
    parse,
    validate,
)
from omnidesk.routing import (
    AgentConfig,
    EscalationStep,
    QueueConfig,
    QueueMembership,
    Requirement,
    StrategyName,
)
from omnidesk.wfm.erlang import WfmError
from omnidesk.wfm.simulate.distributions import (
    NEVER,
    ZERO,
    Deterministic,
    Distribution,
    Empirical,
    Exponential,
    Lognormal,
)
from omnidesk.wfm.simulate.model import (
    DEFAULT_START,
    ArrivalProcess,
    PoissonArrivals,
    ReplayedArrivals,
    Scenario,
    Shift,
    SimAgent,
    SimQueue,
)
from omnidesk.wfm.units import parse_duration


def _duration(value: object) -> float:
    try:
        return parse_duration(value)
    except WfmError as error:
        raise ValueError(str(error)) from None


Duration = Annotated[float, BeforeValidator(_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExponentialFile(_Strict):
    """Exponential: ``{kind: exponential, mean: 180}``."""

    kind: Literal["exponential"]
    mean: Duration = Field(gt=0)


class LognormalFile(_Strict):
    """Lognormal by its mean and standard deviation: ``{kind: lognormal, mean: 240, sd: 90}``."""

    kind: Literal["lognormal"]
    mean: Duration = Field(gt=0)
    sd: Duration = Field(gt=0)


class DeterministicFile(_Strict):
    """Always the same: ``{kind: deterministic, value: 30}``."""

    kind: Literal["deterministic"]
    value: Duration


class EmpiricalFile(_Strict):
    """Resampled observations: ``{kind: empirical, values: [120, 180, 300]}``."""

    kind: Literal["empirical"]
    values: list[Duration] = Field(min_length=1)


DistributionFile = Annotated[
    ExponentialFile | LognormalFile | DeterministicFile | EmpiricalFile,
    Field(discriminator="kind"),
]


class ArrivalsFile(_Strict):
    """Exactly one of: per_interval (Poisson means), per_hour (constant), replay (a CSV)."""

    per_interval: list[float] | None = None
    per_hour: float | None = Field(default=None, ge=0)
    replay: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ArrivalsFile:
        given = [name for name in ("per_interval", "per_hour", "replay")
                 if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of per_interval, per_hour, replay")
        if self.per_interval is not None and (
                not self.per_interval or any(not 0 <= v < math.inf for v in self.per_interval)):
            raise ValueError("per_interval must be a non-empty list of numbers ≥ 0")
        return self


class EscalationFile(_Strict):
    """After ``after`` of waiting: lower proficiencies, drop skills, or overflow."""

    after: Duration = Field(gt=0)
    lower_proficiency_by: int = Field(default=0, ge=0)
    drop_skills: list[str] = []
    overflow_to: str | None = None


class QueueFile(_Strict):
    """One queue: routing settings, traffic, handle time, patience, KPI thresholds."""

    id: str = Field(min_length=1)
    channel: str = "voice"
    strategy: StrategyName = StrategyName.LONGEST_IDLE
    skills: dict[str, Annotated[int, Field(ge=1, le=5)]] = {}
    priority: int = 0
    arrivals: ArrivalsFile
    handle_time: DistributionFile
    wrap_up: DistributionFile | None = None
    patience: DistributionFile | None = None
    max_wait: Duration | None = None
    escalation: list[EscalationFile] = []
    service_level_threshold: Duration = 20
    short_abandon_threshold: Duration = 5


class MembershipFile(_Strict):
    """A queue in an agent's routing profile."""

    queue: str
    priority: int = Field(default=1, ge=1)
    delay: Duration = 0


class ShiftFile(_Strict):
    """Logged in from ``start`` to ``end`` (offsets from the scenario's start)."""

    start: Duration = 0
    end: Duration | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ShiftFile:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class AgentGroupFile(_Strict):
    """``count`` identical agents named ``name-01`` … (or ``name`` when count is 1)."""

    name: str = Field(min_length=1)
    count: int = Field(default=1, ge=0)
    skills: dict[str, Annotated[int, Field(ge=1, le=5)]] = {}
    queues: list[str | MembershipFile] = Field(min_length=1)
    capacity: dict[str, Annotated[int, Field(ge=1)]] | None = None
    shifts: list[ShiftFile] = [ShiftFile()]


class ScenarioFile(_Strict):
    """A whole scenario file."""

    name: str = "scenario"
    seed: int = 0
    start: datetime = DEFAULT_START
    duration: Duration = Field(gt=0)
    warmup: Duration = 0
    interval: Duration = Field(default=1800, gt=0)
    max_contacts: int | None = Field(default=None, ge=1)
    queues: list[QueueFile] = Field(min_length=1)
    agents: list[AgentGroupFile] = Field(min_length=1)

    @model_validator(mode="after")
    def _warmup_within(self) -> ScenarioFile:
        if self.warmup >= self.duration:
            raise ValueError("warmup must be shorter than duration")
        if self.start.tzinfo is None:
            raise ValueError("start needs a time zone, e.g. 2026-01-05T08:00:00Z")
        return self


def _distribution(spec: DistributionFile | None, default: Distribution) -> Distribution:
    if spec is None:
        return default
    if isinstance(spec, ExponentialFile):
        return Exponential(spec.mean)
    if isinstance(spec, LognormalFile):
        return Lognormal(spec.mean, spec.sd)
    if isinstance(spec, DeterministicFile):
        return Deterministic(spec.value)
    return Empirical.of(spec.values)


def _replay_times(path: Path, start: datetime) -> tuple[float, ...]:
    """Arrival times from a CSV: seconds from the start, or ISO timestamps; first column."""
    times: list[float] = []
    for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
        if not row or not row[0].strip():
            continue
        cell = row[0].strip()
        try:
            times.append(float(cell))
        except ValueError:
            try:
                moment = datetime.fromisoformat(cell)
            except ValueError:
                if not times:
                    continue  # a header line
                raise ValueError(f"{path}: not a time: {cell!r}") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            times.append((moment - start).total_seconds())
    return tuple(times)


def _arrivals(spec: ArrivalsFile, interval_s: float, start: datetime,
              base_dir: Path) -> ArrivalProcess:
    if spec.per_hour is not None:
        return PoissonArrivals.constant(spec.per_hour)
    if spec.per_interval is not None:
        return PoissonArrivals(tuple(spec.per_interval), interval_s)
    assert spec.replay is not None
    return ReplayedArrivals(_replay_times(base_dir / spec.replay, start))


def _queue(spec: QueueFile, model: ScenarioFile, base_dir: Path) -> SimQueue:
    config = QueueConfig(
        spec.id, spec.channel, requirement=Requirement(skills=dict(spec.skills)),
        strategy=spec.strategy, max_wait_s=spec.max_wait,
        escalation=tuple(EscalationStep(after_s=step.after,
                                        lower_proficiency_by=step.lower_proficiency_by,
                                        drop_skills=frozenset(step.drop_skills),
                                        overflow_to=step.overflow_to)
                         for step in spec.escalation),
    )
    return SimQueue(
        config=config,
        arrivals=_arrivals(spec.arrivals, model.interval, model.start, base_dir),
        handle_time=_distribution(spec.handle_time, ZERO),
        wrap_up=_distribution(spec.wrap_up, ZERO),
        patience=_distribution(spec.patience, NEVER),
        priority=spec.priority,
        service_level_s=round(spec.service_level_threshold),
        short_abandon_s=round(spec.short_abandon_threshold),
    )


def _agents(group: AgentGroupFile) -> list[SimAgent]:
    profile = tuple(
        QueueMembership(m) if isinstance(m, str)
        else QueueMembership(m.queue, priority=m.priority, delay_s=m.delay)
        for m in group.queues)
    shifts = tuple(Shift(s.start, math.inf if s.end is None else s.end) for s in group.shifts)
    names = [group.name] if group.count == 1 else [
        f"{group.name}-{k:0{max(2, len(str(group.count)))}d}" for k in range(1, group.count + 1)]
    return [SimAgent(AgentConfig(name, skills=dict(group.skills), profile=profile,
                                 capacity=dict(group.capacity) if group.capacity else None),
                     shifts, group=group.name) for name in names]


def _check_references(model: ScenarioFile) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems validation alone cannot see: unknown queues, duplicate ids."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    ids = [q.id for q in model.queues]
    for index, queue_id in enumerate(ids):
        if ids.index(queue_id) != index:
            problems.append((("queues", index, "id"), f"duplicate queue id {queue_id!r}"))
    for q_index, queue in enumerate(model.queues):
        for s_index, step in enumerate(queue.escalation):
            if step.overflow_to is not None and step.overflow_to not in ids:
                problems.append((("queues", q_index, "escalation", s_index, "overflow_to"),
                                 f"unknown queue {step.overflow_to!r}"))
    names = [g.name for g in model.agents]
    for g_index, group in enumerate(model.agents):
        if names.index(group.name) != g_index:
            problems.append((("agents", g_index, "name"), f"duplicate agent name {group.name!r}"))
        for m_index, member in enumerate(group.queues):
            queue_id = member if isinstance(member, str) else member.queue
            if queue_id not in ids:
                problems.append((("agents", g_index, "queues", m_index),
                                 f"unknown queue {queue_id!r}"))
    return problems


def build_scenario(model: ScenarioFile, base_dir: Path = Path()) -> Scenario:
    """The runtime scenario of a validated file (replay files read relative to base_dir)."""
    problems = _check_references(model)
    if problems:
        path, message = problems[0]
        raise WfmError(f"{dotted(path)}: {message}")
    agents = [agent for group in model.agents for agent in _agents(group)]
    return Scenario(
        queues=tuple(_queue(q, model, base_dir) for q in model.queues),
        agents=tuple(agents), duration_s=model.duration, warmup_s=model.warmup,
        seed=model.seed, name=model.name, start=model.start, max_contacts=model.max_contacts,
    )


def _located(document: YamlDocument, model: ScenarioFile) -> None:
    """Raise ConfigFileError with the line of the first reference problem, if any."""
    problems = _check_references(model)
    if problems:
        path, message = problems[0]
        raise ConfigFileError(document.source, document.line_of(path), dotted(path), message)


def load_scenario_text(text: str, source: str, base_dir: Path = Path()) -> Scenario:
    """Parse, validate and build a scenario; errors are ConfigFileError (file:line: field)."""
    document = parse(text, source)
    model = validate(document, ScenarioFile)
    _located(document, model)
    try:
        return build_scenario(model, base_dir)
    except (WfmError, OSError, ValueError) as error:
        raise ConfigFileError(source, None, "", str(error)) from error


def load_scenario(path: Path) -> Scenario:
    """Load a scenario file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigFileError(str(path), None, "", f"cannot read: {error.strerror}") from error
    return load_scenario_text(text, str(path), path.parent)

