// Modal dialogs without window.prompt/confirm: a labelled role="dialog" that keeps focus inside,
// closes on Escape, and gives focus back to whatever opened it.

import { h } from "../dom.js";

let counter = 0;
const FOCUSABLE = "button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])";

/**
 * Open a dialog titled `title` holding `content` (nodes). Returns {element, body, close}.
 * `onClose` runs once, however it closes.
 */
export function openDialog(title, content, { onClose = null, className = "" } = {}) {
  const titleId = `dialog-title-${++counter}`;
  const opener = document.activeElement;
  const body = h("div", { class: "dialog-body" }, content);
  const dialog = h("div", { class: ["dialog", className], role: "dialog", "aria-modal": "true", "aria-labelledby": titleId },
    h("h2", { id: titleId }, title), body);
  const backdrop = h("div", { class: "dialog-backdrop" }, dialog);
  let closed = false;

  function close() {
    if (closed) return;
    closed = true;
    backdrop.remove();
    document.removeEventListener("keydown", onKey, true);
    if (onClose) onClose();
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus({ preventScroll: true });
  }

  function onKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    } else if (event.key === "Tab") {
      const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => !el.disabled && el.offsetParent !== null);
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      } else if (!dialog.contains(document.activeElement)) {
        event.preventDefault();
        first.focus();
      }
    }
  }

  backdrop.addEventListener("mousedown", (event) => {
    if (event.target === backdrop) close();
  });
  document.addEventListener("keydown", onKey, true);
  document.body.appendChild(backdrop);
  const target = dialog.querySelector("[autofocus]") || dialog.querySelector(FOCUSABLE);
  if (target) target.focus();
  return { element: dialog, body, close };
}
