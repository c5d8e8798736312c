// Boot and frame of the web app: asks the server who is signed in, shows the login page or the
// header plus the current page (viewer at #/, insights at #/insights, settings at #/settings...), and owns the global
// keyboard shortcuts ("/" focuses search, "l" toggles live tail).

import { api, ApiError, onUnauthenticated, setCsrf } from "./api.js";
import { h, clear } from "./dom.js";
import { renderLogin } from "./login.js";
import { renderViewer } from "./viewer/index.js";

const SESSION_ENDED = "Your session ended (idle for too long); sign in again.";
// Set by the page once signed in, gone with the browser session like the session cookie (which
// scripts cannot read): without it the login page shows at once, rather than after asking the
// server, whose 401 the browser would log as a console error before anyone signed in.
const SIGNED_IN_HINT = "timberyard_signed_in";
const root = document.getElementById("app");

let me = null;
let page = null; // {name, controller} of the page on screen
let content = null; // the element pages render into

function pageName() {
  const hash = window.location.hash;
  if (hash.startsWith("#/settings")) return "settings";
  return hash.startsWith("#/insights") ? "insights" : "viewer";
}

function signedInHint() {
  return document.cookie.split(";").some((cookie) => cookie.trim() === `${SIGNED_IN_HINT}=1`);
}

function setSignedInHint(on) {
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${SIGNED_IN_HINT}=${on ? "1" : ""}; path=/; SameSite=Strict${on ? "" : "; max-age=0"}${secure}`;
}

/** Leave whatever is on screen (stops live tail, timers) and show the login page. */
function showLogin(message = "") {
  stopPage();
  me = null;
  setCsrf(null);
  setSignedInHint(false);
  document.title = "Sign in · Timberyard";
  renderLogin(root, {
    message,
    onSignedIn: () => {
      setSignedInHint(true);
      boot();
    },
  });
}

function stopPage() {
  if (page && page.controller && page.controller.destroy) page.controller.destroy();
  page = null;
}

async function signOut() {
  stopPage(); // no request of the page may answer 401 after the session is gone and say it timed out
  me = null;
  try {
    await api("POST", "/api/v1/auth/logout");
  } catch (err) {
    if (!(err instanceof ApiError)) throw err; // an ended session is signed out anyway
  }
  showLogin("You are signed out.");
}

function renderFrame() {
  const navLink = (href, label, name) =>
    h("a", { href, class: "nav-link", "data-page": name }, label);
  const email = me.user ? me.user.email : me.key ? `key ${me.key.name || me.key.id}` : "";
  const header = h("header", { class: "app-header", role: "banner" },
    h("a", { class: "brand", href: "#/" }, "Timberyard"),
    h("span", { class: "account-name", title: "Account" }, me.account ? me.account.name : ""),
    h("nav", { class: "main-nav", "aria-label": "Main" },
      navLink("#/", "Viewer", "viewer"),
      navLink("#/insights", "Insights", "insights"),
      navLink("#/settings", "Settings", "settings")),
    h("span", { class: "spacer" }),
    h("span", { class: "user-email" }, email),
    me.user ? h("button", { type: "button", class: "sign-out", onClick: signOut }, "Sign out") : null);
  content = h("main", { class: "app-main", id: "main" });
  clear(root, header, content);
}

function markNav(name) {
  for (const link of root.querySelectorAll(".nav-link")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// Pages loaded when first opened, (re)rendered on every hash change under their prefix so they
// can route their own sub-pages (#/settings/keys) and options (#/insights?window=6h).
const PAGES = {
  settings: { title: "Settings", load: () => import("./settings/index.js"), render: "renderSettings" },
  insights: { title: "Insights", load: () => import("./insights/index.js"), render: "renderInsights" },
};

/** Show the page the hash names. The viewer is kept while the hash stays on it. */
async function route() {
  if (!me || !content) return;
  const name = pageName();
  markNav(name);
  if (name === "viewer") {
    if (page && page.name === "viewer") return;
    stopPage();
    document.title = "Viewer · Timberyard";
    page = { name, controller: renderViewer(content, me) };
    return;
  }
  stopPage();
  const shown = PAGES[name];
  page = { name, controller: null };
  document.title = `${shown.title} · Timberyard`;
  try {
    const module = await shown.load();
    if (pageName() !== name) return; // the user moved on while it loaded
    page.controller = (await module[shown.render](content, me)) || null;
  } catch (err) {
    clear(content, h("p", { class: "form-error", role: "alert" }, `${shown.title} could not be loaded: ${err.message}`));
  }
}

/** "/" and "l" act only when the user is not typing somewhere. */
function onKey(event) {
  if (!me || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  const typing = target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  if (typing || document.querySelector("[role=dialog]:not([hidden])")) return;
  const viewer = page && page.name === "viewer" ? page.controller : null;
  if (!viewer) return;
  if (event.key === "/") {
    event.preventDefault();
    viewer.focusSearch();
  } else if (event.key === "l") {
    event.preventDefault();
    viewer.toggleLive();
  }
}

async function boot() {
  if (!signedInHint()) {
    showLogin("");
    return;
  }
  try {
    me = await api("GET", "/api/v1/auth/me");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      showLogin(err.code === "SessionEnded" ? SESSION_ENDED : "");
      return;
    }
    clear(root, h("p", { class: "form-error boot-error", role: "alert" }, `Timberyard is not reachable: ${err.message}`));
    return;
  }
  setCsrf(me.csrf_token);
  stopPage();
  renderFrame();
  await route();
}

// Wrong passwords on the login form are 401s too: only a missing or ended session leaves the app,
// and only while someone is signed in here (a request still answering after sign-out, or during
// boot, is for signOut and boot to handle).
onUnauthenticated((err) => {
  if (!me) return;
  if (err.code === "SessionEnded") showLogin(SESSION_ENDED);
  else if (err.code === "MissingCredentials") showLogin("");
});
window.addEventListener("hashchange", route);
document.addEventListener("keydown", onKey);
boot();
