// Live tail over Server-Sent Events (/api/v1/tail; the session cookie authenticates). Lines are
// queued as they arrive and handed over once per animation frame, so thousands of lines a second
// cost one list update per frame rather than one per line.

import { withParams } from "../api.js";

const QUEUE_CAP = 100000; // a hidden tab gets no frames: keep only the newest lines meanwhile

export class LiveTail {
  /**
   * onLines(lines): a frame's worth of new lines, oldest first. onError(message, fatal): the
   * stream failed; fatal means it stopped (TooSlow, signed out) rather than reconnecting.
   * onOpen(): the stream is connected.
   */
  constructor({ onLines, onError, onOpen }) {
    this.onLines = onLines;
    this.onError = onError;
    this.onOpen = onOpen;
    this.source = null;
    this.queue = [];
    this.frame = 0;
    this.received = 0;
  }

  get running() {
    return this.source !== null;
  }

  start(query) {
    this.stop();
    const source = new EventSource(withParams("/api/v1/tail", { q: query }));
    this.source = source;
    source.addEventListener("open", () => this.onOpen());
    source.addEventListener("message", (event) => this.receive(event.data));
    source.addEventListener("error", (event) => this.failed(source, event));
  }

  stop() {
    if (this.source) this.source.close();
    this.source = null;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.queue = [];
  }

  receive(data) {
    let line;
    try {
      line = JSON.parse(data);
    } catch {
      return; // not a line (the server sends only JSON lines; anything else is noise)
    }
    this.received++;
    this.queue.push(line);
    if (this.queue.length > QUEUE_CAP * 1.1) this.queue.splice(0, this.queue.length - QUEUE_CAP);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = 0;
    if (!this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    this.onLines(batch);
  }

  /** A server `event: error` (e.g. TooSlow) ends the tail; a dropped connection reconnects by itself. */
  failed(source, event) {
    if (source !== this.source) return;
    if (event.data) {
      let message = "the live tail stopped";
      try {
        const body = JSON.parse(event.data);
        message = body.code === "TooSlow"
          ? "Live tail stopped: this browser fell too far behind the incoming lines. Narrow the search, or turn Live on again."
          : `Live tail stopped: ${body.error || body.code}`;
      } catch {
        message = `Live tail stopped: ${event.data}`;
      }
      this.stop();
      this.onError(message, true);
    } else if (source.readyState === EventSource.CLOSED) {
      this.stop();
      this.onError("Live tail stopped: the server refused the stream.", true);
    } else {
      this.onError("Live tail: connection lost, reconnecting… (lines sent meanwhile are not replayed)", false);
    }
  }
}
