"""Load against the real server: agent desktops on WebSockets, contacts through the API channel.

Starts `omnidesk serve` on a fresh SQLite data directory (or OMNIDESK_DATABASE_URL), creates
one tenant with N agents, connects every agent's desktop over the WebSocket stream, and posts
signed contacts at a rising rate. Each simulated desktop accepts its offers, holds the contact
for a handle time, then wraps up and closes it. Reported per step: contacts/s offered and
accepted, and the time from posting a contact to its offer arriving on the agent's stream;
for the run, the server's CPU time (user + system, from the first post until the last contact
closed), and per contact when every posted contact was served; the same for this load
generator, which shares the machine's cores with the server.
Every posted contact must be offered; the run reports those not offered within a minute of
the last post (still queued in the database, not lost, but not served in time either).

    python bench/load.py            # 2,000 agents, 50 → 400 contacts/s
    python bench/load.py --quick    # 200 agents, a short ramp
    python bench/load.py --quick --rates 8 8 8   # CPU per contact below saturation
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from omnidesk.auth.security import TokenClaims, hash_password, issue_token
from omnidesk.channels.api_channel.signature import sign
from omnidesk.users.models import Role

SECRET_KEY = "load-bench-secret-key-load-bench-secret-key"
CHANNEL_SECRET = "load-bench-channel-secret"
PASSWORD = "load-bench-password"


@dataclass
class Tally:
    """What the run measured."""

    sent_at: dict[str, float] = field(default_factory=dict)
    offered_at: dict[str, float] = field(default_factory=dict)
    accepted: int = 0
    post_errors: int = 0
    post_shed: int = 0  # answered 503 (overloaded, retry later): not accepted, so not lost
    work_errors: Counter[str] = field(default_factory=Counter)  # by status or error type
    desktop_errors: int = 0
    missed: int = 0  # offers an agent missed (the server put them in state `missed`)
    working: set[asyncio.Task[Any]] = field(default_factory=set)

    def latency_ms(self, ids: list[str]) -> list[float]:
        return [(self.offered_at[i] - self.sent_at[i]) * 1000 for i in ids
                if i in self.offered_at and i in self.sent_at]


def center_yaml(agents: int) -> str:
    """The bench tenant: one chat queue, N agents with one chat each, an API channel."""
    lines = ["tenants:", "  - slug: load", "    name: Load", "    skills: [english]",
             "    queues:", "      - {name: support, channel: chat, offer_timeout_seconds: 30,",
             "         skills: [{skill: english, min_proficiency: 1}]}",
             "    users:"]
    lines += [f"      - {{email: a{i}@load.example, name: Agent {i}, role: agent, "
              f"password: {PASSWORD}}}" for i in range(agents)]
    lines += ["      - {email: boss@load.example, name: Boss, role: admin, "
              f"password: {PASSWORD}}}", "    agents:"]
    lines += [f"      - {{user: a{i}@load.example, skills: {{english: 3}}, capacity: {{chat: 1}}}}"
              for i in range(agents)]
    lines += ["    channels:",
              f"      - {{name: api, kind: api, default_queue: support, secret: {CHANNEL_SECRET}}}"]
    return "\n".join(lines) + "\n"


def start_server(data_dir: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`omnidesk serve` in a child process."""
    return subprocess.Popen([sys.executable, "-m", "omnidesk", "serve", "--port", str(port)],
                            env=env, stdout=(data_dir / "server.log").open("wb"),
                            stderr=subprocess.STDOUT)


def report_server_log(data_dir: Path) -> None:
    """Print how many lines of the server's log speak of an error, and the first five."""
    problems = [line for line in (data_dir / "server.log").read_text().splitlines()
                if "Error" in line or "error" in line]
    print(f"server log: {len(problems)} error lines", *problems[:5], sep="\n  ")


def wait_ready(url: str, seconds: float = 60, path: str = "/readyz") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def token(user_id: str, tenant_id: str, role: Role) -> str:
    """An access token signed with the server's key (the bench skips 2,000 password logins)."""
    claims = TokenClaims(user_id=uuid.UUID(user_id), tenant_id=uuid.UUID(tenant_id), role=role,
                         platform_admin=False, kind="access")
    return issue_token(claims, key=SECRET_KEY, now=datetime.now(UTC),
                       lifetime=timedelta(hours=2))


CONNECTIONS = 200
"""The generator's HTTP client is aiohttp's: it shares the server's 2 cores, and per request
it spends ≈ 0.18 ms of CPU where httpx spent ≈ 1.7 ms (the same keep-alive POST, 20
connections, measured side by side); with httpx the generator used 6–10 ms of CPU per contact,
a third of the machine at saturation."""
HTTP_ERRORS = (aiohttp.ClientError, TimeoutError)


async def call(http: aiohttp.ClientSession, method: str, path: str,
               **kwargs: Any) -> tuple[int, Any]:
    """One request: its status and its JSON body (None when it has none)."""
    async with http.request(method, path, **kwargs) as response:
        if response.content_type != "application/json":
            return response.status, None
        return response.status, await response.json()


async def desktop(url: str, http: aiohttp.ClientSession, headers: dict[str, str], agent_id: str,
                  tally: Tally, handle_s: float, ready: asyncio.Event,
                  stop: asyncio.Event) -> None:
    """One agent: stream open, available, accept every offer, close it after the handle time."""
    socket: ClientConnection | None = None
    try:
        # Like a browser's desktop: it answers the server's pings and sends none of its own.
        socket = await connect(url.replace("http", "ws") + "/api/v1/stream", max_queue=None,
                               ping_interval=None)
        await socket.send(json.dumps({"type": "auth", "token": headers["Authorization"][7:]}))
        await socket.recv()
        await call(http, "PUT", f"/api/v1/agents/{agent_id}/state", headers=headers,
                   json={"state": "available"})
    except (OSError, ConnectionClosed, *HTTP_ERRORS):
        tally.desktop_errors += 1  # counted and reported; the run goes on without this desktop
        if socket is not None:
            await socket.close()
        return
    finally:
        ready.set()
    try:
        while not stop.is_set():
            try:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
            except TimeoutError:
                continue
            event = frame.get("event") or {}
            if event.get("type") == "offer.created" and event["payload"].get(
                    "agent_id") == agent_id:
                tally.offered_at[event["subject"]] = time.perf_counter()
                tally.working.add(asyncio.create_task(
                    work(http, headers, event["subject"], tally, handle_s)))
            elif (event.get("type") == "agent.state_changed" and event["subject"] == agent_id
                  and event["payload"].get("state") == "missed"):
                tally.missed += 1  # as a person would, the agent makes themselves available
                tally.working.add(asyncio.create_task(call(
                    http, "PUT", f"/api/v1/agents/{agent_id}/state", headers=headers,
                    json={"state": "available"})))
    finally:
        await socket.close()


async def work(http: aiohttp.ClientSession, headers: dict[str, str], interaction_id: str,
               tally: Tally, handle_s: float) -> None:
    """Accept, talk for the handle time, wrap up, close."""
    try:
        status, _ = await call(http, "POST", f"/api/v1/interactions/{interaction_id}/accept",
                               headers=headers)
        if status != 200:
            return  # the offer was withdrawn meanwhile (timed out): not this desktop's work
        tally.accepted += 1
        await asyncio.sleep(random.expovariate(1 / handle_s))
        for state in ("wrap_up", "closed"):
            status, _ = await call(http, "POST", f"/api/v1/interactions/{interaction_id}/state",
                                   headers=headers, json={"state": state, "resolved": True})
            if status != 200:
                tally.work_errors[f"{state}: HTTP {status}"] += 1
    except HTTP_ERRORS as error:
        tally.work_errors[type(error).__name__] += 1


async def post_contact(http: aiohttp.ClientSession, channel_id: str, number: int,
                       tally: Tally) -> str | None:
    body = json.dumps({"customer": {"identity": {"kind": "chat", "value": f"visitor-{number}"}},
                       "text": "hello"}).encode()
    stamp = str(int(time.time()))
    sent = time.perf_counter()
    try:
        status, answer = await call(
            http, "POST", f"/api/v1/channels/api/{channel_id}/messages", data=body, headers={
                "Content-Type": "application/json", "X-Omnidesk-Timestamp": stamp,
                "X-Omnidesk-Signature": sign(CHANNEL_SECRET, stamp, body)})
    except HTTP_ERRORS:
        tally.post_errors += 1
        return None
    if status == 503:
        tally.post_shed += 1
        return None
    if status != 202:
        tally.post_errors += 1
        return None
    interaction_id = str(answer["interaction_id"])
    tally.sent_at[interaction_id] = sent
    return interaction_id


async def ramp(http: aiohttp.ClientSession, channel_id: str, rates: list[int],
               step_s: float, tally: Tally) -> list[tuple[int, float, list[str]]]:
    """Post contacts at each rate for step_s seconds: (rate, posted per second, ids) per step."""
    steps, number = [], 0
    for rate in rates:
        started = time.perf_counter()
        posts: list[asyncio.Task[str | None]] = []
        for index in range(int(rate * step_s)):
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
            number += 1
            posts.append(asyncio.create_task(post_contact(http, channel_id, number, tally)))
        ids = [i for i in await asyncio.gather(*posts) if i]
        steps.append((rate, len(ids) / (time.perf_counter() - started), ids))
        print(f"  {rate:>4}/s target: {steps[-1][1]:.1f}/s posted", flush=True)
    return steps


async def drain(tally: Tally, seconds: float) -> None:
    """Wait until every posted contact was offered (or the time is up)."""
    deadline = time.perf_counter() + seconds
    # Offers arrive on thousands of sockets: polling the tally is the simplest honest wait.
    while time.perf_counter() < deadline and set(tally.sent_at) - set(tally.offered_at):  # noqa: ASYNC110
        await asyncio.sleep(0.2)


async def finish_work(tally: Tally, seconds: float) -> None:
    """Let the contacts still being handled close (then stop those left) before the client
    closes: a request on a closed client is the bench's error, not the server's."""
    if tally.working:
        _, left = await asyncio.wait(tally.working, timeout=seconds)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)


def step_figures(steps: list[tuple[int, float, list[str]]], tally: Tally) -> list[dict[str, float]]:
    """Per step: rate, contacts offered, post-to-offer latency percentiles."""
    figures = []
    for rate, posted_per_s, ids in steps:
        latencies = sorted(tally.latency_ms(ids))
        figures.append({
            "target_per_s": rate, "posted_per_s": round(posted_per_s, 1), "posted": len(ids),
            "offered": len(latencies),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else float("nan"),
            "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 1)
            if latencies else float("nan")})
    return figures


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(url: str, agents: int, rates: list[int], step_s: float,
                handle_s: float, server_pid: int) -> dict[str, object]:
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession(
            base_url=url, connector=aiohttp.TCPConnector(limit=CONNECTIONS),
            timeout=aiohttp.ClientTimeout(total=60)))
        _, boss = await call(http, "POST", "/api/v1/auth/login", json={
            "tenant": "load", "email": "boss@load.example", "password": PASSWORD})
        admin = {"Authorization": f"Bearer {boss['access_token']}"}
        _, me = await call(http, "GET", "/api/v1/auth/me", headers=admin)
        _, roster = await call(http, "GET", "/api/v1/agents", headers=admin)
        _, (channel,) = await call(http, "GET", "/api/v1/channels", headers=admin)
        tally, stop = Tally(), asyncio.Event()
        readies = [asyncio.Event() for _ in roster]
        desktops = [asyncio.create_task(desktop(
            url, http,
            {"Authorization": "Bearer " + token(a["user_id"], me["tenant_id"], Role.AGENT)},
            a["id"], tally, handle_s, ready, stop))
            for a, ready in zip(roster, readies, strict=True)]
        started = time.perf_counter()
        await asyncio.gather(*(ready.wait() for ready in readies))
        print(f"{len(roster) - tally.desktop_errors} desktops connected and available in "
              f"{time.perf_counter() - started:.1f} s ({tally.desktop_errors} failed)",
              flush=True)
        cpu_before, own_cpu_before = cpu_seconds(server_pid), cpu_seconds(os.getpid())
        posted = await ramp(http, channel["id"], rates, step_s, tally)
        await drain(tally, 60)
        stop.set()
        await asyncio.gather(*desktops, return_exceptions=True)
        await finish_work(tally, handle_s * 5)
        server_cpu = cpu_seconds(server_pid) - cpu_before  # the contacts' whole life
        generator_cpu = cpu_seconds(os.getpid()) - own_cpu_before  # the bench's, same window
    steps = step_figures(posted, tally)
    for step in steps:
        print(f"  {step['target_per_s']:>4}/s: {step['offered']}/{step['posted']} offered, "
              f"post→offer p50 {step['p50_ms']} ms, p99 {step['p99_ms']} ms")
    not_offered = sum(step["posted"] - step["offered"] for step in steps)
    return {"agents": len(roster), "steps": steps, "not_offered": not_offered,
            "post_errors": tally.post_errors, "post_shed": tally.post_shed,
            "work_errors": dict(tally.work_errors),
            "desktop_errors": tally.desktop_errors, "offers_missed": tally.missed,
            "accepted": tally.accepted, "server_cpu_s": server_cpu,
            "generator_cpu_s": generator_cpu}


def run_omnidesk(agents: int, rates: list[int], step_s: float, handle_s: float,
                 port: int) -> dict[str, object]:
    """`omnidesk serve` on a fresh data directory with the bench tenant, driven by `drive`."""
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        env = {**os.environ, "OMNIDESK_DATA_DIR": str(data_dir), "OMNIDESK_SECRET_KEY": SECRET_KEY,
               "OMNIDESK_LOG_LEVEL": "warning"}
        (data_dir / "center.yaml").write_text(center_yaml(agents))
        hash_password(PASSWORD)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "omnidesk", "apply", str(data_dir / "center.yaml")],
                       env=env, check=True, capture_output=True)
        print(f"applied {agents} agents in {time.perf_counter() - started:.0f} s", flush=True)
        server = start_server(data_dir, port, env)
        try:
            return drive_server(server, port, agents, rates, step_s, handle_s)
        finally:
            report_server_log(data_dir)


def drive_server(server: subprocess.Popen[bytes], port: int, agents: int, rates: list[int],
                 step_s: float, handle_s: float) -> dict[str, object]:
    """`drive` the server just started on the port, then stop it."""
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        return asyncio.run(drive(url, agents, rates, step_s, handle_s, server.pid))
    finally:
        server.terminate()
        server.wait(30)


def summary(result: dict[str, object]) -> dict[str, object]:
    """The run's figures: the best step sustained at p99 < 100 ms, errors, CPU per contact."""
    steps, work_errors = result["steps"], result["work_errors"]
    assert isinstance(steps, list) and isinstance(work_errors, dict)
    sustained = [s for s in steps if s["offered"] == s["posted"] and s["p99_ms"] < 100
                 and s["posted_per_s"] >= 0.95 * s["target_per_s"]]
    best = max(sustained, key=lambda s: s["posted_per_s"]) if sustained else steps[0]
    cpu_s, accepted = result["server_cpu_s"], result["accepted"]
    generator_cpu_s = result["generator_cpu_s"]
    assert isinstance(cpu_s, float) and isinstance(accepted, int)
    assert isinstance(generator_cpu_s, float)
    # per contact only when every posted contact was served: otherwise the CPU also paid for
    # posts that never reached an agent, and the quotient means nothing
    served_all = result["not_offered"] == 0 and accepted == sum(s["posted"] for s in steps)
    return {"agents": result["agents"],
            "sustained_contacts_per_s": best["posted_per_s"] if sustained else 0,
            "p50_ms": best["p50_ms"], "p99_ms": best["p99_ms"],
            "not_offered_by_end": result["not_offered"],
            "post_errors": result["post_errors"],
            "posts_shed_503": result["post_shed"],
            "work_errors": sum(work_errors.values()),
            "work_errors_by_kind": work_errors,
            "desktop_errors": result["desktop_errors"],
            "offers_missed": result["offers_missed"],
            "server_cpu_s": round(cpu_s, 1),
            "server_cpu_ms_per_contact": round(1000 * cpu_s / accepted, 2)
            if served_all else None,
            "generator_cpu_s": round(generator_cpu_s, 1),
            "generator_cpu_ms_per_contact": round(1000 * generator_cpu_s / accepted, 2)
            if served_all else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 agents, a short ramp")
    parser.add_argument("--agents", type=int)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rates", type=int, nargs="+",
                        help="contacts/s of each step (default 10 20 40 with --quick, "
                        "else 50 100 200 300 400); a low rate measures CPU per contact unsaturated")
    args = parser.parse_args()
    agents = args.agents or (200 if args.quick else 2000)
    rates = args.rates or ([10, 20, 40] if args.quick else [50, 100, 200, 300, 400])
    step_s, handle_s = (5.0, 2.0) if args.quick else (10.0, 4.0)
    result = run_omnidesk(agents, rates, step_s, handle_s, args.port)
    print(json.dumps(summary(result)))


if __name__ == "__main__":
    main()
