"""The compiled cores: used only while they match their sources, doing what the source does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import omnidesk
from omnidesk.compiled import (
    BUILD_FOLDER,
    GROUPS,
    INTERPRETED_ENV,
    MANIFEST,
    compiled_folder,
    manifest,
    running_compiled,
)
from tests.conftest import IN_CI

ANALYTICS = Path(omnidesk.__file__).parent / "analytics"
MODULES = GROUPS["omnidesk.analytics"]

# Folds a generated day into 15-minute rows and prints them, sorted, one per line.
FOLD_A_DAY = """
from omnidesk.compiled import running_compiled
from omnidesk.analytics.generator import TrafficProfile, analytics_config, generate_day
from omnidesk.analytics.report import interval_measures
profile = TrafficProfile(interactions=3000, seed=5)
events = list(generate_day(profile))
rows = interval_measures(events, config=analytics_config(profile), granularity="15min",
                         now=events[-1].occurred_at, group_by=("queue", "agent", "channel"))
print(running_compiled("omnidesk.analytics"))
for key in sorted(rows, key=repr):
    print(repr(key), repr(rows[key]))
"""

# Simulates two hours of a queue through the routing engine; prints every event it emitted.
ROUTE_A_QUEUE = """
from omnidesk.compiled import running_compiled
from omnidesk.wfm.simulate.core import run
from omnidesk.wfm.simulate.distributions import Exponential
from omnidesk.wfm.simulate.model import single_queue
scenario = single_queue(agents=12, arrivals_per_hour=300, handle_time=Exponential(150),
                        patience=Exponential(90), duration_s=7200, seed=3)
print(running_compiled("omnidesk.routing"))
for event in run(scenario):
    print(repr(event))
"""


def a_package_with_a_build(tmp_path: Path) -> Path:
    """A copy of the fold's sources with a (library-less) build recorded as made from them."""
    package = tmp_path / "analytics"
    (package / BUILD_FOLDER).mkdir(parents=True)
    for name in MODULES:
        shutil.copy(ANALYTICS / f"{name}.py", package / f"{name}.py")
    (package / BUILD_FOLDER / MANIFEST).write_text(json.dumps(manifest(package, MODULES)))
    return package


def test_a_build_is_used_only_while_every_source_is_unchanged(tmp_path, monkeypatch):
    monkeypatch.delenv(INTERPRETED_ENV, raising=False)
    package = a_package_with_a_build(tmp_path)
    assert compiled_folder(package, MODULES) == package / BUILD_FOLDER
    with (package / "measures.py").open("a") as source:
        source.write("# edited\n")
    assert compiled_folder(package, MODULES) is None


def test_a_build_for_another_python_or_an_unreadable_manifest_is_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv(INTERPRETED_ENV, raising=False)
    package = a_package_with_a_build(tmp_path)
    recorded = json.loads((package / BUILD_FOLDER / MANIFEST).read_text())
    (package / BUILD_FOLDER / MANIFEST).write_text(
        json.dumps({**recorded, "ext_suffix": ".cpython-399-x86_64-linux-gnu.so"}))
    assert compiled_folder(package, MODULES) is None
    (package / BUILD_FOLDER / MANIFEST).write_text("{not json")
    assert compiled_folder(package, MODULES) is None


def test_the_interpreted_setting_turns_a_matching_build_off(tmp_path, monkeypatch):
    package = a_package_with_a_build(tmp_path)
    monkeypatch.setenv(INTERPRETED_ENV, "1")
    assert compiled_folder(package, MODULES) is None


def run_both_ways(script: str) -> tuple[list[str], list[str]]:
    """The script's output lines, compiled and then interpreted."""
    outputs = []
    for interpreted in (False, True):
        environment = {key: value for key, value in os.environ.items()
                       if key != INTERPRETED_ENV}
        if interpreted:
            environment[INTERPRETED_ENV] = "1"
        result = subprocess.run([sys.executable, "-c", script], env=environment, check=True,
                                capture_output=True, text=True)
        outputs.append(result.stdout.splitlines())
    return outputs[0], outputs[1]


@pytest.mark.parametrize(("package", "script"), [
    ("omnidesk.analytics", FOLD_A_DAY),  # the very same rows
    ("omnidesk.routing", ROUTE_A_QUEUE),  # the very same routed events
], ids=["fold", "engine"])
def test_the_compiled_group_does_exactly_what_its_source_does(package, script):
    if not running_compiled(package):
        if IN_CI:
            pytest.fail(f"CI must test the compiled {package}: scripts/install did not build it")
        pytest.skip(f"{package} has no compiled build (scripts/compile)")
    compiled, interpreted = run_both_ways(script)
    assert (compiled[0], interpreted[0]) == ("True", "False")
    assert len(compiled) > 1_000
    assert compiled[1:] == interpreted[1:]
