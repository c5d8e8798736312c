"""Stand-ins for cloud services that cannot run here, run as real processes on loopback: moto's
server for S3 and Azurite for Azure Blob Storage. The node talks to them over HTTP exactly as
to the services; tests that use them say so."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence

import httpx

from servers import free_port

START_TIMEOUT_S = 60


@contextlib.contextmanager
def listening(command: Sequence[str], probe_url: str, what: str) -> Iterator[None]:
    """Run `command` until the block ends, once `probe_url` answers HTTP at all."""
    process = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                httpx.get(probe_url, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, f"{what} did not start"
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # Azurite waits for idle keep-alive connections to close
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def moto_s3() -> Iterator[str]:
    """moto's S3 emulator; yields its endpoint URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with listening([sys.executable, "-m", "moto.server", "-p", str(port)], url, "moto server"):
        yield url
