"""Running the real omnidesk server process in tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

STARTUP_SECONDS = 30


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def omnidesk(*args: str, env: dict[str, str], input_text: str | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run an omnidesk CLI command to completion."""
    return subprocess.run([sys.executable, "-m", "omnidesk", *args], env=env, text=True,
                          capture_output=True, input=input_text, check=check, timeout=120)


@dataclass
class ServerProcess:
    """`omnidesk serve` in a child process, on loopback."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    args: tuple[str, ...] = ()
    cwd: Path | None = None
    process: subprocess.Popen[str] | None = None
    log_path: Path | None = None
    _log: IO[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until /readyz answers."""
        assert self.log_path is not None
        self._log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "omnidesk", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), *self.args],
            env=self.env, cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, like a crash."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._close_log()

    def stop(self) -> None:
        """Terminate politely if still running."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
