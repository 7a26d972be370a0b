"""Start the server exactly as the Procfile says, for benchmarks and tests.

`procfile_server(env)` runs the Procfile's `web:` line through a shell with
$PORT set to a free port, waits for /healthz, yields the base URL, and stops
the whole process group afterwards.
"""
from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def web_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line[len("web:"):].strip()
    raise RuntimeError("Procfile has no web: line")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def procfile_server(env: dict, port: int | None = None, timeout: float = 30.0, log=None):
    """Run the Procfile's web process with `env` added; yield (base_url, process)."""
    port = port or free_port()
    bin_dir = str(Path(sys.executable).parent)
    full_env = {**os.environ, **env, "PORT": str(port),
                "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    process = subprocess.Popen(
        ["/bin/sh", "-c", "exec " + web_command()], cwd=ROOT, env=full_env,
        stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}: {shlex.join(['sh', '-c', web_command()])}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer /healthz in time")
            time.sleep(0.1)
        yield base, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
