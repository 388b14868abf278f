"""Shared test helpers: a free loopback port and a real `chroma run` server (not a test module)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    """A port nobody listens on yet, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChromaServer:
    """A real `chroma run` on 127.0.0.1 that can be stopped and started again on the same port and data."""

    def __init__(self, root: Path):
        self.port, self.data, self.log = free_port(), root / "chroma-data", root / "chroma.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).with_name("chroma")
        with self.log.open("a") as out:
            self.process = subprocess.Popen([str(chroma), "run", "--path", str(self.data), "--host", "127.0.0.1",
                                             "--port", str(self.port)], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"chroma run did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
