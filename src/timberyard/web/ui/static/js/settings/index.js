// The Settings page: a nav of the sub-pages the user's permissions allow (#/settings/keys,
// #/settings/users ...) and the chosen one below it. The server checks every call anyway; the
// nav only spares people pages that would answer "permission denied".

import { h, clear } from "../dom.js";
import { renderAlerts } from "./alerts.js";
import { renderArchive } from "./archive.js";
import { renderAudit } from "./audit.js";
import { renderChannels } from "./channels.js";
import { renderGroups } from "./groups.js";
import { renderKeys } from "./keys.js";
import { renderRules } from "./rules.js";
import { renderUsage } from "./usage.js";
import { renderUsers } from "./users.js";

const PAGES = [
  { id: "keys", label: "Keys", permission: "keys.manage", render: renderKeys },
  { id: "users", label: "Users", permission: "users.manage", render: renderUsers },
  { id: "groups", label: "Groups", permission: "groups.manage", render: renderGroups },
  { id: "rules", label: "Rules", permission: "rules.manage", render: renderRules },
  { id: "alerts", label: "Alerts", permission: "alerts.manage", render: renderAlerts },
  { id: "channels", label: "Channels", permission: "integrations.manage", render: renderChannels },
  // Usage before Archive: a read-only user, who manages nothing, opens Settings on Usage.
  { id: "usage", label: "Usage", permission: "logs.read", render: renderUsage },
  { id: "archive", label: "Archive", permission: "logs.read", render: renderArchive }, // settings for archives.manage; search for all
  { id: "audit", label: "Audit", permission: "audit.read", render: renderAudit },
];

/** The sub-pages `me` may open, in nav order. */
function allowedPages(me) {
  const held = new Set(me.permissions || []);
  return PAGES.filter((page) => held.has(page.permission));
}

function requestedPage() {
  const match = /^#\/settings\/([a-z]+)/.exec(window.location.hash);
  return match ? match[1] : null;
}

/** Render Settings into `container`; main.js calls this again on every #/settings... change. */
export function renderSettings(container, me) {
  const pages = allowedPages(me);
  const wanted = requestedPage();
  const current = pages.find((page) => page.id === wanted) || pages[0];
  const nav = h("nav", { class: "settings-nav", "aria-label": "Settings" },
    h("ul", {}, pages.map((page) => h("li", {},
      h("a", { href: `#/settings/${page.id}`, "aria-current": page === current ? "page" : null }, page.label)))));
  const body = h("section", { class: "settings-page" });
  clear(container, h("div", { class: "settings" }, nav, body));
  if (!current) {
    clear(body, h("h1", {}, "Settings"), h("p", {}, "Your role has no settings to manage."));
    return null;
  }
  const heading = h("h1", { tabindex: "-1" }, current.label);
  const page = h("div", {});
  clear(body, heading, page);
  current.render(page, me);
  if (wanted) heading.focus(); // moved here from the nav: start reading at the new page
  return null;
}
