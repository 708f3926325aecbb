"""A crowd of agent desktops reconnecting at once, each far behind the tenant's event log.

After a server restart (or a network drop) every desktop reopens its stream with the last
event seq it saw (`since`). An agent's stream carries only the agent's own events, so an
agent idle for a while saw their last event many thousands of events ago. Replaying means
reading the tenant's whole log after `since` for each desktop and dropping what is not theirs;
past OMNIDESK_STREAM_REPLAY_MAX_EVENTS the server instead tells the desktop to reload (`ready`
with `resync`), and the desktop reads its agent and open interactions again (two requests,
which this bench makes too).

Writes N events that concern no agent into a fresh SQLite database, then, for each mode —
replay (the limit above N) and resync (the default limit) — starts `omnidesk serve`, opens
every desktop's stream with `since` 0, and once each is ready sets the agent available (PUT
state). A desktop refused because the server is overloaded (close code 1013) tries again as the
browser's does. Reported per mode: seconds until every desktop received that state change live
on its stream (after any replay), the server's CPU (user + system) over the same time, and the
refusals.

    python bench/reconnect.py            # 200 desktops, 20,000 events behind
    python bench/reconnect.py --quick    # 50 desktops, 5,000 events behind
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from load import (
    CONNECTIONS,
    PASSWORD,
    SECRET_KEY,
    call,
    center_yaml,
    cpu_seconds,
    report_server_log,
    start_server,
    token,
    wait_ready,
)
from omnidesk.config import Settings
from omnidesk.db import Database
from omnidesk.events.bus import InProcessBus
from omnidesk.events.log import record
from omnidesk.realtime.stream import CLOSE_TRY_AGAIN_LATER
from omnidesk.tenants.models import Tenant
from omnidesk.users.models import Role

NOISE_BATCH = 1000
REPLAY_EVERYTHING = 10**9
DEFAULT_LIMIT = Settings.model_fields["stream_replay_max_events"].default
TENANT = "load"  # the slug of bench/load.py's center


async def write_noise(url: str, count: int) -> None:
    """`count` events of the bench tenant that concern no agent (customers changing)."""
    db = Database(url, InProcessBus())
    try:
        async with db.read() as session:
            tenant_id = (await session.scalars(select(Tenant.id).where(
                Tenant.slug == TENANT))).one()
        for start in range(0, count, NOISE_BATCH):
            async with db.write() as session:
                for number in range(start, min(count, start + NOISE_BATCH)):
                    await record(session, tenant_id=tenant_id, type="customer.updated",
                                 subject=str(uuid.uuid4()), payload={"number": number})
    finally:
        await db.dispose()


async def reconnect(url: str, http: aiohttp.ClientSession, headers: dict[str, str],
                    agent_id: str, refusals: list[int]) -> str:
    """One desktop: stream from seq 0, reload on resync, go available, wait for that event;
    refused (1013, the server overloaded), it tries again as the browser's desktop does (after
    0.5 s, doubling up to 10 s), and the refusal is counted. Returns how the stream opened:
    "resync" or "replay"."""
    delay = 0.5
    while True:
        try:
            return await _live_again(url, http, headers, agent_id)
        except ConnectionClosed as closed:
            if closed.rcvd is None or closed.rcvd.code != CLOSE_TRY_AGAIN_LATER:
                raise
        refusals.append(1)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10)


async def _live_again(url: str, http: aiohttp.ClientSession, headers: dict[str, str],
                      agent_id: str) -> str:
    async with connect(url.replace("http", "ws") + "/api/v1/stream", max_queue=None,
                       ping_interval=None, close_timeout=1) as socket:
        await socket.send(json.dumps({"type": "auth", "token": headers["Authorization"][7:],
                                      "since": 0}))
        ready = json.loads(await socket.recv())
        if ready.get("type") != "ready":
            raise RuntimeError(f"the stream answered {ready}")
        if ready.get("resync"):  # what the desktop reads again instead
            await call(http, "GET", "/api/v1/agents/me", headers=headers)
            await call(http, "GET", f"/api/v1/interactions?agent_id={agent_id}&open=true",
                       headers=headers)
        status, _ = await call(http, "PUT", f"/api/v1/agents/{agent_id}/state",
                               headers=headers, json={"state": "available"})
        if status != 200:
            raise RuntimeError(f"PUT state answered {status}")
        while True:
            frame = json.loads(await socket.recv())
            event = frame.get("event") or {}
            if event.get("type") == "agent.state_changed" and event["subject"] == agent_id:
                return "resync" if ready.get("resync") else "replay"


async def storm(url: str, server_pid: int) -> tuple[dict[str, float], set[str]]:
    """Every desktop at once: seconds until all are live again and the server's CPU; how the
    streams opened."""
    async with aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(
            limit=CONNECTIONS), timeout=aiohttp.ClientTimeout(total=600)) as http:
        _, boss = await call(http, "POST", "/api/v1/auth/login", json={
            "tenant": TENANT, "email": "boss@load.example", "password": PASSWORD})
        admin = {"Authorization": f"Bearer {boss['access_token']}"}
        _, me = await call(http, "GET", "/api/v1/auth/me", headers=admin)
        _, roster = await call(http, "GET", "/api/v1/agents", headers=admin)
        cpu_before, started = cpu_seconds(server_pid), time.perf_counter()
        refusals: list[int] = []
        modes = await asyncio.gather(*(reconnect(url, http, {"Authorization": "Bearer " + token(
            a["user_id"], me["tenant_id"], Role.AGENT)}, a["id"], refusals) for a in roster))
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(server_pid) - cpu_before
    return {"seconds": seconds, "server_cpu_s": cpu, "refused": len(refusals)}, set(modes)


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server (killed if it has not stopped within 30 s: a storm may still run)."""
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(30)


def run_mode(env: dict[str, str], data_dir: Path, port: int, mode: str) -> dict[str, float]:
    """One storm against a fresh server process: replaying everything, or the default limit."""
    limit = str(REPLAY_EVERYTHING) if mode == "replay" else None  # None: the default
    server = start_server(data_dir, port, {**env, "OMNIDESK_STREAM_REPLAY_MAX_EVENTS": limit}
                          if limit else env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        figures, modes = asyncio.run(storm(url, server.pid))
    finally:
        stop(server)
    report_server_log(data_dir)
    if modes != {mode}:
        raise SystemExit(f"asked for {mode}, the streams opened as {sorted(modes)} (--events "
                         f"must be above the server's limit, {DEFAULT_LIMIT:,} by default)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 desktops, 5,000 events")
    parser.add_argument("--agents", type=int)
    parser.add_argument("--events", type=int)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    agents = args.agents or (50 if args.quick else 200)
    events = args.events or (5_000 if args.quick else 20_000)
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        env = {**os.environ, "OMNIDESK_DATA_DIR": str(data_dir), "OMNIDESK_SECRET_KEY": SECRET_KEY,
               "OMNIDESK_LOG_LEVEL": "warning"}
        (data_dir / "center.yaml").write_text(center_yaml(agents))
        subprocess.run([sys.executable, "-m", "omnidesk", "apply", str(data_dir / "center.yaml")],
                       env=env, check=True, capture_output=True)
        asyncio.run(write_noise(f"sqlite+aiosqlite:///{data_dir / 'omnidesk.db'}", events))
        print(f"{agents} desktops, {events} events behind", flush=True)
        figures: dict[str, dict[str, float]] = {}
        for mode in ("replay", "resync"):
            figures[mode] = run_mode(env, data_dir, args.port, mode)
            print(f"  {mode}: every desktop live again in {figures[mode]['seconds']:.2f} s, "
                  f"server CPU {figures[mode]['server_cpu_s']:.2f} s, "
                  f"{figures[mode]['refused']} refusals (1013) retried", flush=True)
    print(json.dumps({"desktops": agents, "events_behind": events,
                      "replay_s": round(figures["replay"]["seconds"], 2),
                      "replay_server_cpu_s": round(figures["replay"]["server_cpu_s"], 2),
                      "replay_refusals": figures["replay"]["refused"],
                      "resync_s": round(figures["resync"]["seconds"], 2),
                      "resync_server_cpu_s": round(figures["resync"]["server_cpu_s"], 2),
                      "resync_refusals": figures["resync"]["refused"]}))


if __name__ == "__main__":
    main()
