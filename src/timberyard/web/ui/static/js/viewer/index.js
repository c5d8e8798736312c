// The viewer page: puts the search box, time picker, timeline, line list, live tail, filters,
// line detail and saved views together, and keeps their shared state in the URL so the page can
// be shared, reloaded, and navigated with Back and Forward.

import { api, ApiError } from "../api.js";
import { h } from "../dom.js";
import { emptyState, readState, writeState } from "../state.js";
import { openDetail } from "./detail.js";
import { LineList } from "./linelist.js";
import { addClause, effectiveQuery, highlightTerms } from "./query.js";
import { SearchBox } from "./searchbox.js";
import { Sidebar } from "./sidebar.js";
import { LiveTail } from "./tail.js";
import { TimePicker, resolveRange } from "./timepicker.js";
import { Timeline } from "./timeline.js";
import { SavedViews, viewState } from "./views.js";

const PAGE = 1000; // lines per search page (the first render of these is measured)
const JUMP_PAGE = 500; // lines on each side of a timeline jump
const LIVE_CAP = 100000; // lines kept in memory while tailing
const LIVE_TIMELINE_MS = 10000; // how often the timeline is fetched again while live
const CLOCK_SKEW_MS = 60000; // a live line this far ahead of the browser's clock still moves the timeline
const WRAP_KEY = "timberyard.viewer.wrap";

/** Show the viewer in `container`; returns {focusSearch, toggleLive, destroy} for the frame. */
export function renderViewer(container, me) {
  return new Viewer(container, me);
}

class Viewer {
  constructor(container, me) {
    const permissions = new Set(me.permissions || []);
    this.state = readState();
    this.range = null; // {from, to} the list and timeline show
    this.generation = 0; // a newer load makes older answers stale
    this.queryText = ""; // the query the cursors belong to
    this.olderCursor = null;
    this.newerCursor = null;
    this.pagingOlder = false;
    this.pagingNewer = false;
    this.live = false;
    this.liveHeld = null; // tail lines that arrive while the first page loads
    this.recentIds = new Set(); // ids of the loaded page, so the tail does not repeat them
    this.liveTimer = 0;
    this.pausedAt = 0; // lines received when following paused
    this.dialogs = new Set();

    this.searchBox = new SearchBox({ onSearch: (q) => this.change({ q }) });
    this.timePicker = new TimePicker({ onChange: (range) => this.change(range) });
    this.timeline = new Timeline({ onZoom: (from, to) => this.change({ from, to, range: "" }), onJump: (start, end) => this.jump(start, end) });
    this.list = new LineList({
      onOpen: (line) => this.openLine(line),
      onNearTop: () => this.pageOlder(),
      onNearBottom: () => this.pageNewer(),
      onFollowChange: () => this.showLiveState(),
    });
    this.sidebar = new Sidebar({ onToggle: (key, value, checked) => this.toggleFilter(key, value, checked) });
    this.tail = new LiveTail({
      onLines: (lines) => this.liveLines(lines),
      onError: (message, fatal) => this.liveError(message, fatal),
      onOpen: () => this.setLiveMessage(this.list.following ? "Following new lines." : "Paused while you look back; new lines are still collected."),
    });
    this.views = permissions.has("views.read") ? new SavedViews({
      onOpen: (id) => this.openView(id, { push: true }),
      canManage: permissions.has("views.manage"),
      trackDialog: (dialog) => this.track(dialog),
    }) : null;
    if (this.views) this.sidebar.extra.appendChild(this.views.element);

    this.wrapButton = h("button", { type: "button", "aria-pressed": "false", onClick: () => this.setWrap(!this.list.wrap) }, "Wrap lines");
    this.liveButton = h("button", { type: "button", class: "live-toggle", "aria-pressed": "false", title: "Live tail (l)", onClick: () => this.toggleLive() }, "Live");
    this.jumpButton = h("button", { type: "button", class: "jump-live primary", hidden: true, onClick: () => this.list.scrollToBottom() }, "Jump to live");
    this.filtersButton = h("button", { type: "button", class: "filters-toggle", "aria-expanded": "false", "aria-controls": "viewer-filters",
      onClick: () => this.toggleSidebar() }, "Filters");
    this.status = h("span", { class: "status-text" });
    this.liveMessage = h("span", { class: "live-message", role: "status" });
    this.root = h("div", { class: "viewer" },
      this.sidebar.element,
      h("div", { class: "viewer-body" },
        h("div", { class: "toolbar" },
          this.filtersButton,
          this.searchBox.element,
          this.timePicker.element,
          h("div", { class: "toolbar-actions" },
            this.wrapButton,
            this.liveButton,
            permissions.has("views.manage") ? h("button", { type: "button", onClick: () => this.saveView() }, "Save view") : null,
            permissions.has("alerts.manage") ? h("button", { type: "button", onClick: () => this.alertOnView() }, "Alert on this view") : null)),
        h("div", { class: "status-line" }, this.status, " ", this.liveMessage),
        this.timeline.element,
        h("div", { class: "lines-wrap" }, this.list.element, this.jumpButton)));
    container.replaceChildren(this.root);

    this.onPopState = () => this.restore();
    window.addEventListener("popstate", this.onPopState);
    if (localStorage.getItem(WRAP_KEY) === "1") this.setWrap(true);
    if (this.views) this.views.refresh();
    this.restore();
  }

  // ---- frame hooks ----

  focusSearch() {
    this.searchBox.focus();
  }

  toggleLive() {
    if (this.live) this.stopLive();
    else this.startLive();
  }

  destroy() {
    this.stopLive();
    window.removeEventListener("popstate", this.onPopState);
    for (const dialog of this.dialogs) dialog.close();
    this.generation++;
  }

  /** Remember an open dialog so leaving the page closes it. */
  track(dialog) {
    for (const old of this.dialogs) if (!old.element.isConnected) this.dialogs.delete(old);
    this.dialogs.add(dialog);
    return dialog;
  }

  // ---- state ----

  /** The URL of the current state: just ?view=ID while a saved view is shown unchanged. */
  urlState() {
    return this.state.view ? { ...emptyState(), range: "", view: this.state.view } : this.state;
  }

  /** A user's change: merge it, leave any saved view, record it in history, search again. */
  change(patch) {
    const next = { ...this.state, ...patch, view: null };
    if ("range" in patch && !("from" in patch)) {
      next.from = null;
      next.to = null;
    }
    this.state = next;
    writeState(this.urlState());
    this.load();
  }

  /** A sidebar box: the state, not the boxes on screen, says what else is ticked. */
  toggleFilter(key, value, checked) {
    const values = this.state[key].filter((v) => v !== value);
    if (checked) values.push(value);
    this.change({ [key]: values });
  }

  /** Show whatever the URL says (first load, Back, Forward). */
  restore() {
    this.state = readState();
    this.searchBox.value = this.state.q;
    if (this.state.view) this.openView(this.state.view, { push: false });
    else this.load();
  }

  async openView(id, { push }) {
    const generation = ++this.generation;
    let view;
    try {
      view = await api("GET", `/api/v1/views/${encodeURIComponent(id)}`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (generation !== this.generation) return;
      this.state = { ...this.state, view: null };
      writeState(this.urlState(), { replace: true });
      await this.load();
      this.setStatus(`The saved view could not be opened: ${err.message}`);
      return;
    }
    if (generation !== this.generation) return;
    this.state = viewState(view);
    this.searchBox.value = this.state.q;
    writeState(this.urlState(), { replace: !push });
    await this.load();
  }

  // ---- loading ----

  setStatus(text) {
    this.status.textContent = text;
  }

  /** Search the state's range: the newest page into the list, the timeline, the filter counts. */
  async load() {
    const generation = ++this.generation;
    const state = this.state;
    this.sidebar.invalidate();
    if (document.activeElement !== this.searchBox.input) this.searchBox.value = state.q; // never under the user's fingers
    this.timePicker.show(state);
    if (this.live && state.from !== null) this.stopLive(); // an absolute range is the past: nothing to follow
    if (this.live) this.restartTail();
    let range;
    try {
      range = await resolveRange(state);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (generation !== this.generation) return;
      this.setStatus(`Time range: ${err.message}`);
      this.stopLive();
      return;
    }
    if (generation !== this.generation) return;
    this.range = range;
    const query = effectiveQuery(state);
    this.setStatus("Searching…");
    this.loadTimeline(query.text, range, generation);
    let answer;
    try {
      answer = await api("GET", "/api/v1/search", {
        params: { q: query.text, from: range.from, to: range.to, limit: PAGE, order: "desc" },
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (generation !== this.generation) return;
      if (err.code === "QuerySyntaxError") {
        this.searchBox.showError(err, query.offset);
        if (this.list.lines.length) {
          this.setStatus("The search has an error; the lines below are from the previous search.");
        } else {
          this.sidebar.unavailable("No counts while the search has an error.");
          this.setStatus("The search has an error.");
        }
      } else {
        this.setStatus(`Search failed: ${err.message}`);
      }
      if (this.live) this.stopLive();
      return;
    }
    if (generation !== this.generation) return;
    const arrived = performance.now();
    this.searchBox.clearError();
    this.queryText = query.text;
    this.olderCursor = answer.next_cursor;
    this.newerCursor = null;
    const lines = answer.lines.reverse();
    this.list.setLines(lines, { terms: highlightTerms(state.q) });
    // Data-to-painted time of the first page, in the browser's performance tools (budget: 300 ms).
    requestAnimationFrame(() => performance.measure("timberyard:lines-rendered", { start: arrived }));
    this.recentIds = new Set(lines.map((line) => line.id));
    this.describe(lines.length);
    if (this.live) this.releaseHeld();
    this.sidebar.load(state, range.from, range.to);
  }

  describe(count) {
    const more = this.olderCursor ? "; scroll up for older lines" : "";
    this.setStatus(`${count.toLocaleString()} line${count === 1 ? "" : "s"}, newest at the bottom${more}.`);
  }

  async loadTimeline(queryText, range, generation) {
    let answer;
    try {
      answer = await api("GET", "/api/v1/histogram", {
        params: { q: queryText, from: range.from, to: range.to, buckets: this.timeline.bucketCount(), by: "level" },
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return; // the search reports the same problem; the old timeline stays, like the old lines
    }
    if (generation === this.generation) this.timeline.setData(answer, range.from, range.to);
  }

  /** Infinite scroll back in time: the next older page goes above, the view stays put. */
  async pageOlder() {
    if (!this.olderCursor || this.pagingOlder) return;
    const generation = this.generation;
    this.pagingOlder = true;
    this.setStatus("Loading older lines…");
    try {
      const answer = await api("GET", "/api/v1/search", { params: { q: this.queryText, cursor: this.olderCursor, limit: PAGE } });
      if (generation !== this.generation) return;
      this.olderCursor = answer.next_cursor;
      this.list.prepend(answer.lines.reverse());
      this.describe(this.list.lines.length);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (generation === this.generation) this.setStatus(`Older lines could not be loaded: ${err.message}`);
    } finally {
      this.pagingOlder = false;
    }
  }

  /** After a jump into the past, scrolling down loads the newer lines that follow. */
  async pageNewer() {
    if (!this.newerCursor || this.pagingNewer) return;
    const generation = this.generation;
    this.pagingNewer = true;
    try {
      const answer = await api("GET", "/api/v1/search", { params: { q: this.queryText, cursor: this.newerCursor, limit: PAGE } });
      if (generation !== this.generation) return;
      this.newerCursor = answer.next_cursor;
      this.list.append(answer.lines);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (generation === this.generation) this.setStatus(`Newer lines could not be loaded: ${err.message}`);
    } finally {
      this.pagingNewer = false;
    }
  }

  /** Click on a timeline bar: the lines up to the bar's end above, the ones after it below. */
  async jump(start, end) {
    if (!this.range) return;
    if (this.live) this.stopLive();
    const generation = ++this.generation;
    const query = effectiveQuery(this.state);
    const { from, to } = this.range;
    this.setStatus("Jumping…");
    try {
      const [older, newer] = await Promise.all([
        api("GET", "/api/v1/search", { params: { q: query.text, from, to: end, limit: JUMP_PAGE, order: "desc" } }),
        end + 1 <= to
          ? api("GET", "/api/v1/search", { params: { q: query.text, from: end + 1, to, limit: JUMP_PAGE, order: "asc" } })
          : Promise.resolve({ lines: [], next_cursor: null }),
      ]);
      if (generation !== this.generation) return;
      this.queryText = query.text;
      this.olderCursor = older.next_cursor;
      this.newerCursor = newer.next_cursor;
      const before = older.lines.reverse();
      const anchor = before.length ? before[before.length - 1].id : null;
      this.list.setLines(before.concat(newer.lines), { terms: highlightTerms(this.state.q), anchorId: anchor });
      this.setStatus(`Showing lines around ${new Date(start).toLocaleString()}; scroll either way for more.`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (generation === this.generation) this.setStatus(`Jump failed: ${err.message}`);
    }
  }

  // ---- live tail ----

  /** Live follows "now": an absolute range or a jump is left for the relative range. */
  startLive() {
    this.live = true;
    this.setLiveMessage("Connecting…");
    this.showLiveState();
    this.liveTimer = setInterval(() => this.followTimeline(), LIVE_TIMELINE_MS);
    if (this.state.from !== null || this.newerCursor) {
      this.change({ range: this.state.range || "1h" });
    } else {
      this.restartTail();
      this.releaseHeld();
    }
  }

  stopLive() {
    if (!this.live) return;
    this.live = false;
    this.tail.stop();
    this.liveHeld = null;
    clearInterval(this.liveTimer);
    this.setLiveMessage("");
    this.showLiveState();
  }

  /** (Re)subscribe with the current query; lines wait until the page being loaded is shown. */
  restartTail() {
    this.liveHeld = [];
    this.tail.start(effectiveQuery(this.state).text);
  }

  releaseHeld() {
    const held = this.liveHeld || [];
    this.liveHeld = null;
    this.appendLive(held);
  }

  liveLines(lines) {
    if (!this.live) return;
    if (this.liveHeld) {
      for (const line of lines) this.liveHeld.push(line);
      return;
    }
    this.appendLive(lines);
  }

  appendLive(lines) {
    const fresh = this.recentIds.size ? lines.filter((line) => !this.recentIds.has(line.id)) : lines;
    if (!fresh.length) return;
    const first = this.list.lines[0];
    this.list.append(fresh, { cap: LIVE_CAP });
    // Once the oldest lines are dropped, the older-page cursor no longer joins up with the list.
    if (first && this.list.lines[0] !== first) this.olderCursor = null;
    this.describe(this.list.lines.length);
    this.followLines(fresh);
    if (this.tail.received > 5000) this.recentIds.clear(); // the loaded page is long behind us
    if (!this.list.following) {
      const waiting = this.tail.received - this.pausedAt;
      this.setLiveMessage(`Paused: ${waiting.toLocaleString()} new line${waiting === 1 ? "" : "s"} below.`);
    }
  }

  liveError(message, fatal) {
    if (fatal) {
      this.stopLive();
      api("GET", "/api/v1/auth/me").catch(() => {}); // a 401 here takes the user to the login page
    }
    this.setLiveMessage(message);
  }

  setLiveMessage(text) {
    this.liveMessage.textContent = text;
    this.liveMessage.classList.toggle("live-error", /stopped|lost/.test(text));
  }

  showLiveState() {
    this.liveButton.setAttribute("aria-pressed", String(this.live));
    const paused = this.live && !this.list.following;
    this.jumpButton.hidden = !paused;
    if (this.live && !paused && this.liveMessage.textContent.startsWith("Paused")) this.setLiveMessage("Following new lines.");
    if (paused) {
      this.pausedAt = this.tail.received;
      this.setLiveMessage("Paused while you look back; new lines are still collected.");
    }
  }

  /** Count live lines in the timeline at once, sliding it to now (the browser's clock, or a
   * line's time when the server's clock is a little ahead). */
  followLines(lines) {
    if (!this.range || this.state.from !== null) return;
    const now = Date.now();
    let end = now;
    for (const line of lines) if (line.ts > end && line.ts <= now + CLOCK_SKEW_MS) end = line.ts;
    if (end > this.range.to) this.range = { from: end - (this.range.to - this.range.from), to: end };
    this.timeline.addLines(lines, end);
  }

  /** While live on a relative range, fetch the timeline again, slid to now: the server's counts
   * replace the ones live lines added. */
  followTimeline() {
    if (!this.live || !this.range || this.state.from !== null) return;
    const span = this.range.to - this.range.from;
    const now = Date.now();
    this.range = { from: now - span, to: now };
    this.loadTimeline(this.queryText, this.range, this.generation);
  }

  // ---- the rest of the toolbar ----

  setWrap(wrap) {
    this.list.setWrap(wrap);
    this.wrapButton.setAttribute("aria-pressed", String(wrap));
    localStorage.setItem(WRAP_KEY, wrap ? "1" : "0");
  }

  toggleSidebar() {
    const open = !this.root.classList.contains("side-open");
    this.root.classList.toggle("side-open", open);
    this.filtersButton.setAttribute("aria-expanded", String(open));
  }

  openLine(line) {
    this.track(openDetail(line, {
      terms: highlightTerms(this.state.q),
      onFilter: (clause) => this.change({ q: addClause(this.state.q, clause) }),
    }));
  }

  /** Settings → Alerts with a new alert's form filled in from this view's query and filters. */
  alertOnView() {
    const params = new URLSearchParams({ new: "1", q: this.state.q || "" });
    for (const key of ["apps", "hosts", "levels", "tags"]) {
      if ((this.state[key] || []).length) params.set(key, this.state[key].join(","));
    }
    if (this.state.view) params.set("view", this.state.view);
    window.location.hash = `#/settings/alerts?${params}`;
  }

  async saveView() {
    if (!this.views) return;
    const saved = await this.views.save(this.state);
    if (!saved) return;
    this.state = { ...this.state, view: saved.id };
    writeState(this.urlState(), { replace: true });
  }
}
