"""A contact's server CPU on omnidesk against the floor of the stack it is built on.

Runs bench/load.py's generator (the same desktops, posts, rates and handle times) against
bench/floor_app.py — FastAPI, uvicorn and SQLAlchemy on one SQLite file doing only the five
durable writes and the one offer frame a contact cannot do without — with SQLAlchemy's Core
statements, then with its ORM, then against `omnidesk serve`, in the same run (or those
`--servers` names). Reported per server: the best step it sustained (every contact offered,
p99 < 100 ms, as bench/load.py reports it), the server process's CPU per contact (user +
system, from the first post until the last contact closed), the post → offer latency, and
omnidesk's CPU over each floor's. What a contact costs above the floors is omnidesk's; a floor
is what any product on that way of using this stack pays per contact.

    python bench/stack_floor.py            # 200 agents, three 10 s steps at 40 contacts/s
    python bench/stack_floor.py --quick    # three 5 s steps
    python bench/stack_floor.py --agents 2000 --rates 100 150 200 --servers floor_core floor_orm
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from load import drive_server, report_server_log, run_omnidesk, summary

BENCH = Path(__file__).resolve().parent
SERVERS = ["floor_core", "floor_orm", "omnidesk"]


def run_floor(sql: str, agents: int, rates: list[int], step_s: float, handle_s: float,
              port: int) -> dict[str, object]:
    """bench/floor_app.py under uvicorn, configured as `omnidesk serve` runs it."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "FLOOR_DB": str(Path(folder) / "floor.db"),
               "FLOOR_AGENTS": str(agents), "FLOOR_SQL": sql}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "floor_app:app", "--app-dir", str(BENCH),
             "--port", str(port), "--ws", "websockets-sansio", "--timeout-keep-alive", "75",
             "--log-level", "warning", "--no-access-log"],
            env=env, stdout=(Path(folder) / "server.log").open("wb"), stderr=subprocess.STDOUT)
        try:
            return drive_server(server, port, agents, rates, step_s, handle_s)
        finally:
            report_server_log(Path(folder))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three 5 s steps")
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--rates", type=int, nargs="+", default=[40, 40, 40],
                        help="contacts/s of each step (below both servers' saturation)")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=SERVERS,
                        help="which to run (default all three)")
    args = parser.parse_args()
    step_s, handle_s = (5.0, 2.0) if args.quick else (10.0, 2.0)
    figures: dict[str, object] = {}
    runs = {"floor_core": functools.partial(run_floor, "core"),
            "floor_orm": functools.partial(run_floor, "orm"), "omnidesk": run_omnidesk}
    for name in args.servers:
        print(f"{name}:", flush=True)
        result = summary(runs[name](args.agents, args.rates, step_s, handle_s, args.port))
        for key in ("sustained_contacts_per_s", "server_cpu_ms_per_contact",
                    "generator_cpu_ms_per_contact", "p50_ms", "p99_ms", "not_offered_by_end",
                    "posts_shed_503", "post_errors", "work_errors"):
            figures[f"{name}_{key}"] = result[key]
    omnidesk_ms = figures.get("omnidesk_server_cpu_ms_per_contact")
    for floor in ("floor_core", "floor_orm"):
        floor_ms = figures.get(f"{floor}_server_cpu_ms_per_contact")
        if isinstance(floor_ms, float) and isinstance(omnidesk_ms, float):
            figures[f"omnidesk_over_{floor}"] = round(omnidesk_ms / floor_ms, 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
