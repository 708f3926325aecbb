"""Voice benchmark: SIPp callers against the voice service on one core.

Run alone:  .venv/bin/python bench/voice.py                 (200 concurrent bridged calls,
                                                             then the set-up rate sweep)
            .venv/bin/python bench/voice.py --quick         (20; sweep 10, 20 calls/s)
            --calls N --rate CPS --hold SECONDS --mode bridged|queued
            --setup-rates 10,20,40,80,160 | --no-setup

The app (SQLite, in-process bus) runs in this process, pinned to CPU 0; SIPp runs pinned to
CPU 1. Every caller offers PCMA, is answered and queued (no flow), and sends SIPp's recorded
A-law speech (33 packets/s for 7 s) until it hangs up after --hold seconds.

- `--mode bridged` (default): N agents, each with a registered phone (one SIPp UAS plays
  them all, answering with PCMU and echoing what it hears), are available; the router offers
  each call to an agent, omnidesk rings the phone and bridges the legs: per call four RTP
  streams through this process (caller → us → agent, agent echo → us → caller), transcoded
  A-law ⇄ µ-law. The phones' registrations are bound directly (not measured).
- `--mode queued`: no agents; callers hear hold music (50 packets/s) while queued.

What is measured:

- `concurrent_calls`: the most answered calls the service held at once (bridged mode:
  bridged calls, i.e. callers connected to agents' phones);
- `rtp_loss_pct`: RTP packets lost on our receive side, both legs (RFC 3550 expected −
  received, summed over calls, from the `call.ended` events);
- `bridge_dropped_pct`: audio the bridges dropped because one leg ran > 200 ms ahead;
- `late_ticks`: 20 ms media ticks that fell more than 200 ms behind (pacing overruns);
- `loop_lag_ms_p99`, `loop_lag_ms_max`: how late the server's event loop ran a 20 ms timer
  during the run. RFC 4733 DTMF events are read and handed to the IVR by this loop as they
  arrive, so no digit was held back longer than `loop_lag_ms_max` ("no late DTMF" when that
  stays well under a digit's 40–100 ms minimum duration);
- `setup_ms_p95`: INVITE → 200 for our answers (SIPp's response-time repartition is not
  parsed; we time it ourselves from the INVITE's arrival to the 200);
- `failed_calls`: SIPp's failed calls;
- `server_cpu_pct`: CPU time of this process over the run (100 = the one core it has);
- `setup_rate_cps`: the call set-up rate, the highest swept rate at which every call offered
  for 10 s is answered, none fails and INVITE → 200 stays under 1 s at the 95th percentile
  (queued mode, 2 s calls; see `setup_rate`), with each rate's run in `setup_runs`.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from pydantic import SecretStr
from sqlalchemy import select

from omnidesk.agents.actions import change_state as change_agent_state
from omnidesk.agents.actions import create_agent
from omnidesk.agents.models import Agent, AgentState
from omnidesk.agents.schemas import AgentCreate, AgentStateChange
from omnidesk.app import create_app
from omnidesk.auth import security
from omnidesk.channels.actions import create_channel
from omnidesk.channels.schemas import ChannelCreate
from omnidesk.channels.voice.sip.transaction import Peer
from omnidesk.config import Settings
from omnidesk.events.models import Event
from omnidesk.queues.actions import create_queue
from omnidesk.queues.schemas import QueueCreate
from omnidesk.tenants.actions import create_tenant
from omnidesk.tenants.schemas import TenantCreate
from omnidesk.users.actions import create_user
from omnidesk.users.models import Role
from omnidesk.users.schemas import UserCreate

SCENARIOS = Path(__file__).resolve().parent.parent / "tests" / "voice" / "scenarios"
SCENARIO = SCENARIOS / "load_call.xml"
PHONE_SCENARIO = SCENARIOS / "agent_phone.xml"


def free_port() -> int:
    """A UDP port free right now on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pin(cpu: int) -> None:
    """Pin this process to one CPU when the platform allows it."""
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


PHONE_PASSWORD = "bench-phone"


def write_extensions(data_dir: Path, agents: int) -> None:
    """One phone account per bench agent (extensions 1000 …)."""
    folder = data_dir / "voice"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["extensions:" if agents else "extensions: []"] + [
        f"  - {{extension: '{1000 + i}', password: {PHONE_PASSWORD}, tenant: bench,"
        f" agent: agent{i}@bench.example}}" for i in range(agents)]
    (folder / "extensions.yaml").write_text("\n".join(lines) + "\n")


async def setup(app: Any, *, agents: int, phone_port: int) -> None:
    """Tenant bench, queue support, a voice channel taking every number; in bridged mode
    `agents` available agents whose phones are registered at `phone_port`."""
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    async with app.state.db.write() as session:
        tenant = await create_tenant(session, TenantCreate(slug="bench", name="Bench"),
                                     actor="bench")
        await create_queue(session, QueueCreate(name="support"), tenant_id=tenant.id,
                           actor="bench")
        await create_channel(session, ChannelCreate(
            kind="voice", name="bench-line", default_queue="support",
            settings={"announce_seconds": 0}), tenant_id=tenant.id, actor="bench")
        rows = []
        for i in range(agents):
            user = await create_user(session, UserCreate(
                email=f"agent{i}@bench.example", name=f"Agent {i}", role=Role.AGENT,
                password="bench-password"), tenant_id=tenant.id, actor="bench")
            rows.append(await create_agent(session, AgentCreate(user_id=user.id),
                                           tenant_id=tenant.id, actor="bench"))
        tenant_id, agent_ids = tenant.id, [row.id for row in rows]
    acd = app.state.acd
    await acd.router(tenant_id)
    for agent_id in agent_ids:
        await acd.desktop_opened(tenant_id, agent_id)
    async with app.state.db.write() as session:
        for agent_id in agent_ids:
            agent = await session.get(Agent, agent_id)
            await change_agent_state(session, agent, AgentStateChange(
                state=AgentState.AVAILABLE), actor="bench")
    registrar = app.state.voice.ua.registrar
    for i in range(agents):
        registrar.bind(str(1000 + i), f"sip:{1000 + i}@127.0.0.1:{phone_port}",
                       Peer("UDP", "127.0.0.1", phone_port), 3600)
    await asyncio.sleep(1)  # the router takes the agents' states


async def loop_lag(lags: list[float], stop: asyncio.Event) -> None:
    """How late the event loop runs a 20 ms timer, over and over: RTP, DTMF events and SIP
    are all read by this loop, so a digit can be late by no more than this lag."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + 0.02
        await asyncio.sleep(0.02)
        lags.append(max(0.0, loop.time() - due))


async def sample(app: Any, peak: list[int], stop: asyncio.Event, *, bridged: bool) -> None:
    """Track the most answered (or bridged) calls at once."""
    while not stop.is_set():
        legs = list(app.state.voice.legs.values())
        live = sum(1 for leg in legs if leg.bridged) if bridged else \
            sum(1 for leg in legs if leg.answered and leg.call.live)
        peak[0] = max(peak[0], live)
        await asyncio.sleep(0.25)


def sipp_program() -> str:
    """The sipp binary, or exit."""
    sipp = shutil.which("sipp")
    if sipp is None:
        sys.exit("sipp is not installed (Debian sip-tester)")
    return sipp


def on_cpu1(command: list[str]) -> list[str]:
    """Run a command on CPU 1 when there is one."""
    if (os.cpu_count() or 1) > 1 and shutil.which("taskset"):
        return ["taskset", "-c", "1", *command]
    return command


async def start_phones(port: int, *, calls: int, workdir: Path) -> asyncio.subprocess.Process:
    """One SIPp UAS playing every agent's phone (answers PCMU, echoes RTP)."""
    command = [sipp_program(), "-sf", str(PHONE_SCENARIO), "-i", "127.0.0.1", "-p",
               str(port), "-mi", "127.0.0.1", "-mp", str(free_port()), "-rtp_echo",
               "-m", str(calls), "-trace_err",
               "-error_file", str(workdir / "phones.errors.log")]
    return await asyncio.create_subprocess_exec(
        *on_cpu1(command), cwd=workdir, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def run_sipp(port: int, *, calls: int, rate: int, hold: float, total: int,
                   workdir: Path) -> tuple[int, str]:
    """SIPp on CPU 1: at most `calls` concurrent callers, `total` in all."""
    sipp = sipp_program()
    command = [sipp, "-sf", str(SCENARIO), "-s", "100", "-i", "127.0.0.1", "-p",
               str(free_port()), "-mi", "127.0.0.1", "-mp", str(free_port()),
               "-r", str(rate), "-l", str(calls), "-m", str(total),
               "-d", str(int(hold * 1000)), "-timeout", f"{int(hold * 4 + 120)}s",
               "-trace_stat", "-stf", str(workdir / "stat.csv"), "-fd", "1",
               f"127.0.0.1:{port}"]
    process = await asyncio.create_subprocess_exec(
        *on_cpu1(command), cwd=workdir, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode("utf-8", "replace")


def failed_calls(workdir: Path) -> int:
    """SIPp's cumulative failed-call count from its last statistics row."""
    rows = (workdir / "stat.csv").read_text().splitlines() if (workdir / "stat.csv").exists() \
        else []
    if len(rows) < 2:
        return -1
    header, last = rows[0].split(";"), rows[-1].split(";")
    index = header.index("FailedCall(C)") if "FailedCall(C)" in header else None
    return int(last[index]) if index is not None and last[index].isdigit() else -1


async def main(calls: int, rate: int, hold: float, *, bridged: bool,
               total: int | None = None) -> dict[str, Any]:
    """Run one load test (`total` calls, default 2·calls) and return its figures."""
    total = 2 * calls if total is None else total
    pin(0)
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        settings = Settings(data_dir=workdir / "data",  # type: ignore[call-arg]
                            secret_key=SecretStr("x" * 48), sip_port=free_port(),
                            smtp_port=free_port(), _env_file=None)
        agents = calls if bridged else 0
        write_extensions(settings.data_dir, agents)
        phone_port = free_port()
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await setup(app, agents=agents, phone_port=phone_port)
            phones = await start_phones(phone_port, calls=total, workdir=workdir) \
                if bridged else None
            setups: list[float] = []
            _time_setups(app, setups)
            peak, stop, lags = [0], asyncio.Event(), list[float]()
            sampler = asyncio.create_task(sample(app, peak, stop, bridged=bridged))
            lagger = asyncio.create_task(loop_lag(lags, stop))
            started = time.perf_counter()
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            code, output = await run_sipp(app.state.voice.port, calls=calls, rate=rate,
                                          hold=hold, total=total, workdir=workdir)
            elapsed = time.perf_counter() - started
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + \
                (cpu_after.ru_stime - cpu_before.ru_stime)
            stop.set()
            await sampler
            await lagger
            await asyncio.sleep(1)
            if phones is not None and phones.returncode is None:
                phones.kill()
                await phones.wait()
            async with app.state.db.read() as session:
                ended = [e.payload for e in await session.scalars(
                    select(Event).where(Event.type == "call.ended"))]
            late = app.state.voice.clock.late_ticks
        received = sum(int(p.get("rtp_received") or 0) + int(p.get("agent_rtp_received") or 0)
                       for p in ended)
        lost = sum(int(p.get("rtp_lost") or 0) + int(p.get("agent_rtp_lost") or 0)
                   for p in ended)
        dropped = sum(int(p.get("bridge_dropped_bytes") or 0) for p in ended)
        bridged_calls = sum(1 for p in ended if "agent_rtp_received" in p)
        setups.sort()
        return {
            "mode": "bridged" if bridged else "queued", "rate_cps": rate, "calls_total": total,
            "calls_answered": len(setups),
            "concurrent_target": calls, "concurrent_calls": peak[0],
            "calls_bridged": bridged_calls,
            "bridge_dropped_pct": round(100 * dropped / max(1, 160 * received), 3),
            "calls_ended": len(ended), "failed_calls": failed_calls(workdir),
            "sipp_exit": code, "rtp_received": received, "rtp_lost": lost,
            "rtp_loss_pct": round(100 * lost / max(1, received + lost), 3),
            "late_ticks": late, "loop_lag_ms_p99": _percentile_ms(lags, 0.99),
            "loop_lag_ms_max": _percentile_ms(lags, 1.0), "setup_ms_p95": round(
                1000 * setups[int(0.95 * (len(setups) - 1))], 1) if setups else None,
            "elapsed_s": round(elapsed, 1), "cpu_cores_server": 1,
            "server_cpu_pct": round(100 * cpu / elapsed, 1),
            "sipp_tail": re.sub(r"\s+", " ", output[-300:]) if code else "",
        }


def _percentile_ms(values: list[float], fraction: float) -> float | None:
    ordered = sorted(values)
    return round(1000 * ordered[int(fraction * (len(ordered) - 1))], 1) if ordered else None


def _time_setups(app: Any, setups: list[float]) -> None:
    """Wrap the service's call handler to time INVITE → answered."""
    ua = app.state.voice.ua
    handler = ua.handler

    async def timed(call: Any) -> None:
        began = time.perf_counter()

        async def watch() -> None:
            await call.confirmed.wait()
            setups.append(time.perf_counter() - began)

        watcher = asyncio.create_task(watch())
        try:
            await handler(call)
        finally:
            watcher.cancel()

    ua.handler = timed


SETUP_P95_LIMIT_MS = 1000.0
SETUP_SECONDS = 10.0
SETUP_HOLD = 2.0


def setup_rate(rates: list[int]) -> dict[str, Any]:
    """The call set-up rate: SIPp offers calls at each rate for SETUP_SECONDS (each caller
    hangs up SETUP_HOLD s after the answer; queued, no agents). A rate is sustained when
    every call is answered, none fails, and INVITE → 200 stays under SETUP_P95_LIMIT_MS at
    the 95th percentile; the figure is the highest sustained rate."""
    sustained, runs = 0, []
    for rate in rates:
        total = int(rate * SETUP_SECONDS)
        figures = asyncio.run(main(int(rate * (SETUP_HOLD + 5)), rate, SETUP_HOLD,
                                   bridged=False, total=total))
        ok = (figures["calls_answered"] == total and figures["failed_calls"] == 0
              and (figures["setup_ms_p95"] or 0) < SETUP_P95_LIMIT_MS)
        print(f"  {rate:>4} calls/s: {figures['calls_answered']}/{total} answered, "
              f"{figures['failed_calls']} failed, set-up p95 {figures['setup_ms_p95']} ms, "
              f"server CPU {figures['server_cpu_pct']} % → {'sustained' if ok else 'not'}",
              flush=True)
        runs.append(figures)
        if not ok:
            break
        sustained = rate
    return {"setup_rate_cps": sustained, "setup_runs": [
        {key: run[key] for key in ("rate_cps", "calls_answered", "failed_calls",
                                   "setup_ms_p95", "server_cpu_pct")} for run in runs]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rate", type=int, default=20)
    parser.add_argument("--hold", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mode", choices=["bridged", "queued"], default="bridged")
    parser.add_argument("--setup-rates", default="10,20,40,80,160",
                        help="calls/s swept for the set-up rate (--quick: 10,20)")
    parser.add_argument("--no-setup", action="store_true", help="skip the set-up rate sweep")
    args = parser.parse_args()
    if args.quick:
        args.calls, args.rate, args.hold = 20, 10, 8.0
        args.setup_rates = "10,20"
    figures = asyncio.run(main(args.calls, args.rate, args.hold,
                               bridged=args.mode == "bridged"))
    print(json.dumps(figures), flush=True)
    if not args.no_setup:
        print("== call set-up rate", flush=True)
        figures |= setup_rate([int(rate) for rate in args.setup_rates.split(",")])
    print(json.dumps(figures))
