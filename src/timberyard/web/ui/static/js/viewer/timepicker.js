// The time picker: a "Time range" box read by the server's natural-language parser ("last 2
// hours", "yesterday 1pm to 3pm") in the browser's timezone, plus presets. Relative ranges are
// kept as text and resolved on every search, so "1h" always means the hour before now.

import { api, ApiError } from "../api.js";
import { h, clear } from "../dom.js";
import { rangeText, timeZone } from "./format.js";

const PRESETS = ["15m", "1h", "24h", "7d"];

/** {from, to} in epoch ms for a state: its absolute range, or its range text read by the server. */
export async function resolveRange(state) {
  if (state.from !== null && state.from !== undefined) {
    return { from: state.from, to: state.to ?? Date.now() };
  }
  const answer = await api("GET", "/api/v1/timerange", { params: { q: state.range || "1h", tz: timeZone() } });
  return { from: answer.from, to: answer.to };
}

export class TimePicker {
  /** onChange({range, from, to}) runs when the user picks a range; from/to null for text ranges. */
  constructor({ onChange }) {
    this.onChange = onChange;
    this.input = h("input", {
      type: "text", id: "time-range", name: "range", autocomplete: "off", spellcheck: "false",
      placeholder: "last 2 hours, yesterday 1pm to 3pm",
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.applyText();
      }
    });
    this.error = h("div", { class: "range-error", role: "alert" });
    this.presets = PRESETS.map((preset) => h("button", {
      type: "button", class: "preset", "aria-pressed": "false",
      onClick: () => this.pick({ range: preset, from: null, to: null }),
    }, preset));
    this.element = h("div", { class: "time-picker", role: "group", "aria-label": "Time" },
      h("label", { for: "time-range", class: "visually-hidden" }, "Time range"),
      this.input, ...this.presets, this.error);
  }

  /** Show a state's range without applying anything. */
  show(state) {
    const absolute = state.from !== null && state.from !== undefined;
    this.input.value = absolute ? rangeText(state.from, state.to ?? Date.now()) : state.range || "1h";
    for (const button of this.presets) {
      button.setAttribute("aria-pressed", String(!absolute && button.textContent === (state.range || "1h")));
    }
    clear(this.error);
  }

  pick(change) {
    clear(this.error);
    this.show(change);
    this.onChange(change);
  }

  /** Check the typed text with the server before using it, so a typo is reported here. */
  async applyText() {
    const text = this.input.value.trim();
    if (!text) {
      this.pick({ range: "1h", from: null, to: null });
      return;
    }
    try {
      await api("GET", "/api/v1/timerange", { params: { q: text, tz: timeZone() } });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      clear(this.error, err.message);
      return;
    }
    this.pick({ range: text, from: null, to: null });
  }
}
