// Element building without HTML strings: every string child becomes a text node, so log text
// and user input can never turn into markup. visible() also defuses terminal control codes.

const PROPERTY_ATTRS = new Set(["value", "checked", "disabled", "hidden", "selected"]);

/**
 * h("button", {class: "x", onClick: fn, "aria-pressed": "false"}, "Text", childNode)
 * Attribute values null/undefined/false are left out; true sets a boolean attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (PROPERTY_ATTRS.has(name)) {
      el[name] = value;
      if (value === true) el.setAttribute(name, "");
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Remove every child of el (then append the given ones). */
export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// Control characters except tab and newline (DEL and C1 controls too), and the bidirectional
// overrides that could make a line read differently from what it holds.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Log text made safe to show: ESC → "␛", CR → "␍", other controls as \xNN (bidi overrides as
 * \uNNNN), so ANSI escape sequences are displayed rather than obeyed. (Text nodes already keep
 * HTML inert.)
 */
export function visible(text) {
  if (text === null || text === undefined) return "";
  return String(text).replace(CONTROL, (c) => {
    if (c === "\u001b") return "\u241b";
    if (c === "\r") return "\u240d";
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).toUpperCase()}` : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}
