"""Scenario files: validated, built into the engine's own configuration, errors at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnidesk.configuration.yaml_source import ConfigFileError
from omnidesk.routing import StrategyName
from omnidesk.wfm.simulate.distributions import Exponential, Lognormal
from omnidesk.wfm.simulate.model import PoissonArrivals, ReplayedArrivals
from omnidesk.wfm.simulate.results import simulate
from omnidesk.wfm.simulate.scenario import load_scenario, load_scenario_text

SCENARIO = """\
name: support-day
seed: 7
duration: 2h
warmup: 15m
interval: 30m
queues:
  - id: voice
    channel: voice
    strategy: most_skilled
    skills: {billing: 1}
    arrivals: {per_interval: [20, 30, 40, 30]}
    handle_time: {kind: lognormal, mean: 4m, sd: 2m}
    wrap_up: {kind: deterministic, value: 20}
    patience: {kind: exponential, mean: 180}
  - id: chat
    channel: chat
    arrivals: {replay: arrivals.csv}
    handle_time: {kind: empirical, values: [300, 600, 900]}
agents:
  - name: voice
    count: 4
    skills: {billing: 3}
    queues: [voice]
  - name: chat
    queues: [{queue: chat, priority: 1}]
    capacity: {chat: 2}
    shifts: [{start: 0, end: 1h}]
"""


def _write(tmp_path: Path, text: str = SCENARIO) -> Path:
    (tmp_path / "arrivals.csv").write_text("at\n60\n120\n2026-01-05T00:05:00Z\n")
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_loads_a_scenario_file_into_engine_configuration(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path))
    voice, chat = scenario.queues
    assert voice.config.strategy is StrategyName.MOST_SKILLED
    assert dict(voice.config.requirement.skills) == {"billing": 1}
    assert voice.handle_time == Lognormal(240.0, 120.0)
    assert voice.patience == Exponential(180.0)
    assert voice.arrivals == PoissonArrivals((20.0, 30.0, 40.0, 30.0), 1800.0)
    assert chat.arrivals == ReplayedArrivals((60.0, 120.0, 300.0))
    assert [a.agent_id for a in scenario.agents] == ["voice-01", "voice-02", "voice-03",
                                                     "voice-04", "chat"]
    assert scenario.agents[-1].shifts[0].end_s == 3600
    assert (scenario.duration_s, scenario.warmup_s, scenario.seed) == (7200, 900, 7)
    result = simulate(scenario)
    assert {row.queue_id for row in result.queues} == {"voice", "chat"}


@pytest.mark.parametrize(("old", "new", "where"), [
    ("kind: lognormal, mean: 4m, sd: 2m", "kind: gamma, mean: 4m",
     "scenario.yaml:12: queues[0].handle_time"),
    ("duration: 2h", "duration: soon", "scenario.yaml:3: duration"),
    ("    queues: [voice]", "    queues: [billing]", "scenario.yaml:23: agents[0].queues[0]"),
    ("{per_interval: [20, 30, 40, 30]}", "{per_hour: 10, per_interval: [1]}",
     "scenario.yaml:11: queues[0].arrivals"),
    ("    count: 4\n", "    count: 4\n    colour: red\n", "scenario.yaml:22: agents[0].colour"),
])
def test_errors_name_file_line_and_field(tmp_path: Path, old: str, new: str,
                                         where: str) -> None:
    assert old in SCENARIO
    path = _write(tmp_path, SCENARIO.replace(old, new))
    with pytest.raises(ConfigFileError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{tmp_path / where}"), str(caught.value)


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigFileError, match=r"^s.yaml:3: YAML syntax"):
        load_scenario_text("name: x\nqueues: [\n", "s.yaml")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")
