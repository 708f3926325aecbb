"""What answering one HTTP request costs the server: omnidesk against its framework's floor.

Starts, one after another, a bare FastAPI app with one route under uvicorn (the floor of the
stack omnidesk is built on) and `omnidesk serve` on a fresh SQLite data directory, with its
access log off (the default) and on, and sends each the same keep-alive `GET /healthz` from 20
connections (aiohttp). Reported: the server process's CPU time (user + system) per request.
A contact costs four requests (post, accept, wrap-up, close; bench/load.py), so this is the
part of its cost that is HTTP alone.

    python bench/http_floor.py            # 20,000 requests per server
    python bench/http_floor.py --quick    # 4,000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

from load import cpu_seconds, wait_ready

CONNECTIONS = 20
BARE_APP = '''from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
'''


async def cpu_per_request(url: str, pid: int, requests: int) -> float:
    """Milliseconds of the server's CPU per request, after a warm-up."""
    async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONNECTIONS)) as http:

        async def one() -> None:
            async with http.get(f"{url}/healthz") as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"/healthz answered {response.status}")

        async def batch(count: int) -> None:
            for _ in range(0, count, CONNECTIONS):
                await asyncio.gather(*(one() for _ in range(CONNECTIONS)))

        await batch(1000)
        before = cpu_seconds(pid)
        await batch(requests)
        return 1000 * (cpu_seconds(pid) - before) / requests


def measure(command: list[str], env: dict[str, str], port: int, requests: int,
            cwd: Path) -> float:
    server = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, path="/healthz")
        return asyncio.run(cpu_per_request(url, server.pid, requests))
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4,000 requests per server")
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    requests = 4000 if args.quick else 20000
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "bare.py").write_text(BARE_APP)
        bare = [sys.executable, "-m", "uvicorn", "bare:app", "--port", str(args.port),
                "--log-level", "warning", "--no-access-log"]
        figures["fastapi_floor_cpu_ms_per_request"] = measure(
            bare, dict(os.environ), args.port, requests, root)
        for access_log in ("false", "true"):
            env = {**os.environ, "OMNIDESK_DATA_DIR": str(root / f"data-{access_log}"),
                   "OMNIDESK_ACCESS_LOG": access_log}
            serve = [sys.executable, "-m", "omnidesk", "serve", "--port", str(args.port)]
            key = "access_log" if access_log == "true" else "default"
            figures[f"omnidesk_{key}_cpu_ms_per_request"] = measure(
                serve, env, args.port, requests, root)
    for name, value in figures.items():
        print(f"{name}: {value:.3f}")
    print(json.dumps({name: round(value, 3) for name, value in figures.items()}))


if __name__ == "__main__":
    main()
