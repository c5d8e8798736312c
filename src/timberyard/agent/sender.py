"""Delivery: the oldest batch to `POST /logs/agent`, until the node says 200.

- 200: the lines are durable on the node; the batch's offsets are committed.
- 413 (too large): split in two and send the halves; retrying it whole could never succeed.
- 429, 5xx, or no answer: retry after an exponential backoff with full jitter (0.5 s doubling
  to 30 s; `Retry-After` when the node gives one), and move waiting batches to the spool.
- 401/403/404: a configuration problem (key, URL): said loudly, retried slowly, nothing dropped —
  fix the setting and the lines flow.
- 400: the node found the batch malformed; it would refuse it forever, so it is dropped and
  counted (`lines_dropped`).

Every request carries `now` (the agent's clock), so the node corrects the agent's drift.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time

from timberyard.agent.batch import Batch
from timberyard.agent.config import AgentConfig
from timberyard.agent.metrics import Metrics
from timberyard.agent.outbox import Outbox
from timberyard.agent.transport import Transport, Unreachable

log = logging.getLogger("timberyard.agent")

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 30.0


class Sender(threading.Thread):
    """One of `max_in_flight` threads, each with its own connection, taking the oldest free batch."""

    def __init__(self, config: AgentConfig, outbox: Outbox, transport: Transport, metrics: Metrics) -> None:
        super().__init__(name="sender", daemon=True)
        self.config = config
        self.outbox = outbox
        self.transport = transport
        self.metrics = metrics
        self.params = {"hostname": config.hostname}
        for name in ("ip", "mac"):
            if getattr(config, name):
                self.params[name] = getattr(config, name)
        if config.tags:
            self.params["tags"] = ",".join(config.tags)
        self.headers = {"Content-Type": "application/json"}
        self._failures = 0
        self._deadline: float | None = None  # set at shutdown: give up waiting after it
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            if self._deadline is not None and (self.outbox.empty or time.monotonic() >= self._deadline):
                return
            batch = self.outbox.next(timeout=0.2)
            if batch is None:
                continue
            wait = self._deliver(batch)
            if wait is None:
                self.outbox.done(batch)
                continue
            self.outbox.release(batch)
            self.outbox.failing()
            self._sleep(wait)

    def stop_by(self, deadline: float) -> None:
        """Deliver what is queued until `deadline` (monotonic), then stop: never hang on a dead node."""
        self._deadline = deadline

    def halt(self) -> None:
        self._halt.set()

    def _sleep(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        if self._deadline is not None:
            until = min(until, self._deadline)
        self._halt.wait(max(0.0, until - time.monotonic()))

    def _deliver(self, batch: Batch) -> float | None:
        """None when the batch is done with; otherwise seconds to wait before trying again."""
        if batch.lines == 0:
            return None
        headers = {**self.headers, **({"Content-Encoding": "gzip"} if batch.gzipped else {})}
        try:
            answer = self.transport.post(batch.body, {**self.params, "now": str(int(time.time() * 1000))}, headers)
        except Unreachable as exc:
            return self._failed(f"cannot reach the node ({exc})")
        if answer.status == 200:
            if self._failures:
                log.info("the node takes lines again after %d failed attempts", self._failures)
            self._failures = 0
            self.metrics.add(lines_sent=batch.lines, bytes_sent=len(batch.body), batches_sent=1)
            return None
        reason = _reason(answer.body)
        if answer.status == 413 and batch.lines > 1:
            for half in batch.split(self.config.gzip_level):
                wait = self._deliver(half)
                if wait is not None:
                    return wait
            return None
        if answer.status in (400, 413):
            self.metrics.add(lines_dropped=batch.lines)
            log.error("the node refused a batch of %d lines for good (%d: %s); they are dropped", batch.lines, answer.status, reason)
            return None
        if answer.status in (401, 403, 404):
            hint = "check the ingestion key" if answer.status != 404 else f"check `server` and `endpoint` ({self.config.url})"
            return self._failed(f"the node answered {answer.status} ({reason}); {hint}", slow=True)
        retry_after = answer.headers.get("retry-after", "")
        wait = self._failed(f"the node answered {answer.status} ({reason})")
        return float(retry_after) + random.uniform(0, 0.2) if retry_after.replace(".", "", 1).isdigit() else wait

    def _failed(self, message: str, slow: bool = False) -> float:
        self._failures += 1
        self.metrics.add(send_failures=1)
        if self._failures == 1 or self._failures % 20 == 0:
            log.warning("%s; retrying (attempt %d)", message, self._failures)
        delay = MAX_DELAY_S if slow else min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** min(self._failures - 1, 10))
        return random.uniform(delay / 2, delay)


def _reason(body: bytes) -> str:
    text = body[:300].decode("utf-8", "replace")
    try:
        return str(json.loads(text).get("error", text))
    except (ValueError, AttributeError):
        return text.strip() or "no message"
